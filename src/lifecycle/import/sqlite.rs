//! MLflow's SQLite tracking store, read only.

use super::{DatasetInput, LoggedModel, MlModel, MlVersion, Run, Store, dataset_source, later};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

pub(super) fn read(path: &Path) -> Result<Store> {
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
