//! The one SSHSIG verifier: approvals, governance approvals, monitoring results and git commits
//! all come here, with what the signature must satisfy ([`Expect`]), and get back the
//! allowed_signers line that vouched for it or one [`Rejection`] saying why it does not count.

use super::allowed_signers::{AllowedSigners, Signer};
use crate::registry::types::Timestamp;
use chrono::{DateTime, Utc};
use ssh_key::{PublicKey, SshSig};

/// How far in the future of the clock of `check` a signed time may lie (clocks differ).
pub const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Why a signature does not count.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The signature block is not an armored SSHSIG (a GPG signature, or garbage).
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
    /// No allowed_signers line has this key (for this principal, when one is required).
    #[error("the signing key is not in allowed_signers{}{}", principal.as_ref().map(|p| format!(" for {p}")).unwrap_or_default(), other.as_ref().map(|o| format!(" (it belongs to {o})")).unwrap_or_default())]
    KeyNotAllowed {
        /// The principal who claims to have signed, if the signature must be theirs.
        principal: Option<String>,
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
    /// The key was not valid when the signed content says it was signed.
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
    /// The cryptographic check failed: the signed content or the signature was altered.
    #[error(
        "the signature does not verify: the signed content was changed after signing, or the signature was forged"
    )]
    BadSignature,
}

/// What a signature must satisfy.
pub struct Expect<'a> {
    /// The SSHSIG namespace.
    pub namespace: &'static str,
    /// Who claims to have signed: the key must be listed for them. `None`: any principal of
    /// allowed_signers (a commit is vouched for by its key, whatever its author line says).
    pub principal: Option<&'a str>,
    /// The time the signed content states (approved_at, computed_at, the commit time).
    pub signed_at: &'a Timestamp,
    /// The time of the check: the key must be valid then too. `None` replays history
    /// (validate of merged content).
    pub now: Option<DateTime<Utc>>,
    /// Whether `signed_at` may not lie after `now` by more than [`CLOCK_SKEW`] (approvals and
    /// monitoring results); a commit time is the committer's to write and is not bounded.
    pub bound_future: bool,
}

/// Checks an SSHSIG over `message`: namespace, key allowed (for the principal) in that
/// namespace, valid at the signed time and now, and the signature itself. Returns the
/// allowed_signers line that vouched for it.
pub fn verify<'a>(
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
    let same_key = |s: &Signer| {
        PublicKey::from_openssh(&s.public_key).is_ok_and(|k| k.key_data() == sig.public_key())
    };
    // Every line that lists this key (for the principal) is a grant; the signature counts when
    // one of them allows it. (So removing a line can only take a permission away.)
    let lines: Vec<&Signer> = signers
        .signers
        .iter()
        .filter(|s| expect.principal.is_none_or(|p| s.matches_principal(p)) && same_key(s))
        .collect();
    if lines.is_empty() {
        let other = expect.principal.and_then(|_| {
            signers
                .signers
                .iter()
                .find(|s| same_key(s))
                .map(|s| s.principals.join(","))
        });
        return Err(Rejection::KeyNotAllowed {
            principal: expect.principal.map(str::to_string),
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
/// signed time and now; and (when bounded) the signed time not in the future of now.
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
        if expect.bound_future && at > now + CLOCK_SKEW {
            return Err(Rejection::FutureDated {
                at: expect.signed_at.raw.clone(),
                now: now.to_rfc3339(),
            });
        }
    }
    Ok(())
}
