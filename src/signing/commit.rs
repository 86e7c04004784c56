//! SSH signatures of git commits (`gpg.format = ssh`): an SSHSIG in the namespace `git` over
//! the commit object without its `gpgsig` header, by a key of allowed_signers.

use super::allowed_signers::AllowedSigners;
use chrono::{DateTime, Utc};
use ssh_key::{PublicKey, SshSig};

/// The SSHSIG namespace git signs commits in.
pub const NAMESPACE: &str = "git";

/// Checks a commit signature; `Err` says why it does not count. The key must be valid at the
/// commit time (which the committer writes) and, when `now` is given, at the time of the check.
pub fn verify(
    armored: &str,
    signed_data: &[u8],
    committed_at: DateTime<Utc>,
    now: Option<DateTime<Utc>>,
    signers: &AllowedSigners,
) -> Result<(), String> {
    let sig = SshSig::from_pem(armored.trim().as_bytes()).map_err(|_| {
        "its signature is not an SSH signature (GPG signatures are not accepted)".to_string()
    })?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "it is signed in namespace `{}`, not `git`",
            sig.namespace()
        ));
    }
    let signer = signers
        .signers
        .iter()
        .find(|s| {
            PublicKey::from_openssh(&s.public_key).is_ok_and(|k| k.key_data() == sig.public_key())
        })
        .ok_or("its signing key is not in the base revision's allowed_signers")?;
    if let Some(ns) = &signer.namespaces {
        if !ns.iter().any(|n| n == NAMESPACE) {
            return Err(format!(
                "allowed_signers line {} does not allow that key to sign commits (namespaces=)",
                signer.line
            ));
        }
    }
    if signer.valid_after.is_some_and(|t| committed_at < t)
        || signer.valid_before.is_some_and(|t| committed_at > t)
    {
        return Err(format!(
            "its key (allowed_signers line {}) was not valid at the commit time",
            signer.line
        ));
    }
    if let Some(now) = now {
        if signer.valid_after.is_some_and(|t| now < t)
            || signer.valid_before.is_some_and(|t| now > t)
        {
            return Err(format!(
                "its key (allowed_signers line {}) is not valid now: a commit time is the committer's to write",
                signer.line
            ));
        }
    }
    PublicKey::from(sig.public_key().clone())
        .verify(NAMESPACE, signed_data, &sig)
        .map_err(|_| "its signature does not verify".to_string())
}
