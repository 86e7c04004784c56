//! `retire`: the retention policy, as a plan or applied.
//!
//! Every date it judges by comes from the audit log, replayed per model: when a version was
//! registered, when it last stopped being champion or challenger, when it stopped being
//! champion. File modification times are never used: a fresh clone would make every file new.
//!
//! The rules (`retention` in policy.yaml, or a model's override):
//! - **archive**: a live version that is neither champion nor challenger, and has not been for
//!   `archive_after_days` (counted from when it last held an alias, or from its registration if
//!   it never did), gets `archived_at`.
//! - **delete**: an archived (or now archived), unaliased version registered at least
//!   `delete_after_days` ago gets `deleted_at`, and its artifact is listed for deletion; a former
//!   champion is kept until it has been out of the champion seat for `champion_history_days`
//!   as well, so the versions production actually ran stay restorable for that long. The version
//!   file always stays: the record outlives the artifact.

use super::promote::set_archived_at;
use super::{Files, append_audit};
use crate::audit::{Action, NewEntry};
use crate::registry::Registry;
use crate::registry::schema::Retention;
use crate::registry::types::{ModelName, Timestamp};
use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Retention used when neither policy.yaml nor the model sets one.
pub const DEFAULT_RETENTION: (u32, u32, u32) = (90, 365, 730);

/// What happens to one version.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// Set `archived_at`.
    Archive,
    /// Set `deleted_at` and purge the artifact.
    Delete,
}

/// One step of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// The model.
    pub model: String,
    /// The version.
    pub version: u32,
    /// What happens.
    pub action: Act,
    /// Why, in words.
    pub reason: String,
    /// The date the rule counts from (YYYY-MM-DD).
    pub since: String,
    /// Days since then.
    pub days: i64,
    /// For deletions: the artifact to purge.
    pub artifact: Option<String>,
    /// For deletions: whether that artifact is a local file in the repository.
    pub artifact_local: bool,
}

/// The plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The day judged.
    pub today: String,
    /// The steps, by model and version.
    pub steps: Vec<Step>,
    /// Versions kept, and why (only the notable ones: aliased or protected champion history).
    pub kept: Vec<String>,
    /// Files to write when applied.
    #[serde(skip)]
    pub files: Files,
}

/// What the audit log says about one version.
#[derive(Clone, Debug, Default)]
struct History {
    registered: Option<DateTime<Utc>>,
    /// When it last stopped holding any alias.
    unaliased_since: Option<DateTime<Utc>>,
    /// When it last stopped being champion.
    champion_until: Option<DateTime<Utc>>,
    ever_champion: bool,
}

fn histories(reg: &Registry, model: &str) -> BTreeMap<u32, History> {
    let mut h: BTreeMap<u32, History> = BTreeMap::new();
    let mut holders: BTreeMap<String, u32> = BTreeMap::new();
    for e in reg.audit.entries() {
        if e.model.as_deref() != Some(model) {
            continue;
        }
        let t = e.at.at;
        match e.action {
            Action::Register => {
                if let Some(v) = e.version {
                    h.entry(v).or_default().registered.get_or_insert(t);
                }
            }
            Action::Promote | Action::Demote => {
                let Some(alias) = e.alias.clone() else {
                    continue;
                };
                let old = holders.remove(&alias);
                if e.action == Action::Promote {
                    if let Some(v) = e.version {
                        holders.insert(alias.clone(), v);
                        let hv = h.entry(v).or_default();
                        hv.unaliased_since = None;
                        if alias == "champion" {
                            hv.ever_champion = true;
                            hv.champion_until = None;
                        }
                    }
                }
                if let Some(o) = old {
                    if Some(o) == e.version && e.action == Action::Promote {
                        continue;
                    }
                    let still = holders.values().any(|v| *v == o);
                    let ho = h.entry(o).or_default();
                    if alias == "champion" {
                        ho.champion_until = Some(t);
                    }
                    if !still {
                        ho.unaliased_since = Some(t);
                    }
                }
            }
            _ => {}
        }
    }
    h
}

fn days(today: NaiveDate, since: DateTime<Utc>) -> i64 {
    (today - since.date_naive()).num_days()
}

/// Parses `--today`.
pub fn parse_day(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("--today `{s}` is not a date: expected YYYY-MM-DD"))
}

/// Sets `deleted_at` in a version file's text, keeping everything else byte for byte.
pub fn set_deleted_at(text: &str, at: &Timestamp) -> String {
    super::promote::set_time_field(text, "deleted_at", at)
}

fn is_local(uri: &str) -> bool {
    !uri.contains("://") && !uri.starts_with('/') && !uri.split('/').any(|c| c == "..")
}

/// Plans retention as of `today` for the given models (all when empty).
pub fn plan(reg: &Registry, today: NaiveDate, only: &[ModelName], actor: &str) -> Result<Plan> {
    if let Some(first) = reg.audit.entries().next() {
        if today < first.at.at.date_naive() {
            bail!(
                "--today {today} is before the audit log's first entry ({}); retention counts days from the log, so a date before it means nothing",
                first.at.at.date_naive()
            );
        }
    }
    for m in only {
        if !reg.models.contains_key(m) {
            bail!("there is no model `{m}` in this registry");
        }
    }
    let at = Timestamp::from_utc(today.and_time(chrono::NaiveTime::MIN).and_utc());
    let policy_ret = reg.policy.as_ref().and_then(|p| p.retention.as_ref());
    let mut steps = Vec::new();
    let mut kept = Vec::new();
    let mut files: Files = Vec::new();
    let mut entries: Vec<NewEntry> = Vec::new();
    // Artifacts still referenced by a version that is not being deleted.
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    for (name, m) in &reg.models {
        let selected = only.is_empty() || only.contains(name);
        let ret: Option<&Retention> = m
            .spec
            .as_ref()
            .and_then(|s| s.policy.as_ref())
            .and_then(|p| p.retention.as_ref())
            .or(policy_ret);
        let (archive_after, champion_days, delete_after) = ret
            .map(|r| {
                (
                    *r.archive_after_days,
                    *r.champion_history_days,
                    *r.delete_after_days,
                )
            })
            .unwrap_or(DEFAULT_RETENTION);
        let hist = histories(reg, name.as_str());
        let aliased: BTreeMap<u32, Vec<String>> =
            m.aliases.iter().fold(BTreeMap::new(), |mut acc, (a, v)| {
                acc.entry(v.value)
                    .or_insert_with(Vec::new)
                    .push(a.to_string());
                acc
            });
        for (n, v) in &m.versions {
            let uri = v.spec.artifact.uri.value.clone();
            if !selected {
                referenced.insert(uri);
                continue;
            }
            if let Some(a) = aliased.get(n) {
                kept.push(format!("{name} v{n}: {}", a.join(", ")));
                referenced.insert(uri);
                continue;
            }
            if v.spec.deleted_at.is_some() {
                continue;
            }
            let h = hist.get(n).cloned().unwrap_or_default();
            let registered = h.registered.unwrap_or(v.spec.created_at.at);
            let since = h.unaliased_since.unwrap_or(registered);
            let mut text = String::from_utf8_lossy(
                &reg.source
                    .read(&v.file, crate::registry::MAX_YAML_BYTES)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", v.file))?,
            )
            .into_owned();
            let mut changed = false;
            let mut archived = v.spec.archived_at.is_some();
            let idle = days(today, since);
            if !archived && idle >= i64::from(archive_after) {
                steps.push(Step {
                    model: name.to_string(),
                    version: *n,
                    action: Act::Archive,
                    reason: format!(
                        "neither champion nor challenger for {idle} days (archive_after_days: {archive_after})"
                    ),
                    since: since.date_naive().to_string(),
                    days: idle,
                    artifact: None,
                    artifact_local: false,
                });
                entries.push(
                    NewEntry::new(Action::Archive, actor, &at)
                        .version(name.as_str(), *n)
                        .details(serde_json::json!({
                            "reason": "retention",
                            "rule": "archive_after_days",
                            "idle_since": since.date_naive().to_string(),
                            "days": idle,
                        })),
                );
                text = set_archived_at(&text, &at);
                archived = true;
                changed = true;
            }
            let age = days(today, registered);
            let champion_idle = h.champion_until.map(|t| days(today, t));
            let champion_ok =
                !h.ever_champion || champion_idle.is_some_and(|d| d >= i64::from(champion_days));
            if archived && age >= i64::from(delete_after) {
                if champion_ok {
                    let local = is_local(&uri);
                    steps.push(Step {
                        model: name.to_string(),
                        version: *n,
                        action: Act::Delete,
                        reason: format!(
                            "registered {age} days ago (delete_after_days: {delete_after}){}",
                            match champion_idle {
                                Some(d) if h.ever_champion => format!(
                                    "; out of the champion seat for {d} days (champion_history_days: {champion_days})"
                                ),
                                _ => String::new(),
                            }
                        ),
                        since: registered.date_naive().to_string(),
                        days: age,
                        artifact: Some(uri.clone()),
                        artifact_local: local,
                    });
                    entries.push(
                        NewEntry::new(Action::Delete, actor, &at)
                            .version(name.as_str(), *n)
                            .details(serde_json::json!({
                                "reason": "retention",
                                "rule": "delete_after_days",
                                "artifact": uri,
                                "artifact_sha256": v.spec.artifact.sha256.value.hex(),
                            })),
                    );
                    text = set_deleted_at(&text, &at);
                    changed = true;
                } else {
                    kept.push(format!(
                        "{name} v{n}: a former champion, kept for champion_history_days ({champion_days}){}",
                        champion_idle
                            .map(|d| format!("; out of the seat for {d} days"))
                            .unwrap_or_default()
                    ));
                    referenced.insert(uri.clone());
                }
            } else {
                referenced.insert(uri.clone());
            }
            if changed {
                files.push((v.file.clone(), text.into_bytes()));
            }
        }
    }
    if !entries.is_empty() {
        let audit = append_audit(reg, entries);
        files.push((crate::audit::AUDIT_PATH.to_string(), audit.into_bytes()));
    }
    // An artifact file shared with a version that stays is never purged.
    for s in &mut steps {
        if let Some(a) = &s.artifact {
            if referenced.contains(a) {
                s.artifact_local = false;
                s.reason.push_str(
                    "; its artifact file is shared with a version that stays, so it is kept",
                );
            }
        }
    }
    Ok(Plan {
        today: today.to_string(),
        steps,
        kept,
        files,
    })
}

/// Deletes the local artifact files of the plan's deletions (only files inside `root`, only
/// those no remaining version uses). Returns the files deleted.
pub fn purge_artifacts(root: &Path, plan: &Plan) -> Result<Vec<String>> {
    let mut deleted = Vec::new();
    let root_c = root.canonicalize()?;
    for s in &plan.steps {
        let (Act::Delete, Some(a), true) = (&s.action, &s.artifact, s.artifact_local) else {
            continue;
        };
        let p = root.join(a);
        let Ok(c) = p.canonicalize() else {
            continue; // already gone
        };
        if !c.starts_with(&root_c) {
            continue;
        }
        std::fs::remove_file(&c).map_err(|e| anyhow::anyhow!("deleting {}: {e}", p.display()))?;
        deleted.push(a.clone());
    }
    Ok(deleted)
}

/// The plan as text.
pub fn text(p: &Plan, applied: bool) -> String {
    let mut s = format!(
        "retention as of {}: {} to archive, {} to delete\n",
        p.today,
        p.steps.iter().filter(|s| s.action == Act::Archive).count(),
        p.steps.iter().filter(|s| s.action == Act::Delete).count()
    );
    for st in &p.steps {
        let what = match st.action {
            Act::Archive => "archive",
            Act::Delete => "delete ",
        };
        s.push_str(&format!(
            "  {what} {} v{}: {}\n",
            st.model, st.version, st.reason
        ));
        if let Some(a) = &st.artifact {
            s.push_str(&format!(
                "          artifact {a}{}\n",
                if st.artifact_local {
                    ""
                } else {
                    " (not a local file of this repository: purge it where it is stored)"
                }
            ));
        }
    }
    if !p.kept.is_empty() {
        s.push_str("kept:\n");
        for k in &p.kept {
            s.push_str(&format!("  {k}\n"));
        }
    }
    if !applied && !p.steps.is_empty() {
        s.push_str("this is a plan: nothing was written; run with --apply to write it\n");
    }
    s
}
