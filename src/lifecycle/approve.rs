//! `approve`: sign an approval of a version for an alias, in a role, with an SSH key file.
//!
//! The file written is a complete record on its own (statement + SSHSIG); the `approve` audit
//! entry is appended for the log's completeness, but `check` never requires it.

use super::{Files, append_audit};
use crate::audit::{Action, NewEntry};
use crate::registry::types::{Alias, ModelName, Timestamp};
use crate::registry::{Registry, VersionEntry};
use crate::signing::approval::{NAMESPACE, message};
use crate::yaml::write::string as yaml_str;
use anyhow::{Context, Result, bail};
use ssh_key::PrivateKey;

/// What an approval writes.
pub struct Plan {
    /// Files to write.
    pub files: Files,
    /// The approval file.
    pub file: String,
    /// The principal it was signed as.
    pub principal: String,
}

/// The approval's YAML text.
#[allow(clippy::too_many_arguments)]
pub fn approval_yaml(
    model: &str,
    v: &VersionEntry,
    alias: Alias,
    role: &str,
    principal: &str,
    at: &Timestamp,
    inputs: Option<&crate::registry::types::Sha256>,
    signature_pem: &str,
) -> String {
    let inputs = inputs
        .map(|i| format!("  inputs_sha256: {i}\n"))
        .unwrap_or_default();
    let mut s = format!(
        "statement:\n  model: {model}\n  version: {}\n  alias: {alias}\n  version_sha256: {}\n  artifact_sha256: {}\n{inputs}  role: {}\n  principal: {}\n  approved_at: {}\n",
        v.number,
        v.digest,
        v.spec.artifact.sha256.value,
        yaml_str(role),
        yaml_str(principal),
        at.raw
    );
    if !signature_pem.is_empty() {
        s.push_str("signature: |\n");
        for line in signature_pem.lines() {
            s.push_str(&format!("  {line}\n"));
        }
    }
    s
}

/// Reads an unencrypted OpenSSH private key.
pub fn read_key(path: &std::path::Path) -> Result<PrivateKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the private key {}", path.display()))?;
    let first = text.split_whitespace().next().unwrap_or("");
    if first.starts_with("ssh-") || first.starts_with("ecdsa-") || first.starts_with("sk-") {
        let private = path.with_extension("");
        bail!(
            "{} is a public key; approvals are signed with the private key{}",
            path.display(),
            if path.extension().is_some_and(|e| e == "pub") && private.is_file() {
                format!(": pass --key {}", private.display())
            } else {
                " (the file without .pub)".to_string()
            }
        );
    }
    // one message: ssh-key's error and its sources repeat each other
    let key = PrivateKey::from_openssh(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not an OpenSSH private key ({e}); pass the file that starts with -----BEGIN OPENSSH PRIVATE KEY-----",
            path.display()
        )
    })?;
    if key.is_encrypted() {
        bail!(
            "{} is protected by a passphrase; sign with ssh-keygen instead: `modelgate approval message FILE > msg && ssh-keygen -Y sign -n {NAMESPACE} -f {} msg`",
            path.display(),
            path.display()
        );
    }
    Ok(key)
}

/// Plans an approval signed with `key`.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    reg: &Registry,
    name: &ModelName,
    version: u32,
    alias: Alias,
    role: &str,
    key: &PrivateKey,
    principal: Option<&str>,
    at: &Timestamp,
) -> Result<Plan> {
    let Some(m) = reg.models.get(name) else {
        bail!("there is no model `{name}` in this registry");
    };
    if !m.versions.contains_key(&version) {
        bail!("{name} has no version {version}");
    }
    let principal = principal_for(reg, role, key, principal)?;
    plan_unchecked(reg, name, version, alias, role, key, &principal, at)
}

/// The principal a key signs as: the one given, or the one allowed_signers lists for the key;
/// checked to be listed for the key and to hold `role`, so that the approval would count.
fn principal_for(
    reg: &Registry,
    role: &str,
    key: &PrivateKey,
    principal: Option<&str>,
) -> Result<String> {
    let policy = reg
        .policy
        .as_ref()
        .context("registry/policy.yaml does not parse; run `modelgate validate`")?;
    let Some(holders) = policy.roles.get(role) else {
        let known: Vec<&str> = policy.roles.keys().map(String::as_str).collect();
        bail!(
            "there is no role `{role}` in registry/policy.yaml (roles: {})",
            known.join(", ")
        );
    };
    let signers = reg
        .signers
        .as_ref()
        .context("registry/allowed_signers is missing or unreadable")?;
    let public = key.public_key().key_data().clone();
    let listed: Vec<&crate::signing::allowed_signers::Signer> = signers
        .signers
        .iter()
        .filter(|s| {
            ssh_key::PublicKey::from_openssh(&s.public_key).is_ok_and(|k| *k.key_data() == public)
        })
        .collect();
    if listed.is_empty() {
        bail!(
            "this key is not in registry/allowed_signers: add its public key there first (in its own pull request)"
        );
    }
    let principal = match principal {
        Some(p) => p.to_string(),
        None => {
            let candidates: Vec<&String> = listed
                .iter()
                .flat_map(|s| s.principals.iter())
                .filter(|p| !p.contains(['*', '?', '!']))
                .collect();
            match candidates.as_slice() {
                [one] => one.to_string(),
                [] => bail!("allowed_signers lists this key only under patterns; pass --principal"),
                many => bail!(
                    "allowed_signers lists this key for several principals ({}); pass --principal",
                    many.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    if !principal
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._@+-".contains(c))
    {
        bail!("`{principal}` cannot be part of a file name: use letters, digits and . _ @ + -");
    }
    if !listed.iter().any(|s| s.matches_principal(&principal)) {
        bail!(
            "allowed_signers does not list this key for {principal}, so the approval would not count"
        );
    }
    if !holders.iter().any(|h| h.value == principal) {
        bail!(
            "{principal} does not hold the role `{role}` in registry/policy.yaml, so the approval would not count"
        );
    }
    Ok(principal)
}

/// Plans a governance approval: `role`'s consent to the current content of `file`, one of the
/// files that set the rules, bound by its sha256 and by the sha256 of the content it replaces in
/// the base revision (`base`; `None` for a new file).
#[allow(clippy::too_many_arguments)]
pub fn plan_governance(
    reg: &Registry,
    file: &str,
    base: Option<&crate::registry::types::Sha256>,
    role: &str,
    key: &PrivateKey,
    principal: Option<&str>,
    at: &Timestamp,
) -> Result<Plan> {
    let file = crate::registry::source::normalize(file)
        .map_err(|_| anyhow::anyhow!("{file} is outside the repository"))?;
    if !crate::check::governance::is_governed(reg, &file) {
        bail!(
            "{file} is not a governed file: registry/policy.yaml, registry/allowed_signers, a model's registry/models/<model>/model.yaml, or data a model's `monitoring:` names"
        );
    }
    let principal = principal_for(reg, role, key, principal)?;
    let sha = reg
        .source
        .sha256(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
    if base == Some(&sha) {
        bail!("{file} is the same as in the base revision: there is no change to approve");
    }
    let base_line = base.map(|b| b.hex()).unwrap_or_else(|| "null".to_string());
    let statement = format!(
        "statement:\n  file: {}\n  sha256: {sha}\n  base_sha256: {base_line}\n  role: {}\n  principal: {}\n  approved_at: {}\n",
        yaml_str(&file),
        yaml_str(role),
        yaml_str(&principal),
        at.raw
    );
    let node = crate::yaml::parse(&statement).map_err(|e| anyhow::anyhow!(e.message))?;
    #[derive(serde::Deserialize)]
    struct Only {
        statement: crate::registry::schema::GovernanceStatement,
    }
    let only: Only = crate::yaml::from_node(&node).map_err(|e| anyhow::anyhow!(e.message))?;
    let msg = crate::signing::approval::governance_message(&only.statement);
    let sig =
        crate::signing::sign(key, NAMESPACE, msg.as_bytes()).context("signing the approval")?;
    let mut text = statement;
    text.push_str("signature: |\n");
    for line in sig.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    let out = format!(
        "{}/{}-{role}-{principal}.yaml",
        crate::registry::GOVERNANCE_DIR,
        &sha.hex()[..12]
    );
    let text = crate::registry::json_schema::with_modeline(&out, &text);
    Ok(Plan {
        files: vec![(out.clone(), text.into_bytes())],
        file: out,
        principal,
    })
}

/// Signs an approval with no check that the key belongs to the principal or that the principal
/// holds the role: what anyone with their own tooling can produce. `check` must reject what this
/// writes for a wrong key; the demo and the tests use it to show that.
#[allow(clippy::too_many_arguments)]
pub fn plan_unchecked(
    reg: &Registry,
    name: &ModelName,
    version: u32,
    alias: Alias,
    role: &str,
    key: &PrivateKey,
    principal: &str,
    at: &Timestamp,
) -> Result<Plan> {
    let Some(m) = reg.models.get(name) else {
        bail!("there is no model `{name}` in this registry");
    };
    let Some(v) = m.versions.get(&version) else {
        bail!("{name} has no version {version}");
    };
    let principal = principal.to_string();
    let inputs = m.spec.as_ref().map(|s| s.inputs_sha256());
    let yaml = |sig: &str| {
        approval_yaml(
            name.as_str(),
            v,
            alias,
            role,
            &principal,
            at,
            inputs.as_ref(),
            sig,
        )
    };
    let unsigned = yaml("");
    let node = crate::yaml::parse(&unsigned).map_err(|e| anyhow::anyhow!(e.message))?;
    #[derive(serde::Deserialize)]
    struct Only {
        statement: crate::registry::schema::Statement,
    }
    let only: Only = crate::yaml::from_node(&node).map_err(|e| anyhow::anyhow!(e.message))?;
    let msg = message(&only.statement);
    let sig =
        crate::signing::sign(key, NAMESPACE, msg.as_bytes()).context("signing the approval")?;
    let text = yaml(&sig);
    let file = format!(
        "{}/approvals/v{version}-{alias}-{role}-{principal}.yaml",
        m.dir
    );
    let text = crate::registry::json_schema::with_modeline(&file, &text);
    let actor = principal.clone();
    let details = serde_json::json!({"role": role, "principal": principal});
    let audit = append_audit(
        reg,
        vec![
            NewEntry::new(Action::Approve, &actor, at)
                .version(name.as_str(), version)
                .alias(alias)
                .details(details),
        ],
    );
    Ok(Plan {
        files: vec![
            (file.clone(), text.into_bytes()),
            (crate::audit::AUDIT_PATH.to_string(), audit.into_bytes()),
        ],
        file,
        principal,
    })
}
