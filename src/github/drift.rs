//! Drift issues: one open issue per drifting model, never two.
//!
//! Each issue carries a hidden fingerprint (model, alias, version). A rerun finds the open issue
//! by it and comments only when the state changed (severity, drifted columns, data window or
//! inputs, also kept as a hidden digest), or does nothing; when drift clears, it comments and
//! closes the issue. Severity `retrain` also sends a `repository_dispatch` event
//! (`modelgate-retrain`), and `alert` and above go to the webhook, each once per new state.

use super::{GitHub, MARKER};
use crate::monitor::job::ModelDrift;
use crate::registry::types::Severity;
use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};

/// The label every drift issue carries.
pub const LABEL: &str = "modelgate:drift";
/// The event type of the retrain dispatch.
pub const RETRAIN_EVENT: &str = "modelgate-retrain";

/// What to do besides issues.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The site's URL, for links to model pages.
    pub site_url: Option<String>,
    /// A webhook (Slack-style JSON POST) for `alert` and above.
    pub webhook: Option<String>,
}

/// What happened for one model.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The model.
    pub model: String,
    /// `opened`, `commented`, `unchanged`, `closed` or `none`.
    pub action: String,
    /// The issue number, when there is one.
    pub issue: Option<u64>,
    /// Whether a retrain dispatch was sent.
    pub dispatched: bool,
    /// Whether the webhook was called.
    pub notified: bool,
}

/// The severity label of an issue.
pub fn severity_label(sev: Severity) -> &'static str {
    match sev {
        Severity::Retrain => "severity:urgent",
        Severity::Alert => "severity:high",
        Severity::None | Severity::Issue => "severity:low",
    }
}

/// The hidden fingerprint of a model's drift issue.
pub fn fingerprint(model: &str, version: u32) -> String {
    format!("{MARKER}drift model={model} alias=champion version={version} -->")
}

fn state_marker(r: &ModelDrift) -> String {
    let mut s = format!("{}|{}|", r.data.severity, r.date);
    for c in r.data.columns.iter().filter(|c| c.drifted) {
        s.push_str(&c.column);
        s.push(',');
    }
    for i in &r.inputs {
        s.push_str(&i.sha256);
    }
    let h = crate::registry::types::Sha256::of(s.as_bytes()).hex();
    format!("{MARKER}state {} -->", &h[..16])
}

fn drifted(r: &ModelDrift) -> usize {
    r.data.columns.iter().filter(|c| c.drifted).count()
}

/// The issue title.
pub fn title(r: &ModelDrift) -> String {
    format!(
        "Drift: {} ({}, {}/{} columns)",
        r.model,
        r.data.severity,
        drifted(r),
        r.data.columns.len()
    )
}

fn site_link(opts: &Options, gh: &GitHub, model: &str) -> String {
    let base = opts.site_url.clone().unwrap_or_else(|| {
        let (o, n) = gh.repo.split_once('/').unwrap_or((&gh.repo, ""));
        format!("https://{o}.github.io/{n}")
    });
    format!("{}/models/{model}/index.html", base.trim_end_matches('/'))
}

/// The issue body (or a comment's): the table, the window, the digests, the markers.
pub fn body(r: &ModelDrift, gh: &GitHub, opts: &Options, first: bool) -> String {
    let mut s = String::new();
    if first {
        s.push_str(&fingerprint(&r.model, r.version));
        s.push('\n');
    }
    s.push_str(&state_marker(r));
    s.push('\n');
    s.push_str(&format!(
        "**{}** v{} (champion): drift severity **{}** on {} — {}/{} columns drifted ({:.0}%).\n\n",
        r.model,
        r.version,
        r.data.severity,
        r.date,
        drifted(r),
        r.data.columns.len(),
        r.data.drift_share * 100.0
    ));
    if let Some((a, b)) = &r.window {
        s.push_str(&format!("Data window: {a} to {b}. "));
    }
    s.push_str(&format!(
        "Rows: {} reference, {} current.\n\n",
        r.data.rows.reference, r.data.rows.current
    ));
    s.push_str(&crate::monitor::render::drift_markdown(&r.data));
    if let Some(p) = &r.prediction {
        s.push_str(&format!(
            "\nPrediction drift (`{}`): {} {} → {}\n",
            p.column,
            p.method.as_str(),
            crate::gates::num(p.score),
            if p.drifted { "**drift**" } else { "stable" }
        ));
    }
    if let Some(c) = r.concept.as_ref().map(|c| &c.result) {
        if let (Some(cur), Some(rec)) = (c.current, c.recorded) {
            s.push_str(&format!(
                "\nConcept drift: {} {} now vs {} recorded → {}\n",
                c.metric,
                crate::gates::num(cur),
                crate::gates::num(rec),
                if c.drifted { "**drift**" } else { "stable" }
            ));
        }
    }
    s.push_str("\n<details><summary>Inputs (sha256)</summary>\n\n");
    for i in &r.inputs {
        s.push_str(&format!("- `{}` `{}`\n", i.file, i.sha256));
    }
    s.push_str("\n</details>\n\n");
    s.push_str(&format!(
        "Model card: {}\n\nResult file: `{}`. Written by `modelgate drift --open-issues`; this issue is updated and closed by it.\n",
        site_link(opts, gh, &r.model),
        r.file
    ));
    s
}

/// Opens, updates or closes the drift issue of every model in `results`.
pub fn sync(gh: &GitHub, results: &[ModelDrift], opts: &Options) -> Result<Vec<Outcome>> {
    let open = gh.list(&format!(
        "{}/issues?state=open&labels={}&per_page=100",
        gh.repo_path(),
        super::percent(LABEL)
    ))?;
    let mut labels_ready = false;
    let mut out = Vec::new();
    for r in results {
        let fp = fingerprint(&r.model, r.version);
        // Markers are trusted only in issues by the token's own account: anyone can open an
        // issue that carries one.
        let mut existing = None;
        for i in &open {
            let marked = i
                .get("body")
                .and_then(Value::as_str)
                .is_some_and(|b| b.contains(&fp))
                && i.get("pull_request").is_none();
            if marked && gh.is_mine(i)? {
                existing = Some(i);
                break;
            }
        }
        let number = existing.and_then(|i| i.get("number").and_then(Value::as_u64));
        let sev = r.data.severity;
        let mut o = Outcome {
            model: r.model.clone(),
            action: "none".into(),
            issue: number,
            dispatched: false,
            notified: false,
        };
        let issue_path = |n: u64| format!("{}/issues/{n}", gh.repo_path());
        let changed;
        if sev == Severity::None {
            if let Some(n) = number {
                gh.request(
                    "POST",
                    &format!("{}/comments", issue_path(n)),
                    Some(&json!({"body": format!(
                        "{}\nDrift cleared on {}: {}/{} columns drifted ({:.0}%), below the `issue` threshold. Closing.",
                        state_marker(r), r.date, drifted(r), r.data.columns.len(), r.data.drift_share * 100.0
                    )})),
                )?;
                gh.request(
                    "PATCH",
                    &issue_path(n),
                    Some(&json!({"state": "closed", "state_reason": "completed"})),
                )?;
                o.action = "closed".into();
            }
            out.push(o);
            continue;
        }
        if !labels_ready {
            gh.ensure_label(LABEL, "5319e7", "Data drift found by modelgate")?;
            for (l, c) in [
                ("severity:low", "fbca04"),
                ("severity:high", "d93f0b"),
                ("severity:urgent", "b60205"),
            ] {
                gh.ensure_label(l, c, "Drift severity set by modelgate")?;
            }
            labels_ready = true;
        }
        let labels = json!([LABEL, severity_label(sev)]);
        match number {
            None => {
                let resp = gh.request(
                    "POST",
                    &format!("{}/issues", gh.repo_path()),
                    Some(&json!({"title": title(r), "body": body(r, gh, opts, true), "labels": labels})),
                )?;
                o.issue = resp.body.get("number").and_then(Value::as_u64);
                o.action = "opened".into();
                changed = true;
            }
            Some(n) => {
                let state = state_marker(r);
                let comments = gh.list(&format!("{}/comments?per_page=100", issue_path(n)))?;
                // The newest state marker in a comment of our own (or the issue's body).
                let mut last_state = None;
                for c in comments.iter().rev().chain(existing) {
                    let Some(line) = c.get("body").and_then(Value::as_str).and_then(|b| {
                        b.lines()
                            .find(|l| l.starts_with(&format!("{MARKER}state ")))
                            .map(str::to_string)
                    }) else {
                        continue;
                    };
                    if gh.is_mine(c)? {
                        last_state = Some(line);
                        break;
                    }
                }
                if last_state.as_deref() == Some(state.as_str()) {
                    o.action = "unchanged".into();
                    changed = false;
                } else {
                    gh.request(
                        "POST",
                        &format!("{}/comments", issue_path(n)),
                        Some(&json!({"body": body(r, gh, opts, false)})),
                    )?;
                    let had = existing
                        .and_then(|i| i.get("labels"))
                        .and_then(Value::as_array)
                        .map(|ls| {
                            ls.iter().any(|l| {
                                l.get("name").and_then(Value::as_str) == Some(severity_label(sev))
                            })
                        })
                        .unwrap_or(false);
                    let old_title = existing
                        .and_then(|i| i.get("title"))
                        .and_then(Value::as_str);
                    if !had || old_title != Some(title(r).as_str()) {
                        gh.request(
                            "PATCH",
                            &issue_path(n),
                            Some(&json!({"title": title(r), "labels": labels})),
                        )?;
                    }
                    o.action = "commented".into();
                    changed = true;
                }
            }
        }
        if changed && sev == Severity::Retrain {
            gh.request(
                "POST",
                &format!("{}/dispatches", gh.repo_path()),
                Some(&json!({
                    "event_type": RETRAIN_EVENT,
                    "client_payload": {
                        "model": r.model, "version": r.version, "severity": sev,
                        "drift_share": r.data.drift_share, "date": r.date, "issue": o.issue,
                    }
                })),
            )?;
            o.dispatched = true;
        }
        if changed && sev >= Severity::Alert {
            if let Some(url) = &opts.webhook {
                gh.webhook(
                    url,
                    &json!({
                        "text": format!("{} — {}", title(r), site_link(opts, gh, &r.model)),
                        "model": r.model, "version": r.version, "severity": sev,
                        "drift_share": r.data.drift_share, "date": r.date, "issue": o.issue,
                    }),
                )?;
                o.notified = true;
            }
        }
        out.push(o);
    }
    Ok(out)
}

/// The open drift issues of the repository, by model: number and URL (for the site).
pub fn open_issues(gh: &GitHub) -> Result<std::collections::BTreeMap<String, Vec<(u64, String)>>> {
    let mut out: std::collections::BTreeMap<String, Vec<(u64, String)>> = Default::default();
    let prefix = format!("{MARKER}drift model=");
    for i in gh.list(&format!(
        "{}/issues?state=open&labels={}&per_page=100",
        gh.repo_path(),
        super::percent(LABEL)
    ))? {
        let Some(body) = i.get("body").and_then(Value::as_str) else {
            continue;
        };
        let Some(model) = body
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|rest| rest.split_whitespace().next())
        else {
            continue;
        };
        // Only drift issues modelgate opened: anyone can open one carrying the marker.
        if !gh.is_mine(&i)? {
            continue;
        }
        if let (Some(n), Some(url)) = (
            i.get("number").and_then(Value::as_u64),
            i.get("html_url").and_then(Value::as_str),
        ) {
            out.entry(model.to_string())
                .or_default()
                .push((n, url.to_string()));
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}
