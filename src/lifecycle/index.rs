//! The search index: what `search` needs of every version (metrics, hyperparameters, tags,
//! created_at, lifecycle), kept in `.modelgate/search-index.json` beside the registry so that a
//! search does not parse 20,000 YAML files each time.
//!
//! The index is a cache, never a source of truth. Each version file's entry is keyed by its
//! size, modification time (nanoseconds) and inode; any difference — or a file modified within
//! the last two seconds, whose time may not have ticked yet ("racily clean", as git calls it) —
//! means it is parsed again. New and removed files are seen by listing the folders every time.
//! A corrupt or foreign index is ignored and rewritten; failing to write it (a read-only
//! checkout) costs only speed.

use super::search::Hit;
use crate::registry::schema::VersionSpec;
use crate::registry::source::{EntryKind, FsSource, Source};
use crate::registry::types::{Alias, ModelName};
use anyhow::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Where the index lives, relative to the repository root.
pub const INDEX_PATH: &str = ".modelgate/search-index.json";
const FORMAT: u32 = 2;

/// One version, as search needs it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Version {
    stamp: String,
    created_at: String,
    archived: bool,
    deleted: bool,
    metrics: BTreeMap<String, f64>,
    params: BTreeMap<String, Value>,
    tags: BTreeMap<String, String>,
    /// Per protected attribute, the largest recorded disparity (`None`: a number is not
    /// finite, or none is recorded).
    bias: BTreeMap<String, Option<f64>>,
}

/// One model.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    aliases_stamp: String,
    champion: Option<u32>,
    challenger: Option<u32>,
    versions: BTreeMap<u32, Version>,
}

/// The index.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Index {
    format: u32,
    modelgate: String,
    models: BTreeMap<String, Model>,
    /// Files parsed to bring it up to date (not stored).
    #[serde(skip)]
    pub parsed: usize,
}

fn stamp(root: &Path, rel: &str, now: std::time::SystemTime) -> Option<String> {
    let m = std::fs::symlink_metadata(root.join(rel)).ok()?;
    let mtime = m.modified().ok()?;
    // Racily clean: too recent to trust the time.
    if now
        .duration_since(mtime)
        .map(|d| d.as_secs() < 2)
        .unwrap_or(true)
    {
        return None;
    }
    let ns = mtime.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0u64;
    Some(format!("{}:{ns}:{ino}", m.len()))
}

/// A registry YAML file as `T`, or `None` when it is missing or broken (`validate` reports
/// why; the commands that read the index skip it).
pub fn parse_file<T: serde::de::DeserializeOwned>(src: &dyn Source, rel: &str) -> Option<T> {
    let bytes = src.read(rel, crate::registry::MAX_YAML_BYTES).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let node = crate::yaml::parse(text).ok()?;
    crate::yaml::de::from_node::<T>(&node).ok()
}

fn parse_version(src: &FsSource, rel: &str) -> Option<VersionSpec> {
    parse_file(src, rel)
}

fn parse_aliases(src: &FsSource, rel: &str) -> (Option<u32>, Option<u32>) {
    let Ok(bytes) = src.read(rel, crate::registry::MAX_YAML_BYTES) else {
        return (None, None);
    };
    let Some(node) = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| crate::yaml::parse(t).ok())
    else {
        return (None, None);
    };
    let map =
        crate::yaml::de::from_node::<Option<BTreeMap<Alias, crate::yaml::Spanned<u32>>>>(&node)
            .ok()
            .flatten()
            .unwrap_or_default();
    (
        map.get(&Alias::Champion).map(|v| v.value),
        map.get(&Alias::Challenger).map(|v| v.value),
    )
}

/// Loads the index of the registry at `root`, bringing it up to date (and saving it when
/// anything changed).
pub fn load(root: &Path) -> Result<Index> {
    let src = FsSource::new(root)?;
    let path = root.join(INDEX_PATH);
    let old: Index = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|i: &Index| i.format == FORMAT && i.modelgate == env!("CARGO_PKG_VERSION"))
        .unwrap_or_default();
    let now = std::time::SystemTime::now();
    let dirs: Vec<String> = src
        .list(crate::registry::MODELS_DIR)?
        .into_iter()
        .filter(|e| matches!(e.kind, EntryKind::Dir) && !e.name.starts_with('.'))
        .filter(|e| ModelName::new(&e.name).is_ok())
        .map(|e| e.name)
        .collect();
    let models: Vec<(String, Model, usize)> = dirs
        .par_iter()
        .map(|name| {
            let dir = format!("{}/{name}", crate::registry::MODELS_DIR);
            let prev = old.models.get(name);
            let mut parsed = 0;
            let arel = format!("{dir}/aliases.yaml");
            let ast = stamp(root, &arel, now);
            let (champion, challenger) = match (prev, &ast) {
                (Some(p), Some(s)) if &p.aliases_stamp == s => (p.champion, p.challenger),
                _ => {
                    parsed += 1;
                    parse_aliases(&src, &arel)
                }
            };
            let mut versions = BTreeMap::new();
            let vdir = format!("{dir}/versions");
            for e in src.list(&vdir).unwrap_or_default() {
                if !matches!(e.kind, EntryKind::File) {
                    continue;
                }
                let Some(n) = crate::registry::version_from_file_name(&e.name) else {
                    continue;
                };
                let rel = format!("{vdir}/{}", e.name);
                let st = stamp(root, &rel, now);
                if let (Some(s), Some(v)) = (&st, prev.and_then(|p| p.versions.get(&n))) {
                    if &v.stamp == s {
                        versions.insert(n, v.clone());
                        continue;
                    }
                }
                parsed += 1;
                let Some(spec) = parse_version(&src, &rel) else {
                    continue; // A broken file: `validate` reports it; search skips it.
                };
                versions.insert(
                    n,
                    Version {
                        stamp: st.unwrap_or_default(),
                        created_at: spec.created_at.raw.clone(),
                        archived: spec.archived_at.is_some(),
                        deleted: spec.deleted_at.is_some(),
                        metrics: spec
                            .metrics
                            .iter()
                            .map(|(k, v)| (k.clone(), v.value))
                            .collect(),
                        params: spec.hyperparameters.clone(),
                        tags: spec.tags.clone(),
                        bias: spec
                            .bias
                            .iter()
                            .map(|(a, b)| (a.clone(), b.value.worst()))
                            .collect(),
                    },
                );
            }
            (
                name.clone(),
                Model {
                    aliases_stamp: ast.unwrap_or_default(),
                    champion,
                    challenger,
                    versions,
                },
                parsed,
            )
        })
        .collect();
    let parsed: usize = models.iter().map(|(_, _, p)| p).sum();
    let index = Index {
        format: FORMAT,
        modelgate: env!("CARGO_PKG_VERSION").to_string(),
        models: models.into_iter().map(|(n, m, _)| (n, m)).collect(),
        parsed,
    };
    let removed = old.models.keys().any(|k| !index.models.contains_key(k));
    if parsed > 0 || removed {
        // A cache: a failed write (read-only checkout) only costs speed next time.
        if let Ok(bytes) = serde_json::to_vec(&index) {
            let _ = crate::registry::write::write_atomic(&path, &bytes);
        }
    }
    Ok(index)
}

/// What `list` needs of one model.
pub struct ModelSummary<'a> {
    /// The model's folder name.
    pub name: &'a str,
    /// The champion's version.
    pub champion: Option<u32>,
    /// The challenger's version.
    pub challenger: Option<u32>,
    /// The champion's metrics.
    pub champion_metrics: Option<&'a BTreeMap<String, f64>>,
    /// The champion's largest disparity per protected attribute.
    pub champion_bias: Option<&'a BTreeMap<String, Option<f64>>>,
}

impl Index {
    /// Every model, with its aliases and its champion's numbers.
    pub fn models(&self) -> impl Iterator<Item = ModelSummary<'_>> {
        self.models.iter().map(|(name, m)| {
            let champion = m.champion.and_then(|c| m.versions.get(&c));
            ModelSummary {
                name: name.as_str(),
                champion: m.champion,
                challenger: m.challenger,
                champion_metrics: champion.map(|v| &v.metrics),
                champion_bias: champion.map(|v| &v.bias),
            }
        })
    }

    /// Every version, as search sees it.
    pub fn hits(&self) -> impl Iterator<Item = Hit<'_>> {
        self.models.iter().flat_map(|(name, m)| {
            m.versions.iter().map(move |(n, v)| {
                let mut aliases = Vec::new();
                if m.champion == Some(*n) {
                    aliases.push(Alias::Champion.as_str());
                }
                if m.challenger == Some(*n) {
                    aliases.push(Alias::Challenger.as_str());
                }
                Hit {
                    name: name.as_str(),
                    version: *n,
                    stage: crate::registry::stage(
                        m.champion,
                        m.challenger,
                        *n,
                        v.archived,
                        v.deleted,
                    ),
                    aliases,
                    created_at: &v.created_at,
                    metrics: v.metrics.iter().map(|(k, x)| (k.as_str(), *x)).collect(),
                    params: &v.params,
                    tags: &v.tags,
                }
            })
        })
    }
}
