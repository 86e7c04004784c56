//! `import mlflow`: models, versions and aliases from an MLflow tracking store.
//!
//! Both of MLflow's local backends are read directly, without MLflow: the `mlruns/` file store
//! (YAML `meta.yaml` files and one file per param, metric and tag) and the SQLite database
//! MLflow uses by default. A registered model becomes a modelgate model; each of its versions
//! becomes `versions/v<N>.yaml` with the run's latest metrics (the value at the highest step,
//! then the latest timestamp — never simply the last line), its params as hyperparameters, its
//! tags, its run id, its git commit, and the artifact's sha256; the `champion` and `challenger`
//! aliases become `aliases.yaml`; every version and alias gets its audit entry.
//!
//! The whole import is checked first and written all or none: a deleted run, a version whose
//! run is gone, a metric name modelgate cannot use, an artifact that is not ONNX, or a version
//! that already exists in the registry stops it before anything is written.
//!
//! Stores that were moved after MLflow wrote them (MLflow records absolute paths) are found
//! again: a `file:` path that does not exist is looked up under the store's own folder from its
//! `mlruns/` component on.
//!
//! Only files inside the store are read — the `mlruns` folder, or the folder of the SQLite file
//! — and inside the `--artifacts-root` folders given: a file, folder or symbolic link that
//! resolves anywhere else is an error that names it, and so is a symbolic link loop (every
//! folder is read once), never a hang.
//!
//! Why one file of over 1,000 lines: the two backends are read into one model here and share
//! every conversion; the importer is rewritten for MLflow 3 stores (logged models, datasets)
//! next, when the file store and the SQLite reader become modules of their own.

use super::{Files, append_audit};
use crate::audit::{Action, Entry};
use crate::registry::Registry;
use crate::registry::types::{ModelName, Sha256, Timestamp};
use crate::registry::version_yaml::{self, FileRef, NewVersion, Training};
use crate::yaml::write::string as yaml_str;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A run, as the importer needs it.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Run id.
    pub id: String,
    /// Run name.
    pub name: Option<String>,
    /// Experiment name.
    pub experiment: Option<String>,
    /// `active` or `deleted`.
    pub lifecycle: String,
    /// Where its artifacts are.
    pub artifact_uri: String,
    /// Who ran it.
    pub user: Option<String>,
    /// Params.
    pub params: BTreeMap<String, String>,
    /// Latest value per metric.
    pub metrics: BTreeMap<String, f64>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A registered model version.
#[derive(Clone, Debug, Default)]
pub struct MlVersion {
    /// Version number.
    pub version: u32,
    /// Created (ms since the epoch).
    pub created_ms: i64,
    /// Description.
    pub description: Option<String>,
    /// `source` URI.
    pub source: String,
    /// Run id.
    pub run_id: Option<String>,
    /// Version tags.
    pub tags: BTreeMap<String, String>,
    /// Who registered it.
    pub user: Option<String>,
    /// Deleted in MLflow.
    pub deleted: bool,
}

/// A registered model.
#[derive(Clone, Debug, Default)]
pub struct MlModel {
    /// MLflow's name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Versions.
    pub versions: Vec<MlVersion>,
    /// Aliases.
    pub aliases: BTreeMap<String, u32>,
}

/// What a store holds.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// The folder paths are resolved against when the store was moved.
    pub base: PathBuf,
    /// The only folders that may be read (resolved): the store's own, then `--artifacts-root`.
    pub roots: Vec<PathBuf>,
    /// Registered models.
    pub models: Vec<MlModel>,
    /// Runs by id (deleted runs included, marked).
    pub runs: BTreeMap<String, Run>,
}

/// The folders an import may read: `store_root` and `extra` (`--artifacts-root`), resolved.
fn roots(store_root: &Path, extra: &[PathBuf]) -> Result<Vec<PathBuf>> {
    std::iter::once(store_root)
        .chain(extra.iter().map(PathBuf::as_path))
        .map(|r| {
            r.canonicalize()
                .with_context(|| format!("resolving {}", r.display()))
        })
        .collect()
}

/// `path` resolved, when it resolves inside `roots`; an error naming it when it resolves
/// outside them or cannot be resolved (a symbolic link loop, a dangling link). A path that does
/// not exist is returned as it is (reading it fails with its own error).
fn inside(path: &Path, roots: &[PathBuf]) -> Result<PathBuf> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(path.to_path_buf());
    }
    let real = path.canonicalize().map_err(|e| {
        anyhow::anyhow!(
            "{} cannot be resolved ({e}): a symbolic link loop or a dangling link in the MLflow store",
            path.display()
        )
    })?;
    if roots.iter().any(|r| real.starts_with(r)) {
        return Ok(real);
    }
    let allowed: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    bail!(
        "{} leads to {}, outside the MLflow store: import reads only inside {} (add a folder with --artifacts-root if the store keeps its artifacts there)",
        path.display(),
        real.display(),
        allowed.join(" and ")
    )
}

/// Every file under `dir` (key: its path below `dir`, `/`-separated), read only inside `roots`:
/// a symbolic link is followed only to a place inside them, and every folder is read once (a
/// link back to a folder already read is a loop, and an error naming it).
fn files_under(dir: &Path, roots: &[PathBuf]) -> Result<Vec<(String, PathBuf)>> {
    fn walk(
        d: &Path,
        prefix: &str,
        roots: &[PathBuf],
        seen: &mut std::collections::HashSet<PathBuf>,
        out: &mut Vec<(String, PathBuf)>,
    ) -> Result<()> {
        let Ok(rd) = std::fs::read_dir(d) else {
            return Ok(());
        };
        for e in rd.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let key = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let Ok(ft) = e.file_type() else {
                continue;
            };
            let is_dir = if ft.is_symlink() {
                inside(&path, roots)?.is_dir()
            } else {
                ft.is_dir()
            };
            if is_dir {
                let real = inside(&path, roots)?;
                if d.canonicalize().is_ok_and(|here| here.starts_with(&real)) {
                    bail!(
                        "{} leads to {}, a folder that holds it: a symbolic link loop in the MLflow store",
                        path.display(),
                        real.display()
                    );
                }
                if !seen.insert(real.clone()) {
                    bail!(
                        "{} leads to {}, a folder already read: a symbolic link loop in the MLflow store",
                        path.display(),
                        real.display()
                    );
                }
                walk(&path, &key, roots, seen, out)?;
            } else {
                out.push((key, path));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut seen = std::collections::HashSet::new();
    seen.insert(inside(dir, roots)?);
    walk(dir, "", roots, &mut seen, &mut out)?;
    out.sort();
    Ok(out)
}

/// Opens a store: a `.db`/`sqlite:///` file, or an `mlruns` folder (or a folder holding one).
/// Only files inside the store and inside `artifacts_roots` are read.
pub fn open(store: &str, artifacts_roots: &[PathBuf]) -> Result<Store> {
    let path = store.strip_prefix("sqlite:///").map(|p| format!("/{p}"));
    let path = PathBuf::from(path.as_deref().unwrap_or(store));
    if path.is_file() {
        let mut s = sqlite(&path)?;
        s.roots = roots(&s.base, artifacts_roots)?;
        return Ok(s);
    }
    if path.is_dir() {
        let mlruns = if path.join("models").is_dir() || path.join("0").is_dir() {
            path.clone()
        } else if path.join("mlruns").is_dir() {
            path.join("mlruns")
        } else {
            bail!(
                "{} is neither an MLflow `mlruns` folder (no models/ or experiment folders in it) nor a SQLite file",
                path.display()
            );
        };
        return file_store(&mlruns, &roots(&mlruns, artifacts_roots)?);
    }
    bail!("{store}: no such file or folder (expected an mlruns folder or an MLflow SQLite file)")
}

fn yaml_file(path: &Path, roots: &[PathBuf]) -> Result<Value> {
    inside(path, roots)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let node = crate::yaml::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: not YAML: {}", path.display(), e.message))?;
    crate::yaml::de::from_node::<Value>(&node)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Files under `dir` as key → content; keys with `/` are sub-folders (MLflow's layout). Read
/// only inside `roots` (see [`files_under`]).
fn key_files(dir: &Path, roots: &[PathBuf]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, path) in files_under(dir, roots)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        out.insert(key, text);
    }
    Ok(out)
}

/// The latest value of a metric file: the point with the highest (step, timestamp, value).
pub fn latest_metric(text: &str, file: &Path) -> Result<Option<f64>> {
    let mut best: Option<(i64, i64, f64)> = None;
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        if f.len() < 2 {
            bail!(
                "{}:{}: expected `<timestamp> <value> [<step>]`, found `{line}`",
                file.display(),
                i + 1
            );
        }
        let ts: i64 = f[0].parse().map_err(|_| {
            anyhow::anyhow!(
                "{}:{}: `{}` is not a timestamp",
                file.display(),
                i + 1,
                f[0]
            )
        })?;
        let v: f64 = f[1].parse().map_err(|_| {
            anyhow::anyhow!("{}:{}: `{}` is not a number", file.display(), i + 1, f[1])
        })?;
        let step: i64 = f.get(2).and_then(|x| x.parse().ok()).unwrap_or(0);
        let key = (step, ts, v);
        if best.is_none_or(|b| {
            (key.0, key.1).cmp(&(b.0, b.1)).is_gt() || ((key.0, key.1) == (b.0, b.1) && key.2 > b.2)
        }) {
            best = Some(key);
        }
    }
    Ok(best.map(|b| b.2))
}

fn file_store(mlruns: &Path, roots: &[PathBuf]) -> Result<Store> {
    let mut store = Store {
        base: mlruns.parent().unwrap_or(mlruns).to_path_buf(),
        roots: roots.to_vec(),
        ..Default::default()
    };
    // Experiments (and those in .trash) and their runs.
    let mut exp_dirs = Vec::new();
    for dir in [mlruns.to_path_buf(), mlruns.join(".trash")] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() && p.join("meta.yaml").is_file() && name != "models" {
                exp_dirs.push((p, dir != mlruns));
            }
        }
    }
    exp_dirs.sort();
    for (exp, trashed) in exp_dirs {
        let meta = yaml_file(&exp.join("meta.yaml"), roots)?;
        let exp_name = s(&meta, "name");
        let exp_deleted = trashed || s(&meta, "lifecycle_stage").as_deref() == Some("deleted");
        let Ok(rd) = std::fs::read_dir(&exp) else {
            continue;
        };
        let mut runs: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() && p.join("meta.yaml").is_file())
            .collect();
        runs.sort();
        for r in runs {
            let meta = yaml_file(&r.join("meta.yaml"), roots)?;
            let id = s(&meta, "run_id")
                .or_else(|| s(&meta, "run_uuid"))
                .unwrap_or_else(|| r.file_name().unwrap_or_default().to_string_lossy().into());
            let mut metrics = BTreeMap::new();
            let mdir = r.join("metrics");
            for (k, text) in key_files(&mdir, roots)? {
                if let Some(v) = latest_metric(&text, &mdir.join(&k))? {
                    metrics.insert(k, v);
                }
            }
            let lifecycle = if exp_deleted {
                "deleted".to_string()
            } else {
                s(&meta, "lifecycle_stage").unwrap_or_else(|| "active".into())
            };
            store.runs.insert(
                id.clone(),
                Run {
                    id,
                    name: s(&meta, "run_name"),
                    experiment: exp_name.clone(),
                    lifecycle,
                    artifact_uri: s(&meta, "artifact_uri").unwrap_or_default(),
                    user: s(&meta, "user_id"),
                    params: key_files(&r.join("params"), roots)?,
                    metrics,
                    tags: key_files(&r.join("tags"), roots)?,
                },
            );
        }
    }
    // Registered models.
    let models_dir = mlruns.join("models");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&models_dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for md in names {
        let meta = yaml_file(&md.join("meta.yaml"), roots)?;
        let name = s(&meta, "name")
            .unwrap_or_else(|| md.file_name().unwrap_or_default().to_string_lossy().into());
        let mut aliases = BTreeMap::new();
        for (a, v) in key_files(&md.join("aliases"), roots)? {
            let n: u32 = v.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "{}: alias `{a}` holds `{v}`, expected a version number",
                    md.join("aliases").join(&a).display()
                )
            })?;
            aliases.insert(a, n);
        }
        if aliases.is_empty() {
            if let Some(Value::Object(m)) = meta.get("aliases") {
                for (a, v) in m {
                    if let Some(n) = v
                        .as_str()
                        .and_then(|x| x.parse().ok())
                        .or(v.as_u64().map(|x| x as u32))
                    {
                        aliases.insert(a.clone(), n);
                    }
                }
            }
        }
        let mut versions = Vec::new();
        let mut vdirs: Vec<PathBuf> = std::fs::read_dir(&md)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.is_dir()
                            && p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with("version-"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        vdirs.sort();
        for vd in vdirs {
            let vm = yaml_file(&vd.join("meta.yaml"), roots)?;
            let version = vm
                .get("version")
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
                })
                .and_then(|v| u32::try_from(v).ok())
                .with_context(|| {
                    format!("{}: no version number", vd.join("meta.yaml").display())
                })?;
            versions.push(MlVersion {
                version,
                created_ms: vm
                    .get("creation_timestamp")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                description: s(&vm, "description").filter(|d| !d.is_empty()),
                source: s(&vm, "source").unwrap_or_default(),
                run_id: s(&vm, "run_id").filter(|r| !r.is_empty()),
                tags: key_files(&vd.join("tags"), roots)?,
                user: s(&vm, "user_id"),
                deleted: s(&vm, "current_stage").as_deref() == Some("Deleted_Internal"),
            });
        }
        versions.sort_by_key(|v| v.version);
        store.models.push(MlModel {
            name,
            description: s(&meta, "description").filter(|d| !d.is_empty()),
            tags: key_files(&md.join("tags"), roots)?,
            versions,
            aliases,
        });
    }
    Ok(store)
}

fn sqlite(path: &Path) -> Result<Store> {
    use rusqlite::{Connection, OpenFlags};
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {} as SQLite", path.display()))?;
    let has = |t: &str| -> bool {
        db.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
            [t],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0)
            > 0
    };
    if !has("runs") || !has("registered_models") {
        bail!(
            "{} is a SQLite file but not an MLflow tracking store (no `runs` or `registered_models` table)",
            path.display()
        );
    }
    let err = |e: rusqlite::Error| anyhow::anyhow!("reading {}: {e}", path.display());
    let mut store = Store {
        base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        ..Default::default()
    };
    let mut exps: BTreeMap<i64, (String, String)> = BTreeMap::new();
    {
        let mut q = db
            .prepare("SELECT experiment_id, name, lifecycle_stage FROM experiments")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (id, n, l) = r.map_err(err)?;
            exps.insert(id, (n, l));
        }
    }
    {
        let mut q = db
            .prepare("SELECT run_uuid, name, experiment_id, lifecycle_stage, artifact_uri, user_id FROM runs")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (id, name, exp, life, uri, user) = r.map_err(err)?;
            let e = exp.and_then(|e| exps.get(&e));
            let deleted =
                life.as_deref() == Some("deleted") || e.is_some_and(|(_, l)| l == "deleted");
            store.runs.insert(
                id.clone(),
                Run {
                    id,
                    name,
                    experiment: e.map(|(n, _)| n.clone()),
                    lifecycle: if deleted {
                        "deleted".into()
                    } else {
                        "active".into()
                    },
                    artifact_uri: uri.unwrap_or_default(),
                    user,
                    ..Default::default()
                },
            );
        }
    }
    for (table, which) in [("params", 0), ("tags", 1)] {
        let mut q = db
            .prepare(&format!("SELECT run_uuid, key, value FROM {table}"))
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (run, k, v) = r.map_err(err)?;
            if let Some(run) = store.runs.get_mut(&run) {
                let m = if which == 0 {
                    &mut run.params
                } else {
                    &mut run.tags
                };
                m.insert(k, v.unwrap_or_default());
            }
        }
    }
    {
        let mut q = db
            .prepare("SELECT run_uuid, key, value, is_nan FROM latest_metrics")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, Option<bool>>(3)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (run, k, v, nan) = r.map_err(err)?;
            if let Some(run) = store.runs.get_mut(&run) {
                run.metrics
                    .insert(k, if nan == Some(true) { f64::NAN } else { v });
            }
        }
    }
    let mut models: BTreeMap<String, MlModel> = BTreeMap::new();
    {
        let mut q = db
            .prepare("SELECT name, description FROM registered_models")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .map_err(err)?;
        for r in rows {
            let (n, d) = r.map_err(err)?;
            models.insert(
                n.clone(),
                MlModel {
                    name: n,
                    description: d.filter(|d| !d.is_empty()),
                    ..Default::default()
                },
            );
        }
    }
    if has("registered_model_tags") {
        let mut q = db
            .prepare("SELECT name, key, value FROM registered_model_tags")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (n, k, v) = r.map_err(err)?;
            if let Some(m) = models.get_mut(&n) {
                m.tags.insert(k, v.unwrap_or_default());
            }
        }
    }
    {
        let mut q = db
            .prepare("SELECT name, version, creation_time, description, source, run_id, user_id, current_stage FROM model_versions")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (n, v, created, desc, source, run, user, stage) = r.map_err(err)?;
            if let Some(m) = models.get_mut(&n) {
                m.versions.push(MlVersion {
                    version: u32::try_from(v).unwrap_or(0),
                    created_ms: created.unwrap_or(0),
                    description: desc.filter(|d| !d.is_empty()),
                    source: source.unwrap_or_default(),
                    run_id: run.filter(|r| !r.is_empty()),
                    user,
                    deleted: stage.as_deref() == Some("Deleted_Internal"),
                    tags: BTreeMap::new(),
                });
            }
        }
    }
    if has("model_version_tags") {
        let mut q = db
            .prepare("SELECT name, version, key, value FROM model_version_tags")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (n, v, k, val) = r.map_err(err)?;
            if let Some(mv) = models
                .get_mut(&n)
                .and_then(|m| m.versions.iter_mut().find(|x| i64::from(x.version) == v))
            {
                mv.tags.insert(k, val.unwrap_or_default());
            }
        }
    }
    if has("registered_model_aliases") {
        let mut q = db
            .prepare("SELECT name, alias, version FROM registered_model_aliases")
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (n, a, v) = r.map_err(err)?;
            if let Some(m) = models.get_mut(&n) {
                m.aliases.insert(a, u32::try_from(v).unwrap_or(0));
            }
        }
    }
    for m in models.values_mut() {
        m.versions.sort_by_key(|v| v.version);
    }
    store.models = models.into_values().collect();
    Ok(store)
}

/// A modelgate name for an MLflow model name: lowercase, `_` for anything else.
pub fn normalize_name(name: &str) -> Result<ModelName> {
    let mut s = String::new();
    for c in name.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            s.push(c);
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    let s = s.trim_matches('_').to_string();
    let s = if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("m_{s}")
    } else {
        s
    };
    ModelName::new(&s).map_err(|e| {
        anyhow::anyhow!("MLflow model `{name}` has no usable modelgate name (tried `{s}`): {e}")
    })
}

/// A metric or param name modelgate can use: letters, digits, `_`, `.`, `-`.
fn usable_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

/// Finds a local file for an artifact URI, following a moved store.
fn local_path(uri: &str, store: &Store, run: Option<&Run>) -> Option<PathBuf> {
    let path = if let Some(rest) = uri.strip_prefix("runs:/") {
        let (_, sub) = rest.split_once('/').unwrap_or((rest, ""));
        let base = run?.artifact_uri.clone();
        return local_path(
            &format!("{}/{sub}", base.trim_end_matches('/')),
            store,
            None,
        );
    } else if let Some(p) = uri.strip_prefix("file://") {
        PathBuf::from(p)
    } else if uri.contains("://")
        || uri.starts_with("mlflow-artifacts:")
        || uri.starts_with("models:")
    {
        return None;
    } else {
        PathBuf::from(uri)
    };
    let in_store = |p: &Path| {
        p.canonicalize()
            .is_ok_and(|r| store.roots.iter().any(|root| r.starts_with(root)))
    };
    if path.exists() && in_store(&path) {
        return Some(path);
    }
    // A moved store: look for the path under the store's folder from `mlruns/` on.
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for i in 0..comps.len() {
        if comps[i] == "mlruns" {
            let cand: PathBuf = std::iter::once(store.base.clone())
                .chain(comps[i..].iter().map(PathBuf::from))
                .collect();
            if cand.exists() {
                return Some(cand);
            }
        }
    }
    // Outside the store: returned, to be refused by name when it is read.
    path.exists().then_some(path)
}

/// The one ONNX file of an artifact folder (or the file itself), read only inside `roots`.
fn onnx_in(path: &Path, roots: &[PathBuf]) -> Result<PathBuf> {
    inside(path, roots)?;
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    let mut found: Vec<PathBuf> = files_under(path, roots)?
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "no .onnx file in {}: modelgate registers ONNX models only (export the model to ONNX and log it with the run)",
            path.display()
        ),
        _ => bail!(
            "{} holds {} .onnx files; expected one",
            path.display(),
            found.len()
        ),
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_utc(
        chrono::DateTime::from_timestamp_millis(ms).unwrap_or_else(chrono::Utc::now),
    )
}

/// The plan of an import.
pub struct Plan {
    /// Files to write.
    pub files: Files,
    /// One line per model and version, for the user.
    pub summary: Vec<String>,
    /// Models imported.
    pub models: usize,
    /// Versions imported.
    pub versions: usize,
}

/// Plans importing `store` into `reg` (only the MLflow models named in `only`, when given).
///
/// With `copy_to` (a repository-relative folder), each ONNX artifact is copied to
/// `<copy_to>/<model>/v<N>/<file>` and recorded by that path, so `batch` can load it; otherwise
/// MLflow's URI is recorded (`file://` for a local path).
pub fn plan(
    reg: &Registry,
    store: &Store,
    only: &[String],
    actor: &str,
    at: &Timestamp,
    copy_to: Option<&str>,
) -> Result<Plan> {
    if let Some(c) = copy_to {
        if c.starts_with('/') || c.split('/').any(|p| p == "..") || c.is_empty() {
            bail!(
                "--copy-artifacts `{c}` must be a folder inside the repository, written relative to its root"
            );
        }
    }
    for o in only {
        if !store.models.iter().any(|m| &m.name == o) {
            bail!(
                "the store has no registered model `{o}` (it has: {})",
                store
                    .models
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let mut files: Files = Vec::new();
    let mut summary = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut seen: BTreeMap<ModelName, String> = BTreeMap::new();
    type Make = (
        String,
        Option<u32>,
        Option<String>,
        Action,
        serde_json::Map<String, Value>,
        Timestamp,
    );
    let mut audit: Vec<Make> = Vec::new();
    let mut n_versions = 0;
    let mut n_models = 0;
    let mut n_features_cache: BTreeMap<String, usize> = BTreeMap::new();
    for m in store
        .models
        .iter()
        .filter(|m| only.is_empty() || only.contains(&m.name))
    {
        let name = match normalize_name(&m.name) {
            Ok(n) => n,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if let Some(other) = seen.insert(name.clone(), m.name.clone()) {
            problems.push(format!(
                "MLflow models `{other}` and `{}` both become `{name}`; import them one at a time with --model and rename one",
                m.name
            ));
            continue;
        }
        let existing = reg.models.get(&name);
        let dir = format!("{}/{name}", crate::registry::MODELS_DIR);
        let live: Vec<&MlVersion> = m.versions.iter().filter(|v| !v.deleted).collect();
        if live.is_empty() {
            summary.push(format!("{} → {name}: no versions, skipped", m.name));
            continue;
        }
        let mut wrote_any = false;
        for v in &live {
            let what = format!("{} v{}", m.name, v.version);
            if existing.is_some_and(|e| {
                e.versions.contains_key(&v.version) || e.broken_versions.contains(&v.version)
            }) {
                problems.push(format!(
                    "{what}: {dir}/versions/v{}.yaml already exists; import never overwrites a version",
                    v.version
                ));
                continue;
            }
            let Some(run_id) = &v.run_id else {
                problems.push(format!("{what}: the version names no run"));
                continue;
            };
            let Some(run) = store.runs.get(run_id) else {
                problems.push(format!(
                    "{what}: its run {run_id} is not in the store (deleted permanently, or the store is incomplete)"
                ));
                continue;
            };
            if run.lifecycle == "deleted" {
                problems.push(format!(
                    "{what}: its run {run_id} is deleted in MLflow; restore it (`mlflow runs restore --run-id {run_id}`) or delete the version"
                ));
                continue;
            }
            for k in run.metrics.keys().chain(run.params.keys()) {
                if !usable_key(k) {
                    problems.push(format!(
                        "{what}: run {run_id} has a metric or param named `{k}`; modelgate names are letters, digits, `_`, `.`, `-` (rename it in MLflow, e.g. `{}`)",
                        k.replace(' ', "_")
                    ));
                }
            }
            let Some(path) = local_path(&v.source, store, Some(run)) else {
                problems.push(format!(
                    "{what}: its artifact `{}` is not a local path modelgate can read and hash",
                    v.source
                ));
                continue;
            };
            let onnx = match onnx_in(&path, &store.roots) {
                Ok(p) => p,
                Err(e) => {
                    problems.push(format!("{what}: {e}"));
                    continue;
                }
            };
            let bytes =
                std::fs::read(&onnx).with_context(|| format!("reading {}", onnx.display()))?;
            let sha = Sha256::of(&bytes).hex();
            if !n_features_cache.contains_key(name.as_str()) && existing.is_none() {
                // A missing ONNX Runtime is not the model's fault: it stops the import.
                crate::batch::runtime::environment()?;
                match crate::batch::runtime::Scorer::new(&bytes, 1) {
                    Ok(sc) => {
                        n_features_cache.insert(name.to_string(), sc.n_features.unwrap_or(0));
                    }
                    Err(e) => {
                        problems.push(format!(
                            "{what}: {} is not a usable ONNX model: {e}",
                            onnx.display()
                        ));
                        continue;
                    }
                }
            }
            let file_name = onnx
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let uri = match copy_to {
                Some(c) => {
                    let rel = format!(
                        "{}/{name}/v{}/{file_name}",
                        c.trim_end_matches('/'),
                        v.version
                    );
                    if reg.source.read(&rel, 1).is_ok() {
                        problems.push(format!(
                            "{what}: {rel} already exists; import never overwrites"
                        ));
                        continue;
                    }
                    files.push((rel.clone(), bytes.clone()));
                    rel
                }
                None => {
                    let u = if v.source.ends_with(".onnx") {
                        v.source.clone()
                    } else {
                        format!("{}/{file_name}", v.source.trim_end_matches('/'))
                    };
                    if u.starts_with('/') {
                        format!("file://{u}")
                    } else {
                        u
                    }
                }
            };
            let created = ts(v.created_ms);
            let by = v
                .user
                .clone()
                .filter(|u| !u.is_empty())
                .or_else(|| run.tags.get("mlflow.user").cloned())
                .or_else(|| run.user.clone())
                .unwrap_or_else(|| actor.to_string());
            let git_commit = run
                .tags
                .get("mlflow.source.git.commit")
                .filter(|c| c.len() == 40 && c.chars().all(|x| x.is_ascii_hexdigit()))
                .map(|c| c.to_ascii_lowercase());
            let seed = ["random_seed", "seed", "random_state"]
                .iter()
                .find_map(|k| run.params.get(*k).and_then(|v| v.parse::<u64>().ok()));
            let metrics: BTreeMap<String, f64> = run
                .metrics
                .iter()
                .filter(|(_, x)| x.is_finite())
                .map(|(k, x)| (k.clone(), *x))
                .collect();
            let mut tags: BTreeMap<String, String> = run
                .tags
                .iter()
                .filter(|(k, _)| !k.starts_with("mlflow."))
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect();
            tags.extend(v.tags.iter().map(|(k, x)| (k.clone(), x.clone())));
            if let Some(d) = &v.description {
                tags.insert("description".into(), d.clone());
            }
            if let Some(rn) = &run.name {
                tags.insert("mlflow_run_name".into(), rn.clone());
            }
            tags.insert("imported_from".into(), "mlflow".into());
            let n_metrics = metrics.len();
            let y = version_yaml::render(&NewVersion {
                file: Some(format!("{dir}/versions/v{}.yaml", v.version)),
                comment: Some(format!(
                    "Imported from MLflow: {} version {}.",
                    m.name, v.version
                )),
                version: v.version,
                created_at: created.raw,
                created_by: by,
                artifact: FileRef {
                    uri,
                    sha256: sha.clone(),
                },
                artifact_format: crate::registry::schema::ArtifactFormat::Onnx,
                explainer: None,
                training: Training {
                    run_id: Some(run_id.clone()),
                    experiment: run.experiment.clone(),
                    git_commit,
                    random_seed: seed,
                    ..Default::default()
                },
                hyperparameters: run
                    .params
                    .iter()
                    .map(|(k, x)| (k.clone(), super::register::param_value(x)))
                    .collect(),
                metrics,
                bias: BTreeMap::new(),
                tags,
            })
            .with_context(|| what.clone())?;
            let mut d = serde_json::Map::new();
            d.insert("source".into(), "mlflow".into());
            d.insert("mlflow_model".into(), m.name.clone().into());
            d.insert("run_id".into(), run_id.clone().into());
            d.insert("artifact_sha256".into(), sha.clone().into());
            d.insert(
                "version_sha256".into(),
                Sha256::of(y.as_bytes()).hex().into(),
            );
            audit.push((
                name.to_string(),
                Some(v.version),
                None,
                Action::Register,
                d,
                at.clone(),
            ));
            files.push((
                format!("{dir}/versions/v{}.yaml", v.version),
                y.into_bytes(),
            ));
            summary.push(format!(
                "{what} → {name} v{}: run {run_id}, {} metrics, {} params, artifact sha256 {}…",
                v.version,
                n_metrics,
                run.params.len(),
                &sha[..12]
            ));
            n_versions += 1;
            wrote_any = true;
        }
        if !wrote_any {
            continue;
        }
        n_models += 1;
        if existing.is_none() {
            let n = n_features_cache.get(name.as_str()).copied().unwrap_or(0);
            let mut y = format!(
                "# Imported from MLflow ({}). MLflow does not record feature names: rename the\n# features below (in the model's input order), and set the label and protected attributes.\n",
                m.name
            );
            let _ = writeln!(y, "name: {name}");
            let _ = writeln!(
                y,
                "description: {}",
                yaml_str(m.description.as_deref().unwrap_or("Imported from MLflow."))
            );
            let owner = m
                .tags
                .get("owner")
                .cloned()
                .or_else(|| {
                    live.first()
                        .and_then(|v| v.run_id.as_ref())
                        .and_then(|r| store.runs.get(r))
                        .and_then(|r| r.tags.get("mlflow.user").cloned())
                })
                .unwrap_or_else(|| actor.to_string());
            let _ = writeln!(y, "owner: {}", yaml_str(&owner));
            y.push_str("task: binary_classification\n");
            if n == 0 {
                y.push_str("features: []\n");
            } else {
                y.push_str(
                    "features:                          # order = the model's input tensor order\n",
                );
                for i in 0..n {
                    let _ = writeln!(y, "  - {{name: feature_{i}, type: numerical}}");
                }
            }
            y.push_str("protected_attributes: []\n");
            let mut mtags = m.tags.clone();
            mtags.insert("mlflow_name".into(), m.name.clone());
            let items: Vec<String> = mtags
                .iter()
                .map(|(k, x)| format!("{}: {}", yaml_str(k), yaml_str(x)))
                .collect();
            let _ = writeln!(y, "tags: {{{}}}", items.join(", "));
            let path = format!("{dir}/model.yaml");
            let y = crate::registry::json_schema::with_modeline(&path, &y);
            files.push((path, y.into_bytes()));
            // Aliases modelgate knows; each with its audit entry.
            let mut al = String::new();
            for (a, v) in &m.aliases {
                match a.parse::<crate::registry::types::Alias>() {
                    Ok(alias) if live.iter().any(|x| x.version == *v) => {
                        let _ = writeln!(al, "{alias}: {v}");
                        let mut d = serde_json::Map::new();
                        d.insert("from".into(), Value::Null);
                        d.insert("to".into(), (*v).into());
                        d.insert("source".into(), "mlflow".into());
                        audit.push((name.to_string(), Some(*v), Some(alias.to_string()), Action::Promote, d, at.clone()));
                    }
                    Ok(_) => summary.push(format!("{} alias `{a}` points at a version not imported; skipped", m.name)),
                    Err(_) => summary.push(format!(
                        "{} alias `{a}` → v{v} is not a modelgate alias (champion, challenger); recorded nowhere",
                        m.name
                    )),
                }
            }
            if !al.is_empty() {
                let path = format!("{dir}/aliases.yaml");
                let al = crate::registry::json_schema::with_modeline(&path, &al);
                files.push((path, al.into_bytes()));
            }
            let template = crate::scaffold::MODEL_CARD.to_string();
            let card = crate::scaffold::fill(&template, &[("model", name.as_str())]);
            let card_path = format!("{}/{name}.md", crate::registry::CARDS_DIR);
            if reg.source.read(&card_path, 1).is_err() {
                files.push((card_path, card.into_bytes()));
            }
        } else if !m.aliases.is_empty() {
            summary.push(format!(
                "{name} already exists: its aliases were left as they are (move them with `modelgate promote`)"
            ));
        }
    }
    if !problems.is_empty() {
        bail!(
            "nothing was imported; {} problem{}:\n  - {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  - ")
        );
    }
    let makers: Vec<Box<dyn FnOnce(u64, String) -> Entry + '_>> = audit
        .into_iter()
        .map(|(model, version, alias, action, details, at)| {
            let actor = actor.to_string();
            Box::new(move |seq, prev| Entry {
                seq,
                at,
                actor,
                action,
                model: Some(model),
                version,
                alias,
                details,
                prev,
            }) as Box<dyn FnOnce(u64, String) -> Entry>
        })
        .collect();
    if !makers.is_empty() {
        files.push((
            crate::audit::AUDIT_PATH.to_string(),
            append_audit(reg, makers).into_bytes(),
        ));
    }
    Ok(Plan {
        files,
        summary,
        models: n_models,
        versions: n_versions,
    })
}
