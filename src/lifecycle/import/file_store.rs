//! The `mlruns/` file store: a folder per experiment (deleted ones in `.trash/`) holding a
//! folder per run and `models/m-<id>/` per logged model, and `models/<name>/version-<N>/` per
//! registered model version; each with a `meta.yaml` and one file per param, metric, tag and
//! alias. Every file is read only inside the store's roots ([`super::confine`]).

use super::confine::{MAX_STORE_FILE, files_under, yaml_file};
use super::{
    DatasetInput, LoggedModel, MlModel, MlVersion, Run, Store, dataset_source, file_name, later,
};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reads the store in the folder `mlruns`, only inside `roots`.
pub(super) fn read(mlruns: &Path, roots: &[PathBuf]) -> Result<Store> {
    let mut store = Store {
        base: mlruns.parent().unwrap_or(mlruns).to_path_buf(),
        roots: roots.to_vec(),
        ..Default::default()
    };
    for (dir, trashed) in experiment_dirs(mlruns) {
        read_experiment(&dir, trashed, roots, &mut store)?;
    }
    for dir in sub_dirs(&mlruns.join("models")) {
        store.models.push(registered_model(&dir, roots)?);
    }
    Ok(store)
}

/// The experiment folders (with a `meta.yaml`; not the registered models' `models/`), those in
/// `.trash/` marked `true`, sorted.
fn experiment_dirs(mlruns: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    for (dir, trashed) in [(mlruns.to_path_buf(), false), (mlruns.join(".trash"), true)] {
        out.extend(
            sub_dirs(&dir)
                .into_iter()
                .filter(|p| p.join("meta.yaml").is_file() && file_name(p) != "models")
                .map(|p| (p, trashed)),
        );
    }
    out.sort();
    out
}

/// An experiment's logged models and runs, into `store`; everything in a deleted (or trashed)
/// experiment is deleted.
fn read_experiment(dir: &Path, trashed: bool, roots: &[PathBuf], store: &mut Store) -> Result<()> {
    let meta = yaml_file(&dir.join("meta.yaml"), roots)?;
    let experiment = meta_text(&meta, "name");
    let deleted = trashed || stage_is_deleted(&meta);
    let datasets = datasets(&dir.join("datasets"), roots)?;
    for model_dir in sub_dirs(&dir.join("models")) {
        if let Some(m) = logged_model(&model_dir, deleted, roots)? {
            store.logged_models.insert(m.id.clone(), m);
        }
    }
    let run_dirs = sub_dirs(dir)
        .into_iter()
        .filter(|p| p.join("meta.yaml").is_file());
    for run_dir in run_dirs {
        let run = run(&run_dir, experiment.as_deref(), deleted, &datasets, roots)?;
        store.runs.insert(run.id.clone(), run);
    }
    Ok(())
}

/// A logged model's folder (`<experiment>/models/m-<id>/`); none when its `meta.yaml` does not
/// read or names no model id.
fn logged_model(
    dir: &Path,
    experiment_deleted: bool,
    roots: &[PathBuf],
) -> Result<Option<LoggedModel>> {
    let Ok(meta) = yaml_file(&dir.join("meta.yaml"), roots) else {
        return Ok(None);
    };
    let Some(id) = meta_text(&meta, "model_id") else {
        return Ok(None);
    };
    Ok(Some(LoggedModel {
        id,
        artifact_location: meta_text(&meta, "artifact_location").unwrap_or_default(),
        source_run_id: meta_text(&meta, "source_run_id").filter(|r| !r.is_empty()),
        deleted: experiment_deleted || stage_is_deleted(&meta),
        params: key_files(&dir.join("params"), roots)?,
        metrics: latest_metrics(&dir.join("metrics"), roots)?,
    }))
}

/// A run's folder (`<experiment>/<run id>/`), with its params, latest metrics, tags and the
/// datasets (of its experiment's `datasets`) it used.
fn run(
    dir: &Path,
    experiment: Option<&str>,
    experiment_deleted: bool,
    datasets: &BTreeMap<String, DatasetInput>,
    roots: &[PathBuf],
) -> Result<Run> {
    let meta = yaml_file(&dir.join("meta.yaml"), roots)?;
    let id = meta_text(&meta, "run_id")
        .or_else(|| meta_text(&meta, "run_uuid"))
        .unwrap_or_else(|| file_name(dir));
    let metrics = latest_metrics(&dir.join("metrics"), roots)?;
    let lifecycle = if experiment_deleted {
        "deleted".to_string()
    } else {
        meta_text(&meta, "lifecycle_stage").unwrap_or_else(|| "active".into())
    };
    Ok(Run {
        id,
        name: meta_text(&meta, "run_name"),
        experiment: experiment.map(str::to_string),
        lifecycle,
        artifact_uri: meta_text(&meta, "artifact_uri").unwrap_or_default(),
        user: meta_text(&meta, "user_id"),
        params: key_files(&dir.join("params"), roots)?,
        metrics,
        tags: key_files(&dir.join("tags"), roots)?,
        inputs: inputs(&dir.join("inputs"), datasets, roots)?,
    })
}

/// A registered model's folder (`models/<name>/`), with its aliases, versions (sorted) and
/// tags.
fn registered_model(dir: &Path, roots: &[PathBuf]) -> Result<MlModel> {
    let meta = yaml_file(&dir.join("meta.yaml"), roots)?;
    let name = meta_text(&meta, "name").unwrap_or_else(|| file_name(dir));
    let aliases = aliases(dir, &meta, roots)?;
    let version_dirs = sub_dirs(dir)
        .into_iter()
        .filter(|p| file_name(p).starts_with("version-"));
    let mut versions = Vec::new();
    for version_dir in version_dirs {
        versions.push(model_version(&version_dir, roots)?);
    }
    versions.sort_by_key(|v| v.version);
    Ok(MlModel {
        name,
        description: meta_text(&meta, "description").filter(|d| !d.is_empty()),
        tags: key_files(&dir.join("tags"), roots)?,
        versions,
        aliases,
    })
}

/// A registered model's aliases: its `aliases/<alias>` files, each holding a version number;
/// else the `aliases:` of its `meta.yaml`.
fn aliases(dir: &Path, meta: &Value, roots: &[PathBuf]) -> Result<BTreeMap<String, u32>> {
    let mut aliases = BTreeMap::new();
    for (a, v) in key_files(&dir.join("aliases"), roots)? {
        let n: u32 = v.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "{}: alias `{a}` holds `{v}`, expected a version number",
                dir.join("aliases").join(&a).display()
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
    Ok(aliases)
}

/// A registered model version's folder (`models/<name>/version-<N>/`), with its tags.
fn model_version(dir: &Path, roots: &[PathBuf]) -> Result<MlVersion> {
    let meta = yaml_file(&dir.join("meta.yaml"), roots)?;
    let version = meta
        .get("version")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
        })
        .and_then(|v| u32::try_from(v).ok())
        .with_context(|| format!("{}: no version number", dir.join("meta.yaml").display()))?;
    Ok(MlVersion {
        version,
        created_ms: meta
            .get("creation_timestamp")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        description: meta_text(&meta, "description").filter(|d| !d.is_empty()),
        source: meta_text(&meta, "source").unwrap_or_default(),
        run_id: meta_text(&meta, "run_id").filter(|r| !r.is_empty()),
        tags: key_files(&dir.join("tags"), roots)?,
        user: meta_text(&meta, "user_id"),
        deleted: meta_text(&meta, "current_stage").as_deref() == Some("Deleted_Internal"),
        model_id: meta_text(&meta, "model_id").filter(|m| !m.is_empty()),
        storage_location: meta_text(&meta, "storage_location").filter(|m| !m.is_empty()),
    })
}

/// A field of a `meta.yaml` as text (a number or a boolean as it reads; none when missing or
/// null).
fn meta_text(meta: &Value, key: &str) -> Option<String> {
    match meta.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Whether a `meta.yaml` says `lifecycle_stage: deleted`.
fn stage_is_deleted(meta: &Value) -> bool {
    meta_text(meta, "lifecycle_stage").as_deref() == Some("deleted")
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

/// The latest value of each metric file in `dir` (see [`latest_metric`]).
fn latest_metrics(dir: &Path, roots: &[PathBuf]) -> Result<BTreeMap<String, f64>> {
    let mut metrics = BTreeMap::new();
    for (key, text) in key_files(dir, roots)? {
        if let Some(v) = latest_metric(&text, &dir.join(&key))? {
            metrics.insert(key, v);
        }
    }
    Ok(metrics)
}

/// The latest value of a metric file: the point with the highest (step, timestamp, value).
fn latest_metric(text: &str, file: &Path) -> Result<Option<f64>> {
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

/// An experiment's `datasets/<id>/meta.yaml`: id → dataset.
fn datasets(dir: &Path, roots: &[PathBuf]) -> Result<BTreeMap<String, DatasetInput>> {
    let mut out = BTreeMap::new();
    for d in sub_dirs(dir) {
        let meta = yaml_file(&d.join("meta.yaml"), roots)?;
        out.insert(
            file_name(&d),
            DatasetInput {
                name: meta_text(&meta, "name").unwrap_or_default(),
                digest: meta_text(&meta, "digest").unwrap_or_default(),
                source: dataset_source(&meta_text(&meta, "source").unwrap_or_default()),
                context: None,
            },
        );
    }
    Ok(out)
}

/// A run's `inputs/<id>/meta.yaml`: the datasets it used, by the order of their ids.
fn inputs(
    dir: &Path,
    datasets: &BTreeMap<String, DatasetInput>,
    roots: &[PathBuf],
) -> Result<Vec<DatasetInput>> {
    let mut out = Vec::new();
    for d in sub_dirs(dir) {
        let meta = yaml_file(&d.join("meta.yaml"), roots)?;
        if meta_text(&meta, "source_type").as_deref() != Some("DATASET") {
            continue;
        }
        let Some(ds) = meta_text(&meta, "source_id").and_then(|id| datasets.get(&id)) else {
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
