//! The `mlruns/` file store: a folder per experiment (deleted ones in `.trash/`) holding a
//! folder per run and `models/m-<id>/` per logged model, and `models/<name>/version-<N>/` per
//! registered model version; each with a `meta.yaml` and one file per param, metric, tag and
//! alias. Every file is read only inside the store's roots ([`super::confine`]).
//!
//! Nothing MLflow recorded is dropped without a word: a file or folder that does not read as
//! MLflow writes it (a `meta.yaml` that is missing or not YAML, a metric line that is not
//! `<timestamp> <value> <step>`, a param that is an empty folder, an alias that names no version
//! number, an input whose dataset is gone) is a note naming the file (and line) and what was
//! expected ([`Store::notes`]: a warning, or an error with `--strict`), and only that thing is
//! passed over. A path that leads out of the store or loops ([`Unsafe`]) refuses the import.

use super::confine::{MAX_STORE_FILE, Unsafe, files_under, inside, yaml_file};
use super::{
    DatasetInput, LoggedModel, MlModel, MlVersion, Run, Store, dataset_source, file_name,
    folder_of, later,
};
use anyhow::{Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The folders of an experiment that are not runs (MLflow's `RESERVED_EXPERIMENT_FOLDERS`).
const NOT_RUNS: [&str; 4] = ["tags", "datasets", "traces", "models"];

/// Reads the store in the folder `mlruns`, only inside `roots`.
pub(super) fn read(mlruns: &Path, roots: &[PathBuf]) -> Result<Store> {
    let mut store = Store {
        base: folder_of(mlruns),
        roots: roots.to_vec(),
        ..Default::default()
    };
    let mut r = Reader {
        roots,
        notes: Vec::new(),
    };
    for (dir, trashed) in r.experiment_dirs(mlruns)? {
        r.experiment(&dir, trashed, &mut store)?;
    }
    for dir in r.sub_dirs(&mlruns.join("models"))? {
        if let Some(m) = r.registered_model(&dir)? {
            store.models.push(m);
        }
    }
    store.notes = r.notes;
    Ok(store)
}

/// Reading one file store: the folders it may read, and what did not read as MLflow writes it.
struct Reader<'r> {
    roots: &'r [PathBuf],
    /// What was passed over, and why (see [`Store::notes`]).
    notes: Vec<String>,
}

impl Reader<'_> {
    /// `r`'s value; none, with a note `<error>; <then>`, when it is an error other than
    /// [`Unsafe`] (which refuses the import).
    fn or_note<T>(&mut self, r: Result<T>, then: &str) -> Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.downcast_ref::<Unsafe>().is_some() => Err(e),
            Err(e) => {
                self.notes.push(format!("{e:#}; {then}"));
                Ok(None)
            }
        }
    }

    /// The `meta.yaml` of `dir`, a mapping; none, with a note saying it was `expected` and
    /// what is passed over (`then`), when it does not read.
    fn meta(&mut self, dir: &Path, expected: &str, then: &str) -> Result<Option<Value>> {
        let meta = meta_yaml(dir, self.roots).map_err(|e| {
            if e.downcast_ref::<Unsafe>().is_some() {
                e
            } else {
                anyhow::anyhow!("{e:#}, expected {expected}")
            }
        });
        self.or_note(meta, then)
    }

    /// The folders in `dir`, sorted (none when it does not exist); a folder that cannot be read
    /// is a note, and a symbolic link is followed only inside the store.
    fn sub_dirs(&mut self, dir: &Path) -> Result<Vec<PathBuf>> {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                self.notes.push(format!(
                    "{}: cannot be read ({e}), expected a folder; what it holds is skipped",
                    dir.display()
                ));
                return Ok(Vec::new());
            }
        };
        let mut out = Vec::new();
        for e in rd {
            let e = match e {
                Ok(e) => e,
                Err(e) => {
                    self.notes.push(format!(
                        "{}: an entry cannot be read ({e}); it is skipped",
                        dir.display()
                    ));
                    continue;
                }
            };
            let path = e.path();
            if e.file_type().is_ok_and(|t| t.is_symlink()) {
                inside(&path, self.roots)?;
            }
            if path.is_dir() {
                out.push(path);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The experiment folders (not the registered models' `models/`, nor hidden ones), those in
    /// `.trash/` marked `true`, sorted.
    fn experiment_dirs(&mut self, mlruns: &Path) -> Result<Vec<(PathBuf, bool)>> {
        let mut out = Vec::new();
        for (dir, trashed) in [(mlruns.to_path_buf(), false), (mlruns.join(".trash"), true)] {
            for p in self.sub_dirs(&dir)? {
                let name = file_name(&p);
                let registered_models = name == "models" && !trashed;
                if !name.starts_with('.') && !registered_models {
                    out.push((p, trashed));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// An experiment's logged models and runs, into `store`; everything in a deleted (or
    /// trashed) experiment is deleted.
    fn experiment(&mut self, dir: &Path, trashed: bool, store: &mut Store) -> Result<()> {
        let Some(meta) = self.meta(
            dir,
            "an experiment's meta.yaml (experiment_id, name, lifecycle_stage)",
            "the experiment, its runs and logged models are skipped",
        )?
        else {
            return Ok(());
        };
        let experiment = meta_text(&meta, "name");
        let deleted = trashed || stage_is_deleted(&meta);
        let datasets = self.datasets(&dir.join("datasets"))?;
        for model_dir in self.sub_dirs(&dir.join("models"))? {
            if let Some(m) = self.logged_model(&model_dir, deleted)? {
                store.logged_models.insert(m.id.clone(), m);
            }
        }
        for run_dir in self.sub_dirs(dir)? {
            let name = file_name(&run_dir);
            if NOT_RUNS.contains(&name.as_str()) || name.starts_with('.') {
                continue;
            }
            let run = self.run(&run_dir, experiment.as_deref(), deleted, &datasets)?;
            if let Some(run) = run {
                store.runs.insert(run.id.clone(), run);
            }
        }
        Ok(())
    }

    /// A logged model's folder (`<experiment>/models/m-<id>/`); none, with a note, when its
    /// `meta.yaml` does not read or names no model id.
    fn logged_model(
        &mut self,
        dir: &Path,
        experiment_deleted: bool,
    ) -> Result<Option<LoggedModel>> {
        let skipped = format!("logged model {} is skipped", file_name(dir));
        let expected = "a logged model's meta.yaml (model_id, artifact_location, source_run_id)";
        let Some(meta) = self.meta(dir, expected, &skipped)? else {
            return Ok(None);
        };
        let meta_file = dir.join("meta.yaml");
        let Some(id) = meta_text(&meta, "model_id") else {
            self.notes.push(format!(
                "{}: no `model_id`, expected {expected}; {skipped}",
                meta_file.display()
            ));
            return Ok(None);
        };
        let Some(artifact_location) = meta_text(&meta, "artifact_location") else {
            self.notes.push(format!(
                "{}: no `artifact_location`, expected {expected}; {skipped}",
                meta_file.display()
            ));
            return Ok(None);
        };
        Ok(Some(LoggedModel {
            id,
            artifact_location,
            source_run_id: meta_text(&meta, "source_run_id").filter(|r| !r.is_empty()),
            deleted: experiment_deleted || stage_is_deleted(&meta),
            params: self.key_files(&dir.join("params"), "param")?,
            metrics: self.latest_metrics(&dir.join("metrics"))?,
        }))
    }

    /// A run's folder (`<experiment>/<run id>/`), with its params, latest metrics, tags and the
    /// datasets (of its experiment's `datasets`) it used; none, with a note, when its
    /// `meta.yaml` does not read.
    fn run(
        &mut self,
        dir: &Path,
        experiment: Option<&str>,
        experiment_deleted: bool,
        datasets: &BTreeMap<String, DatasetInput>,
    ) -> Result<Option<Run>> {
        let Some(meta) = self.meta(
            dir,
            "a run's meta.yaml (run_id, lifecycle_stage, artifact_uri)",
            &format!("run {} is skipped", file_name(dir)),
        )?
        else {
            return Ok(None);
        };
        let id = meta_text(&meta, "run_id")
            .or_else(|| meta_text(&meta, "run_uuid"))
            .unwrap_or_else(|| file_name(dir));
        let Some(artifact_uri) = meta_text(&meta, "artifact_uri") else {
            self.notes.push(format!(
                "{}: no `artifact_uri`, expected where the run's artifacts are; run {id} is skipped",
                dir.join("meta.yaml").display()
            ));
            return Ok(None);
        };
        let lifecycle = if experiment_deleted {
            "deleted".to_string()
        } else {
            meta_text(&meta, "lifecycle_stage").unwrap_or_else(|| "active".into())
        };
        Ok(Some(Run {
            id,
            name: meta_text(&meta, "run_name"),
            experiment: experiment.map(str::to_string),
            lifecycle,
            artifact_uri,
            user: meta_text(&meta, "user_id"),
            params: self.key_files(&dir.join("params"), "param")?,
            metrics: self.latest_metrics(&dir.join("metrics"))?,
            tags: self.key_files(&dir.join("tags"), "tag")?,
            inputs: self.inputs(&dir.join("inputs"), datasets)?,
        }))
    }

    /// A registered model's folder (`models/<name>/`), with its aliases, versions (sorted) and
    /// tags; none, with a note, when its `meta.yaml` does not read.
    fn registered_model(&mut self, dir: &Path) -> Result<Option<MlModel>> {
        let Some(meta) = self.meta(
            dir,
            "a registered model's meta.yaml (name, description)",
            &format!("registered model {} is skipped", file_name(dir)),
        )?
        else {
            return Ok(None);
        };
        let name = meta_text(&meta, "name").unwrap_or_else(|| file_name(dir));
        let aliases = self.aliases(dir, &meta)?;
        let mut versions = Vec::new();
        for version_dir in self.sub_dirs(dir)? {
            if let Some(v) = self.model_version(&version_dir, &name)? {
                versions.push(v);
            }
        }
        versions.sort_by_key(|v| v.version);
        Ok(Some(MlModel {
            name,
            description: meta_text(&meta, "description").filter(|d| !d.is_empty()),
            tags: self.key_files(&dir.join("tags"), "tag")?,
            versions,
            aliases,
        }))
    }

    /// A registered model's aliases: its `aliases/<alias>` files, each holding a version
    /// number; else the `aliases:` of its `meta.yaml`. One that holds no version number is a
    /// note.
    fn aliases(&mut self, dir: &Path, meta: &Value) -> Result<BTreeMap<String, u32>> {
        let mut aliases = BTreeMap::new();
        for (a, v) in self.key_files(&dir.join("aliases"), "alias")? {
            match v.trim().parse::<u32>() {
                Ok(n) => {
                    aliases.insert(a, n);
                }
                Err(_) => self.notes.push(format!(
                    "{}: holds `{}`, expected a version number; alias `{a}` is skipped",
                    dir.join("aliases").join(&a).display(),
                    v.trim()
                )),
            }
        }
        if aliases.is_empty() {
            if let Some(Value::Object(m)) = meta.get("aliases") {
                for (a, v) in m {
                    let n = v
                        .as_str()
                        .and_then(|x| x.trim().parse().ok())
                        .or(v.as_u64().and_then(|x| u32::try_from(x).ok()));
                    match n {
                        Some(n) => {
                            aliases.insert(a.clone(), n);
                        }
                        None => self.notes.push(format!(
                            "{}: `aliases: {a}` is `{v}`, expected a version number; alias `{a}` is skipped",
                            dir.join("meta.yaml").display()
                        )),
                    }
                }
            }
        }
        Ok(aliases)
    }

    /// A registered model version's folder (`models/<name>/version-<N>/`), with its tags. A
    /// version whose `meta.yaml` does not read, or lacks what a version needs, is kept as
    /// broken (its number from the folder's name) and skipped with the rest of its checks;
    /// other folders are notes.
    fn model_version(&mut self, dir: &Path, model: &str) -> Result<Option<MlVersion>> {
        let folder = file_name(dir);
        let Some(number) = folder.strip_prefix("version-") else {
            if folder != "tags" && folder != "aliases" {
                self.notes.push(format!(
                    "{}: a folder in registered model `{model}` that is not `version-<N>`, `tags` or `aliases`; it is skipped",
                    dir.display()
                ));
            }
            return Ok(None);
        };
        let Ok(number) = number.parse::<u32>() else {
            self.notes.push(format!(
                "{}: expected `version-<N>` with N a version number; it is skipped",
                dir.display()
            ));
            return Ok(None);
        };
        let path = dir.join("meta.yaml");
        let expected = "a model version's meta.yaml (version, creation_timestamp, source, run_id)";
        let meta = match meta_yaml(dir, self.roots) {
            Ok(m) => m,
            Err(e) if e.downcast_ref::<Unsafe>().is_some() => return Err(e),
            Err(e) => {
                return Ok(Some(MlVersion {
                    version: number,
                    broken: Some(format!("{e:#}, expected {expected}")),
                    ..Default::default()
                }));
            }
        };
        let field = |key: &str| format!("{}: no `{key}`, expected {expected}", path.display());
        let version = meta.get("version").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
        });
        let mut broken = match version {
            Some(v) if v == u64::from(number) => None,
            Some(v) => Some(format!(
                "{}: `version: {v}` in the folder `{folder}`; expected the same number",
                path.display()
            )),
            None => Some(field("version")),
        };
        let created_ms = meta.get("creation_timestamp").and_then(Value::as_i64);
        if created_ms.is_none() {
            broken.get_or_insert_with(|| field("creation_timestamp"));
        }
        let source = meta_text(&meta, "source").filter(|s| !s.is_empty());
        if source.is_none() {
            broken.get_or_insert_with(|| field("source"));
        }
        Ok(Some(MlVersion {
            version: number,
            created_ms: created_ms.unwrap_or(0),
            description: meta_text(&meta, "description").filter(|d| !d.is_empty()),
            source: source.unwrap_or_default(),
            run_id: meta_text(&meta, "run_id").filter(|r| !r.is_empty()),
            tags: self.key_files(&dir.join("tags"), "tag")?,
            user: meta_text(&meta, "user_id"),
            deleted: meta_text(&meta, "current_stage").as_deref() == Some("Deleted_Internal"),
            model_id: meta_text(&meta, "model_id").filter(|m| !m.is_empty()),
            storage_location: meta_text(&meta, "storage_location").filter(|m| !m.is_empty()),
            broken,
        }))
    }

    /// Files under `dir` as key → content (one `what`: param, tag, metric, alias); keys with `/`
    /// are sub-folders (MLflow's layout). Read only inside the store (see [`files_under`]); a
    /// file that does not read and an empty folder are notes.
    fn key_files(&mut self, dir: &Path, what: &str) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let files = self.or_note(
            files_under(dir, self.roots),
            &format!("the {what}s in it are skipped"),
        )?;
        let Some(files) = files else {
            return Ok(out);
        };
        for (key, path) in files {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if size > MAX_STORE_FILE {
                bail!(
                    "{}: {size} bytes, more than the {MAX_STORE_FILE} bytes import reads from one tag, param or metric file",
                    path.display()
                );
            }
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    out.insert(key, text);
                }
                Err(e) => self.notes.push(format!(
                    "{}: cannot be read ({e}), expected the text of {what} `{key}`; it is skipped",
                    path.display()
                )),
            }
        }
        self.empty_folders(dir, what)?;
        Ok(out)
    }

    /// A note for each empty folder under `dir` (a `what` MLflow writes as a file, found as a
    /// folder with nothing in it).
    fn empty_folders(&mut self, dir: &Path, what: &str) -> Result<()> {
        for sub in self.sub_dirs(dir)? {
            let empty = std::fs::read_dir(&sub).is_ok_and(|mut rd| rd.next().is_none());
            if empty {
                self.notes.push(format!(
                    "{}: an empty folder, expected a file holding the value of {what} `{}`; it is skipped",
                    sub.display(),
                    file_name(&sub)
                ));
            } else {
                self.empty_folders(&sub, what)?;
            }
        }
        Ok(())
    }

    /// The latest value of each metric file in `dir` (see [`latest_metric`]).
    fn latest_metrics(&mut self, dir: &Path) -> Result<BTreeMap<String, f64>> {
        let mut metrics = BTreeMap::new();
        for (key, text) in self.key_files(dir, "metric")? {
            let file = dir.join(&key);
            if let Some(v) = latest_metric(&text, &file, &mut self.notes) {
                metrics.insert(key, v);
            } else if text.trim().is_empty() {
                self.notes.push(format!(
                    "{}: empty, expected `<timestamp> <value> <step>` lines; metric `{key}` is skipped",
                    file.display()
                ));
            }
        }
        Ok(metrics)
    }

    /// An experiment's `datasets/<id>/meta.yaml`: id → dataset.
    fn datasets(&mut self, dir: &Path) -> Result<BTreeMap<String, DatasetInput>> {
        let mut out = BTreeMap::new();
        for d in self.sub_dirs(dir)? {
            let Some(meta) = self.meta(
                &d,
                "a dataset's meta.yaml (name, digest, source)",
                &format!("dataset {} is skipped", file_name(&d)),
            )?
            else {
                continue;
            };
            let field = |key| meta_text(&meta, key).filter(|x| !x.is_empty());
            let (Some(name), Some(digest), Some(source)) =
                (field("name"), field("digest"), field("source"))
            else {
                self.notes.push(format!(
                    "{}: no `name`, `digest` or `source`, expected a dataset's meta.yaml (name, digest, source); dataset {} is skipped",
                    d.join("meta.yaml").display(),
                    file_name(&d)
                ));
                continue;
            };
            out.insert(
                file_name(&d),
                DatasetInput {
                    name,
                    digest,
                    source: dataset_source(&source),
                    context: None,
                },
            );
        }
        Ok(out)
    }

    /// A run's `inputs/<id>/meta.yaml`: the datasets it used, by the order of their ids. An
    /// input whose dataset is not in the experiment's `datasets/` is a note.
    fn inputs(
        &mut self,
        dir: &Path,
        datasets: &BTreeMap<String, DatasetInput>,
    ) -> Result<Vec<DatasetInput>> {
        let mut out = Vec::new();
        for d in self.sub_dirs(dir)? {
            let Some(meta) = self.meta(
                &d,
                "an input's meta.yaml (source_type, source_id, tags)",
                "the input is skipped",
            )?
            else {
                continue;
            };
            if meta_text(&meta, "source_type").as_deref() != Some("DATASET") {
                continue;
            }
            let id = meta_text(&meta, "source_id").unwrap_or_default();
            let Some(ds) = datasets.get(&id) else {
                self.notes.push(format!(
                    "{}: dataset `{id}` is not in the experiment's datasets/, expected the dataset the run used; the input is skipped",
                    d.join("meta.yaml").display()
                ));
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
}

/// The `meta.yaml` of `dir`, read inside `roots`: a mapping of fields, or an error naming it.
fn meta_yaml(dir: &Path, roots: &[PathBuf]) -> Result<Value> {
    let path = dir.join("meta.yaml");
    let meta = yaml_file(&path, roots)?;
    if !meta.is_object() {
        bail!("{}: not a mapping of fields", path.display());
    }
    Ok(meta)
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

/// The latest value of a metric file: the point with the highest (step, timestamp, value). A
/// line that is not `<timestamp> <value> <step> …` is a note naming the file and line, and is
/// passed over.
fn latest_metric(text: &str, file: &Path, notes: &mut Vec<String>) -> Option<f64> {
    let mut best: Option<(i64, i64, f64)> = None;
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let ts = f[0].parse::<i64>();
        let v = f.get(1).map(|x| x.parse::<f64>());
        let step = f.get(2).map_or(Ok(0), |x| x.parse::<i64>());
        let (Ok(ts), Some(Ok(v)), Ok(step)) = (ts, v, step) else {
            notes.push(format!(
                "{}:{}: `{line}`, expected `<timestamp> <value> <step>` (whole milliseconds, a number, a whole step); the line is skipped",
                file.display(),
                i + 1
            ));
            continue;
        };
        let key = (step, ts, v);
        if best.is_none_or(|b| later(key, b)) {
            best = Some(key);
        }
    }
    best.map(|b| b.2)
}
