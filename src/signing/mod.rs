//! Signatures: who may sign (`allowed_signers`), the one SSHSIG verifier (`sshsig`), and what
//! approvals and commits sign.

pub mod allowed_signers;
pub mod approval;
pub mod commit;
pub mod sshsig;

/// Signs `message` as an armored OpenSSH SSHSIG in `namespace` (SHA-512), as `ssh-keygen -Y
/// sign -n namespace` does: the one signing path of approvals and monitoring results.
pub fn sign(
    key: &ssh_key::PrivateKey,
    namespace: &str,
    message: &[u8],
) -> Result<String, ssh_key::Error> {
    key.sign(namespace, ssh_key::HashAlg::Sha512, message)?
        .to_pem(ssh_key::LineEnding::LF)
}
