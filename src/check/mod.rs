//! `check`: the pull-request gate.
//!
//! Reads the registry at the base and head revisions (git2, no checkout), classifies what
//! changed, and judges it: the head must validate; merged versions are immutable; the audit log
//! only grows and records every alias move and archive; and every alias move runs the gates of
//! its alias. The rules come from the **base** revision — its policy (with the model's
//! overrides as merged), its roles and its signers — so a pull request cannot loosen the rules
//! it is judged by.

pub mod changes;
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
}

impl Default for Options {
    fn default() -> Self {
        Options { digests: true }
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
    diags.extend(changes::audit(&base_reg, &head_reg, &changes));

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
                        .hint("promote another version to champion in the same pull request"),
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
                    &base_reg, base_model, &head_reg, head_model, *alias, *from, candidate,
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

    if base_reg
        .policy
        .as_ref()
        .and_then(|p| p.require_signed_commits)
        .unwrap_or(false)
    {
        diags.extend(commit_signatures(&repo, &base_rev, &head_rev, &base_reg)?);
    }

    Ok(Outcome {
        base: base_rev,
        head: head_rev,
        changes,
        promotions,
        report: Report::new(diags),
        head_registry: head_reg,
    })
}

/// The latest monitoring result of a model, read from its newest `monitoring/*.yaml`.
fn latest_monitoring(reg: &Registry, m: &Model) -> Option<gates::drift::Latest> {
    let file = m.monitoring.iter().filter(|f| f.ends_with(".yaml")).max()?;
    let bytes = reg.source.read(file, registry::MAX_YAML_BYTES).ok()?;
    let node = crate::yaml::parse(std::str::from_utf8(&bytes).ok()?).ok()?;
    let severity = match node.get("severity")?.resolve()? {
        crate::yaml::Resolved::Str(s) => gates::drift::Severity::parse(s)?,
        _ => return None,
    };
    let version = match node.get("version").and_then(|v| v.resolve()) {
        Some(crate::yaml::Resolved::Int(v)) => u32::try_from(v).ok(),
        _ => None,
    };
    Some(gates::drift::Latest {
        file: file.clone(),
        version,
        severity,
    })
}

fn run_gates(
    base_reg: &Registry,
    base_model: Option<&Model>,
    head_reg: &Registry,
    head_model: &Model,
    alias: Alias,
    from: Option<u32>,
    candidate: &registry::VersionEntry,
) -> Vec<GateResult> {
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
    let protected: Vec<String> = head_model
        .spec
        .as_ref()
        .map(|s| s.protected_attributes.clone())
        .unwrap_or_default();
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
    let latest = base_model.and_then(|m| latest_monitoring(base_reg, m));
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
    };
    vec![
        gates::performance::check(&gate, candidate, holder),
        gates::stability::check(&gate, candidate, holder),
        gates::bias::check(&gate, candidate, &protected, card),
        gates::drift::check(&gate, champion, latest.as_ref()),
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
) -> Result<Vec<Diagnostic>, CheckError> {
    let mut d = Vec::new();
    for c in gitops::registry_commits(repo, base, head)? {
        let short = &c.id[..12];
        let problem = match &c.signature {
            None => Some("it is not signed".to_string()),
            Some((sig, data)) => match &base_reg.signers {
                None => Some("the base revision has no allowed_signers".into()),
                Some(signers) => crate::signing::commit::verify(sig, data, c.time, signers).err(),
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
