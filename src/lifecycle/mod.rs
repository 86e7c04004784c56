//! Changes to the registry that commands make: moving aliases (`promote`) and signing approvals
//! (`approve`). Each is a plan — the new file contents and audit entries, computed from the
//! loaded registry — applied in one all-or-none write.

pub mod approve;
pub mod demote;
pub mod import;
pub mod index;
pub mod list;
pub mod promote;
pub mod register;
pub mod reproduce;
pub mod retire;
pub mod search;
pub mod show;

use crate::audit::NewEntry;
use crate::registry::Registry;

/// Files to write (repository-relative path, new content).
pub type Files = Vec<(String, Vec<u8>)>;

/// Chains entries onto the registry's audit log; returns the log's new text.
pub fn append_audit(reg: &Registry, entries: Vec<NewEntry>) -> String {
    crate::audit::append(&reg.audit, &reg.audit_text, entries)
}

/// Parses `4` or `v4`.
pub fn parse_version(s: &str) -> Result<u32, String> {
    s.strip_prefix('v')
        .unwrap_or(s)
        .parse::<u32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("`{s}` is not a version: expected a number such as 4 or v4"))
}

/// The actor for audit entries: given, or git's `user.email` for the repository.
pub fn actor(given: Option<&str>, root: &std::path::Path) -> anyhow::Result<String> {
    if let Some(a) = given {
        return Ok(a.to_string());
    }
    let config = git2::Repository::discover(root)
        .and_then(|r| r.config())
        .or_else(|_| git2::Config::open_default());
    if let Ok(c) = config {
        if let Ok(email) = c.get_string("user.email") {
            return Ok(email);
        }
    }
    anyhow::bail!("who is doing this? pass --actor EMAIL (or set git's user.email)")
}

/// The time for a record: given (RFC 3339), or now.
pub fn timestamp(given: Option<&str>) -> anyhow::Result<crate::registry::types::Timestamp> {
    match given {
        Some(t) => t.parse().map_err(|e: String| anyhow::anyhow!(e)),
        None => Ok(crate::registry::types::Timestamp::from_utc(
            chrono::Utc::now(),
        )),
    }
}

/// `model`, `model@champion`, `model@v4` → (model, alias or version).
pub fn parse_target(
    s: &str,
) -> anyhow::Result<(
    crate::registry::types::ModelName,
    Result<crate::registry::types::Alias, u32>,
)> {
    let (m, sel) = s.split_once('@').unwrap_or((s, "champion"));
    let name = crate::registry::types::ModelName::new(m)?;
    let sel = match sel.parse::<crate::registry::types::Alias>() {
        Ok(a) => Ok(a),
        Err(_) => Err(parse_version(sel).map_err(|e| {
            anyhow::anyhow!(
                "`{sel}` after @ is neither an alias (champion, challenger) nor a version: {e}"
            )
        })?),
    };
    Ok((name, sel))
}

/// The version `model@alias|vN` names in a loaded registry.
pub fn resolve_version(
    reg: &crate::registry::Registry,
    target: &str,
) -> anyhow::Result<(crate::registry::types::ModelName, u32)> {
    let (name, sel) = parse_target(target)?;
    let version = match sel {
        Err(v) => v,
        Ok(alias) => reg
            .models
            .get(&name)
            .and_then(|m| m.aliases.get(&alias))
            .map(|v| v.value)
            .ok_or_else(|| anyhow::anyhow!("{name} has no {alias}"))?,
    };
    Ok((name, version))
}
