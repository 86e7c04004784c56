//! What a pull request changes, and the rules of history: merged versions are immutable, and
//! the audit log only grows and records every alias move and archive.

use crate::audit::{AUDIT_PATH, Action};
use crate::diag::{Code, Diagnostic};
use crate::registry::types::{Alias, ModelName};
use crate::registry::{Model, POLICY_PATH, Registry, VersionEntry};
use crate::signing::allowed_signers::SIGNERS_PATH;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One change between the base and the head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A new model folder.
    ModelAdded {
        /// Model.
        model: String,
    },
    /// A model folder was removed.
    ModelRemoved {
        /// Model.
        model: String,
    },
    /// A new version file.
    VersionAdded {
        /// Model.
        model: String,
        /// Version.
        version: u32,
    },
    /// A version file changed; `archived` when only retirement fields changed.
    VersionModified {
        /// Model.
        model: String,
        /// Version.
        version: u32,
        /// Only `archived_at`/`deleted_at` changed.
        retirement_only: bool,
    },
    /// A version file was removed.
    VersionRemoved {
        /// Model.
        model: String,
        /// Version.
        version: u32,
    },
    /// An alias moved (or appeared, or was removed).
    AliasMoved {
        /// Model.
        model: String,
        /// Alias.
        alias: Alias,
        /// Version in the base.
        from: Option<u32>,
        /// Version in the head.
        to: Option<u32>,
    },
    /// An approval file was added or changed.
    ApprovalAdded {
        /// Model.
        model: String,
        /// The file.
        file: String,
    },
    /// An approval file was removed.
    ApprovalRemoved {
        /// Model.
        model: String,
        /// The file.
        file: String,
    },
    /// policy.yaml changed (it counts from the next pull request on).
    PolicyChanged,
    /// allowed_signers changed (it counts from the next pull request on).
    SignersChanged,
    /// Entries appended to the audit log.
    AuditAppended {
        /// How many.
        entries: usize,
    },
    /// A model card changed.
    CardChanged {
        /// Model.
        model: String,
    },
    /// model.yaml changed (what in it is governed is judged as a governance change).
    ModelConfigChanged {
        /// Model.
        model: String,
    },
    /// A monitoring result was added.
    MonitoringAdded {
        /// Model.
        model: String,
        /// The file.
        file: String,
    },
    /// A merged monitoring result was edited or removed.
    MonitoringTampered {
        /// Model.
        model: String,
        /// The file.
        file: String,
    },
    /// A governance approval was added or changed.
    GovernanceApprovalAdded {
        /// The file.
        file: String,
    },
    /// A merged governance approval was removed.
    GovernanceApprovalRemoved {
        /// The file.
        file: String,
    },
}

impl Change {
    /// One line for the text report.
    pub fn describe(&self) -> String {
        let v = |x: &Option<u32>| x.map(|v| format!("v{v}")).unwrap_or_else(|| "none".into());
        match self {
            Change::ModelAdded { model } => format!("+ model {model}"),
            Change::ModelRemoved { model } => format!("- model {model}"),
            Change::VersionAdded { model, version } => format!("+ {model} v{version}"),
            Change::VersionModified {
                model,
                version,
                retirement_only,
            } => format!(
                "~ {model} v{version}{}",
                if *retirement_only {
                    " (archived)"
                } else {
                    " (edited)"
                }
            ),
            Change::VersionRemoved { model, version } => format!("- {model} v{version}"),
            Change::AliasMoved {
                model,
                alias,
                from,
                to,
            } => format!("→ {model} {alias}: {} → {}", v(from), v(to)),
            Change::ApprovalAdded { file, .. } => format!("+ approval {file}"),
            Change::ApprovalRemoved { file, .. } => format!("- approval {file}"),
            Change::PolicyChanged => {
                format!("~ {POLICY_PATH} (applies from the next pull request)")
            }
            Change::SignersChanged => {
                format!("~ {SIGNERS_PATH} (applies from the next pull request)")
            }
            Change::AuditAppended { entries } => format!("+ {entries} audit entries"),
            Change::CardChanged { model } => format!("~ model card of {model}"),
            Change::ModelConfigChanged { model } => format!("~ model.yaml of {model}"),
            Change::MonitoringAdded { file, .. } => format!("+ monitoring result {file}"),
            Change::MonitoringTampered { file, .. } => {
                format!("! monitoring result {file} edited or removed")
            }
            Change::GovernanceApprovalAdded { file } => format!("+ governance approval {file}"),
            Change::GovernanceApprovalRemoved { file } => {
                format!("- governance approval {file}")
            }
        }
    }
}

fn digest_of(reg: &Registry, path: &str) -> Option<String> {
    reg.source.sha256(path).ok().map(|d| d.hex())
}

/// A version's content without the fields retirement may set, for comparison.
fn without_retirement(v: &VersionEntry) -> serde_json::Value {
    let mut spec = v.spec.clone();
    spec.archived_at = None;
    spec.deleted_at = None;
    serde_json::to_value(&spec).unwrap_or_default()
}

fn approval_key(a: &crate::registry::ApprovalEntry) -> String {
    serde_json::to_string(&a.approval).unwrap_or_default()
}

/// Classifies every change between two registries, in a stable order.
pub fn diff(base: &Registry, head: &Registry) -> Vec<Change> {
    let mut out = Vec::new();
    if digest_of(base, POLICY_PATH) != digest_of(head, POLICY_PATH) {
        out.push(Change::PolicyChanged);
    }
    if digest_of(base, SIGNERS_PATH) != digest_of(head, SIGNERS_PATH) {
        out.push(Change::SignersChanged);
    }
    let names: BTreeSet<&ModelName> = base.models.keys().chain(head.models.keys()).collect();
    let none: BTreeMap<u32, VersionEntry> = BTreeMap::new();
    for name in names {
        let (b, h) = (base.models.get(name), head.models.get(name));
        let model = name.to_string();
        match (b, h) {
            (None, Some(_)) => out.push(Change::ModelAdded {
                model: model.clone(),
            }),
            (Some(_), None) => out.push(Change::ModelRemoved {
                model: model.clone(),
            }),
            _ => {}
        }
        let bv = b.map(|m| &m.versions).unwrap_or(&none);
        let hv = h.map(|m| &m.versions).unwrap_or(&none);
        for n in bv.keys().chain(hv.keys()).collect::<BTreeSet<_>>() {
            match (bv.get(n), hv.get(n)) {
                (None, Some(_)) => out.push(Change::VersionAdded {
                    model: model.clone(),
                    version: *n,
                }),
                // A version whose file exists but does not parse is not "removed".
                (Some(_), None) if !h.is_some_and(|m| m.broken_versions.contains(n)) => {
                    out.push(Change::VersionRemoved {
                        model: model.clone(),
                        version: *n,
                    })
                }
                (Some(x), Some(y)) if x.digest != y.digest => out.push(Change::VersionModified {
                    model: model.clone(),
                    version: *n,
                    retirement_only: without_retirement(x) == without_retirement(y),
                }),
                _ => {}
            }
        }
        for alias in [Alias::Champion, Alias::Challenger] {
            let from = b.and_then(|m| m.aliases.get(&alias)).map(|v| v.value);
            let to = h.and_then(|m| m.aliases.get(&alias)).map(|v| v.value);
            if from != to {
                out.push(Change::AliasMoved {
                    model: model.clone(),
                    alias,
                    from,
                    to,
                });
            }
        }
        let base_approvals: BTreeMap<&str, String> = b
            .map(|m| {
                m.approvals
                    .iter()
                    .map(|a| (a.file.as_str(), approval_key(a)))
                    .collect()
            })
            .unwrap_or_default();
        let head_files: BTreeSet<&str> = h
            .map(|m| m.approvals.iter().map(|a| a.file.as_str()).collect())
            .unwrap_or_default();
        if let Some(m) = h {
            for a in &m.approvals {
                if base_approvals.get(a.file.as_str()) != Some(&approval_key(a)) {
                    out.push(Change::ApprovalAdded {
                        model: model.clone(),
                        file: a.file.clone(),
                    });
                }
            }
        }
        for f in base_approvals.keys() {
            if !head_files.contains(f) {
                out.push(Change::ApprovalRemoved {
                    model: model.clone(),
                    file: f.to_string(),
                });
            }
        }
        let card = |r: &Registry, m: Option<&std::sync::Arc<Model>>| {
            m.and_then(|m| m.card.as_ref())
                .and_then(|c| digest_of(r, c))
        };
        if b.is_some() && h.is_some() && card(base, b) != card(head, h) {
            out.push(Change::CardChanged {
                model: model.clone(),
            });
        }
        let same_folder = match (b, h) {
            (Some(b), Some(h)) => b.fingerprint.is_some() && b.fingerprint == h.fingerprint,
            _ => false,
        };
        if same_folder {
            continue;
        }
        if let (Some(bm), Some(hm)) = (b, h) {
            let file = format!("{}/model.yaml", hm.dir);
            if digest_of(base, &file) != digest_of(head, &format!("{}/model.yaml", bm.dir)) {
                out.push(Change::ModelConfigChanged {
                    model: model.clone(),
                });
            }
        }
        let files = |m: Option<&std::sync::Arc<Model>>| -> BTreeSet<String> {
            m.map(|m| m.monitoring.iter().cloned().collect())
                .unwrap_or_default()
        };
        let (bf, hf) = (files(b), files(h));
        for f in hf.difference(&bf) {
            out.push(Change::MonitoringAdded {
                model: model.clone(),
                file: f.clone(),
            });
        }
        for f in &bf {
            if !hf.contains(f) || digest_of(base, f) != digest_of(head, f) {
                out.push(Change::MonitoringTampered {
                    model: model.clone(),
                    file: f.clone(),
                });
            }
        }
    }
    let base_gov: BTreeMap<&str, String> = base
        .governance
        .iter()
        .map(|a| {
            (
                a.file.as_str(),
                serde_json::to_string(&a.approval).unwrap_or_default(),
            )
        })
        .collect();
    for a in &head.governance {
        if base_gov.get(a.file.as_str())
            != Some(&serde_json::to_string(&a.approval).unwrap_or_default())
        {
            out.push(Change::GovernanceApprovalAdded {
                file: a.file.clone(),
            });
        }
    }
    let head_gov: BTreeSet<&str> = head.governance.iter().map(|a| a.file.as_str()).collect();
    for f in base_gov.keys() {
        if !head_gov.contains(f) {
            out.push(Change::GovernanceApprovalRemoved {
                file: f.to_string(),
            });
        }
    }
    let appended = head
        .audit
        .lines
        .len()
        .saturating_sub(base.audit.lines.len());
    if appended > 0 {
        out.push(Change::AuditAppended { entries: appended });
    }
    out
}

/// Merged versions are immutable: no edit (but retirement's fields), no removal.
pub fn immutability(base: &Registry, head: &Registry) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    for (name, bm) in &base.models {
        let Some(hm) = head.models.get(name) else {
            d.push(
                Diagnostic::error(
                    Code::ImmutableVersion,
                    format!("model {name} is removed; models and their versions are never deleted"),
                )
                .in_file(&bm.dir)
                .hint("archive its versions instead (modelgate retire)"),
            );
            continue;
        };
        for (n, bv) in &bm.versions {
            match hm.versions.get(n) {
                None if hm.broken_versions.contains(n) => {}
                None => d.push(
                    Diagnostic::error(
                        Code::ImmutableVersion,
                        format!("{name} v{n} is removed; merged versions are never deleted"),
                    )
                    .in_file(&bv.file)
                    .hint("restore the file; set archived_at to retire it"),
                ),
                Some(hv) if hv.digest != bv.digest && without_retirement(bv) != without_retirement(hv) => {
                    d.push(
                        Diagnostic::error(
                            Code::ImmutableVersion,
                            format!(
                                "{name} v{n} was merged and is immutable, but this pull request edits it"
                            ),
                        )
                        .in_file(&hv.file)
                        .at(hv.spec.version.span)
                        .hint("register the change as a new version; only archived_at may be set on a merged version"),
                    )
                }
                _ => {}
            }
            if let Some(hv) = hm.versions.get(n) {
                d.extend(artifact_changed(base, head, bv, hv));
            }
        }
    }
    d
}

/// A merged version's artifact is immutable in git, not only through its digest: any change
/// git records in it — bytes, file names, and in a model folder file modes, which the folder
/// digest does not cover — is refused (MG054), also under `--no-digests`, where no artifact is
/// hashed. Changed bytes are validate's MG014 as well. A purged artifact (`deleted_at`) is
/// retention's business; an edited version file is MG039.
fn artifact_changed(
    base: &Registry,
    head: &Registry,
    bv: &VersionEntry,
    hv: &VersionEntry,
) -> Option<Diagnostic> {
    if hv.spec.deleted_at.is_some() || bv.spec.artifact.uri.value != hv.spec.artifact.uri.value {
        return None;
    }
    let Ok(crate::registry::source::Location::Local(path)) =
        crate::registry::source::locate(&hv.spec.artifact.uri.value)
    else {
        return None;
    };
    let (was, is) = (
        base.source.fingerprint(&path)?,
        head.source
            .fingerprint(&path)
            .unwrap_or_else(|| "nothing".into()),
    );
    if was == is {
        return None;
    }
    Some(
        Diagnostic::error(
            Code::ArtifactChanged,
            format!(
                "the artifact {path} of merged v{} changed in this pull request (git object {was} → {is}): a merged version's artifact is immutable, its bytes, file names and file modes included",
                bv.number
            ),
        )
        .in_file(&hv.file)
        .at(hv.spec.artifact.sha256.span)
        .hint("restore the artifact as it was merged (`git checkout <base> -- <path>`), or register the change as a new version"),
    )
}

/// Restoring a retired version is a promotion: `archived_at` may be removed only in a pull
/// request that moves an alias onto the version (whose gates then need fresh approvals);
/// `deleted_at` (the artifact was purged) is never removed. Merged monitoring results are
/// evidence: never edited or removed.
pub fn restorations(base: &Registry, head: &Registry, changes: &[Change]) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    for c in changes {
        match c {
            Change::VersionModified { model, version, .. } => {
                let get = |r: &'_ Registry| {
                    r.models
                        .iter()
                        .find(|(n, _)| n.as_str() == model)
                        .and_then(|(_, m)| m.versions.get(version).cloned())
                };
                let (Some(bv), Some(hv)) = (get(base), get(head)) else {
                    continue;
                };
                if bv.spec.deleted_at.is_some() && hv.spec.deleted_at.is_none() {
                    d.push(
                        Diagnostic::error(
                            Code::ImmutableVersion,
                            format!("{model} v{version} was deleted (its artifact purged); `deleted_at` cannot be removed"),
                        )
                        .in_file(&hv.file)
                        .hint("register the model again as a new version"),
                    );
                }
                // Once set, a retirement time is history: never rewritten.
                let rewritten =
                    |b: Option<&str>, h: Option<&str>| b.is_some() && h.is_some() && b != h;
                if rewritten(
                    bv.spec.archived_at.as_ref().map(|t| t.value.raw.as_str()),
                    hv.spec.archived_at.as_ref().map(|t| t.value.raw.as_str()),
                ) || rewritten(
                    bv.spec.deleted_at.as_ref().map(|t| t.raw.as_str()),
                    hv.spec.deleted_at.as_ref().map(|t| t.raw.as_str()),
                ) {
                    d.push(
                        Diagnostic::error(
                            Code::ImmutableVersion,
                            format!("{model} v{version}: this pull request rewrites its archived_at or deleted_at; once set, they are history"),
                        )
                        .in_file(&hv.file)
                        .hint("restore the merged value"),
                    );
                }
                if bv.spec.deleted_at.is_none() && hv.spec.deleted_at.is_some() {
                    let audited = head
                        .audit
                        .lines
                        .iter()
                        .skip(base.audit.lines.len())
                        .filter_map(|l| l.entry.as_ref())
                        .any(|e| {
                            e.action == Action::Delete
                                && e.model.as_deref() == Some(model.as_str())
                                && e.version == Some(*version)
                        });
                    if !audited {
                        d.push(
                            Diagnostic::error(
                                Code::AuditMissingEntry,
                                format!("{model} v{version} is marked deleted, but the audit log has no `delete` entry for it"),
                            )
                            .in_file(&hv.file)
                            .hint("delete artifacts with `modelgate retire --apply --delete-artifacts`, which writes the entry"),
                        );
                    }
                }
                if bv.spec.archived_at.is_some() && hv.spec.archived_at.is_none() {
                    let moved_onto = changes.iter().any(|c| {
                        matches!(c, Change::AliasMoved { model: m, to: Some(t), .. } if m == model && t == version)
                    });
                    if !moved_onto {
                        d.push(
                            Diagnostic::error(
                                Code::ImmutableVersion,
                                format!("{model} v{version} is restored from the archive, but no alias moves onto it: restoring a version is a promotion"),
                            )
                            .in_file(&hv.file)
                            .hint(format!("remove archived_at and run `modelgate promote {model} {version} --to ALIAS` in the same pull request; the promotion needs fresh approvals")),
                        );
                    }
                }
            }
            Change::GovernanceApprovalRemoved { file } => d.push(
                Diagnostic::error(
                    Code::ImmutableVersion,
                    format!("{file} is a merged governance approval; this pull request removes it"),
                )
                .in_file(file)
                .hint("merged approvals are history: restore the file"),
            ),
            Change::GovernanceApprovalAdded { file }
                if base.governance.iter().any(|a| &a.file == file) =>
            {
                d.push(
                    Diagnostic::error(
                        Code::ImmutableVersion,
                        format!(
                            "{file} is a merged governance approval; this pull request edits it"
                        ),
                    )
                    .in_file(file)
                    .hint("merged approvals are history: restore the file"),
                )
            }
            Change::ApprovalRemoved { file, .. } => d.push(
                Diagnostic::error(
                    Code::ImmutableVersion,
                    format!("{file} is a merged approval; this pull request removes it"),
                )
                .in_file(file)
                .hint("merged approvals are history: restore the file"),
            ),
            Change::ApprovalAdded { model, file } => {
                // A merged approval that a promotion used (its version holds the alias, or
                // was retired) is history; a pending one may be signed again.
                let used = base
                    .models
                    .iter()
                    .find(|(n, _)| n.as_str() == model)
                    .and_then(|(_, m)| {
                        let a = m.approvals.iter().find(|a| &a.file == file)?;
                        let s = &a.approval.statement;
                        let holds =
                            m.aliases.get(&s.alias.value).map(|v| v.value) == Some(s.version.value);
                        let retired = m
                            .versions
                            .get(&s.version.value)
                            .is_some_and(|v| v.is_retired());
                        Some(holds || retired)
                    })
                    .unwrap_or(false);
                if used {
                    d.push(
                        Diagnostic::error(
                            Code::ImmutableVersion,
                            format!("{file} is a merged approval; this pull request edits it"),
                        )
                        .in_file(file)
                        .hint("merged approvals are history: restore the file, and sign a new approval under its own name"),
                    );
                }
            }
            Change::MonitoringTampered { model, file } => {
                // Evidence is what authenticates against the base's keys; a merged file that
                // does not (written before results were signed) is no evidence and may go.
                let authentic = base
                    .models
                    .iter()
                    .find(|(n, _)| n.as_str() == model)
                    .is_some_and(|(_, m)| {
                        let judge = crate::monitor::evidence::Judge {
                            policy: base.policy.as_ref(),
                            signers: base.signers.as_ref(),
                            now: None,
                            signatures: true,
                        };
                        let result = file.strip_suffix(".sig").unwrap_or(file);
                        crate::monitor::evidence::judge_one(base, m, result, &judge).is_ok()
                    });
                if authentic {
                    d.push(
                        Diagnostic::error(
                            Code::MonitoringResult,
                            format!("{file} is a merged monitoring result; this pull request edits or removes it"),
                        )
                        .in_file(file)
                        .hint("monitoring results are evidence the drift gate reads: restore the file; the drift job writes new results under new names"),
                    );
                }
            }
            _ => {}
        }
    }
    d
}

/// Whether a `promote` entry's `details.from` is exactly the version the alias left (`null`
/// when it held none).
fn from_matches(e: &crate::audit::Entry, from: Option<u32>) -> bool {
    match (e.details.get("from"), from) {
        (Some(serde_json::Value::Null), None) => true,
        (Some(f), Some(v)) => f.as_u64() == Some(u64::from(v)),
        _ => false,
    }
}

/// Whether an appended audit entry records something this pull request does.
fn entry_matches(
    e: &crate::audit::Entry,
    head: &Registry,
    base: &Registry,
    changes: &[Change],
) -> bool {
    let model = e.model.as_deref();
    let alias = e.alias.as_deref();
    let version_in = |r: &Registry, v: u32| {
        r.models
            .iter()
            .find(|(n, _)| Some(n.as_str()) == model)
            .and_then(|(_, m)| m.versions.get(&v).cloned())
    };
    changes.iter().any(|c| match (e.action, c) {
        (
            Action::Promote,
            Change::AliasMoved {
                model: m,
                alias: a,
                from,
                to: Some(t),
            },
        ) => {
            model == Some(m)
                && alias == Some(a.as_str())
                && e.version == Some(*t)
                && from_matches(e, *from)
        }
        (
            Action::Demote,
            Change::AliasMoved {
                model: m,
                alias: a,
                from,
                to: None,
            },
        ) => model == Some(m) && alias == Some(a.as_str()) && e.version == *from,
        (Action::Register, Change::VersionAdded { model: m, version }) => {
            model == Some(m) && e.version == Some(*version)
        }
        (
            Action::Archive,
            Change::VersionModified {
                model: m, version, ..
            },
        ) => {
            model == Some(m)
                && e.version == Some(*version)
                && version_in(head, *version).is_some_and(|v| v.spec.archived_at.is_some())
                && version_in(base, *version).is_some_and(|v| v.spec.archived_at.is_none())
        }
        (
            Action::Delete,
            Change::VersionModified {
                model: m, version, ..
            },
        ) => {
            model == Some(m)
                && e.version == Some(*version)
                && version_in(head, *version).is_some_and(|v| v.spec.deleted_at.is_some())
        }
        (Action::Approve, Change::ApprovalAdded { model: m, file }) => {
            model == Some(m)
                && head
                    .models
                    .values()
                    .flat_map(|m| m.approvals.iter())
                    .find(|a| &a.file == file)
                    .is_some_and(|a| {
                        let s = &a.approval.statement;
                        e.version == Some(s.version.value)
                            && alias == Some(s.alias.value.as_str())
                            && e.details.get("role").and_then(|r| r.as_str())
                                == Some(s.role.value.as_str())
                    })
        }
        (Action::Drift, Change::MonitoringAdded { model: m, file }) => {
            model == Some(m) && e.details.get("file").and_then(|f| f.as_str()) == Some(file)
        }
        _ => false,
    })
}

/// The entries that end tenures (`promote`, `demote`, `archive`, `delete`) are dated within
/// the pull request's time: not before the base log's last entry, not after `now` (plus the
/// clock skew approvals allow). Their times decide which old approvals never revive, so a
/// backdated demotion must not make an approval signed after it count again.
pub fn audit_times(
    base: &Registry,
    head: &Registry,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let floor = base.audit.entries().map(|e| e.at.at).max();
    let skip = base.audit.lines.len();
    for line in head.audit.lines.iter().skip(skip) {
        let Some(e) = &line.entry else { continue };
        if !matches!(
            e.action,
            Action::Promote | Action::Demote | Action::Archive | Action::Delete
        ) {
            continue;
        }
        let problem = if floor.is_some_and(|f| e.at.at < f) {
            Some("before the base revision's last audit entry".to_string())
        } else if e.at.at > now + crate::signing::sshsig::CLOCK_SKEW {
            Some(format!(
                "after the time of the check ({})",
                now.to_rfc3339()
            ))
        } else {
            None
        };
        if let Some(why) = problem {
            d.push(
                Diagnostic::error(
                    Code::AuditTime,
                    format!(
                        "the appended `{}` entry {} is dated {}, {why}",
                        e.action.as_str(),
                        e.seq,
                        e.at.raw
                    ),
                )
                .in_file(AUDIT_PATH)
                .at(line.span)
                .hint("alias moves, demotions and archives are dated when they are made: run the command again without --at"),
            );
        }
    }
    d
}

/// The audit log only grows, every alias move and archive has its entry among the appended
/// ones, and every appended entry records something the pull request does (no phantom
/// `promote`, `approve` or `drift` entries).
pub fn audit(base: &Registry, head: &Registry, changes: &[Change]) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    if !head
        .audit_text
        .as_bytes()
        .starts_with(base.audit_text.as_bytes())
    {
        let bl = &base.audit.lines;
        let hl = &head.audit.lines;
        let first_diff = bl
            .iter()
            .zip(hl.iter())
            .position(|(x, y)| x.digest != y.digest);
        let (message, span) = match first_diff {
            Some(i) => (
                format!(
                    "line {} of the audit log differs from the base revision: the log is append-only",
                    i + 1
                ),
                Some(hl[i].span),
            ),
            None => (
                format!(
                    "the audit log has {} lines, the base revision has {}: it was truncated",
                    hl.len(),
                    bl.len()
                ),
                None,
            ),
        };
        d.push(
            Diagnostic::error(Code::AuditRewritten, message)
                .in_file(AUDIT_PATH)
                .at_opt(span)
                .hint("restore the base revision's lines and append new entries after them"),
        );
        return d;
    }
    let appended: Vec<&crate::audit::Entry> = head
        .audit
        .lines
        .iter()
        .skip(base.audit.lines.len())
        .filter_map(|l| l.entry.as_ref())
        .collect();
    for (i, e) in appended.iter().enumerate() {
        if !entry_matches(e, head, base, changes) {
            let line = head.audit.lines.len() - appended.len() + i;
            d.push(
                Diagnostic::error(
                    Code::AuditPhantom,
                    format!(
                        "the appended audit entry {} (`{}` {}{}) records nothing this pull request does",
                        e.seq,
                        e.action.as_str(),
                        e.model.as_deref().unwrap_or("-"),
                        e.version.map(|v| format!(" v{v}")).unwrap_or_default()
                    ),
                )
                .in_file(AUDIT_PATH)
                .at_opt(head.audit.lines.get(line).map(|l| l.span))
                .hint("audit entries are written by the commands that make the change (promote, approve, retire, the drift job); remove this one"),
            );
        }
    }
    let model_dir = |model: &str| {
        head.models
            .iter()
            .find(|(n, _)| n.as_str() == model)
            .map(|(_, m)| m)
    };
    for c in changes {
        match c {
            Change::AliasMoved {
                model,
                alias,
                from,
                to,
            } => {
                let found = appended.iter().any(|e| {
                    let action_ok = match to {
                        Some(_) => e.action == Action::Promote,
                        None => e.action == Action::Demote,
                    };
                    let version_ok = match to {
                        Some(v) => e.version == Some(*v),
                        None => e.version == *from,
                    };
                    // A promotion records where the alias came from, exactly: the tenure it ends
                    // decides which old approvals never revive.
                    let from_ok = match to {
                        Some(_) => from_matches(e, *from),
                        None => true,
                    };
                    action_ok
                        && version_ok
                        && from_ok
                        && e.model.as_deref() == Some(model)
                        && e.alias.as_deref() == Some(alias.as_str())
                });
                if !found {
                    let m = model_dir(model);
                    let span = m.and_then(|m| m.aliases.get(alias)).map(|v| v.span);
                    let file = m
                        .map(|m| format!("{}/aliases.yaml", m.dir))
                        .unwrap_or_else(|| AUDIT_PATH.to_string());
                    let what = match to {
                        Some(v) => format!("a `promote` entry for {model} {alias} → v{v}"),
                        None => format!("a `demote` entry for {model} {alias}"),
                    };
                    d.push(
                        Diagnostic::error(
                            Code::AuditMissingEntry,
                            format!("this pull request moves {model}'s {alias}, but the audit log has no {what}"),
                        )
                        .in_file(file)
                        .at_opt(span)
                        .hint(match to {
                            Some(_) => "move aliases with `modelgate promote`, which writes the entry".to_string(),
                            None if *alias == Alias::Challenger => format!("remove the challenger with `modelgate demote {model} --from challenger`, which writes the entry"),
                            None => format!("the champion is never removed: promote another version with `modelgate promote {model} <VERSION> --to champion`"),
                        }),
                    );
                }
            }
            Change::VersionModified {
                model,
                version,
                retirement_only: true,
            } => {
                let archived_now = model_dir(model)
                    .and_then(|m| m.versions.get(version))
                    .is_some_and(|v| v.spec.archived_at.is_some());
                let archived_before = base
                    .models
                    .iter()
                    .find(|(n, _)| n.as_str() == model)
                    .and_then(|(_, m)| m.versions.get(version))
                    .is_some_and(|v| v.spec.archived_at.is_some());
                if archived_now && !archived_before {
                    let found = appended.iter().any(|e| {
                        e.action == Action::Archive
                            && e.model.as_deref() == Some(model)
                            && e.version == Some(*version)
                    });
                    if !found {
                        let file = model_dir(model)
                            .and_then(|m| m.versions.get(version))
                            .map(|v| v.file.clone())
                            .unwrap_or_else(|| AUDIT_PATH.to_string());
                        d.push(
                            Diagnostic::error(
                                Code::AuditMissingEntry,
                                format!("{model} v{version} is archived, but the audit log has no `archive` entry for it"),
                            )
                            .in_file(file)
                            .hint(format!("archive with `modelgate archive {model} {version}` (or `promote`, `retire --apply`), which write the entry")),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    d
}
