//! SSH signatures of git commits (`gpg.format = ssh`): an SSHSIG in the namespace `git` over
//! the commit object without its `gpgsig` header, by a key of allowed_signers.

use super::allowed_signers::{AllowedSigners, Signer};
use super::sshsig::{self, Expect, Rejection};
use crate::registry::types::Timestamp;
use chrono::{DateTime, Utc};

/// The SSHSIG namespace git signs commits in.
pub const NAMESPACE: &str = "git";

/// Checks a commit signature (see [`sshsig::verify`]): by any principal's key, valid at the
/// commit time (which the committer writes) and, when `now` is given, at the time of the check.
pub fn verify<'a>(
    armored: &str,
    signed_data: &[u8],
    committed_at: DateTime<Utc>,
    now: Option<DateTime<Utc>>,
    signers: &'a AllowedSigners,
) -> Result<&'a Signer, Rejection> {
    let signed_at = Timestamp {
        raw: committed_at.to_rfc3339(),
        at: committed_at,
    };
    sshsig::verify(
        signed_data,
        armored,
        &Expect {
            namespace: NAMESPACE,
            principal: None,
            signed_at: &signed_at,
            now,
            bound_future: false,
        },
        signers,
    )
}
