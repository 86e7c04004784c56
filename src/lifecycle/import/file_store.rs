//! The `mlruns/` file store: YAML `meta.yaml` files and one file per param, metric and tag.

use super::confine::{files_under, yaml_file};
use super::{DatasetInput, LoggedModel, MlModel, MlVersion, Run, Store, dataset_source, later};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

pub(super) fn read(mlruns: &Path, roots: &[PathBuf]) -> Result<Store> {
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
