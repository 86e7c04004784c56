//! Renderers of a `check` outcome. The JSON shape is a contract (README, "check --format
//! json"): `base`, `head`, `verdict`, `changes`, `promotions` (each with its `gates`), `governance` and
//! `diagnostics` (the same objects as `validate --format json`).

use super::{Outcome, Promotion, Verdict};
use crate::diag::render::{self, JsonDiagnostic, md_cell};
use crate::gates::Status;
use serde::Serialize;

fn v(x: Option<u32>) -> String {
    x.map(|v| format!("v{v}")).unwrap_or_else(|| "none".into())
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Warn => "PASS with warnings",
        Verdict::Block => "BLOCKED",
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Skip => "skip",
        Status::Warn => "warn",
        Status::Block => "block",
    }
}

/// The JSON document.
pub fn json(o: &Outcome) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        base: &'a crate::gitops::Rev,
        head: &'a crate::gitops::Rev,
        verdict: Verdict,
        changes: &'a [super::Change],
        promotions: &'a [Promotion],
        governance: &'a [super::governance::GovernanceChange],
        diagnostics: Vec<JsonDiagnostic<'a>>,
    }
    let doc = Doc {
        base: &o.base,
        head: &o.head,
        verdict: o.verdict(),
        changes: &o.changes,
        promotions: &o.promotions,
        governance: &o.governance,
        diagnostics: o.report.diagnostics.iter().map(Into::into).collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// Terminal text: changes, each promotion with its gates, the diagnostics, the verdict.
pub fn text(o: &Outcome, color: bool) -> String {
    let mut s = format!(
        "modelgate check {}..{} ({}..{})\n",
        o.base.rev,
        o.head.rev,
        &o.base.commit[..12.min(o.base.commit.len())],
        &o.head.commit[..12.min(o.head.commit.len())]
    );
    if o.changes.is_empty() {
        s.push_str("\nno changes to the registry\n");
    } else {
        s.push_str("\nchanges:\n");
        for c in &o.changes {
            s.push_str(&format!("  {}\n", c.describe()));
        }
    }
    for g in &o.governance {
        s.push_str(&format!(
            "\ngovernance change {}   {}\n",
            g.file,
            status_word(g.status).to_uppercase()
        ));
        for l in &g.lines {
            s.push_str(&format!("  {l}\n"));
        }
        s.push_str(&format!(
            "  {} approvals  {}\n",
            g.status.symbol(),
            g.detail
        ));
    }
    for p in &o.promotions {
        s.push_str(&format!(
            "\n{} {}: {} → {}   {}\n",
            p.model,
            p.alias,
            v(p.from),
            v(p.to),
            status_word(p.status).to_uppercase()
        ));
        for g in &p.gates {
            s.push_str(&format!(
                "  {} {:<12} {}\n",
                g.status.symbol(),
                g.gate,
                g.detail
            ));
        }
    }
    if !o.report.diagnostics.is_empty() {
        s.push('\n');
        let reg = &o.head_registry;
        let source = |f: &str| {
            reg.source
                .read(f, u64::MAX)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        };
        s.push_str(&render::text(&o.report, &source, color));
    }
    s.push_str(&format!(
        "\nverdict: {} ({})\n",
        verdict_word(o.verdict()),
        render::summary(&o.report)
    ));
    s
}

/// A pull-request comment: the verdict, one table per promotion, the problems.
pub fn markdown(o: &Outcome) -> String {
    let icon = match o.verdict() {
        Verdict::Pass => "✅",
        Verdict::Warn => "⚠️",
        Verdict::Block => "❌",
    };
    let mut s = format!(
        "## {icon} modelgate: {}\n\n`{}..{}` · {}\n",
        verdict_word(o.verdict()),
        &o.base.commit[..12.min(o.base.commit.len())],
        &o.head.commit[..12.min(o.head.commit.len())],
        render::summary(&o.report)
    );
    if !o.changes.is_empty() {
        s.push_str("\n<details><summary>Changes</summary>\n\n");
        for c in &o.changes {
            s.push_str(&format!("- {}\n", md_cell(&c.describe())));
        }
        s.push_str("\n</details>\n");
    }
    for g in &o.governance {
        s.push_str(&format!(
            "\n### Governance change · {} — {}\n\n",
            md_cell(&g.file),
            status_word(g.status)
        ));
        for l in &g.lines {
            s.push_str(&format!("- `{}`\n", l.replace('`', "'")));
        }
        s.push_str(&format!(
            "\n{} approvals: {}\n",
            g.status.symbol(),
            md_cell(&g.detail)
        ));
    }
    for p in &o.promotions {
        s.push_str(&format!(
            "\n### {} · {}: {} → {} — {}\n\n",
            md_cell(&p.model),
            p.alias,
            v(p.from),
            v(p.to),
            status_word(p.status)
        ));
        if !p.gates.is_empty() {
            s.push_str("| | Gate | Result |\n|---|---|---|\n");
            for g in &p.gates {
                s.push_str(&format!(
                    "| {} | {} | {} |\n",
                    g.status.symbol(),
                    g.gate,
                    md_cell(&g.detail)
                ));
            }
        }
    }
    if !o.report.diagnostics.is_empty() {
        s.push('\n');
        s.push_str(&render::markdown(&o.report, "Problems"));
    }
    s
}

/// GitHub workflow annotations on the exact lines.
pub fn github(o: &Outcome) -> String {
    let mut s = render::github(&o.report);
    s.push_str(&format!(
        "modelgate check: {} ({})\n",
        verdict_word(o.verdict()),
        render::summary(&o.report)
    ));
    s
}
