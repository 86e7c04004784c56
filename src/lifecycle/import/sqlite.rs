//! MLflow's SQLite tracking store, opened read only.
//!
//! One query per table, run by one helper ([`Db::rows`], a row read as a tuple of its
//! columns); each table's row is mapped to the store's model in one place, and the key-value
//! tables (params and tags of runs, logged models and registered models) share one reader
//! ([`Db::key_values`]) and one way of attaching their rows to their owners ([`attach`]).
//! Tables and columns that older MLflow versions do not have are read only when they are there.
//!
//! Nothing MLflow recorded is dropped without a word: a row whose owner is not in the store
//! (SQLite does not enforce MLflow's foreign keys), an input whose dataset is gone, a NULL where
//! MLflow writes a value, is a note naming the file, the table and the row, and what was
//! expected ([`Store::notes`]: a warning, or an error with `--strict`); a version that lacks
//! what it needs is kept as broken and skipped like any other.

use super::{
    DatasetInput, LoggedModel, MlModel, MlVersion, Run, Store, dataset_source, folder_of, later,
};
use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags, Row};
use std::cell::RefCell;
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
        base: folder_of(path),
        runs,
        logged_models,
        models,
        notes: db.notes.into_inner(),
        ..Default::default()
    })
}

/// An open database and its path (for errors), and what did not read as MLflow writes it.
struct Db<'p> {
    conn: Connection,
    path: &'p Path,
    /// What was passed over, and why (see [`Store::notes`]).
    notes: RefCell<Vec<String>>,
}

/// A row of a key-value table: whose it is (a run, a logged model, a registered model), the
/// key, and the value (empty when NULL).
struct KeyValue {
    owner: String,
    key: String,
    value: String,
}

/// Who a key-value table's rows belong to: `table` and the kind of owner (`run`, `logged
/// model`, `registered model`), for the note about a row whose owner is not there.
struct Owner<'t> {
    table: &'t str,
    kind: &'t str,
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
        Ok(Self {
            conn,
            path,
            notes: RefCell::new(Vec::new()),
        })
    }

    /// Notes that row `row` of `table` is passed over: `what` is wrong with it.
    fn note(&self, table: &str, row: &str, what: &str) {
        self.notes.borrow_mut().push(format!(
            "{}: table `{table}`, row {row}: {what}; it is skipped",
            self.path.display()
        ));
    }

    /// Where a problem with row `row` of `table` is, for a broken version.
    fn place(&self, table: &str, row: &str) -> String {
        format!("{}: table `{table}`, row {row}", self.path.display())
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
        let rows: Vec<(i64, String, Option<String>)> =
            self.rows("SELECT experiment_id, name, lifecycle_stage FROM experiments")?;
        Ok(rows
            .into_iter()
            .map(|(id, name, stage)| {
                let deleted = stage.as_deref() == Some("deleted");
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
        for (id, name, experiment_id, stage, artifact_uri, user) in rows {
            let experiment = experiment_id.and_then(|e| experiments.get(&e));
            let row = format!("`{id}`");
            match experiment_id {
                None => self.note("runs", &row, "`experiment_id` is NULL, expected the run's experiment (its name is not recorded)"),
                Some(e) if experiment.is_none() => self.note("runs", &row, &format!("experiment {e} is not in `experiments`, expected the run's experiment (its name is not recorded)")),
                Some(_) => {}
            }
            let Some(artifact_uri) = artifact_uri else {
                self.note(
                    "runs",
                    &row,
                    "`artifact_uri` is NULL, expected where the run's artifacts are",
                );
                continue;
            };
            let deleted =
                stage.as_deref() == Some("deleted") || experiment.is_some_and(|e| e.deleted);
            let run = Run {
                id: id.clone(),
                name,
                experiment: experiment.map(|e| e.name.clone()),
                lifecycle: if deleted { "deleted" } else { "active" }.into(),
                artifact_uri,
                user,
                ..Default::default()
            };
            runs.insert(id, run);
        }
        let params = Owner {
            table: "params",
            kind: "run",
        };
        self.attach(
            self.key_values("SELECT run_uuid, key, value FROM params")?,
            &params,
            &mut runs,
            |run| &mut run.params,
        );
        let tags = Owner {
            table: "tags",
            kind: "run",
        };
        self.attach(
            self.key_values("SELECT run_uuid, key, value FROM tags")?,
            &tags,
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
        for (id, key, value, is_nan) in rows {
            let Some(run) = runs.get_mut(&id) else {
                self.note(
                    "latest_metrics",
                    &format!("`{key}` of run `{id}`"),
                    "the run is not in `runs`",
                );
                continue;
            };
            let value = if is_nan == Some(true) {
                f64::NAN
            } else {
                value
            };
            run.metrics.insert(key, value);
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
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<InputRow> = self.rows(&format!(
            "SELECT i.destination_id, i.source_id, d.name, d.digest, d.dataset_source, {context} \
             FROM inputs i LEFT JOIN datasets d ON d.dataset_uuid = i.source_id \
             WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' \
             ORDER BY i.destination_id, d.name, d.digest"
        ))?;
        for (id, dataset, name, digest, source, context) in rows {
            let row = format!("dataset `{dataset}` of run `{id}`");
            let Some(run) = runs.get_mut(&id) else {
                self.note("inputs", &row, "the run is not in `runs`");
                continue;
            };
            let (Some(name), Some(digest), Some(source)) = (name, digest, source) else {
                self.note(
                    "inputs",
                    &row,
                    "the dataset is not in `datasets`, expected the dataset the run used",
                );
                continue;
            };
            run.inputs.push(DatasetInput {
                name,
                digest,
                source: dataset_source(&source),
                context,
            });
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
            let owner = Owner {
                table: "logged_model_params",
                kind: "logged model",
            };
            self.attach(
                self.key_values(
                    "SELECT model_id, param_key, param_value FROM logged_model_params",
                )?,
                &owner,
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
            let Some(m) = models.get_mut(&id) else {
                self.note(
                    "logged_model_metrics",
                    &format!("`{key}` of logged model `{id}`"),
                    "the logged model is not in `logged_models`",
                );
                continue;
            };
            m.metrics.insert(key, value);
        }
        Ok(())
    }

    /// ` WHERE workspace = 'default'` for a table of the model registry that has MLflow's
    /// `workspace` column (MLflow 3.x): the registry's names are unique within a workspace
    /// only, and the import reads the `default` one.
    fn in_default_workspace(&self, table: &str) -> &'static str {
        if self.has_column(table, "workspace") {
            " WHERE workspace = 'default'"
        } else {
            ""
        }
    }

    /// Registered models, sorted by name, with their tags, versions (sorted) and aliases;
    /// those of a workspace other than `default` are notes.
    fn registered_models(&self) -> Result<Vec<MlModel>> {
        if self.has_column("registered_models", "workspace") {
            let others: Vec<(String, String)> = self.rows(
                "SELECT name, workspace FROM registered_models WHERE workspace != 'default' ORDER BY workspace, name",
            )?;
            for (name, workspace) in others {
                self.note(
                    "registered_models",
                    &format!("`{name}` (workspace `{workspace}`)"),
                    "import reads MLflow's `default` workspace only",
                );
            }
        }
        let rows: Vec<(String, Option<String>)> = self.rows(&format!(
            "SELECT name, description FROM registered_models{}",
            self.in_default_workspace("registered_models")
        ))?;
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
            let owner = Owner {
                table: "registered_model_tags",
                kind: "registered model",
            };
            self.attach(
                self.key_values(&format!(
                    "SELECT name, key, value FROM registered_model_tags{}",
                    self.in_default_workspace("registered_model_tags")
                ))?,
                &owner,
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
            "SELECT name, version, creation_time, description, source, run_id, user_id, current_stage, {storage} FROM model_versions{}",
            self.in_default_workspace("model_versions")
        ))?;
        for (model, version, created, description, source, run, user, stage, storage) in rows {
            let row = format!("`{model}` v{version}");
            let Some(m) = models.get_mut(&model) else {
                self.note(
                    "model_versions",
                    &row,
                    "the model is not in `registered_models`",
                );
                continue;
            };
            let Some(number) = u32::try_from(version).ok().filter(|n| *n > 0) else {
                self.note(
                    "model_versions",
                    &row,
                    "`version` is not a version number (1, 2, …)",
                );
                continue;
            };
            let source = source.filter(|s| !s.is_empty());
            let broken = match (created, &source) {
                (None, _) => Some(format!(
                    "{}: `creation_time` is NULL, expected the time MLflow registered it (ms since the epoch)",
                    self.place("model_versions", &row)
                )),
                (_, None) => Some(format!(
                    "{}: `source` is NULL, expected where the version's model is",
                    self.place("model_versions", &row)
                )),
                _ => None,
            };
            m.versions.push(MlVersion {
                version: number,
                created_ms: created.unwrap_or(0),
                description: description.filter(|d| !d.is_empty()),
                source: source.unwrap_or_default(),
                run_id: run.filter(|r| !r.is_empty()),
                user,
                deleted: stage.as_deref() == Some("Deleted_Internal"),
                tags: BTreeMap::new(),
                model_id: None,
                storage_location: storage.filter(|s| !s.is_empty()),
                broken,
            });
        }
        Ok(())
    }

    /// Each version's tags (owned by a model name and a version number).
    fn model_version_tags(&self, models: &mut BTreeMap<String, MlModel>) -> Result<()> {
        let rows: Vec<(String, i64, String, Option<String>)> = self.rows(&format!(
            "SELECT name, version, key, value FROM model_version_tags{}",
            self.in_default_workspace("model_version_tags")
        ))?;
        for (model, version, key, value) in rows {
            let found = models.get_mut(&model).and_then(|m| {
                m.versions
                    .iter_mut()
                    .find(|v| i64::from(v.version) == version)
            });
            let Some(v) = found else {
                self.note(
                    "model_version_tags",
                    &format!("`{key}` of `{model}` v{version}"),
                    "the version is not in `model_versions`",
                );
                continue;
            };
            v.tags.insert(key, value.unwrap_or_default());
        }
        Ok(())
    }

    /// Each registered model's aliases.
    fn aliases(&self, models: &mut BTreeMap<String, MlModel>) -> Result<()> {
        let rows: Vec<(String, String, i64)> = self.rows(&format!(
            "SELECT name, alias, version FROM registered_model_aliases{}",
            self.in_default_workspace("registered_model_aliases")
        ))?;
        for (model, alias, version) in rows {
            let row = format!("`{alias}` of `{model}`");
            let Some(m) = models.get_mut(&model) else {
                self.note(
                    "registered_model_aliases",
                    &row,
                    "the model is not in `registered_models`",
                );
                continue;
            };
            let Ok(number) = u32::try_from(version) else {
                self.note(
                    "registered_model_aliases",
                    &row,
                    &format!("`version` is {version}, expected a version number"),
                );
                continue;
            };
            m.aliases.insert(alias, number);
        }
        Ok(())
    }

    /// Puts each key-value row into the map `field` picks of its owner in `owners`; a row
    /// whose owner is not there is a note.
    fn attach<T>(
        &self,
        rows: Vec<KeyValue>,
        owner: &Owner,
        owners: &mut BTreeMap<String, T>,
        field: impl Fn(&mut T) -> &mut BTreeMap<String, String>,
    ) {
        for row in rows {
            match owners.get_mut(&row.owner) {
                Some(o) => {
                    field(o).insert(row.key, row.value);
                }
                None => self.note(
                    owner.table,
                    &format!("`{}` of {} `{}`", row.key, owner.kind, row.owner),
                    &format!("the {} is not in the store", owner.kind),
                ),
            }
        }
    }
}
