//! Approvals: the exact bytes a person signs, and the check of an SSHSIG signature against
//! `allowed_signers`.
//!
//! The signed message is the statement as canonical JSON (RFC 8785: keys sorted, no white
//! space; the statement holds only strings and one integer, for which serde_json's output is
//! already canonical; `inputs_sha256` is included when the statement has it), signed as an OpenSSH SSHSIG in the namespace `modelgate-approval`. So
//! `ssh-keygen -Y sign -n modelgate-approval` on the output of `modelgate approval message`
//! makes a valid approval, and `ssh-keygen -Y verify` checks one.

use super::allowed_signers::{AllowedSigners, Signer};
use crate::registry::schema::{GovernanceStatement, Statement};
use chrono::{DateTime, Utc};
use ssh_key::{PublicKey, SshSig};

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

/// Checks a governance approval's signature (see [`verify_message`]).
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
    verify_message(
        message,
        signature_pem,
        &Expect {
            namespace: NAMESPACE,
            principal,
            signed_at: approved_at,
            now,
        },
        signers,
    )
}

/// How far in the future of the clock of `check` a signed time may lie (clocks differ).
pub const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Why a signature does not count.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The signature block is not an armored SSHSIG.
    #[error("the signature is not an OpenSSH signature block: {0}")]
    Malformed(String),
    /// Signed in another namespace.
    #[error("the signature is in namespace `{found}`, not `{expected}`")]
    WrongNamespace {
        /// The namespace of the signature.
        found: String,
        /// The namespace required.
        expected: &'static str,
    },
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
        "allowed_signers line {line} does not allow the key to sign in namespace `{namespace}`"
    )]
    NamespaceNotAllowed {
        /// The line of the key.
        line: u32,
        /// The namespace required.
        namespace: &'static str,
    },
    /// The key was not valid when the statement says it was signed.
    #[error("the key was not valid at {at} (allowed_signers line {line}: {window})")]
    NotValidAt {
        /// The signed time.
        at: String,
        /// The line of the key.
        line: u32,
        /// The validity window as written.
        window: String,
    },
    /// The key is not valid at the time of the check (expired, or not yet valid): the time a
    /// signer writes is not the signer's to choose.
    #[error(
        "the key is not valid now ({now}; allowed_signers line {line}: {window}); a signature is judged when it is checked, whatever time it states"
    )]
    NotValidNow {
        /// The time of the check.
        now: String,
        /// The line of the key.
        line: u32,
        /// The validity window as written.
        window: String,
    },
    /// The signed time lies in the future of the check.
    #[error("it is dated {at}, later than the time of the check ({now}) by more than {} minutes", CLOCK_SKEW.num_minutes())]
    FutureDated {
        /// The signed time.
        at: String,
        /// The time of the check.
        now: String,
    },
    /// The cryptographic check failed: the statement or the signature was altered.
    #[error(
        "the signature does not verify: the statement was changed after signing, or the signature was forged"
    )]
    BadSignature,
}

/// What a signature must satisfy.
pub struct Expect<'a> {
    /// The SSHSIG namespace.
    pub namespace: &'static str,
    /// Who claims to have signed.
    pub principal: &'a str,
    /// The time the signed content states (approved_at, computed_at).
    pub signed_at: &'a crate::registry::types::Timestamp,
    /// The time of the check: the key must be valid then, and `signed_at` not after it (plus
    /// [`CLOCK_SKEW`]). `None` replays history (validate of merged content).
    pub now: Option<DateTime<Utc>>,
}

/// Checks an SSHSIG over `message`: namespace, key allowed for the principal in that namespace,
/// valid at the signed time and now, and the signature itself. Returns the allowed_signers line
/// that vouched for it.
pub fn verify_message<'a>(
    message: &[u8],
    signature_pem: &str,
    expect: &Expect<'_>,
    signers: &'a AllowedSigners,
) -> Result<&'a Signer, Rejection> {
    let sig = SshSig::from_pem(signature_pem.trim().as_bytes())
        .map_err(|e| Rejection::Malformed(e.to_string()))?;
    if sig.namespace() != expect.namespace {
        return Err(Rejection::WrongNamespace {
            found: sig.namespace().to_string(),
            expected: expect.namespace,
        });
    }
    let principal = expect.principal;
    let same_key = |s: &Signer| {
        PublicKey::from_openssh(&s.public_key).is_ok_and(|k| k.key_data() == sig.public_key())
    };
    // Every line that lists this key for the principal is a grant; the signature counts when
    // one of them allows it. (So removing a line can only take a permission away.)
    let lines: Vec<&Signer> = signers
        .signers
        .iter()
        .filter(|s| s.matches_principal(principal) && same_key(s))
        .collect();
    if lines.is_empty() {
        let other = signers
            .signers
            .iter()
            .find(|s| same_key(s))
            .map(|s| s.principals.join(","));
        return Err(Rejection::KeyNotAllowed {
            principal: principal.to_string(),
            other,
        });
    }
    let mut first_error = None;
    let mut granted = None;
    for signer in lines {
        match allows(signer, expect) {
            Ok(()) => {
                granted = Some(signer);
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let Some(signer) = granted else {
        return Err(first_error.unwrap_or(Rejection::BadSignature));
    };
    let key = PublicKey::from(sig.public_key().clone());
    key.verify(expect.namespace, message, &sig)
        .map_err(|_| Rejection::BadSignature)?;
    Ok(signer)
}

/// Whether one allowed_signers line allows this signature: namespace, and validity at the
/// signed time and now; and the signed time not in the future of now.
fn allows(signer: &Signer, expect: &Expect<'_>) -> Result<(), Rejection> {
    if let Some(ns) = &signer.namespaces {
        if !ns.iter().any(|n| n == expect.namespace) {
            return Err(Rejection::NamespaceNotAllowed {
                line: signer.line,
                namespace: expect.namespace,
            });
        }
    }
    let fmt = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or("…".into());
    let window = || {
        format!(
            "{} to {}",
            fmt(signer.valid_after),
            fmt(signer.valid_before)
        )
    };
    let outside = |at: DateTime<Utc>| {
        signer.valid_after.is_some_and(|t| at < t) || signer.valid_before.is_some_and(|t| at > t)
    };
    let at: DateTime<Utc> = expect.signed_at.at;
    if outside(at) {
        return Err(Rejection::NotValidAt {
            at: expect.signed_at.raw.clone(),
            line: signer.line,
            window: window(),
        });
    }
    if let Some(now) = expect.now {
        if outside(now) {
            return Err(Rejection::NotValidNow {
                now: now.to_rfc3339(),
                line: signer.line,
                window: window(),
            });
        }
        if at > now + CLOCK_SKEW {
            return Err(Rejection::FutureDated {
                at: expect.signed_at.raw.clone(),
                now: now.to_rfc3339(),
            });
        }
    }
    Ok(())
}

/// Checks an approval's signature (see [`verify_message`]) over its canonical statement.
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
