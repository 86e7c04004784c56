//! `promote`: move an alias to a version. Promoting to `champion` archives the old champion and
//! frees the `challenger` alias if it pointed at the promoted version; every move and archive
//! gets its audit entry.

use super::{Files, append_audit};
use crate::audit::{Action, NewEntry};
use crate::registry::json_schema::{keep_modeline, with_modeline};
use crate::registry::types::{Alias, ModelName, Timestamp};
use crate::registry::{Model, Registry};
use anyhow::{Result, bail};
use std::collections::BTreeMap;

/// What a promotion writes, and what it says it did.
pub struct Plan {
    /// Files to write.
    pub files: Files,
    /// One line per change, for the user.
    pub summary: Vec<String>,
}

/// aliases.yaml's text for these aliases (`{}` when there are none).
pub fn aliases_text(aliases: &BTreeMap<Alias, u32>) -> String {
    let mut s = String::new();
    for (a, v) in aliases {
        s.push_str(&format!("{a}: {v}\n"));
    }
    if s.is_empty() {
        s.push_str("{}\n");
    }
    s
}

/// The model's aliases.yaml with `aliases`: a rewrite keeps the file's modeline (and adds none
/// it did not have); a new file gets one.
pub(crate) fn aliases_file(
    reg: &Registry,
    m: &Model,
    aliases: &BTreeMap<Alias, u32>,
) -> Result<(String, Vec<u8>)> {
    let body = aliases_text(aliases);
    let text = match &m.aliases_file {
        Some(path) => {
            let old = reg
                .source
                .read(path, crate::registry::MAX_YAML_BYTES)
                .map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?;
            let old = String::from_utf8(old).map_err(|_| anyhow::anyhow!("{path} is not UTF-8"))?;
            (path.clone(), keep_modeline(&old, &body))
        }
        None => {
            let path = format!("{}/aliases.yaml", m.dir);
            let text = with_modeline(&path, &body);
            (path, text)
        }
    };
    Ok((text.0, text.1.into_bytes()))
}

/// Sets `archived_at` in a version file's text, keeping everything else byte for byte.
pub fn set_archived_at(text: &str, at: &Timestamp) -> String {
    set_time_field(text, "archived_at", at)
}

/// Sets a top-level timestamp field (`archived_at`, `deleted_at`) in a version file's text,
/// keeping everything else byte for byte; appends it when the file has none.
pub fn set_time_field(text: &str, key: &str, at: &Timestamp) -> String {
    let prefix = format!("{key}:");
    let mut found = false;
    let mut out: String = text
        .split_inclusive('\n')
        .map(|line| {
            if !found && line.starts_with(&prefix) {
                found = true;
                format!("{key}: {}\n", at.raw)
            } else {
                line.to_string()
            }
        })
        .collect();
    if !found {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{key}: {}\n", at.raw));
    }
    out
}

/// The model `name` of the registry, or an error that says there is none.
pub fn model<'a>(reg: &'a Registry, name: &ModelName) -> Result<&'a Model> {
    match reg.models.get(name) {
        Some(m) => Ok(m),
        None => bail!("there is no model `{name}` in this registry"),
    }
}

/// Plans moving `alias` of `name` to `version`.
pub fn plan(
    reg: &Registry,
    name: &ModelName,
    version: u32,
    alias: Alias,
    actor: &str,
    at: &Timestamp,
) -> Result<Plan> {
    let m = model(reg, name)?;
    let Some(target) = m.versions.get(&version) else {
        bail!("{name} has no version {version}");
    };
    if target.is_retired() {
        bail!("{name} v{version} is archived; an alias must point at a live version");
    }
    let current: BTreeMap<Alias, u32> = m.aliases.iter().map(|(a, v)| (*a, v.value)).collect();
    let from = current.get(&alias).copied();
    if from == Some(version) {
        bail!("{name} {alias} is already v{version}");
    }
    let mut aliases = current.clone();
    aliases.insert(alias, version);
    let mut files: Files = Vec::new();
    let mut summary = vec![format!(
        "{name} {alias}: {} → v{version}",
        from.map(|v| format!("v{v}"))
            .unwrap_or_else(|| "none".into())
    )];
    let mut entries: Vec<NewEntry> = Vec::new();
    let entry = |action, v: u32| NewEntry::new(action, actor, at).version(name.as_str(), v);
    entries.push(
        entry(Action::Promote, version)
            .alias(alias)
            .details(serde_json::json!({"from": from, "to": version})),
    );
    if alias == Alias::Champion {
        if let Some(old) = from {
            if let Some(old_entry) = m.versions.get(&old) {
                let text = reg
                    .source
                    .read(&old_entry.file, crate::registry::MAX_YAML_BYTES)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", old_entry.file))?;
                let text = String::from_utf8(text)?;
                files.push((
                    old_entry.file.clone(),
                    set_archived_at(&text, at).into_bytes(),
                ));
                // An archive entry names no alias: the version holds none any more.
                entries.push(entry(Action::Archive, old).details(
                    serde_json::json!({"reason": format!("replaced as champion by v{version}")}),
                ));
                summary.push(format!("{name} v{old} archived (former champion)"));
            }
        }
        if current.get(&Alias::Challenger) == Some(&version) {
            aliases.remove(&Alias::Challenger);
            entries.push(
                entry(Action::Demote, version)
                    .alias(Alias::Challenger)
                    .details(serde_json::json!({"reason": "promoted to champion"})),
            );
            summary.push(format!(
                "{name} challenger: v{version} → none (now champion)"
            ));
        }
    }
    files.push(aliases_file(reg, m, &aliases)?);
    files.push((
        crate::audit::AUDIT_PATH.to_string(),
        append_audit(reg, entries).into_bytes(),
    ));
    Ok(Plan { files, summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archived_at_is_set_in_place() {
        let at: Timestamp = "2024-06-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            set_archived_at("version: 3\narchived_at: null\ntags: {}\n", &at),
            "version: 3\narchived_at: 2024-06-01T12:00:00Z\ntags: {}\n"
        );
        assert_eq!(
            set_archived_at("version: 3", &at),
            "version: 3\narchived_at: 2024-06-01T12:00:00Z\n"
        );
    }
}
