//! Approvals: every role the gate names needs at least one valid approval of this exact model,
//! version and alias.
//!
//! Valid means: the SSHSIG verifies against the **base** revision's allowed_signers (so a pull
//! request cannot add the key that signs its own approval), the principal holds the role in the
//! **base** policy (so it cannot grant itself the role), and the statement's digests match the
//! version as it is in the head (so editing an approved version, or replaying the approval of
//! another version, voids it), and its `inputs_sha256` the model's input schema in the head (so
//! reordering features or categories after approval voids it).
//!
//! Time is not the signer's to choose: the key must be valid at the time of the check, and
//! `approved_at` must lie in the key's window, not in the future, not before the version was
//! created, and after the version last left this alias or was archived (old approvals never
//! revive). With `distinct_principals`, one person cannot fill two roles.

use super::GateResult;
use crate::diag::{Code, Diagnostic};
use crate::registry::schema::GateConfig;
use crate::registry::types::Alias;
use crate::registry::types::Sha256;
use crate::registry::{ApprovalEntry, VersionEntry};
use crate::signing::allowed_signers::AllowedSigners;
use crate::yaml::{Span, Spanned};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// What the gate judges by.
pub struct Inputs<'a> {
    /// The model's name.
    pub model: &'a str,
    /// The alias being moved.
    pub alias: Alias,
    /// The candidate version, as in the head.
    pub candidate: &'a VersionEntry,
    /// The model's approvals in the head.
    pub approvals: &'a [ApprovalEntry],
    /// allowed_signers of the base revision.
    pub signers: Option<&'a AllowedSigners>,
    /// `roles:` of the base revision's policy.
    pub roles: &'a BTreeMap<String, Vec<Spanned<String>>>,
    /// Where the alias is set in the head (aliases.yaml and the line).
    pub alias_at: (&'a str, Option<Span>),
    /// The model's input schema digest in the head, which approvals must bind; `None` when
    /// replaying history (the site), where it is not compared.
    pub inputs: Option<Sha256>,
    /// The time of the check; `None` when replaying history.
    pub now: Option<DateTime<Utc>>,
    /// Approvals signed at or before this instant do not count: the version left this alias,
    /// or was archived, then.
    pub not_before: Option<DateTime<Utc>>,
    /// Whether each required role needs a different principal.
    pub distinct_principals: bool,
    /// allowed_signers and `roles:` as the pull request leaves them (`None` when replaying
    /// history): never trusted, only read to explain that a signer or role the pull request
    /// adds counts from the next pull request on.
    pub head_rules: Option<HeadRules<'a>>,
}

/// The head revision's signers and roles, for explanations only.
#[derive(Clone, Copy)]
pub struct HeadRules<'a> {
    /// allowed_signers of the head.
    pub signers: Option<&'a AllowedSigners>,
    /// `roles:` of the head's policy.
    pub roles: &'a BTreeMap<String, Vec<Spanned<String>>>,
}

/// Why new signers and roles do not count in the pull request that adds them, and what to do.
const ADDED_HERE: &str = "signers and roles count only once merged, so that no pull request can approve itself: merge the change to allowed_signers and roles first (a pull request of its own; the first one into an empty registry is committed to the default branch by its owner, later ones are governance changes), then promote in the next one";

/// Why one approval does not count, or `None` when it does.
pub fn judge(inp: &Inputs<'_>, a: &ApprovalEntry) -> Option<String> {
    let s = &a.approval.statement;
    let Some(signers) = inp.signers else {
        return Some("the base revision has no readable allowed_signers".into());
    };
    if let Err(why) = crate::signing::approval::verify(s, &a.approval.signature, signers, inp.now) {
        let added_here = inp.head_rules.and_then(|h| h.signers).is_some_and(|h| {
            crate::signing::approval::verify(s, &a.approval.signature, h, inp.now).is_ok()
        });
        if added_here {
            return Some(format!(
                "its key is added to allowed_signers by this same pull request; {ADDED_HERE}"
            ));
        }
        return Some(format!(
            "{why} (checked against the base revision's allowed_signers)"
        ));
    }
    let has_role = |roles: &BTreeMap<String, Vec<Spanned<String>>>| {
        roles
            .get(s.role.as_str())
            .is_some_and(|ps| ps.iter().any(|p| p.value == s.principal.value))
    };
    if !has_role(inp.roles) {
        if inp.head_rules.is_some_and(|h| has_role(h.roles)) {
            return Some(format!(
                "{} is given the role `{}` by this same pull request; {ADDED_HERE}",
                s.principal.value, s.role.value
            ));
        }
        return Some(format!(
            "{} does not hold the role `{}` in the base revision's policy",
            s.principal.value, s.role.value
        ));
    }
    if s.version_sha256.value != inp.candidate.digest {
        return Some(format!(
            "it approves a different text of v{}: version_sha256 {} but the file now hashes to {} (an approved version was edited, or the approval was replayed)",
            inp.candidate.number, s.version_sha256.value, inp.candidate.digest
        ));
    }
    if s.artifact_sha256.value != inp.candidate.spec.artifact.sha256.value {
        return Some(format!(
            "it approves artifact {} but v{} has {}",
            s.artifact_sha256.value, inp.candidate.number, inp.candidate.spec.artifact.sha256.value
        ));
    }
    match (&s.inputs_sha256, &inp.inputs) {
        (None, Some(_)) => {
            return Some(
                "it does not bind the model's input schema (`inputs_sha256`; approvals made before modelgate 0.2): sign it again with `modelgate approve`".into(),
            );
        }
        (Some(a), Some(h)) if a.value != *h => {
            return Some(format!(
                "it approves input schema {} but model.yaml's features, categories, label or task now hash to {h} (the inputs changed after approval)",
                a.value
            ));
        }
        _ => {}
    }
    let approved_at = s.approved_at.value.at;
    if approved_at < inp.candidate.spec.created_at.at {
        return Some(format!(
            "it is dated {}, before v{} was created ({})",
            s.approved_at.value.raw, inp.candidate.number, inp.candidate.spec.created_at.raw
        ));
    }
    if let Some(cut) = inp.not_before {
        if approved_at <= cut {
            return Some(format!(
                "it is dated {}, but v{} left `{}` or was archived at {}: old approvals never revive; a return is a new promotion and needs fresh approvals",
                s.approved_at.value.raw,
                inp.candidate.number,
                inp.alias,
                cut.to_rfc3339()
            ));
        }
    }
    None
}

/// Assigns each required role a principal who approved in it, no principal twice (a bipartite
/// matching by augmenting paths: a few roles, a few principals). Returns the roles left
/// without one.
pub fn distinct_assignment<'a>(
    required: &[&'a str],
    approved: &BTreeMap<&'a str, Vec<&'a str>>,
) -> Vec<&'a str> {
    fn try_assign<'a>(
        role: &'a str,
        approved: &BTreeMap<&'a str, Vec<&'a str>>,
        owner: &mut BTreeMap<&'a str, &'a str>,
        seen: &mut BTreeSet<&'a str>,
    ) -> bool {
        for p in approved.get(role).into_iter().flatten() {
            if !seen.insert(p) {
                continue;
            }
            let free = match owner.get(p).copied() {
                None => true,
                Some(other) => try_assign(other, approved, owner, seen),
            };
            if free {
                owner.insert(p, role);
                return true;
            }
        }
        false
    }
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    required
        .iter()
        .copied()
        .filter(|r| !try_assign(r, approved, &mut owner, &mut BTreeSet::new()))
        .collect()
}

/// Runs the gate.
pub fn check(gate: &GateConfig, inp: &Inputs<'_>) -> GateResult {
    const NAME: &str = "approvals";
    let Some(cfg) = &gate.approvals else {
        return GateResult::skip(NAME, "no approvals required");
    };
    let mut diagnostics = Vec::new();
    let mut approved: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut rejected: BTreeSet<&str> = BTreeSet::new();
    for a in inp.approvals {
        let s = &a.approval.statement;
        if s.model.value != inp.model
            || s.version.value != inp.candidate.number
            || s.alias.value != inp.alias
        {
            continue;
        }
        match judge(inp, a) {
            None => approved
                .entry(s.role.as_str())
                .or_default()
                .push(s.principal.as_str()),
            Some(why) => {
                rejected.insert(s.role.as_str());
                diagnostics.push(
                    Diagnostic::error(
                        Code::ApprovalRejected,
                        format!("this approval does not count: {why}"),
                    )
                    .in_file(&a.file)
                    .at(s.principal.span),
                )
            }
        }
    }
    let required: BTreeSet<&str> = cfg.roles.iter().map(|r| r.as_str()).collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !approved.contains_key(r))
        .collect();
    if missing.is_empty() && inp.distinct_principals {
        let req: Vec<&str> = required.iter().copied().collect();
        let short = distinct_assignment(&req, &approved);
        if !short.is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    Code::GateApprovals,
                    format!(
                        "the policy sets distinct_principals, but the approvals of {} v{} do not come from {} different people",
                        inp.model,
                        inp.candidate.number,
                        required.len()
                    ),
                )
                .in_file(inp.alias_at.0)
                .at_opt(inp.alias_at.1)
                .hint(format!(
                    "each required role needs an approval by a different principal; unfilled: {}",
                    short.join(", ")
                )),
            );
        }
    }
    let mut parts: Vec<String> = required
        .iter()
        .filter_map(|r| approved.get(r).map(|ps| format!("{r} ✓ {}", ps.join(", "))))
        .collect();
    if !missing.is_empty() {
        parts.push(format!("missing: {}", missing.join(", ")));
        let (file, span) = inp.alias_at;
        let refused: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|r| rejected.contains(r))
            .collect();
        let hint = if refused.is_empty() {
            format!(
                "a holder of each role runs `modelgate approve {} {} --alias {} --role ROLE --key ~/.ssh/id_ed25519` and pushes the approval file",
                inp.model, inp.candidate.number, inp.alias
            )
        } else {
            format!(
                "approvals in the role{} {} are there but do not count: the errors on those approval files (MG038) say why",
                if refused.len() == 1 { "" } else { "s" },
                refused.join(", ")
            )
        };
        diagnostics.push(
            Diagnostic::error(
                Code::GateApprovals,
                format!(
                    "moving {} of {} to v{} needs approval by {}",
                    inp.alias,
                    inp.model,
                    inp.candidate.number,
                    missing.join(", ")
                ),
            )
            .in_file(file)
            .at_opt(span)
            .hint(hint),
        );
    }
    GateResult::blocking(NAME, parts.join("; "), diagnostics)
}

/// Whether the version `alias` names in a revision stands on approvals that the revision's own
/// rules accept — its effective approvals gate for the alias, its roles and its
/// allowed_signers — as history is replayed: each signature judged at its `approved_at` (a key
/// that expired since still counts for what it signed then), binding the version file and the
/// artifact as they are now (the input schema, which older approvals do not bind, was compared
/// by `check` when the alias moved). `serve` demands this of every version it loads. The
/// revision's rules are trusted here: `check` judged them when they were merged, so this is no
/// substitute for serving a branch that `check` guards.
pub fn standing(
    reg: &crate::registry::Registry,
    m: &crate::registry::Model,
    alias: Alias,
    v: &VersionEntry,
) -> GateResult {
    let empty = crate::registry::schema::Policy::default();
    let policy = reg.policy.as_ref().unwrap_or(&empty);
    let over = m.spec.as_ref().and_then(|s| s.policy.as_ref());
    let gate = crate::registry::policy::effective(policy, over)
        .gates
        .get(&alias)
        .cloned()
        .unwrap_or_default();
    let aliases_file = m
        .aliases_file
        .clone()
        .unwrap_or_else(|| format!("{}/aliases.yaml", m.dir));
    let inputs = Inputs {
        model: m.name.as_str(),
        alias,
        candidate: v,
        approvals: &m.approvals,
        signers: reg.signers.as_ref(),
        roles: &policy.roles,
        alias_at: (&aliases_file, m.aliases.get(&alias).map(|s| s.span)),
        // Approvals older than `inputs_sha256` bind no schema; `check` compared it when the
        // alias moved.
        inputs: None,
        now: None,
        not_before: None,
        distinct_principals: policy.distinct_principals.unwrap_or(false),
        head_rules: None,
    };
    check(&gate, &inputs)
}
