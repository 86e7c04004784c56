//! Approvals: every role the gate names needs at least one valid approval of this exact model,
//! version and alias.
//!
//! Valid means: the SSHSIG verifies against the **base** revision's allowed_signers (so a pull
//! request cannot add the key that signs its own approval), the principal holds the role in the
//! **base** policy (so it cannot grant itself the role), and the statement's digests match the
//! version as it is in the head (so editing an approved version, or replaying the approval of
//! another version, voids it).

use super::{GateResult, Status};
use crate::diag::{Code, Diagnostic};
use crate::registry::schema::GateConfig;
use crate::registry::types::Alias;
use crate::registry::{ApprovalEntry, VersionEntry};
use crate::signing::allowed_signers::AllowedSigners;
use crate::yaml::{Span, Spanned};
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
}

/// Why one approval does not count, or `None` when it does.
pub fn judge(inp: &Inputs<'_>, a: &ApprovalEntry) -> Option<String> {
    let s = &a.approval.statement;
    let Some(signers) = inp.signers else {
        return Some("the base revision has no readable allowed_signers".into());
    };
    if let Err(why) = crate::signing::approval::verify(s, &a.approval.signature, signers) {
        return Some(format!(
            "{why} (checked against the base revision's allowed_signers)"
        ));
    }
    let holds = inp
        .roles
        .get(s.role.as_str())
        .is_some_and(|ps| ps.iter().any(|p| p.value == s.principal.value));
    if !holds {
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
    None
}

/// Runs the gate.
pub fn check(gate: &GateConfig, inp: &Inputs<'_>) -> GateResult {
    const NAME: &str = "approvals";
    let Some(cfg) = &gate.approvals else {
        return GateResult::skip(NAME, "no approvals required");
    };
    let mut diagnostics = Vec::new();
    let mut approved: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
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
            Some(why) => diagnostics.push(
                Diagnostic::error(
                    Code::ApprovalRejected,
                    format!("this approval does not count: {why}"),
                )
                .in_file(&a.file)
                .at(s.principal.span),
            ),
        }
    }
    let required: BTreeSet<&str> = cfg.roles.iter().map(|r| r.as_str()).collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !approved.contains_key(r))
        .collect();
    let mut parts: Vec<String> = required
        .iter()
        .filter_map(|r| approved.get(r).map(|ps| format!("{r} ✓ {}", ps.join(", "))))
        .collect();
    if !missing.is_empty() {
        parts.push(format!("missing: {}", missing.join(", ")));
        let (file, span) = inp.alias_at;
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
            .hint(format!(
                "a holder of each role runs `modelgate approve {} {} --alias {} --role ROLE --key ~/.ssh/id_ed25519` and pushes the approval file",
                inp.model, inp.candidate.number, inp.alias
            )),
        );
    }
    GateResult {
        gate: NAME,
        status: if diagnostics.is_empty() {
            Status::Pass
        } else {
            Status::Block
        },
        detail: parts.join("; "),
        diagnostics,
    }
}
