//! Approvals: the exact bytes a person signs, and the check of an SSHSIG signature against
//! `allowed_signers`.
//!
//! The signed message is the statement as canonical JSON (RFC 8785: keys sorted, no white
//! space; the statement holds only strings and one integer, for which serde_json's output is
//! already canonical), signed as an OpenSSH SSHSIG in the namespace `modelgate-approval`. So
//! `ssh-keygen -Y sign -n modelgate-approval` on the output of `modelgate approval message`
//! makes a valid approval, and `ssh-keygen -Y verify` checks one.

use super::allowed_signers::{AllowedSigners, Signer};
use crate::registry::schema::Statement;
use chrono::{DateTime, Utc};
use ssh_key::{PublicKey, SshSig};

/// The SSHSIG namespace of approvals.
pub const NAMESPACE: &str = "modelgate-approval";

/// The canonical JSON of a statement: the bytes that are signed.
pub fn message(s: &Statement) -> String {
    let v = serde_json::json!({
        "model": s.model.value,
        "version": s.version.value,
        "alias": s.alias.value.as_str(),
        "version_sha256": s.version_sha256.value.hex(),
        "artifact_sha256": s.artifact_sha256.value.hex(),
        "role": s.role.value,
        "principal": s.principal.value,
        "approved_at": s.approved_at.value.raw,
    });
    // A map of strings and one integer always serializes.
    serde_json::to_string(&v).unwrap_or_default()
}

/// Why a signature does not count.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The signature block is not an armored SSHSIG.
    #[error("the signature is not an OpenSSH signature block: {0}")]
    Malformed(String),
    /// Signed in another namespace.
    #[error("the signature is in namespace `{0}`, not `{NAMESPACE}`")]
    WrongNamespace(String),
    /// No allowed_signers line has this key for this principal.
    #[error("the signing key is not in allowed_signers for {principal}{}", other.as_ref().map(|o| format!(" (it belongs to {o})")).unwrap_or_default())]
    KeyNotAllowed {
        /// The principal of the statement.
        principal: String,
        /// Who the key belongs to instead, if anyone.
        other: Option<String>,
    },
    /// The key may not sign in this namespace.
    #[error(
        "allowed_signers line {line} does not allow the key to sign in namespace `{NAMESPACE}`"
    )]
    NamespaceNotAllowed {
        /// The line of the key.
        line: u32,
    },
    /// The key was not valid when the statement says it was signed.
    #[error("the key was not valid at {at} (allowed_signers line {line}: {window})")]
    NotValidAt {
        /// approved_at.
        at: String,
        /// The line of the key.
        line: u32,
        /// The validity window as written.
        window: String,
    },
    /// The cryptographic check failed: the statement or the signature was altered.
    #[error(
        "the signature does not verify: the statement was changed after signing, or the signature was forged"
    )]
    BadSignature,
}

/// Checks an approval's signature: namespace, key allowed for the principal in this namespace
/// at `approved_at`, and the signature over the canonical statement. Returns the allowed_signers
/// line that vouched for it.
pub fn verify<'a>(
    statement: &Statement,
    signature_pem: &str,
    signers: &'a AllowedSigners,
) -> Result<&'a Signer, Rejection> {
    let sig = SshSig::from_pem(signature_pem.trim().as_bytes())
        .map_err(|e| Rejection::Malformed(e.to_string()))?;
    if sig.namespace() != NAMESPACE {
        return Err(Rejection::WrongNamespace(sig.namespace().to_string()));
    }
    let principal = &statement.principal.value;
    let same_key = |s: &Signer| {
        PublicKey::from_openssh(&s.public_key).is_ok_and(|k| k.key_data() == sig.public_key())
    };
    let Some(signer) = signers
        .signers
        .iter()
        .find(|s| s.matches_principal(principal) && same_key(s))
    else {
        let other = signers
            .signers
            .iter()
            .find(|s| same_key(s))
            .map(|s| s.principals.join(","));
        return Err(Rejection::KeyNotAllowed {
            principal: principal.clone(),
            other,
        });
    };
    if let Some(ns) = &signer.namespaces {
        if !ns.iter().any(|n| n == NAMESPACE) {
            return Err(Rejection::NamespaceNotAllowed { line: signer.line });
        }
    }
    let at: DateTime<Utc> = statement.approved_at.value.at;
    let too_early = signer.valid_after.is_some_and(|t| at < t);
    let too_late = signer.valid_before.is_some_and(|t| at > t);
    if too_early || too_late {
        let fmt = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or("…".into());
        return Err(Rejection::NotValidAt {
            at: statement.approved_at.value.raw.clone(),
            line: signer.line,
            window: format!(
                "{} to {}",
                fmt(signer.valid_after),
                fmt(signer.valid_before)
            ),
        });
    }
    let key = PublicKey::from(sig.public_key().clone());
    key.verify(NAMESPACE, message(statement).as_bytes(), &sig)
        .map_err(|_| Rejection::BadSignature)?;
    Ok(signer)
}
