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
//! Deleted and broken things (a deleted run, an artifact that is gone, a `meta.yaml` that is
//! not YAML, a metric line that is not a number, a NULL where MLflow writes a value, an alias
//! or input that points at nothing) are skipped with a warning naming them — the file and line,
//! or the table and row, and what was expected — or refused with `strict`; nothing MLflow
//! recorded is passed over without a word. What is written is written all or none, and
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
//! The two backends are read into one model, [`Store`] (this file, with [`open`]), and every
//! step after reading works on it alone:
//!
//! - `file_store`: the `mlruns/` folder;
//! - `sqlite`: the SQLite database;
//! - `confine`: reading only inside the store (the folders an import may read, symbolic links
//!   that lead out of them or loop);
//! - `artifact`: a version's artifact: its source URI resolved to a local path, its format,
//!   flavors and environment pins, its digest;
//! - `version`: one MLflow version as a modelgate version: its run and artifact found and
//!   checked, compared with an earlier import, written as `versions/v<N>.yaml`;
//! - `plan`: what to write: new versions, alias moves, versions that changed in MLflow
//!   (reported, never overwritten), what is skipped with a warning.

mod artifact;
mod confine;
mod file_store;
mod plan;
mod sqlite;
mod version;

pub use plan::{Options, Plan, alias_map, plan};

use anyhow::{Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A run, as the importer needs it.
#[derive(Clone, Debug, Default)]
struct Run {
    /// Run id.
    id: String,
    /// Run name.
    name: Option<String>,
    /// Experiment name.
    experiment: Option<String>,
    /// `active` or `deleted`.
    lifecycle: String,
    /// Where its artifacts are.
    artifact_uri: String,
    /// Who ran it.
    user: Option<String>,
    /// Params.
    params: BTreeMap<String, String>,
    /// Latest value per metric.
    metrics: BTreeMap<String, f64>,
    /// Tags.
    tags: BTreeMap<String, String>,
    /// Dataset inputs (MLflow 3 `inputs`), in the store's order.
    inputs: Vec<DatasetInput>,
}

/// A dataset a run used (MLflow's `log_input`).
#[derive(Clone, Debug, Default, PartialEq)]
struct DatasetInput {
    /// Dataset name.
    name: String,
    /// MLflow's digest of it (not a sha256).
    digest: String,
    /// Where it came from: the `uri` of MLflow's source JSON, or the source as written.
    source: String,
    /// `mlflow.data.context` (`training`, `eval`, …), when set.
    context: Option<String>,
}

/// An MLflow 3 logged model (`models:/m-<id>`).
#[derive(Clone, Debug, Default)]
struct LoggedModel {
    /// `m-<id>`.
    id: String,
    /// Where its files are (`…/<experiment>/models/m-<id>/artifacts`).
    artifact_location: String,
    /// The run that made it.
    source_run_id: Option<String>,
    /// Deleted in MLflow.
    deleted: bool,
    /// Its params.
    params: BTreeMap<String, String>,
    /// The latest value of each of its own metrics (MLflow 3 logs evaluation metrics to a
    /// logged model).
    metrics: BTreeMap<String, f64>,
}

/// A registered model version.
#[derive(Clone, Debug, Default)]
struct MlVersion {
    /// Version number.
    version: u32,
    /// Created (ms since the epoch).
    created_ms: i64,
    /// Description.
    description: Option<String>,
    /// `source` URI.
    source: String,
    /// Run id.
    run_id: Option<String>,
    /// Version tags.
    tags: BTreeMap<String, String>,
    /// Who registered it.
    user: Option<String>,
    /// Deleted in MLflow.
    deleted: bool,
    /// The logged model it was registered from (MLflow 3), when known.
    model_id: Option<String>,
    /// Where MLflow copied its files (`storage_location`), when recorded.
    storage_location: Option<String>,
    /// Why it cannot be imported, when the store does not record it as MLflow writes it (its
    /// `meta.yaml` does not read, a field it needs is missing or NULL): the file (or table and
    /// row) and what was expected. It is skipped like any other broken version.
    broken: Option<String>,
}

/// A registered model.
#[derive(Clone, Debug, Default)]
struct MlModel {
    /// MLflow's name.
    name: String,
    /// Description.
    description: Option<String>,
    /// Tags.
    tags: BTreeMap<String, String>,
    /// Versions.
    versions: Vec<MlVersion>,
    /// Aliases.
    aliases: BTreeMap<String, u32>,
}

/// What a store holds: read by [`open`], planned by [`plan`] (its contents are the importer's
/// own).
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// The folder paths are resolved against when the store was moved.
    base: PathBuf,
    /// The only folders that may be read (resolved): the store's own, then `--artifacts-root`.
    roots: Vec<PathBuf>,
    /// Registered models.
    models: Vec<MlModel>,
    /// Runs by id (deleted runs included, marked).
    runs: BTreeMap<String, Run>,
    /// Logged models by id (MLflow 3).
    logged_models: BTreeMap<String, LoggedModel>,
    /// What the store records but does not read as MLflow writes it, and was passed over: each
    /// names the file (and line), or the table and row, and what was expected. Warnings, or
    /// errors with `--strict`, like every other skipped thing.
    notes: Vec<String>,
}

/// Opens a store: a SQLite file (a path, or MLflow's URI: `sqlite:///mlflow.db` relative to
/// the current folder, `sqlite:////abs/mlflow.db` absolute), or an `mlruns` folder (or a folder
/// holding one). Only files inside the store and inside `artifacts_roots` are read.
pub fn open(store: &str, artifacts_roots: &[PathBuf]) -> Result<Store> {
    let path = PathBuf::from(store.strip_prefix("sqlite:///").unwrap_or(store));
    if path.is_file() {
        let mut s = sqlite::read(&path)?;
        s.roots = confine::roots(&s.base, artifacts_roots)?;
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
        return file_store::read(&mlruns, &confine::roots(&mlruns, artifacts_roots)?);
    }
    bail!("{store}: no such file or folder (expected an mlruns folder or an MLflow SQLite file)")
}

/// Whether metric point `a` (step, timestamp, value) is later than `b`: MLflow's latest value is
/// the one at the highest step, then the latest timestamp, then the largest value.
fn later(a: (i64, i64, f64), b: (i64, i64, f64)) -> bool {
    (a.0, a.1).cmp(&(b.0, b.1)).is_gt() || ((a.0, a.1) == (b.0, b.1) && a.2 > b.2)
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

/// The folder that holds `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The last component of `path`, as text.
fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
