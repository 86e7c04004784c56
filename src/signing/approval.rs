//! Approvals: the exact bytes a person signs, and the check of an SSHSIG signature against
//! `allowed_signers`.
//!
//! The signed message is the statement as canonical JSON (RFC 8785: keys sorted, no white
//! space; the statement holds only strings and one integer, for which serde_json's output is
//! already canonical; `inputs_sha256` is included when the statement has it), signed as an OpenSSH SSHSIG in the namespace `modelgate-approval`. So
//! `ssh-keygen -Y sign -n modelgate-approval` on the output of `modelgate approval message`
//! makes a valid approval, and `ssh-keygen -Y verify` checks one.

use super::allowed_signers::{AllowedSigners, Signer};
use super::sshsig::{self, Expect, Rejection};
use crate::registry::schema::{GovernanceStatement, Statement};
use chrono::{DateTime, Utc};

/// The SSHSIG namespace of approvals.
pub const NAMESPACE: &str = "modelgate-approval";

/// The canonical JSON of a statement: the bytes that are signed.
pub fn message(s: &Statement) -> String {
    let mut v = serde_json::json!({
        "model": s.model.value,
        "version": s.version.value,
        "alias": s.alias.value.as_str(),
        "version_sha256": s.version_sha256.value.hex(),
        "artifact_sha256": s.artifact_sha256.value.hex(),
        "role": s.role.value,
        "principal": s.principal.value,
        "approved_at": s.approved_at.value.raw,
    });
    // Bound since 0.2; an older statement's message stays what was signed then.
    if let (Some(i), Some(map)) = (&s.inputs_sha256, v.as_object_mut()) {
        map.insert("inputs_sha256".into(), i.value.hex().into());
    }
    // A map of strings and one integer always serializes.
    serde_json::to_string(&v).unwrap_or_default()
}

/// The canonical JSON of a governance statement: the bytes that are signed. Its `kind` and
/// its keys differ from a promotion's, so neither can stand for the other.
pub fn governance_message(s: &GovernanceStatement) -> String {
    let v = serde_json::json!({
        "kind": "governance",
        "file": s.file.value,
        "sha256": s.sha256.value.hex(),
        "base_sha256": s.base_sha256.as_ref().map(|b| b.value.hex()),
        "role": s.role.value,
        "principal": s.principal.value,
        "approved_at": s.approved_at.value.raw,
    });
    serde_json::to_string(&v).unwrap_or_default()
}

/// Checks a governance approval's signature (see [`sshsig::verify`]).
pub fn verify_governance<'a>(
    statement: &GovernanceStatement,
    signature_pem: &str,
    signers: &'a AllowedSigners,
    now: Option<DateTime<Utc>>,
) -> Result<&'a Signer, Rejection> {
    verify_signed_statement(
        governance_message(statement).as_bytes(),
        signature_pem,
        (&statement.principal.value, &statement.approved_at.value),
        signers,
        now,
    )
}

/// An approval statement's signature: namespace `modelgate-approval`, by its principal, at
/// its `approved_at`.
fn verify_signed_statement<'a>(
    message: &[u8],
    signature_pem: &str,
    (principal, approved_at): (&str, &crate::registry::types::Timestamp),
    signers: &'a AllowedSigners,
    now: Option<DateTime<Utc>>,
) -> Result<&'a Signer, Rejection> {
    sshsig::verify(
        message,
        signature_pem,
        &Expect {
            namespace: NAMESPACE,
            principal: Some(principal),
            signed_at: approved_at,
            now,
            bound_future: true,
        },
        signers,
    )
}

/// Checks an approval's signature (see [`sshsig::verify`]) over its canonical statement.
pub fn verify<'a>(
    statement: &Statement,
    signature_pem: &str,
    signers: &'a AllowedSigners,
    now: Option<DateTime<Utc>>,
) -> Result<&'a Signer, Rejection> {
    verify_signed_statement(
        message(statement).as_bytes(),
        signature_pem,
        (&statement.principal.value, &statement.approved_at.value),
        signers,
        now,
    )
}
