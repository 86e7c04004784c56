//! `demote` and `archive`: taking an alias away from a version, and archiving one chosen
//! version, through the audited path — the registry change and its hash-chained audit entry,
//! written together, so that `check` accepts the pull request.
//!
//! Removing the **champion** is refused: it would leave the model with no version in
//! production, and a later promotion would then have no holder to beat, which would make the
//! removal a way around the champion gate (`check` refuses it too, MG042). To replace the
//! champion, promote another version; `promote` archives the old one. Archiving a version that
//! holds an alias is refused: demote it (challenger) or replace it (champion) first.

use super::promote::{Plan, aliases_text, model, set_archived_at};
use super::{Files, append_audit};
use crate::audit::{Action, NewEntry};
use crate::registry::Registry;
use crate::registry::types::{Alias, ModelName, Timestamp};
use anyhow::{Result, bail};
use std::collections::BTreeMap;

/// Plans removing `alias` from `name`. Only the challenger can be removed.
pub fn demote(
    reg: &Registry,
    name: &ModelName,
    alias: Alias,
    reason: Option<&str>,
    actor: &str,
    at: &Timestamp,
) -> Result<Plan> {
    let m = model(reg, name)?;
    let Some(held) = m.aliases.get(&alias).map(|v| v.value) else {
        bail!("{name} has no {alias}: there is nothing to demote");
    };
    if alias == Alias::Champion {
        bail!(
            "the champion of {name} (v{held}) cannot be demoted: {name} would have no version in production, and a later promotion would have no champion to beat (check refuses it, MG042). Promote another version instead: `modelgate promote {name} <VERSION> --to champion` archives v{held}"
        );
    }
    let mut aliases: BTreeMap<Alias, u32> = m.aliases.iter().map(|(a, v)| (*a, v.value)).collect();
    aliases.remove(&alias);
    let aliases_file = m
        .aliases_file
        .clone()
        .unwrap_or_else(|| format!("{}/aliases.yaml", m.dir));
    let details = serde_json::json!({"reason": reason.unwrap_or("demoted by hand")});
    let audit = append_audit(
        reg,
        vec![
            NewEntry::new(Action::Demote, actor, at)
                .version(name.as_str(), held)
                .alias(alias)
                .details(details),
        ],
    );
    let files: Files = vec![
        (aliases_file, aliases_text(&aliases).into_bytes()),
        (crate::audit::AUDIT_PATH.to_string(), audit.into_bytes()),
    ];
    Ok(Plan {
        files,
        summary: vec![format!("{name} {alias}: v{held} → none")],
    })
}

/// Plans archiving version `version` of `name` (it must hold no alias and be live).
pub fn archive(
    reg: &Registry,
    name: &ModelName,
    version: u32,
    reason: Option<&str>,
    actor: &str,
    at: &Timestamp,
) -> Result<Plan> {
    let m = model(reg, name)?;
    let Some(v) = m.versions.get(&version) else {
        bail!("{name} has no version {version}");
    };
    if let Some((alias, _)) = m.aliases.iter().find(|(_, x)| x.value == version) {
        match alias {
            Alias::Champion => bail!(
                "{name} v{version} is the champion and cannot be archived: promote another version to champion (`modelgate promote {name} <VERSION> --to champion`), which archives v{version}"
            ),
            Alias::Challenger => bail!(
                "{name} v{version} is the challenger and cannot be archived while it holds the alias: `modelgate demote {name} --from challenger` first"
            ),
        }
    }
    if v.spec.deleted_at.is_some() {
        bail!("{name} v{version} is deleted (its artifact was purged); it is already retired");
    }
    if v.spec.archived_at.is_some() {
        bail!("{name} v{version} is already archived");
    }
    let text = reg
        .source
        .read(&v.file, crate::registry::MAX_YAML_BYTES)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", v.file))?;
    let Ok(text) = String::from_utf8(text) else {
        bail!("{} is not UTF-8 text", v.file);
    };
    let details = serde_json::json!({"reason": reason.unwrap_or("archived by hand")});
    let audit = append_audit(
        reg,
        vec![
            NewEntry::new(Action::Archive, actor, at)
                .version(name.as_str(), version)
                .details(details),
        ],
    );
    Ok(Plan {
        files: vec![
            (v.file.clone(), set_archived_at(&text, at).into_bytes()),
            (crate::audit::AUDIT_PATH.to_string(), audit.into_bytes()),
        ],
        summary: vec![format!("{name} v{version} archived")],
    })
}
