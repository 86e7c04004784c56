//! `check`: the pull-request gate.
//!
//! Reads the registry at the base and head revisions (git2, no checkout), classifies what
//! changed, and judges it: the head must validate; merged versions are immutable; the audit log
//! only grows and records every alias move and archive; and every alias move runs the gates of
//! its alias. The rules come from the **base** revision — its policy (with the model's
//! overrides as merged), its roles and its signers — so a pull request cannot loosen the rules
//! it is judged by.

pub mod changes;
pub mod governance;
pub mod report;

use crate::diag::{Code, Diagnostic, Report, Severity};
use crate::gates::{self, GateResult, Status};
use crate::gitops::{self, GitError, Rev};
use crate::registry::policy;
use crate::registry::source::GitSource;
use crate::registry::types::Alias;
use crate::registry::{self, LoadError, Model, Registry};
use changes::Change;
use serde::Serialize;
use std::path::Path;

/// What `check` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// Hash local artifacts and datasets of the head.
    pub digests: bool,
    /// The time the pull request is judged at (`--at`, to replay history); `None`: now.
    /// Signatures added by the pull request must be valid then.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            digests: true,
            at: None,
        }
    }
}

/// The judgement of one alias move.
#[derive(Clone, Debug, Serialize)]
pub struct Promotion {
    /// The model.
    pub model: String,
    /// The alias.
    pub alias: Alias,
    /// The version that held it in the base.
    pub from: Option<u32>,
    /// The version that holds it in the head.
    pub to: Option<u32>,
    /// The outcome: the worst of its gates.
    pub status: Status,
    /// Each gate.
    pub gates: Vec<GateResult>,
}

/// The overall verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing wrong.
    Pass,
    /// Only warnings.
    Warn,
    /// At least one error: the pull request may not merge.
    Block,
}

/// Everything `check` found.
pub struct Outcome {
    /// The base revision.
    pub base: Rev,
    /// The head revision.
    pub head: Rev,
    /// What changed.
    pub changes: Vec<Change>,
    /// The alias moves and their gates.
    pub promotions: Vec<Promotion>,
    /// The rule changes and their approvals.
    pub governance: Vec<governance::GovernanceChange>,
    /// Every diagnostic (validation of the head, history rules, gates).
    pub report: Report,
    /// The head registry (for reading sources when rendering).
    pub head_registry: Registry,
}

impl Outcome {
    /// Block on any error, warn on any warning, else pass.
    pub fn verdict(&self) -> Verdict {
        if self.report.has_errors() {
            Verdict::Block
        } else if self.report.count(Severity::Warning) > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        }
    }
}

/// Why `check` could not judge at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A git problem: no repository, a revision that does not exist.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A revision holds no registry.
    #[error("at {side} revision `{rev}`: {error}")]
    NotRegistry {
        /// `base` or `head`.
        side: &'static str,
        /// The revision.
        rev: String,
        /// Why.
        error: LoadError,
    },
}

fn load_at(
    repo_path: &Path,
    side: &'static str,
    rev: &Rev,
    previous: Option<&Registry>,
) -> Result<registry::Loaded, CheckError> {
    let src = GitSource::open(repo_path, &rev.commit).map_err(|e| GitError::NoSuchRev {
        rev: rev.rev.clone(),
        message: e.message().to_string(),
    })?;
    registry::load_reusing(Box::new(src), previous).map_err(|error| CheckError::NotRegistry {
        side,
        rev: rev.rev.clone(),
        error,
    })
}

/// Runs the gate on `base..head` of the repository at `repo_path`.
pub fn check(
    repo_path: &Path,
    base: &str,
    head: &str,
    opts: &Options,
) -> Result<Outcome, CheckError> {
    let now = opts.at.unwrap_or_else(chrono::Utc::now);
    let repo = gitops::open(repo_path)?;
    let base_rev = gitops::resolve(&repo, base)?;
    let head_rev = gitops::resolve(&repo, head)?;
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.path().to_path_buf());
    let mut diags = Vec::new();
    if !gitops::is_ancestor(&repo, &base_rev, &head_rev)? {
        diags.push(
            Diagnostic::warning(
                Code::NotAncestor,
                format!(
                    "base {} is not an ancestor of head {}; comparing the two trees anyway",
                    base_rev.rev, head_rev.rev
                ),
            )
            .hint("rebase the branch on its target, or pass the merge base as --base"),
        );
    }
    let base_reg = load_at(&root, "base", &base_rev, None)?.registry;
    let head_loaded = load_at(&root, "head", &head_rev, Some(&base_reg))?;
    let head_reg = head_loaded.registry;
    diags.extend(head_loaded.diagnostics);
    diags.extend(crate::validate::validate(
        &head_reg,
        crate::validate::Options {
            digests: opts.digests,
            signatures: false,
        },
    ));

    let changes = changes::diff(&base_reg, &head_reg);
    diags.extend(changes::immutability(&base_reg, &head_reg));
    diags.extend(changes::restorations(&base_reg, &head_reg, &changes));
    diags.extend(changes::audit(&base_reg, &head_reg, &changes));
    diags.extend(changes::audit_times(&base_reg, &head_reg, now));
    let (governance, governance_diags) = governance::judge(&base_reg, &head_reg, now);
    diags.extend(governance_diags);

    let mut promotions = Vec::new();
    let mut judged_approvals = std::collections::BTreeSet::new();
    for c in &changes {
        let Change::AliasMoved {
            model,
            alias,
            from,
            to,
        } = c
        else {
            continue;
        };
        let Some(head_model) = head_reg.models.values().find(|m| m.name.as_str() == model) else {
            continue;
        };
        let base_model = base_reg
            .models
            .values()
            .find(|m| m.name.as_str() == model)
            .map(|m| &**m);
        match to {
            None => {
                if *alias == Alias::Champion {
                    diags.push(
                        Diagnostic::error(
                            Code::ChampionRemoved,
                            format!(
                                "the champion of {model} (v{}) is removed with no replacement",
                                from.unwrap_or_default()
                            ),
                        )
                        .in_file(format!("{}/aliases.yaml", head_model.dir))
                        .hint(format!("the champion is replaced, never removed: promote another version to champion in the same pull request (`modelgate promote {model} <VERSION> --to champion`)")),
                    );
                }
                promotions.push(Promotion {
                    model: model.clone(),
                    alias: *alias,
                    from: *from,
                    to: None,
                    status: if *alias == Alias::Champion {
                        Status::Block
                    } else {
                        Status::Pass
                    },
                    gates: Vec::new(),
                });
            }
            Some(to) => {
                let Some(candidate) = head_model.versions.get(to) else {
                    continue; // validation of the head reports the dangling alias
                };
                for a in &head_model.approvals {
                    let s = &a.approval.statement;
                    if s.version.value == *to && s.alias.value == *alias {
                        judged_approvals.insert(a.file.clone());
                    }
                }
                let gates = run_gates(
                    &Sides {
                        base_reg: &base_reg,
                        base_model,
                        head_reg: &head_reg,
                        head_model,
                    },
                    *alias,
                    *from,
                    candidate,
                    now,
                );
                for g in &gates {
                    diags.extend(g.diagnostics.iter().cloned());
                }
                let status = gates
                    .iter()
                    .map(|g| g.status)
                    .filter(|s| *s != Status::Skip)
                    .max()
                    .unwrap_or(Status::Pass);
                promotions.push(Promotion {
                    model: model.clone(),
                    alias: *alias,
                    from: *from,
                    to: Some(*to),
                    status,
                    gates,
                });
            }
        }
    }

    // Approvals added for something else than a move in this pull request still must verify
    // against the base signers: they will count in a later one.
    for c in &changes {
        let Change::ApprovalAdded { model, file } = c else {
            continue;
        };
        if judged_approvals.contains(file) {
            continue;
        }
        let Some(m) = head_reg.models.values().find(|m| m.name.as_str() == model) else {
            continue;
        };
        let Some(a) = m.approvals.iter().find(|a| &a.file == file) else {
            continue;
        };
        if let Some(signers) = &base_reg.signers {
            if let Err(why) = crate::signing::approval::verify(
                &a.approval.statement,
                &a.approval.signature,
                signers,
                Some(now),
            ) {
                diags.push(
                    Diagnostic::error(
                        Code::ApprovalSignature,
                        format!("this approval does not count: {why} (checked against the base revision's allowed_signers)"),
                    )
                    .in_file(file)
                    .at(a.approval.signature.span),
                );
            }
        }
    }

    // Monitoring results added by the pull request must be the drift job's: authenticated by
    // the base's monitoring role and keys, judged now.
    for c in &changes {
        let (Change::MonitoringAdded { model, file } | Change::MonitoringTampered { model, file }) =
            c
        else {
            continue;
        };
        if !head_reg.source.is_file(file) {
            continue; // removed (judged in changes::restorations)
        }
        let Some(m) = head_reg.models.values().find(|m| m.name.as_str() == model) else {
            continue;
        };
        let judge = crate::monitor::evidence::Judge {
            policy: base_reg.policy.as_ref(),
            signers: base_reg.signers.as_ref(),
            now: Some(now),
            signatures: true,
        };
        if file.ends_with(".sig") {
            continue;
        }
        if let Err(d) = crate::monitor::evidence::judge_one(&head_reg, m, file, &judge) {
            diags.push(d);
        }
    }

    if base_reg
        .policy
        .as_ref()
        .and_then(|p| p.require_signed_commits)
        .unwrap_or(false)
    {
        diags.extend(commit_signatures(
            &repo, &base_rev, &head_rev, &base_reg, now,
        )?);
    }

    Ok(Outcome {
        base: base_rev,
        head: head_rev,
        changes,
        promotions,
        governance,
        report: Report::new(diags),
        head_registry: head_reg,
    })
}

/// The latest authenticated monitoring result of a model, and the diagnostics of those that do
/// not count. The files are the head's (merged ones cannot change: MG050), judged by the base's
/// policy and keys, so that a signed result the pull request adds counts too.
fn latest_monitoring(
    base_reg: &Registry,
    head_reg: &Registry,
    m: &Model,
    base_champion: Option<u32>,
    now: chrono::DateTime<chrono::Utc>,
) -> (Option<gates::drift::Latest>, Vec<Diagnostic>) {
    use crate::monitor::evidence;
    let judge = evidence::Judge {
        policy: base_reg.policy.as_ref(),
        signers: base_reg.signers.as_ref(),
        now: Some(now),
        signatures: true,
    };
    let (mut good, bad) = evidence::results(head_reg, m, &judge);
    // The latest result about the champion: a newer one about another version does not hide it.
    let champion = base_champion;
    good.retain(|e| champion.is_none_or(|c| e.version == c));
    let latest = evidence::latest(&good).map(|e| gates::drift::Latest {
        file: e.file.clone(),
        version: Some(e.version),
        severity: e.severity,
    });
    (latest, bad)
}

/// The two revisions of one model.
struct Sides<'a> {
    base_reg: &'a Registry,
    base_model: Option<&'a Model>,
    head_reg: &'a Registry,
    head_model: &'a Model,
}

/// When `version` last left `alias` or was archived, by the base revision: approvals signed
/// before then do not count for a return.
fn left_alias_at(
    base_reg: &Registry,
    base_model: Option<&Model>,
    alias: Alias,
    version: u32,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let m = base_model?;
    let archived = m
        .versions
        .get(&version)
        .and_then(|v| v.spec.archived_at.as_ref())
        .map(|t| t.value.at);
    let left = base_reg
        .audit
        .entries()
        .filter(|e| {
            e.model.as_deref() == Some(m.name.as_str())
                && e.alias.as_deref() == Some(alias.as_str())
        })
        .filter(|e| match e.action {
            crate::audit::Action::Promote => {
                e.details.get("from").and_then(|f| f.as_u64()) == Some(u64::from(version))
                    && e.version != Some(version)
            }
            crate::audit::Action::Demote => e.version == Some(version),
            _ => false,
        })
        .map(|e| e.at.at)
        .max();
    // Archiving or deleting the version ends every tenure, whichever alias it held.
    let retired = base_reg
        .audit
        .entries()
        .filter(|e| {
            e.model.as_deref() == Some(m.name.as_str())
                && e.version == Some(version)
                && matches!(
                    e.action,
                    crate::audit::Action::Archive | crate::audit::Action::Delete
                )
        })
        .map(|e| e.at.at)
        .max();
    archived.max(left).max(retired)
}

fn run_gates(
    sides: &Sides<'_>,
    alias: Alias,
    from: Option<u32>,
    candidate: &registry::VersionEntry,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<GateResult> {
    let Sides {
        base_reg,
        base_model,
        head_reg,
        head_model,
    } = *sides;
    let empty_policy = registry::schema::Policy::default();
    let base_policy = base_reg.policy.as_ref().unwrap_or(&empty_policy);
    // Overrides count as merged in the base; a new model is judged by the global policy.
    let over = base_model
        .and_then(|m| m.spec.as_ref())
        .and_then(|s| s.policy.as_ref());
    let eff = policy::effective(base_policy, over);
    let gate = eff.gates.get(&alias).cloned().unwrap_or_default();
    // The current holder, as merged (its metrics cannot be edited in the pull request).
    let holder = from.and_then(|v| base_model.and_then(|m| m.versions.get(&v)));
    // The protected attributes of an existing model come from the base (a pull request may
    // add some, never drop one); a new model brings its own.
    let mut protected: Vec<String> = base_model
        .and_then(|m| m.spec.as_ref())
        .map(|s| s.protected_attributes.clone())
        .unwrap_or_default();
    for a in head_model
        .spec
        .as_ref()
        .map(|s| s.protected_attributes.as_slice())
        .unwrap_or_default()
    {
        if !protected.contains(a) {
            protected.push(a.clone());
        }
    }
    let card_text = head_model.card.as_ref().and_then(|f| {
        head_reg
            .source
            .read(f, u64::MAX)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    });
    let card = head_model
        .card
        .as_deref()
        .zip(card_text.as_deref())
        .map(|(file, text)| gates::bias::Card { file, text });
    let champion = base_model.and_then(|m| m.aliases.get(&Alias::Champion).map(|v| v.value));
    let (latest, untrusted) = match base_model {
        Some(_) => latest_monitoring(base_reg, head_reg, head_model, champion, now),
        None => Default::default(),
    };
    let aliases_file = head_model
        .aliases_file
        .clone()
        .unwrap_or_else(|| format!("{}/aliases.yaml", head_model.dir));
    let alias_span = head_model.aliases.get(&alias).map(|v| v.span);
    let empty_roles = Default::default();
    let inputs = gates::approvals::Inputs {
        model: head_model.name.as_str(),
        alias,
        candidate,
        approvals: &head_model.approvals,
        signers: base_reg.signers.as_ref(),
        roles: base_reg
            .policy
            .as_ref()
            .map(|p| &p.roles)
            .unwrap_or(&empty_roles),
        alias_at: (&aliases_file, alias_span),
        // A model.yaml that does not parse blocks in validation; its schema binds nothing.
        inputs: Some(
            head_model
                .spec
                .as_ref()
                .map(|s| s.inputs_sha256())
                .unwrap_or(crate::registry::types::Sha256([0; 32])),
        ),
        now: Some(now),
        not_before: left_alias_at(base_reg, base_model, alias, candidate.number),
        distinct_principals: base_policy.distinct_principals.unwrap_or(false),
        head_rules: Some(gates::approvals::HeadRules {
            signers: head_reg.signers.as_ref(),
            roles: head_reg
                .policy
                .as_ref()
                .map(|p| &p.roles)
                .unwrap_or(&empty_roles),
        }),
    };
    // The template whose sections a card must fill is the base's: a pull request cannot
    // shorten the list it is judged by.
    let template = gates::card::Template::of(base_reg.source.as_ref());
    let card_gate = gates::card::check(
        alias,
        head_model
            .card
            .as_deref()
            .zip(card_text.as_deref())
            .map(|(file, text)| gates::bias::Card { file, text }),
        &template,
    );
    vec![
        gates::performance::check(&gate, candidate, holder),
        gates::stability::check(&gate, candidate, holder),
        gates::bias::check(&gate, candidate, &protected, card),
        card_gate,
        gates::drift::check(&gate, champion, latest.as_ref(), &untrusted),
        gates::approvals::check(&gate, &inputs),
    ]
}

/// `require_signed_commits`: every commit in base..head that touches registry/ carries an
/// SSHSIG in the namespace `git` by a key of the base allowed_signers, valid at commit time.
fn commit_signatures(
    repo: &git2::Repository,
    base: &Rev,
    head: &Rev,
    base_reg: &Registry,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Diagnostic>, CheckError> {
    let mut d = Vec::new();
    for c in gitops::registry_commits(repo, base, head)? {
        let short = &c.id[..12];
        let problem = match &c.signature {
            None => Some("it is not signed".to_string()),
            Some((sig, data)) => match &base_reg.signers {
                None => Some("the base revision has no allowed_signers".into()),
                Some(signers) => crate::signing::commit::verify(sig, data, c.time, Some(now), signers)
                    .err()
                    .map(|why| format!("its signature does not count: {why} (checked against the base revision's allowed_signers)")),
            },
        };
        if let Some(why) = problem {
            d.push(
                Diagnostic::error(
                    Code::UnsignedCommit,
                    format!("commit {short} (\"{}\") touches registry/ but {why}", c.summary),
                )
                .hint("sign commits with an SSH key listed in registry/allowed_signers: git config gpg.format ssh; git config user.signingkey ~/.ssh/id_ed25519; git commit -S"),
            );
        }
    }
    Ok(d)
}
