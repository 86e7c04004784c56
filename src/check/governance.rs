//! Governance changes: a pull request that changes the rules a later pull request is judged by.
//!
//! The rules are policy.yaml (gates, roles, severities, governance itself), allowed_signers, and
//! what in a model.yaml decides gates or predictions: `policy:` overrides,
//! `protected_attributes`, `task`, `label`, `features` (their order and categories),
//! `monitoring` and `serving` (which version answers how much traffic). `check` lists each change in plain words, and blocks it unless signed
//! approvals (`registry/governance/`) by the roles the **base** policy names for governance
//! bind the file's path and its new content's sha256. A change that provably only tightens the
//! rules passes without approvals; anything else — including a new model whose overrides
//! loosen the global policy — needs them.

use crate::diag::{Code, Diagnostic};
use crate::gates::Status;
use crate::registry::schema::{ModelSpec, Policy};
use crate::registry::types::{Alias, Sha256};
use crate::registry::{self, POLICY_PATH, Registry, policy};
use crate::signing::allowed_signers::SIGNERS_PATH;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One governed file whose rules change.
#[derive(Clone, Debug, Serialize)]
pub struct GovernanceChange {
    /// The repository path.
    pub file: String,
    /// sha256 of the new content (what approvals bind); `None` when it is gone.
    pub sha256: Option<String>,
    /// The change in plain words, one line per setting.
    pub lines: Vec<String>,
    /// Whether every line provably only tightens the rules.
    pub tightens_only: bool,
    /// Pass (tightening, or approved) or block.
    pub status: Status,
    /// Who approved, or who is missing.
    pub detail: String,
}

type Flat = BTreeMap<String, Value>;

fn flatten(v: &Value, prefix: &str, out: &mut Flat) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(x, &p, out);
            }
        }
        Value::Null => {}
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => format!(
            "[{}]",
            a.iter()
                .map(|x| show(Some(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(x) => x.to_string(),
    }
}

fn set(v: Option<&Value>) -> BTreeSet<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(|x| show(Some(x))).collect(),
        _ => BTreeSet::new(),
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

fn flag(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

/// Whether changing `path` from `old` to `new` provably only tightens the rules. Anything not
/// known to tighten counts as loosening: the safe side.
fn tightens(path: &str, old: Option<&Value>, new: Option<&Value>) -> bool {
    let higher = |default: Option<f64>| match (number(old).or(default), number(new)) {
        (None, Some(_)) => true,
        (Some(o), Some(n)) => n >= o,
        _ => false,
    };
    let lower = |default: Option<f64>| match (number(old).or(default), number(new).or(default)) {
        (None, Some(_)) => true,
        (Some(o), Some(n)) => n <= o,
        _ => false,
    };
    let superset = || new.is_some() && set(new).is_superset(&set(old));
    if let Some(rest) = path.strip_prefix("gates.") {
        let key = rest.split_once('.').map(|(_, k)| k).unwrap_or("");
        return match key {
            "min_improvement" => higher(Some(0.0)),
            "stability.min_ratio" => higher(None),
            "stability.metrics" => superset(),
            "bias.warn_at" | "bias.block_at" => old.is_none() && new.is_some() || lower(None),
            "drift.block_if_champion_drifting" => flag(new) >= flag(old),
            "approvals.roles" => superset(),
            "primary_metric" => old.is_none() && new.is_some(),
            _ => false,
        };
    }
    if path.starts_with("roles.") {
        return set(new).is_subset(&set(old));
    }
    let sev = policy::DEFAULT_SEVERITY;
    match path {
        "drift.severity.issue" => lower(Some(sev.0)),
        "drift.severity.alert" => lower(Some(sev.1)),
        "drift.severity.retrain" => lower(Some(sev.2)),
        "require_signed_commits" | "distinct_principals" => flag(new) >= flag(old),
        "governance.roles" => old.is_some() && superset(),
        "protected_attributes" => superset(),
        // Traffic back to the champion, or no more shadow scoring, only narrows what serves.
        "serving.split.champion" => higher(None),
        "serving.split.challenger" => lower(None),
        "serving.shadow" => flag(new) <= flag(old),
        _ => false,
    }
}

/// The diff of two flattened views: plain-words lines, and whether all of them tighten.
fn diff(old: &Flat, new: &Flat) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    let mut tight = true;
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for k in keys {
        let (o, n) = (old.get(k), new.get(k));
        if o == n {
            continue;
        }
        lines.push(format!("{k}: {} → {}", show(o), show(n)));
        tight &= tightens(k, o, n);
    }
    (lines, tight)
}

fn policy_view(p: &Policy) -> Flat {
    let mut out = Flat::new();
    if let Ok(v) = serde_json::to_value(p) {
        flatten(&v, "", &mut out);
    }
    out
}

/// The effective rules of one model (the base's global policy with its overrides) and what in
/// its model.yaml decides predictions and the bias gate.
fn model_view(global: &Policy, spec: &ModelSpec, with_inputs: bool) -> Flat {
    let eff = policy::effective(global, spec.policy.as_ref());
    let mut out = Flat::new();
    if let Ok(v) = serde_json::to_value(&eff.gates) {
        flatten(&v, "gates", &mut out);
    }
    for (name, x) in [
        ("issue", eff.severity.0),
        ("alert", eff.severity.1),
        ("retrain", eff.severity.2),
    ] {
        out.insert(format!("drift.severity.{name}"), Value::from(x));
    }
    let retention = spec
        .policy
        .as_ref()
        .and_then(|o| o.retention.as_ref())
        .or(global.retention.as_ref());
    if let Some(Ok(v)) = retention.map(serde_json::to_value) {
        flatten(&v, "retention", &mut out);
    }
    serving_view(spec, &mut out);
    if with_inputs {
        out.insert(
            "protected_attributes".into(),
            Value::from(spec.protected_attributes.clone()),
        );
        if let Ok(v) = serde_json::to_value(spec.task) {
            out.insert("task".into(), v);
        }
        if let Some(l) = &spec.label {
            out.insert("label".into(), Value::from(l.clone()));
        }
        let features: Vec<Value> = spec
            .features
            .iter()
            .map(|f| {
                let kind = serde_json::to_value(f.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                // JSON strings: a category holding ", " cannot pass for two.
                let q = |t: &str| serde_json::to_string(t).unwrap_or_default();
                Value::from(match &f.categories {
                    Some(c) => format!(
                        "{} ({kind}: [{}])",
                        q(&f.name),
                        c.iter().map(|x| q(x)).collect::<Vec<_>>().join(", ")
                    ),
                    None => format!("{} ({kind})", q(&f.name)),
                })
            })
            .collect();
        out.insert("features".into(), Value::from(features));
        if let Some(Ok(v)) = spec.monitoring.as_ref().map(serde_json::to_value) {
            flatten(&v, "monitoring", &mut out);
        }
    }
    out
}

/// What `serving:` decides, with its defaults written out (the champion takes everything, no
/// stickiness, no shadow), so that writing a default is no change and leaving one is.
fn serving_view(spec: &ModelSpec, out: &mut Flat) {
    let sv = spec.serving.clone().unwrap_or_default();
    let (champion, challenger) = sv.weights();
    out.insert("serving.split.champion".into(), Value::from(champion));
    out.insert("serving.split.challenger".into(), Value::from(challenger));
    out.insert(
        "serving.shadow".into(),
        Value::from(sv.shadow == Some(true)),
    );
    if let Some(k) = &sv.sticky {
        if let Some(f) = &k.field {
            out.insert("serving.sticky.field".into(), Value::from(f.value.clone()));
        }
        if let Some(h) = &k.header {
            out.insert("serving.sticky.header".into(), Value::from(h.value.clone()));
        }
    }
}

/// A model's `policy:` overrides as written, flattened.
fn override_view(spec: &ModelSpec) -> Flat {
    let mut out = Flat::new();
    if let Some(Ok(v)) = spec.policy.as_ref().map(serde_json::to_value) {
        flatten(&v, "", &mut out);
    }
    out
}

fn signer_lines(reg: &Registry) -> BTreeSet<String> {
    let text = reg
        .source
        .read(SIGNERS_PATH, registry::MAX_YAML_BYTES)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    // The lines as the parser reads them (its own tokens), so that a change that the parser
    // sees is seen here too; a line that does not parse is kept as written.
    let (parsed, _) = crate::signing::allowed_signers::AllowedSigners::parse(&text);
    let mut out: BTreeSet<String> = parsed
        .signers
        .iter()
        .map(|s| {
            format!(
                "{} namespaces={:?} valid-after={:?} valid-before={:?} {}",
                s.principals.join(","),
                s.namespaces,
                s.valid_after.map(|t| t.to_rfc3339()),
                s.valid_before.map(|t| t.to_rfc3339()),
                s.public_key
            )
        })
        .collect();
    let good: BTreeSet<u32> = parsed.signers.iter().map(|s| s.line).collect();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if !t.is_empty() && !t.starts_with('#') && !good.contains(&(i as u32 + 1)) {
            out.insert(format!("(does not parse) {t}"));
        }
    }
    out
}

fn digest(reg: &Registry, path: &str) -> Option<Sha256> {
    reg.source.sha256(path).ok()
}

/// Every monitoring data pattern the registry names: (pattern, model, `reference`|`current`).
fn monitoring_patterns(reg: &Registry) -> Vec<(String, String, &'static str)> {
    let mut out = Vec::new();
    for m in reg.models.values() {
        if let Some(mon) = m.spec.as_ref().and_then(|s| s.monitoring.as_ref()) {
            out.push((mon.reference.value.clone(), m.name.to_string(), "reference"));
            out.push((mon.current.value.clone(), m.name.to_string(), "current"));
        }
    }
    out
}

/// Whether `file` is governed: policy.yaml, allowed_signers, a model's model.yaml, or data a
/// model's `monitoring:` names (the drift job's inputs are evidence too).
pub fn is_governed(reg: &Registry, file: &str) -> bool {
    file == POLICY_PATH
        || file == SIGNERS_PATH
        || file
            .strip_prefix("registry/models/")
            .and_then(|r| r.strip_suffix("/model.yaml"))
            .is_some_and(|m| reg.models.keys().any(|k| k.as_str() == m))
        || monitoring_patterns(reg)
            .iter()
            .any(|(p, _, _)| glob::Pattern::new(p).is_ok_and(|p| matches(&p, file)))
}

/// A repository path against a pattern, as `glob` expands it on disk (`*` stays in its folder).
fn matches(p: &glob::Pattern, path: &str) -> bool {
    p.matches_with(
        path,
        glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        },
    )
}

/// The files under `dir` (recursively, a bounded depth), as repository paths.
fn files_under(
    src: &dyn crate::registry::source::Source,
    dir: &str,
    depth: u32,
    out: &mut BTreeSet<String>,
) {
    use crate::registry::source::EntryKind;
    if depth == 0 || out.len() > 100_000 {
        return;
    }
    for e in src.list(dir).unwrap_or_default() {
        let path = if dir.is_empty() {
            e.name.clone()
        } else {
            format!("{dir}/{}", e.name)
        };
        match e.kind {
            EntryKind::Dir => files_under(src, &path, depth - 1, out),
            _ => {
                out.insert(path);
            }
        }
    }
}

/// Data the drift job reads, changed by the pull request: a dataset swapped, or rows added to
/// the current window, is evidence forged before the job signs it. Governed like the rules.
fn data_changes(base: &Registry, head: &Registry) -> Vec<GovernanceChange> {
    let mut patterns = monitoring_patterns(base);
    patterns.extend(monitoring_patterns(head));
    patterns.sort();
    patterns.dedup();
    let mut out: BTreeMap<String, GovernanceChange> = BTreeMap::new();
    for (pattern, model, which) in patterns {
        let Ok(glob) = glob::Pattern::new(&pattern) else {
            continue;
        };
        // The folder before the first wildcard.
        let fixed: Vec<&str> = pattern
            .split('/')
            .take_while(|c| !c.contains(['*', '?', '[']))
            .collect();
        let dir = if fixed.len() == pattern.split('/').count() {
            fixed[..fixed.len().saturating_sub(1)].join("/")
        } else {
            fixed.join("/")
        };
        let mut files = BTreeSet::new();
        files_under(base.source.as_ref(), &dir, 8, &mut files);
        files_under(head.source.as_ref(), &dir, 8, &mut files);
        for f in files.into_iter().filter(|f| matches(&glob, f)) {
            let (b, h) = (base.source.fingerprint(&f), head.source.fingerprint(&f));
            if b == h {
                continue;
            }
            let what = match (&b, &h) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            out.entry(f.clone()).or_insert_with(|| GovernanceChange {
                sha256: digest(head, &f).map(|d| d.hex()),
                lines: vec![format!(
                    "monitoring data of {model} (monitoring.{which}: {pattern}): {what}"
                )],
                file: f,
                tightens_only: false,
                status: Status::Pass,
                detail: String::new(),
            });
        }
    }
    out.into_values().collect()
}

/// The roles whose approval a governance change needs, by the base policy: `governance.roles`,
/// else the champion gate's roles, else every role.
pub fn required_roles(base: &Policy) -> Vec<String> {
    if let Some(g) = &base.governance {
        return g.roles.iter().map(|r| r.value.clone()).collect();
    }
    let champion: Vec<String> = base
        .gates
        .get(&Alias::Champion)
        .and_then(|g| g.approvals.as_ref())
        .map(|a| a.roles.iter().map(|r| r.value.clone()).collect())
        .unwrap_or_default();
    if !champion.is_empty() {
        return champion;
    }
    base.roles.keys().cloned().collect()
}

/// Every governance change between two revisions, without judging it.
fn changes(base: &Registry, head: &Registry) -> Vec<GovernanceChange> {
    let mut out = Vec::new();
    let mut push = |file: String, sha: Option<Sha256>, lines: Vec<String>, tight: bool| {
        if !lines.is_empty() {
            out.push(GovernanceChange {
                file,
                sha256: sha.map(|s| s.hex()),
                lines,
                tightens_only: tight,
                status: Status::Pass,
                detail: String::new(),
            });
        }
    };
    let empty = Policy::default();
    let base_policy = base.policy.as_ref().unwrap_or(&empty);
    if digest(base, POLICY_PATH) != digest(head, POLICY_PATH) {
        let (lines, tight) = match &head.policy {
            Some(h) => diff(&policy_view(base_policy), &policy_view(h)),
            None => (vec!["policy.yaml does not parse".into()], false),
        };
        push(POLICY_PATH.into(), digest(head, POLICY_PATH), lines, tight);
    }
    if digest(base, SIGNERS_PATH) != digest(head, SIGNERS_PATH) {
        let (b, h) = (signer_lines(base), signer_lines(head));
        let mut lines: Vec<String> = b.difference(&h).map(|l| format!("- {l}")).collect();
        let added: Vec<String> = h.difference(&b).map(|l| format!("+ {l}")).collect();
        // An unreadable head file is no proof of removal.
        let readable = head
            .source
            .read(SIGNERS_PATH, registry::MAX_YAML_BYTES)
            .is_ok_and(|b| std::str::from_utf8(&b).is_ok());
        if !readable {
            lines.push("allowed_signers cannot be read".into());
        }
        let tight = added.is_empty() && readable;
        lines.extend(added);
        push(
            SIGNERS_PATH.into(),
            digest(head, SIGNERS_PATH),
            lines,
            tight,
        );
    }
    for (name, hm) in &head.models {
        let file = format!("{}/model.yaml", hm.dir);
        let bm = base.models.get(name);
        if bm.is_some_and(|b| b.fingerprint.is_some() && b.fingerprint == hm.fingerprint) {
            continue; // the same folder: nothing in it changed
        }
        let (lines, tight) = match (bm.and_then(|b| b.spec.as_ref()), hm.spec.as_ref()) {
            (Some(b), Some(h)) => {
                let (old, new) = (
                    model_view(base_policy, b, true),
                    model_view(base_policy, h, true),
                );
                let (mut lines, mut tight) = diff(&old, &new);
                // An override written equal to today's global value changes nothing now, but
                // pins the model to it when the global policy is tightened later.
                let (rb, rh) = (override_view(b), override_view(h));
                for (k, v) in &rh {
                    if rb.get(k) != Some(v) && old.get(k) == new.get(k) {
                        lines.push(format!(
                            "policy.{k}: pinned to {} (an override equal to the global value)",
                            show(Some(v))
                        ));
                        tight = false;
                    }
                }
                (lines, tight)
            }
            // A new model: its overrides against the global policy.
            (None, Some(h)) if bm.is_none() => {
                let mut plain = h.clone();
                plain.policy = None;
                plain.serving = None;
                diff(
                    &model_view(base_policy, &plain, false),
                    &model_view(base_policy, h, false),
                )
            }
            (Some(_), None) => (vec!["model.yaml does not parse".into()], false),
            // The base's did not parse: nothing proves the head's only tightens.
            (None, Some(_)) => (
                vec!["model.yaml did not parse in the base revision".into()],
                false,
            ),
            (None, None) => (Vec::new(), true),
        };
        push(file.clone(), digest(head, &file), lines, tight);
    }
    out
}

/// Finds the governance changes of a pull request and judges each by the base's roles and
/// signers at `now`; returns them with their diagnostics.
pub fn judge(
    base: &Registry,
    head: &Registry,
    now: DateTime<Utc>,
) -> (Vec<GovernanceChange>, Vec<Diagnostic>) {
    let mut found = changes(base, head);
    found.extend(data_changes(base, head));
    let mut diags = Vec::new();
    let empty = Policy::default();
    let base_policy = base.policy.as_ref().unwrap_or(&empty);
    let required = required_roles(base_policy);
    let distinct = base_policy.distinct_principals.unwrap_or(false);
    for c in &mut found {
        if c.tightens_only {
            c.detail = "only tightens the rules: no approval needed".into();
            continue;
        }
        let mut approved: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        // Only approvals this pull request adds count: a merged one was used up by the change
        // it approved (and merged ones cannot be removed, so none comes back as new).
        let merged: BTreeSet<&str> = base.governance.iter().map(|a| a.file.as_str()).collect();
        for a in head
            .governance
            .iter()
            .filter(|a| !merged.contains(a.file.as_str()))
        {
            let s = &a.approval.statement;
            if s.file.value != c.file || Some(s.sha256.value.hex()) != c.sha256 {
                continue;
            }
            // It approves this change against this base only: never a replay of an old
            // approval to undo what was changed since.
            let replaced = digest(base, &c.file);
            if s.base_sha256.as_ref().map(|b| b.value) != replaced {
                diags.push(
                    Diagnostic::error(
                        Code::ApprovalRejected,
                        format!(
                            "this governance approval does not count: it approves {} replacing {}, but the base revision has {}",
                            c.file,
                            s.base_sha256
                                .as_ref()
                                .map(|b| b.value.hex()[..12].to_string())
                                .unwrap_or_else(|| "nothing".into()),
                            replaced
                                .map(|b| b.hex()[..12].to_string())
                                .unwrap_or_else(|| "no such file".into())
                        ),
                    )
                    .in_file(&a.file)
                    .at(s.principal.span)
                    .hint("approve the change against the pull request's base: modelgate approve --governance FILE --base BASE …"),
                );
                continue;
            }
            let why = match &base.signers {
                None => Some("the base revision has no readable allowed_signers".to_string()),
                Some(signers) => crate::signing::approval::verify_governance(
                    s,
                    &a.approval.signature,
                    signers,
                    Some(now),
                )
                .err()
                .map(|e| format!("{e} (checked against the base revision's allowed_signers)")),
            };
            let why = why.or_else(|| {
                let holds = base_policy
                    .roles
                    .get(s.role.as_str())
                    .is_some_and(|ps| ps.iter().any(|p| p.value == s.principal.value));
                (!holds).then(|| {
                    format!(
                        "{} does not hold the role `{}` in the base revision's policy",
                        s.principal.value, s.role.value
                    )
                })
            });
            match why {
                None => approved
                    .entry(s.role.as_str())
                    .or_default()
                    .push(s.principal.as_str()),
                Some(why) => diags.push(
                    Diagnostic::error(
                        Code::ApprovalRejected,
                        format!("this governance approval does not count: {why}"),
                    )
                    .in_file(&a.file)
                    .at(s.principal.span),
                ),
            }
        }
        let mut missing: Vec<&str> = required
            .iter()
            .map(String::as_str)
            .filter(|r| !approved.contains_key(r))
            .collect();
        if missing.is_empty() && distinct {
            let req: Vec<&str> = required.iter().map(String::as_str).collect();
            missing = crate::gates::approvals::distinct_assignment(&req, &approved);
        }
        let mut parts: Vec<String> = required
            .iter()
            .filter_map(|r| {
                approved
                    .get(r.as_str())
                    .map(|ps| format!("{r} ✓ {}", ps.join(", ")))
            })
            .collect();
        if required.is_empty() {
            missing.push("(no role: the base policy names nobody who may approve)");
        }
        let nobody = required.iter().all(|r| {
            base_policy
                .roles
                .get(r.as_str())
                .is_none_or(|holders| holders.is_empty())
        });
        if missing.is_empty() {
            c.status = Status::Pass;
        } else {
            c.status = Status::Block;
            parts.push(format!("missing: {}", missing.join(", ")));
            let sha = c.sha256.clone().unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    Code::GovernanceChange,
                    format!(
                        "this pull request changes the rules in {} ({}), which needs approval by {}",
                        c.file,
                        c.lines.join("; "),
                        missing.join(", ")
                    ),
                )
                .in_file(&c.file)
                .hint(if nobody {
                    "the base revision has no holder of a governance role, so nobody can approve: the first signers and roles of a registry are committed by a repository admin straight to the default branch (right after `modelgate init`), not through a pull request".to_string()
                } else {
                    format!(
                        "a holder of each role runs `modelgate approve --governance {} --role ROLE --key ~/.ssh/id_ed25519` on this branch (it binds sha256 {}) and pushes the file; a governance change is best its own pull request",
                        c.file,
                        &sha[..sha.len().min(12)]
                    )
                }),
            );
        }
        c.detail = parts.join("; ");
    }
    (found, diags)
}
