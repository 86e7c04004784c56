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

use crate::audit::{Entry, to_line};
use crate::registry::Registry;
use crate::registry::types::Sha256;

/// Files to write (repository-relative path, new content).
pub type Files = Vec<(String, Vec<u8>)>;

/// Chains entries onto the registry's audit log; returns the log's new text.
///
/// `make(seq, prev)` builds each entry with its link filled in.
pub fn append_audit(
    reg: &Registry,
    entries: Vec<Box<dyn FnOnce(u64, String) -> Entry + '_>>,
) -> String {
    let mut text = reg.audit_text.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let (mut seq, mut prev) = reg.audit.next_link();
    for make in entries {
        let line = to_line(&make(seq, prev));
        prev = Sha256::of(line.trim_end_matches('\n').as_bytes()).hex();
        seq += 1;
        text.push_str(&line);
    }
    text
}

/// An entry about one version of `model`, for [`append_audit`].
pub fn version_entry<'a>(
    action: crate::audit::Action,
    model: &str,
    version: u32,
    alias: Option<crate::registry::types::Alias>,
    details: serde_json::Value,
    actor: &str,
    at: &crate::registry::types::Timestamp,
) -> Box<dyn FnOnce(u64, String) -> Entry + 'a> {
    let at = at.clone();
    let actor = actor.to_string();
    let model = model.to_string();
    Box::new(move |seq, prev| Entry {
        seq,
        at,
        actor,
        action,
        model: Some(model),
        version: Some(version),
        alias: alias.map(|a| a.as_str().to_string()),
        details: details.as_object().cloned().unwrap_or_default(),
        prev,
    })
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
