//! `import mlflow`: models, versions and aliases from an MLflow tracking store.
//!
//! Both of MLflow's local backends are read directly, without MLflow: the `mlruns/` file store
//! (YAML `meta.yaml` files and one file per param, metric and tag) and the SQLite database
//! MLflow uses by default, as MLflow 3 writes them: runs with their dataset `inputs`, logged
//! models (`<experiment>/models/m-<id>/` in the file store, the `logged_models` tables in
//! SQLite), registered models with versions, tags and aliases. A registered model becomes a
//! modelgate model; each of its versions becomes `versions/v<N>.yaml` with the run's latest
//! metrics (the value at the highest step, then the latest timestamp — never simply the last
//! line), its params as hyperparameters, its tags, its run id, its git commit, its training
//! dataset and environment pins, and the artifact's format (the MLmodel flavor) and sha256 (of
//! the ONNX file, or the folder digest of a model folder); MLflow aliases mapped to `champion`
//! and `challenger` become `aliases.yaml`; every version and alias gets its audit entry.
//!
//! Deleted and broken things (a deleted run, an artifact that is gone) are skipped with a
//! warning naming them, or refused with `strict`. What is written is written all or none, and
//! only what is new: a version the registry already has is compared with MLflow and never
//! overwritten; aliases MLflow moved are moved.
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
//! every conversion; splitting the file store and the SQLite reader into modules of their own is
//! the next step (not done with the MLflow 3 work, to keep that change reviewable).

use super::{Files, append_audit};
use crate::audit::{Action, NewEntry};
use crate::registry::Registry;
use crate::registry::schema::ArtifactFormat;
use crate::registry::types::{Alias, ModelName, Sha256, Timestamp};
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
    /// Dataset inputs (MLflow 3 `inputs`), in the store's order.
    pub inputs: Vec<DatasetInput>,
}

/// A dataset a run used (MLflow's `log_input`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatasetInput {
    /// Dataset name.
    pub name: String,
    /// MLflow's digest of it (not a sha256).
    pub digest: String,
    /// Where it came from: the `uri` of MLflow's source JSON, or the source as written.
    pub source: String,
    /// `mlflow.data.context` (`training`, `eval`, …), when set.
    pub context: Option<String>,
}

/// An MLflow 3 logged model (`models:/m-<id>`).
#[derive(Clone, Debug, Default)]
pub struct LoggedModel {
    /// `m-<id>`.
    pub id: String,
    /// Where its files are (`…/<experiment>/models/m-<id>/artifacts`).
    pub artifact_location: String,
    /// The run that made it.
    pub source_run_id: Option<String>,
    /// Deleted in MLflow.
    pub deleted: bool,
    /// Its params.
    pub params: BTreeMap<String, String>,
    /// The latest value of each of its own metrics (MLflow 3 logs evaluation metrics to a
    /// logged model).
    pub metrics: BTreeMap<String, f64>,
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
    /// The logged model it was registered from (MLflow 3), when known.
    pub model_id: Option<String>,
    /// Where MLflow copied its files (`storage_location`), when recorded.
    pub storage_location: Option<String>,
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
    /// Logged models by id (MLflow 3).
    pub logged_models: BTreeMap<String, LoggedModel>,
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
        Unsafe(format!(
            "{} cannot be resolved ({e}): a symbolic link loop or a dangling link in the MLflow store",
            path.display()
        ))
    })?;
    if roots.iter().any(|r| real.starts_with(r)) {
        return Ok(real);
    }
    let allowed: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    Err(Unsafe(format!(
        "{} leads to {}, outside the MLflow store: import reads only inside {} (add a folder with --artifacts-root if the store keeps its artifacts there)",
        path.display(),
        real.display(),
        allowed.join(" and ")
    ))
    .into())
}

/// A path that leads out of the store, or a symbolic link loop: planted, not broken, so never a
/// version skipped with a warning — the whole import is refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Unsafe(String);

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
            // Two names that are not UTF-8 would read as one; the registry refuses them anyway.
            let Ok(name) = e.file_name().into_string() else {
                return Err(Unsafe(format!(
                    "{}: a file name that is not UTF-8; import reads UTF-8 names only",
                    path.display()
                ))
                .into());
            };
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
                    return Err(Unsafe(format!(
                        "{} leads to {}, a folder that holds it: a symbolic link loop in the MLflow store",
                        path.display(),
                        real.display()
                    ))
                    .into());
                }
                if !seen.insert(real.clone()) {
                    return Err(Unsafe(format!(
                        "{} leads to {}, a folder already read: a symbolic link loop in the MLflow store",
                        path.display(),
                        real.display()
                    ))
                    .into());
                }
                walk(&path, &key, roots, seen, out)?;
            } else if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                // A FIFO or a device would hang or flood the reads that follow.
                return Err(Unsafe(format!(
                    "{} is not a regular file (a FIFO, a socket or a device): import reads regular files only",
                    path.display()
                ))
                .into());
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

/// The most a store's YAML file (meta.yaml, MLmodel) may hold: a hostile store cannot make
/// import read a huge file into memory.
const MAX_STORE_YAML: u64 = 4 << 20;
/// The most one tag, param, alias or metric file may hold (a metric's history of a million
/// steps is some 40 MB).
const MAX_STORE_FILE: u64 = 256 << 20;

fn yaml_file(path: &Path, roots: &[PathBuf]) -> Result<Value> {
    inside(path, roots)?;
    let md = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if !md.is_file() || md.len() > MAX_STORE_YAML {
        bail!(
            "{}: expected a YAML file of at most {MAX_STORE_YAML} bytes, found {}",
            path.display(),
            if md.is_file() {
                format!("{} bytes", md.len())
            } else {
                "no regular file".into()
            }
        );
    }
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(
            std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?,
            MAX_STORE_YAML,
        ),
        &mut text,
    )
    .with_context(|| format!("reading {}", path.display()))?;
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
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > MAX_STORE_FILE {
            bail!(
                "{}: {size} bytes, more than the {MAX_STORE_FILE} bytes import reads from one tag, param or metric file",
                path.display()
            );
        }
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
        if best.is_none_or(|b| later(key, b)) {
            best = Some(key);
        }
    }
    Ok(best.map(|b| b.2))
}

/// Whether metric point `a` (step, timestamp, value) is later than `b`: MLflow's latest value is
/// the one at the highest step, then the latest timestamp, then the largest value.
fn later(a: (i64, i64, f64), b: (i64, i64, f64)) -> bool {
    (a.0, a.1).cmp(&(b.0, b.1)).is_gt() || ((a.0, a.1) == (b.0, b.1) && a.2 > b.2)
}

/// The folders in `dir`, sorted (none when it does not exist).
fn sub_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A dataset's source as a place: the `uri` (or `path`, `url`) of MLflow's source JSON, or the
/// text as it is.
fn dataset_source(raw: &str) -> String {
    serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| {
            ["uri", "path", "url", "table_name"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
        })
        .unwrap_or_else(|| raw.to_string())
}

/// A file store experiment's `datasets/<id>/meta.yaml`: id → dataset.
fn file_store_datasets(dir: &Path, roots: &[PathBuf]) -> Result<BTreeMap<String, DatasetInput>> {
    let mut out = BTreeMap::new();
    for d in sub_dirs(dir) {
        let meta = yaml_file(&d.join("meta.yaml"), roots)?;
        let id = d
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.insert(
            id,
            DatasetInput {
                name: s(&meta, "name").unwrap_or_default(),
                digest: s(&meta, "digest").unwrap_or_default(),
                source: dataset_source(&s(&meta, "source").unwrap_or_default()),
                context: None,
            },
        );
    }
    Ok(out)
}

/// A file store run's `inputs/<id>/meta.yaml`: the datasets it used, by the order of their ids.
fn file_store_inputs(
    dir: &Path,
    datasets: &BTreeMap<String, DatasetInput>,
    roots: &[PathBuf],
) -> Result<Vec<DatasetInput>> {
    let mut out = Vec::new();
    for d in sub_dirs(dir) {
        let meta = yaml_file(&d.join("meta.yaml"), roots)?;
        if s(&meta, "source_type").as_deref() != Some("DATASET") {
            continue;
        }
        let Some(ds) = s(&meta, "source_id").and_then(|id| datasets.get(&id)) else {
            continue;
        };
        let context = meta
            .get("tags")
            .and_then(|t| t.get("mlflow.data.context"))
            .and_then(Value::as_str)
            .map(str::to_string);
        out.push(DatasetInput {
            context,
            ..ds.clone()
        });
    }
    Ok(out)
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
        let datasets = file_store_datasets(&exp.join("datasets"), roots)?;
        for md in sub_dirs(&exp.join("models")) {
            let Ok(meta) = yaml_file(&md.join("meta.yaml"), roots) else {
                continue;
            };
            let Some(id) = s(&meta, "model_id") else {
                continue;
            };
            store.logged_models.insert(
                id.clone(),
                LoggedModel {
                    id,
                    artifact_location: s(&meta, "artifact_location").unwrap_or_default(),
                    source_run_id: s(&meta, "source_run_id").filter(|r| !r.is_empty()),
                    deleted: exp_deleted
                        || s(&meta, "lifecycle_stage").as_deref() == Some("deleted"),
                    params: key_files(&md.join("params"), roots)?,
                    metrics: {
                        let mut metrics = BTreeMap::new();
                        let mdir = md.join("metrics");
                        for (k, text) in key_files(&mdir, roots)? {
                            if let Some(v) = latest_metric(&text, &mdir.join(&k))? {
                                metrics.insert(k, v);
                            }
                        }
                        metrics
                    },
                },
            );
        }
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
                    inputs: file_store_inputs(&r.join("inputs"), &datasets, roots)?,
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
                        .or(v.as_u64().and_then(|x| u32::try_from(x).ok()))
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
                model_id: s(&vm, "model_id").filter(|m| !m.is_empty()),
                storage_location: s(&vm, "storage_location").filter(|m| !m.is_empty()),
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
    let has_column = |t: &str, c: &str| -> bool {
        db.prepare(&format!("SELECT \"{c}\" FROM \"{t}\" LIMIT 0"))
            .is_ok()
    };
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
    if has("inputs") && has("datasets") {
        let mut q = db
            .prepare(&format!(
                "SELECT i.destination_id, d.name, d.digest, d.dataset_source, {} \
                 FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id \
                 WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' \
                 ORDER BY i.destination_id, d.name, d.digest",
                if has("input_tags") {
                    "(SELECT t.value FROM input_tags t WHERE t.input_uuid = i.input_uuid \
                     AND t.name = 'mlflow.data.context')"
                } else {
                    "NULL"
                }
            ))
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (run, name, digest, source, context) = r.map_err(err)?;
            if let Some(run) = store.runs.get_mut(&run) {
                run.inputs.push(DatasetInput {
                    name: name.unwrap_or_default(),
                    digest: digest.unwrap_or_default(),
                    source: dataset_source(&source.unwrap_or_default()),
                    context,
                });
            }
        }
    }
    if has("logged_models") {
        let mut q = db
            .prepare(
                "SELECT m.model_id, m.artifact_location, m.source_run_id, m.lifecycle_stage, \
                 e.lifecycle_stage FROM logged_models m \
                 LEFT JOIN experiments e ON e.experiment_id = m.experiment_id",
            )
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (id, loc, run, life, exp_life) = r.map_err(err)?;
            store.logged_models.insert(
                id.clone(),
                LoggedModel {
                    id,
                    artifact_location: loc.unwrap_or_default(),
                    source_run_id: run.filter(|r| !r.is_empty()),
                    deleted: life.as_deref() == Some("deleted")
                        || exp_life.as_deref() == Some("deleted"),
                    params: BTreeMap::new(),
                    metrics: BTreeMap::new(),
                },
            );
        }
    }
    if has("logged_model_metrics") {
        let mut q = db
            .prepare(
                "SELECT model_id, metric_name, metric_step, metric_timestamp_ms, metric_value \
                 FROM logged_model_metrics",
            )
            .map_err(err)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<f64>>(4)?,
                ))
            })
            .map_err(err)?;
        let mut best: BTreeMap<(String, String), (i64, i64, f64)> = BTreeMap::new();
        for r in rows {
            let (id, k, step, ts, v) = r.map_err(err)?;
            let point = (step, ts, v.unwrap_or(f64::NAN));
            let slot = best.entry((id, k)).or_insert(point);
            if later(point, *slot) {
                *slot = point;
            }
        }
        for ((id, k), (_, _, v)) in best {
            if let Some(m) = store.logged_models.get_mut(&id) {
                m.metrics.insert(k, v);
            }
        }
    }
    if has("logged_model_params") {
        let mut q = db
            .prepare("SELECT model_id, param_key, param_value FROM logged_model_params")
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
            let (id, k, v) = r.map_err(err)?;
            if let Some(m) = store.logged_models.get_mut(&id) {
                m.params.insert(k, v.unwrap_or_default());
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
            .prepare(&format!(
                "SELECT name, version, creation_time, description, source, run_id, user_id, current_stage, {} FROM model_versions",
                if has_column("model_versions", "storage_location") {
                    "storage_location"
                } else {
                    "NULL"
                }
            ))
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
                    r.get::<_, Option<String>>(8)?,
                ))
            })
            .map_err(err)?;
        for r in rows {
            let (n, v, created, desc, source, run, user, stage, storage) = r.map_err(err)?;
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
                    model_id: None,
                    storage_location: storage.filter(|s| !s.is_empty()),
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

/// Finds a local file or folder for an artifact URI, following a moved store: `Err` says why
/// there is none (a deleted logged model, a remote URI, files that are gone).
fn local_path(uri: &str, store: &Store, run: Option<&Run>) -> std::result::Result<PathBuf, String> {
    if let Some(rest) = uri.strip_prefix("models:/") {
        let id = rest.trim_end_matches('/');
        if !id.starts_with("m-") || id.contains('/') {
            return Err(format!(
                "its source `{uri}` names a registered model, not a logged model (`models:/m-<id>`)"
            ));
        }
        let Some(lm) = store.logged_models.get(id) else {
            return Err(format!(
                "its logged model {id} (`{uri}`) is not in the store (deleted permanently, or the store is incomplete)"
            ));
        };
        if lm.deleted {
            return Err(format!("its logged model {id} is deleted in MLflow"));
        }
        return local_path(&lm.artifact_location, store, None);
    }
    if let Some(rest) = uri.strip_prefix("runs:/") {
        let (_, sub) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(run) = run else {
            return Err(format!(
                "its source `{uri}` names a run that is not in the store"
            ));
        };
        return local_path(
            &format!("{}/{sub}", run.artifact_uri.trim_end_matches('/')),
            store,
            None,
        );
    }
    if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
        // `mlflow-artifacts:/<path>` or `mlflow-artifacts://<host>/<path>`: a path under the
        // folder the tracking server serves (its --artifacts-destination).
        let rel = match rest.strip_prefix("//") {
            Some(r) => r.split_once('/').map(|x| x.1).unwrap_or(""),
            None => rest.trim_start_matches('/'),
        };
        if rel.split('/').any(|c| c == "..") {
            return Err(format!(
                "its artifact `{uri}` climbs out of the artifact root"
            ));
        }
        let extra = &store.roots[1.min(store.roots.len())..];
        if extra.is_empty() {
            return Err(format!(
                "its artifact `{uri}` is served by an MLflow tracking server: give the folder it serves (its --artifacts-destination, e.g. ./mlartifacts) with --artifacts-root"
            ));
        }
        return extra
            .iter()
            .map(|r| r.join(rel))
            .find(|c| std::fs::symlink_metadata(c).is_ok())
            .ok_or_else(|| {
                format!("its artifact `{uri}` is gone (not under any --artifacts-root folder)")
            });
    }
    let path = if let Some(p) = uri.strip_prefix("file://") {
        PathBuf::from(p)
    } else if let Some(p) = uri.strip_prefix("file:") {
        PathBuf::from(p)
    } else if uri.contains("://") {
        return Err(format!(
            "its artifact `{uri}` is remote: download it into a folder and give it with --artifacts-root, or import the store where its files are local"
        ));
    } else {
        PathBuf::from(uri)
    };
    let in_store = |p: &Path| {
        p.canonicalize()
            .is_ok_and(|r| store.roots.iter().any(|root| r.starts_with(root)))
    };
    if path.exists() && in_store(&path) {
        return Ok(path);
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
            if std::fs::symlink_metadata(&cand).is_ok() {
                return Ok(cand);
            }
        }
    }
    // Outside the store: returned, to be refused by name when it is read.
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(path);
    }
    Err(format!(
        "its artifact `{uri}` is gone (no such file or folder, in the store or where MLflow wrote it)"
    ))
}

/// A model artifact found in the store.
struct Found {
    /// Its format (from the MLmodel file; ONNX for a bare `.onnx` file).
    format: ArtifactFormat,
    /// The ONNX file, or the model folder, that the version records.
    path: PathBuf,
    /// Its files: (path below `path`, or the file's name for a file; file).
    files: Vec<(String, PathBuf)>,
    /// A folder (its digest is [`Sha256::of_tree`]).
    is_dir: bool,
    /// The MLmodel's flavors, sorted.
    flavors: Vec<String>,
    /// Python and package pins from `python_env.yaml` and `requirements.txt`.
    env: version_yaml::Environment,
}

/// The format an MLmodel's flavors make: ONNX when it has the `onnx` flavor, else the first
/// (sorted) flavor modelgate names, else `pyfunc` (every other flavor MLflow writes loads as
/// python_function).
fn format_of(flavors: &[String]) -> ArtifactFormat {
    if flavors.iter().any(|f| f == "onnx") {
        return ArtifactFormat::Onnx;
    }
    flavors
        .iter()
        .filter(|f| f.as_str() != "python_function")
        .find_map(|f| ArtifactFormat::from_flavor(f))
        .unwrap_or(ArtifactFormat::Pyfunc)
}

/// Pins from a model folder's `requirements.txt` (`name==version` lines) and
/// `python_env.yaml` (`python:`).
fn environment(files: &[(String, PathBuf)]) -> version_yaml::Environment {
    let mut env = version_yaml::Environment::default();
    for (k, p) in files {
        if k == "requirements.txt" {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if let Some((n, v)) = line.split_once("==") {
                    let n = n.trim().split('[').next().unwrap_or("").trim();
                    let v = v.split(';').next().unwrap_or("").trim();
                    if !n.is_empty() && !v.is_empty() {
                        env.packages.insert(n.to_ascii_lowercase(), v.to_string());
                    }
                }
            }
        } else if k == "python_env.yaml" {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            env.python = text.lines().find_map(|l| {
                l.strip_prefix("python:")
                    .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
                    .filter(|v| !v.is_empty())
            });
        }
    }
    env
}

/// The model at `path` (a file or an MLflow model folder), read only inside `roots`.
fn artifact_in(path: &Path, roots: &[PathBuf]) -> Result<Found> {
    inside(path, roots)?;
    if path.is_file() {
        if path.extension().is_none_or(|x| x != "onnx") {
            bail!(
                "{} is a single file that is neither ONNX nor an MLflow model folder (with an MLmodel file)",
                path.display()
            );
        }
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        return Ok(Found {
            format: ArtifactFormat::Onnx,
            path: path.to_path_buf(),
            files: vec![(name, path.to_path_buf())],
            is_dir: false,
            flavors: Vec::new(),
            env: Default::default(),
        });
    }
    let files = files_under(path, roots)?;
    let env = environment(&files);
    let flavors: Vec<String> = match files.iter().find(|(k, _)| k == "MLmodel") {
        Some((_, mlmodel)) => {
            let meta = yaml_file(mlmodel, roots)?;
            let mut f: Vec<String> = meta
                .get("flavors")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            f.sort();
            if f.is_empty() {
                bail!("{}: no flavors (not an MLflow model)", mlmodel.display());
            }
            f
        }
        None => Vec::new(),
    };
    let format = format_of(&flavors);
    if format != ArtifactFormat::Onnx {
        return Ok(Found {
            format,
            path: path.to_path_buf(),
            files,
            is_dir: true,
            flavors,
            env,
        });
    }
    // ONNX: the one .onnx file of the folder is the artifact (what `batch` loads).
    let mut found: Vec<PathBuf> = files
        .iter()
        .map(|(_, p)| p.clone())
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect();
    match found.len() {
        1 => {
            let onnx = found.remove(0);
            let name = onnx
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            Ok(Found {
                format,
                files: vec![(name, onnx.clone())],
                path: onnx,
                is_dir: false,
                flavors,
                env,
            })
        }
        0 if flavors.is_empty() => bail!(
            "no MLmodel file and no .onnx file in {}: not an MLflow model folder",
            path.display()
        ),
        0 => bail!("{} has the onnx flavor but no .onnx file", path.display()),
        _ => bail!(
            "{} holds {} .onnx files; expected one",
            path.display(),
            found.len()
        ),
    }
}

/// The digest of a found artifact: the file's sha256, or the folder's ([`Sha256::of_tree`]).
fn digest_of(found: &Found) -> Result<Sha256> {
    let mut each = Vec::with_capacity(found.files.len());
    for (k, p) in &found.files {
        let f = std::fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
        let sha = crate::registry::source::hash_reader(f)
            .with_context(|| format!("reading {}", p.display()))?;
        each.push((k.clone(), sha));
    }
    if found.is_dir {
        Sha256::of_tree(&each)
            .map_err(|odd| anyhow::anyhow!("the folder {}: {odd}", found.path.display()))
    } else {
        each.pop()
            .map(|(_, s)| s)
            .context("internal error: an artifact without its file")
    }
}

/// MLflow alias → modelgate alias: `champion` and `challenger` are themselves, and
/// `--alias-map prod=champion,staging=challenger` adds (or replaces) the others.
pub fn alias_map(pairs: &[String]) -> Result<BTreeMap<String, Alias>> {
    let mut map: BTreeMap<String, Alias> = BTreeMap::new();
    for a in [Alias::Champion, Alias::Challenger] {
        map.insert(a.to_string(), a);
    }
    for p in pairs.iter().flat_map(|p| p.split(',')) {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let Some((from, to)) = p.split_once('=') else {
            bail!("--alias-map `{p}`: expected `<mlflow alias>=<champion|challenger>`");
        };
        let to: Alias = to.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "--alias-map `{p}`: `{}` is not a modelgate alias (champion, challenger)",
                to.trim()
            )
        })?;
        map.insert(from.trim().to_string(), to);
    }
    Ok(map)
}

/// What to import and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only these MLflow models (all when empty).
    pub only: Vec<String>,
    /// Who imports.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// Copy the artifacts into this repository folder (see [`plan`]).
    pub copy_to: Option<String>,
    /// MLflow alias → modelgate alias ([`alias_map`]).
    pub aliases: BTreeMap<String, Alias>,
    /// Skipped things (a deleted run, a version whose artifact is gone) are errors.
    pub strict: bool,
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
    /// What was skipped and why (a deleted run, a version whose artifact is gone), and versions
    /// that changed in MLflow since they were imported (never overwritten).
    pub warnings: Vec<String>,
    /// Models imported (new, or with new versions or alias moves).
    pub models: usize,
    /// Versions imported.
    pub versions: usize,
    /// Versions already imported and unchanged.
    pub unchanged: usize,
    /// Alias moves (new aliases included).
    pub alias_moves: usize,
}

/// One version, as MLflow knows it, ready to be written.
struct Prepared {
    run_id: String,
    format: ArtifactFormat,
    sha: String,
    found: Found,
    metrics: BTreeMap<String, f64>,
}

/// The logged model a version was registered from (`models:/m-<id>`, or its `model_id`).
fn logged_model_of<'s>(v: &MlVersion, store: &'s Store) -> Option<&'s LoggedModel> {
    v.source
        .strip_prefix("models:/")
        .map(|id| id.trim_end_matches('/'))
        .or(v.model_id.as_deref())
        .and_then(|id| store.logged_models.get(id))
}

/// A version's run and artifact, or why it cannot be imported.
fn prepare<'s>(v: &MlVersion, store: &'s Store) -> Result<(Prepared, &'s Run)> {
    let run_id = v
        .run_id
        .clone()
        .or_else(|| logged_model_of(v, store).and_then(|lm| lm.source_run_id.clone()))
        .ok_or_else(|| anyhow::anyhow!("the version names no run"))?;
    let run = store.runs.get(&run_id).ok_or_else(|| {
        anyhow::anyhow!(
            "its run {run_id} is not in the store (deleted permanently, or the store is incomplete)"
        )
    })?;
    if run.lifecycle == "deleted" {
        bail!(
            "its run {run_id} is deleted in MLflow; restore it (`mlflow runs restore --run-id {run_id}`) or delete the version"
        );
    }
    let lm = logged_model_of(v, store);
    let lm_keys = lm
        .into_iter()
        .flat_map(|m| m.metrics.keys().chain(m.params.keys()));
    for k in run.metrics.keys().chain(run.params.keys()).chain(lm_keys) {
        if !usable_key(k) {
            bail!(
                "run {run_id} has a metric or param named `{k}`; modelgate names are letters, digits, `_`, `.`, `-` (rename it in MLflow, e.g. `{}`)",
                k.replace(' ', "_")
            );
        }
    }
    let path = local_path(&v.source, store, Some(run))
        .or_else(|e| {
            // The copy MLflow made when registering, when the source itself is gone.
            v.storage_location
                .as_deref()
                .filter(|l| *l != v.source)
                .map_or(Err(e.clone()), |l| local_path(l, store, Some(run)))
                .map_err(|_| e)
        })
        .map_err(|e| anyhow::anyhow!(e))?;
    let found = artifact_in(&path, &store.roots)?;
    let sha = digest_of(&found)?.hex();
    // The run's metrics, and the logged model's own for names the run does not have.
    let mut all = run.metrics.clone();
    if let Some(lm) = lm {
        for (k, x) in &lm.metrics {
            all.entry(k.clone()).or_insert(*x);
        }
    }
    let metrics: BTreeMap<String, f64> = all
        .iter()
        .filter(|(_, x)| x.is_finite())
        .map(|(k, x)| (k.clone(), crate::registry::number::stored(*x)))
        .collect();
    Ok((
        Prepared {
            run_id,
            format: found.format,
            sha,
            found,
            metrics,
        },
        run,
    ))
}

/// How an imported version differs from what MLflow holds now (empty: it does not).
fn changes(e: &crate::registry::VersionEntry, p: &Prepared) -> Vec<String> {
    let mut out = Vec::new();
    let spec = &e.spec;
    if spec.artifact.sha256.value.hex() != p.sha {
        out.push(format!(
            "artifact sha256 {}… → {}…",
            &spec.artifact.sha256.value.hex()[..12],
            &p.sha[..12]
        ));
    }
    if spec.artifact.format != p.format {
        out.push(format!("format {} → {}", spec.artifact.format, p.format));
    }
    let run = spec.training.as_ref().and_then(|t| t.run_id.clone());
    if run.as_deref() != Some(p.run_id.as_str()) {
        out.push(format!(
            "run {} → {}",
            run.as_deref().unwrap_or("none"),
            p.run_id
        ));
    }
    let had: BTreeMap<&String, f64> = spec.metrics.iter().map(|(k, v)| (k, v.value)).collect();
    let now: BTreeMap<&String, f64> = p.metrics.iter().map(|(k, v)| (k, *v)).collect();
    if had != now {
        out.push("metrics".into());
    }
    out
}

/// Plans importing `store` into `reg`.
///
/// New versions are written; versions the registry already has are compared with MLflow and
/// left as they are (a version that changed in MLflow is reported, never overwritten); aliases
/// that MLflow moved are moved, each with its audit entry. Deleted and broken things (a deleted
/// run, a version whose artifact is gone) are skipped with a warning naming them, or refused
/// with `strict`.
///
/// With `copy_to` (a repository-relative folder), each artifact is copied to
/// `<copy_to>/<model>/v<N>/` — the ONNX file, or the whole MLflow model folder — and recorded by
/// that path; otherwise MLflow's URI is recorded (`file://` for a local path).
pub fn plan(reg: &Registry, store: &Store, opts: &Options) -> Result<Plan> {
    let actor = opts.actor.as_str();
    let at = &opts.at;
    if let Some(c) = &opts.copy_to {
        if c.starts_with('/') || c.split('/').any(|p| p == "..") || c.is_empty() {
            bail!(
                "--copy-artifacts `{c}` must be a folder inside the repository, written relative to its root"
            );
        }
    }
    for o in &opts.only {
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
    let mut warnings: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut seen: BTreeMap<ModelName, String> = BTreeMap::new();
    let mut audit: Vec<NewEntry> = Vec::new();
    let (mut n_versions, mut n_models, mut n_unchanged, mut n_moves) = (0, 0, 0, 0);
    for m in store
        .models
        .iter()
        .filter(|m| opts.only.is_empty() || opts.only.contains(&m.name))
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
        let mut n_features: Option<usize> = None;
        let mut imported: Vec<u32> = Vec::new();
        let mut first_run: Option<&Run> = None;
        for v in &live {
            let what = format!("{} v{}", m.name, v.version);
            let had = existing.and_then(|e| e.versions.get(&v.version));
            if had.is_none() && existing.is_some_and(|e| e.broken_versions.contains(&v.version)) {
                problems.push(format!(
                    "{what}: {dir}/versions/v{}.yaml exists but does not load; fix it (`modelgate validate`) before importing again",
                    v.version
                ));
                continue;
            }
            let (p, run) = match prepare(v, store) {
                Ok(x) => x,
                Err(e) if e.downcast_ref::<Unsafe>().is_some() => {
                    problems.push(format!("{what}: {e}"));
                    continue;
                }
                Err(e) if had.is_some() => {
                    warnings.push(format!(
                        "{what}: imported before, but no longer readable in MLflow ({e}); {dir}/versions/v{}.yaml is left as it is",
                        v.version
                    ));
                    continue;
                }
                Err(e) => {
                    skipped.push(format!("{what}: {e}; skipped"));
                    continue;
                }
            };
            if let Some(e) = had {
                if e.spec.tags.get("imported_from").map(String::as_str) != Some("mlflow") {
                    warnings.push(format!(
                        "{what}: {} exists and was not imported from MLflow; it is left as it is",
                        e.file
                    ));
                    continue;
                }
                let diff = changes(e, &p);
                if diff.is_empty() {
                    n_unchanged += 1;
                } else {
                    warnings.push(format!(
                        "{what} changed in MLflow since it was imported ({}); {} was not overwritten (register the change as a new version)",
                        diff.join(", "),
                        e.file
                    ));
                }
                continue;
            }
            first_run.get_or_insert(run);
            if p.format == ArtifactFormat::Onnx && n_features.is_none() && existing.is_none() {
                let bytes = std::fs::read(&p.found.path)
                    .with_context(|| format!("reading {}", p.found.path.display()))?;
                // A missing ONNX Runtime is not the model's fault: it stops the import.
                crate::batch::runtime::environment()?;
                match crate::batch::runtime::Scorer::new(&bytes, 1) {
                    Ok(sc) => n_features = Some(sc.n_features.unwrap_or(0)),
                    Err(e) => {
                        skipped.push(format!(
                            "{what}: {} is not a usable ONNX model: {e}; skipped",
                            p.found.path.display()
                        ));
                        continue;
                    }
                }
            }
            let uri = match &opts.copy_to {
                Some(c) => {
                    let base = format!("{}/{name}/v{}", c.trim_end_matches('/'), v.version);
                    let mut clash = None;
                    let mut copies = Vec::new();
                    for (k, path) in &p.found.files {
                        let rel = format!("{base}/{k}");
                        if reg.source.read(&rel, 1).is_ok() {
                            clash = Some(rel.clone());
                        }
                        let bytes = std::fs::read(path)
                            .with_context(|| format!("reading {}", path.display()))?;
                        copies.push((rel, bytes));
                    }
                    if let Some(rel) = clash {
                        problems.push(format!(
                            "{what}: {rel} already exists; import never overwrites"
                        ));
                        continue;
                    }
                    files.extend(copies);
                    if p.found.is_dir {
                        base
                    } else {
                        // A file artifact has exactly its one file (artifact_in).
                        format!("{base}/{}", p.found.files[0].0)
                    }
                }
                None => {
                    let abs = p
                        .found
                        .path
                        .canonicalize()
                        .unwrap_or_else(|_| p.found.path.clone());
                    format!("file://{}", abs.display())
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
            let mut params = run.params.clone();
            if let Some(lm) = logged_model_of(v, store) {
                for (k, x) in &lm.params {
                    params.entry(k.clone()).or_insert_with(|| x.clone());
                }
            }
            let seed = ["random_seed", "seed", "random_state"]
                .iter()
                .find_map(|k| params.get(*k).and_then(|v| v.parse::<u64>().ok()));
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
            let logged_model = v.model_id.clone().or_else(|| {
                v.source
                    .strip_prefix("models:/")
                    .map(|id| id.trim_end_matches('/').to_string())
            });
            if let Some(id) = &logged_model {
                tags.insert("mlflow_model_id".into(), id.clone());
            }
            if !p.found.flavors.is_empty() {
                tags.insert("mlflow_flavors".into(), p.found.flavors.join(","));
            }
            // The training dataset: the first `training` input (else the first input), by name.
            let mut inputs = run.inputs.clone();
            inputs.sort_by(|a, b| {
                (
                    a.context.as_deref() != Some("training"),
                    &a.name,
                    &a.digest,
                    &a.source,
                )
                    .cmp(&(
                        b.context.as_deref() != Some("training"),
                        &b.name,
                        &b.digest,
                        &b.source,
                    ))
            });
            let dataset = inputs.first().filter(|d| !d.source.is_empty()).map(|d| {
                tags.insert("mlflow_dataset".into(), d.name.clone());
                tags.insert("mlflow_dataset_digest".into(), d.digest.clone());
                version_yaml::Dataset {
                    file: FileRef {
                        uri: d.source.clone(),
                        sha256: String::new(),
                    },
                    snapshot: (!d.name.is_empty()).then(|| d.name.clone()),
                    rows: None,
                }
            });
            tags.insert("imported_from".into(), "mlflow".into());
            let n_metrics = p.metrics.len();
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
                    sha256: p.sha.clone(),
                },
                artifact_format: p.format,
                explainer: None,
                training: Training {
                    run_id: Some(p.run_id.clone()),
                    experiment: run.experiment.clone(),
                    git_commit,
                    random_seed: seed,
                    dataset,
                    environment: p.found.env.clone(),
                    ..Default::default()
                },
                hyperparameters: params
                    .iter()
                    .map(|(k, x)| (k.clone(), super::register::param_value(x)))
                    .collect(),
                metrics: p.metrics.clone(),
                bias: BTreeMap::new(),
                tags,
            })
            .with_context(|| what.clone())?;
            let mut d = serde_json::Map::new();
            d.insert("source".into(), "mlflow".into());
            d.insert("mlflow_model".into(), m.name.clone().into());
            d.insert("run_id".into(), p.run_id.clone().into());
            if let Some(id) = &logged_model {
                d.insert("mlflow_model_id".into(), id.clone().into());
            }
            d.insert("artifact_sha256".into(), p.sha.clone().into());
            d.insert(
                "version_sha256".into(),
                Sha256::of(y.as_bytes()).hex().into(),
            );
            audit.push(
                NewEntry::new(Action::Register, actor, at)
                    .version(name.as_str(), v.version)
                    .details(Value::Object(d)),
            );
            files.push((
                format!("{dir}/versions/v{}.yaml", v.version),
                y.into_bytes(),
            ));
            summary.push(format!(
                "{what} → {name} v{}: {}, run {}, {n_metrics} metrics, {} params, sha256 {}…",
                v.version,
                p.format,
                p.run_id,
                params.len(),
                &p.sha[..12]
            ));
            n_versions += 1;
            imported.push(v.version);
        }
        // Aliases: MLflow's, mapped; only to versions the registry has or gets now.
        let mut wanted: BTreeMap<Alias, (u32, String)> = BTreeMap::new();
        for (a, v) in &m.aliases {
            let Some(alias) = opts.aliases.get(a) else {
                summary.push(format!(
                    "{} alias `{a}` → v{v} is not mapped to a modelgate alias (champion, challenger; map it with --alias-map {a}=champion); recorded nowhere",
                    m.name
                ));
                continue;
            };
            if !imported.contains(v) && !existing.is_some_and(|e| e.versions.contains_key(v)) {
                summary.push(format!(
                    "{} alias `{a}` points at v{v}, which is not imported; skipped",
                    m.name
                ));
                continue;
            }
            if let Some((other_v, other)) = wanted.get(alias) {
                problems.push(format!(
                    "{}: MLflow aliases `{other}` (v{other_v}) and `{a}` (v{v}) both map to `{alias}`; change --alias-map",
                    m.name
                ));
                continue;
            }
            wanted.insert(*alias, (*v, a.clone()));
        }
        let current: BTreeMap<Alias, u32> = existing
            .map(|e| e.aliases.iter().map(|(a, v)| (*a, v.value)).collect())
            .unwrap_or_default();
        let mut next = current.clone();
        let mut moved = 0;
        for (alias, (v, from_name)) in &wanted {
            if current.get(alias) == Some(v) {
                continue;
            }
            let mut d = serde_json::Map::new();
            d.insert(
                "from".into(),
                current.get(alias).map_or(Value::Null, |x| (*x).into()),
            );
            d.insert("to".into(), (*v).into());
            d.insert("source".into(), "mlflow".into());
            d.insert("mlflow_alias".into(), from_name.clone().into());
            audit.push(
                NewEntry::new(Action::Promote, actor, at)
                    .version(name.as_str(), *v)
                    .alias(*alias)
                    .details(Value::Object(d)),
            );
            if existing.is_some() {
                summary.push(format!(
                    "{name} {alias}: v{} → v{v} (moved in MLflow)",
                    current
                        .get(alias)
                        .map_or("none".to_string(), |x| x.to_string())
                ));
            }
            next.insert(*alias, *v);
            moved += 1;
        }
        n_moves += moved;
        if imported.is_empty() && moved == 0 {
            continue;
        }
        n_models += 1;
        if let Some(e) = existing {
            if moved > 0 {
                files.push(super::promote::aliases_file(reg, e, &next)?);
            }
            continue;
        }
        let n = n_features.unwrap_or(0);
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
            .or_else(|| first_run.and_then(|r| r.tags.get("mlflow.user").cloned()))
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
        if !next.is_empty() {
            let path = format!("{dir}/aliases.yaml");
            let al = crate::registry::json_schema::with_modeline(
                &path,
                &super::promote::aliases_text(&next),
            );
            files.push((path, al.into_bytes()));
        }
        let template = crate::scaffold::MODEL_CARD.to_string();
        let card = crate::scaffold::fill(&template, &[("model", name.as_str())]);
        let card_path = format!("{}/{name}.md", crate::registry::CARDS_DIR);
        if reg.source.read(&card_path, 1).is_err() {
            files.push((card_path, card.into_bytes()));
        }
    }
    if opts.strict {
        problems.append(&mut skipped);
    }
    if !problems.is_empty() {
        bail!(
            "nothing was imported; {} problem{}{}:\n  - {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            if opts.strict { " (--strict)" } else { "" },
            problems.join("\n  - ")
        );
    }
    skipped.append(&mut warnings);
    if !audit.is_empty() {
        files.push((
            crate::audit::AUDIT_PATH.to_string(),
            append_audit(reg, audit).into_bytes(),
        ));
    }
    Ok(Plan {
        files,
        summary,
        warnings: skipped,
        models: n_models,
        versions: n_versions,
        unchanged: n_unchanged,
        alias_moves: n_moves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_of_an_mlmodel_is_its_flavor() {
        let f = |x: &[&str]| format_of(&x.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(f(&["python_function", "sklearn"]), ArtifactFormat::Sklearn);
        assert_eq!(f(&["python_function", "xgboost"]), ArtifactFormat::Xgboost);
        assert_eq!(f(&["onnx", "python_function"]), ArtifactFormat::Onnx);
        assert_eq!(
            f(&["lightgbm", "python_function"]),
            ArtifactFormat::Lightgbm
        );
        // A flavor modelgate does not name is a pyfunc model.
        assert_eq!(f(&["python_function", "prophet"]), ArtifactFormat::Pyfunc);
        assert_eq!(f(&["python_function"]), ArtifactFormat::Pyfunc);
    }

    #[test]
    fn alias_maps() {
        let m = alias_map(&["prod=champion, staging=challenger".into()]).unwrap();
        assert_eq!(m["prod"], Alias::Champion);
        assert_eq!(m["staging"], Alias::Challenger);
        assert_eq!(m["champion"], Alias::Champion);
        let m = alias_map(&["champion=challenger".into()]).unwrap();
        assert_eq!(m["champion"], Alias::Challenger);
        assert!(alias_map(&["prod".into()]).is_err());
        assert!(alias_map(&["prod=production".into()]).is_err());
    }

    #[test]
    fn environment_pins_from_requirements_and_python_env() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("requirements.txt");
        let p = dir.path().join("python_env.yaml");
        std::fs::write(
            &r,
            "mlflow==3.17.2\n# a comment\nscikit-learn==1.7.2 ; python_version >= '3.9'\nnumpy>=2\nPandas[pyarrow]==2.3.3\n-r other.txt\n",
        )
        .unwrap();
        std::fs::write(&p, "python: 3.11.7\nbuild_dependencies:\n- pip\n").unwrap();
        let env = environment(&[
            ("requirements.txt".into(), r),
            ("python_env.yaml".into(), p),
        ]);
        assert_eq!(env.python.as_deref(), Some("3.11.7"));
        let pins: Vec<(&str, &str)> = env
            .packages
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pins,
            [
                ("mlflow", "3.17.2"),
                ("pandas", "2.3.3"),
                ("scikit-learn", "1.7.2")
            ]
        );
    }
}
