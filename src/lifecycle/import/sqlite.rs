//! MLflow's SQLite tracking store, opened read only.
//!
//! One query per table, run by one helper ([`Db::rows`], a row read as a tuple of its
//! columns); each table's row is mapped to the store's model in one place, and the key-value
//! tables (params and tags of runs, logged models and registered models) share one reader
//! ([`Db::key_values`]) and one way of attaching their rows to their owners ([`attach`]).
//! Tables and columns that older MLflow versions do not have are read only when they are there.

use super::{DatasetInput, LoggedModel, MlModel, MlVersion, Run, Store, dataset_source, later};
use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags, Row};
use std::collections::BTreeMap;
use std::path::Path;

/// Reads the store in the SQLite file `path`.
pub(super) fn read(path: &Path) -> Result<Store> {
    let db = Db::open(path)?;
    if !db.has_table("runs") || !db.has_table("registered_models") {
        bail!(
            "{} is a SQLite file but not an MLflow tracking store (no `runs` or `registered_models` table)",
            path.display()
        );
    }
    let runs = db.runs()?;
    let logged_models = db.logged_models()?;
    let models = db.registered_models()?;
    Ok(Store {
        base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        runs,
        logged_models,
        models,
        ..Default::default()
    })
}

/// An open database and its path (for errors).
struct Db<'p> {
    conn: Connection,
    path: &'p Path,
}

/// A row of a key-value table: whose it is (a run, a logged model, a registered model), the
/// key, and the value (empty when NULL).
struct KeyValue {
    owner: String,
    key: String,
    value: String,
}

/// An experiment, as runs need it.
struct Experiment {
    name: String,
    deleted: bool,
}

impl<'p> Db<'p> {
    fn open(path: &'p Path) -> Result<Self> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening {} as SQLite", path.display()))?;
        Ok(Self { conn, path })
    }

    fn has_table(&self, table: &str) -> bool {
        self.conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
                [table],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0)
            > 0
    }

    fn has_column(&self, table: &str, column: &str) -> bool {
        self.conn
            .prepare(&format!("SELECT \"{column}\" FROM \"{table}\" LIMIT 0"))
            .is_ok()
    }

    /// Every row `sql` returns, as a tuple of its columns in order; an error names the file.
    fn rows<T>(&self, sql: &str) -> Result<Vec<T>>
    where
        T: for<'r> TryFrom<&'r Row<'r>, Error = rusqlite::Error>,
    {
        let err = |e: rusqlite::Error| anyhow::anyhow!("reading {}: {e}", self.path.display());
        let mut query = self.conn.prepare(sql).map_err(err)?;
        let rows = query.query_map([], |r| T::try_from(r)).map_err(err)?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(err)
    }

    /// The rows of a key-value table: `sql` selects the owner, the key and the value.
    fn key_values(&self, sql: &str) -> Result<Vec<KeyValue>> {
        let rows: Vec<(String, String, Option<String>)> = self.rows(sql)?;
        Ok(rows
            .into_iter()
            .map(|(owner, key, value)| KeyValue {
                owner,
                key,
                value: value.unwrap_or_default(),
            })
            .collect())
    }

    /// Experiments by id.
    fn experiments(&self) -> Result<BTreeMap<i64, Experiment>> {
        let rows: Vec<(i64, String, String)> =
            self.rows("SELECT experiment_id, name, lifecycle_stage FROM experiments")?;
        Ok(rows
            .into_iter()
            .map(|(id, name, stage)| {
                let deleted = stage == "deleted";
                (id, Experiment { name, deleted })
            })
            .collect())
    }

    /// Runs by id, with their params, tags, latest metrics and dataset inputs; a run of a
    /// deleted experiment is deleted.
    fn runs(&self) -> Result<BTreeMap<String, Run>> {
        let experiments = self.experiments()?;
        type RunRow = (
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<RunRow> = self.rows(
            "SELECT run_uuid, name, experiment_id, lifecycle_stage, artifact_uri, user_id FROM runs",
        )?;
        let mut runs = BTreeMap::new();
        for (id, name, experiment, stage, artifact_uri, user) in rows {
            let experiment = experiment.and_then(|e| experiments.get(&e));
            let deleted =
                stage.as_deref() == Some("deleted") || experiment.is_some_and(|e| e.deleted);
            let run = Run {
                id: id.clone(),
                name,
                experiment: experiment.map(|e| e.name.clone()),
                lifecycle: if deleted { "deleted" } else { "active" }.into(),
                artifact_uri: artifact_uri.unwrap_or_default(),
                user,
                ..Default::default()
            };
            runs.insert(id, run);
        }
        attach(
            self.key_values("SELECT run_uuid, key, value FROM params")?,
            &mut runs,
            |run| &mut run.params,
        );
        attach(
            self.key_values("SELECT run_uuid, key, value FROM tags")?,
            &mut runs,
            |run| &mut run.tags,
        );
        self.latest_metrics(&mut runs)?;
        self.inputs(&mut runs)?;
        Ok(runs)
    }

    /// Each run's latest metric values (MLflow keeps them in `latest_metrics`).
    fn latest_metrics(&self, runs: &mut BTreeMap<String, Run>) -> Result<()> {
        let rows: Vec<(String, String, f64, Option<bool>)> =
            self.rows("SELECT run_uuid, key, value, is_nan FROM latest_metrics")?;
        for (run, key, value, is_nan) in rows {
            if let Some(run) = runs.get_mut(&run) {
                let value = if is_nan == Some(true) {
                    f64::NAN
                } else {
                    value
                };
                run.metrics.insert(key, value);
            }
        }
        Ok(())
    }

    /// The datasets each run used (MLflow 3 `inputs`), with their `mlflow.data.context`.
    fn inputs(&self, runs: &mut BTreeMap<String, Run>) -> Result<()> {
        if !self.has_table("inputs") || !self.has_table("datasets") {
            return Ok(());
        }
        let context = if self.has_table("input_tags") {
            "(SELECT t.value FROM input_tags t WHERE t.input_uuid = i.input_uuid \
             AND t.name = 'mlflow.data.context')"
        } else {
            "NULL"
        };
        type InputRow = (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<InputRow> = self.rows(&format!(
            "SELECT i.destination_id, d.name, d.digest, d.dataset_source, {context} \
             FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id \
             WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' \
             ORDER BY i.destination_id, d.name, d.digest"
        ))?;
        for (run, name, digest, source, context) in rows {
            if let Some(run) = runs.get_mut(&run) {
                run.inputs.push(DatasetInput {
                    name: name.unwrap_or_default(),
                    digest: digest.unwrap_or_default(),
                    source: dataset_source(&source.unwrap_or_default()),
                    context,
                });
            }
        }
        Ok(())
    }

    /// Logged models (MLflow 3) by id, with their params and latest metric values; a logged
    /// model of a deleted experiment is deleted.
    fn logged_models(&self) -> Result<BTreeMap<String, LoggedModel>> {
        let mut models = BTreeMap::new();
        if self.has_table("logged_models") {
            type LoggedModelRow = (
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            );
            let rows: Vec<LoggedModelRow> = self.rows(
                "SELECT m.model_id, m.artifact_location, m.source_run_id, m.lifecycle_stage, \
                 e.lifecycle_stage FROM logged_models m \
                 LEFT JOIN experiments e ON e.experiment_id = m.experiment_id",
            )?;
            for (id, location, run, stage, experiment_stage) in rows {
                let deleted = stage.as_deref() == Some("deleted")
                    || experiment_stage.as_deref() == Some("deleted");
                let model = LoggedModel {
                    id: id.clone(),
                    artifact_location: location.unwrap_or_default(),
                    source_run_id: run.filter(|r| !r.is_empty()),
                    deleted,
                    params: BTreeMap::new(),
                    metrics: BTreeMap::new(),
                };
                models.insert(id, model);
            }
        }
        if self.has_table("logged_model_metrics") {
            self.logged_model_metrics(&mut models)?;
        }
        if self.has_table("logged_model_params") {
            attach(
                self.key_values(
                    "SELECT model_id, param_key, param_value FROM logged_model_params",
                )?,
                &mut models,
                |m| &mut m.params,
            );
        }
        Ok(models)
    }

    /// Each logged model's latest value of each metric: every point is stored, and the latest
    /// is the one [`later`] than all others.
    fn logged_model_metrics(&self, models: &mut BTreeMap<String, LoggedModel>) -> Result<()> {
        let rows: Vec<(String, String, i64, i64, Option<f64>)> = self.rows(
            "SELECT model_id, metric_name, metric_step, metric_timestamp_ms, metric_value \
             FROM logged_model_metrics",
        )?;
        let mut best: BTreeMap<(String, String), (i64, i64, f64)> = BTreeMap::new();
        for (id, key, step, timestamp, value) in rows {
            let point = (step, timestamp, value.unwrap_or(f64::NAN));
            let slot = best.entry((id, key)).or_insert(point);
            if later(point, *slot) {
                *slot = point;
            }
        }
        for ((id, key), (_, _, value)) in best {
            if let Some(m) = models.get_mut(&id) {
                m.metrics.insert(key, value);
            }
        }
        Ok(())
    }

    /// Registered models, sorted by name, with their tags, versions (sorted) and aliases.
    fn registered_models(&self) -> Result<Vec<MlModel>> {
        let rows: Vec<(String, Option<String>)> =
            self.rows("SELECT name, description FROM registered_models")?;
        let mut models = BTreeMap::new();
        for (name, description) in rows {
            let model = MlModel {
                name: name.clone(),
                description: description.filter(|d| !d.is_empty()),
                ..Default::default()
            };
            models.insert(name, model);
        }
        if self.has_table("registered_model_tags") {
            attach(
                self.key_values("SELECT name, key, value FROM registered_model_tags")?,
                &mut models,
                |m| &mut m.tags,
            );
        }
        self.model_versions(&mut models)?;
        if self.has_table("model_version_tags") {
            self.model_version_tags(&mut models)?;
        }
        if self.has_table("registered_model_aliases") {
            self.aliases(&mut models)?;
        }
        for m in models.values_mut() {
            m.versions.sort_by_key(|v| v.version);
        }
        Ok(models.into_values().collect())
    }

    /// Each registered model's versions (`storage_location` where MLflow records it).
    fn model_versions(&self, models: &mut BTreeMap<String, MlModel>) -> Result<()> {
        let storage = if self.has_column("model_versions", "storage_location") {
            "storage_location"
        } else {
            "NULL"
        };
        type VersionRow = (
            String,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<VersionRow> = self.rows(&format!(
            "SELECT name, version, creation_time, description, source, run_id, user_id, current_stage, {storage} FROM model_versions"
        ))?;
        for (model, version, created, description, source, run, user, stage, storage) in rows {
            if let Some(m) = models.get_mut(&model) {
                m.versions.push(MlVersion {
                    version: u32::try_from(version).unwrap_or(0),
                    created_ms: created.unwrap_or(0),
                    description: description.filter(|d| !d.is_empty()),
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
        Ok(())
    }

    /// Each version's tags (owned by a model name and a version number).
    fn model_version_tags(&self, models: &mut BTreeMap<String, MlModel>) -> Result<()> {
        let rows: Vec<(String, i64, String, Option<String>)> =
            self.rows("SELECT name, version, key, value FROM model_version_tags")?;
        for (model, version, key, value) in rows {
            let found = models.get_mut(&model).and_then(|m| {
                m.versions
                    .iter_mut()
                    .find(|v| i64::from(v.version) == version)
            });
            if let Some(v) = found {
                v.tags.insert(key, value.unwrap_or_default());
            }
        }
        Ok(())
    }

    /// Each registered model's aliases.
    fn aliases(&self, models: &mut BTreeMap<String, MlModel>) -> Result<()> {
        let rows: Vec<(String, String, i64)> =
            self.rows("SELECT name, alias, version FROM registered_model_aliases")?;
        for (model, alias, version) in rows {
            if let Some(m) = models.get_mut(&model) {
                m.aliases.insert(alias, u32::try_from(version).unwrap_or(0));
            }
        }
        Ok(())
    }
}

/// Puts each key-value row into the map `field` picks of its owner in `owners` (a row whose
/// owner is not there is passed over).
fn attach<T>(
    rows: Vec<KeyValue>,
    owners: &mut BTreeMap<String, T>,
    field: impl Fn(&mut T) -> &mut BTreeMap<String, String>,
) {
    for row in rows {
        if let Some(owner) = owners.get_mut(&row.owner) {
            field(owner).insert(row.key, row.value);
        }
    }
}
