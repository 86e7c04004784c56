//! Signatures: who may sign (`allowed_signers`), and (with the pull-request gate) SSHSIG
//! verification of approvals and commits.

pub mod allowed_signers;
pub mod approval;
pub mod commit;
