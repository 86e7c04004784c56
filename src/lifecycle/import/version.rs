//! One MLflow model version as a modelgate version: its run and artifact found and checked
//! ([`prepare`]), compared with what an earlier import wrote ([`changes`]), or written as
//! `versions/v<N>.yaml` with the details of its audit entry ([`render`]).

use super::artifact::{Found, artifact_in, digest_of, local_path};
use super::{DatasetInput, LoggedModel, MlModel, MlVersion, Run, Store};
use crate::registry::VersionEntry;
use crate::registry::schema::ArtifactFormat;
use crate::registry::types::{Sha256, Timestamp};
use crate::registry::version_yaml::{self, FileRef, NewVersion, Training};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;

/// One version, as MLflow knows it, ready to be written.
pub(super) struct Prepared<'s> {
    /// The run that made it.
    pub(super) run: &'s Run,
    pub(super) run_id: String,
    pub(super) format: ArtifactFormat,
    /// The artifact's sha256 (hex).
    pub(super) sha: String,
    pub(super) found: Found,
    /// Finite metrics, as stored numbers.
    pub(super) metrics: BTreeMap<String, f64>,
    /// What MLflow records of it that is not recorded (a metric whose latest value is NaN, a
    /// `requirements.txt` that does not read), each saying why.
    pub(super) notes: Vec<String>,
}

/// The logged model a version was registered from (`models:/m-<id>`, or its `model_id`).
fn logged_model_of<'s>(v: &MlVersion, store: &'s Store) -> Option<&'s LoggedModel> {
    v.source
        .strip_prefix("models:/")
        .map(|id| id.trim_end_matches('/'))
        .or(v.model_id.as_deref())
        .and_then(|id| store.logged_models.get(id))
}

/// The id of the logged model a version was registered from (its `model_id`, or its
/// `models:/m-<id>` source), whether or not the store has it.
fn logged_model_id(v: &MlVersion) -> Option<String> {
    v.model_id.clone().or_else(|| {
        v.source
            .strip_prefix("models:/")
            .map(|id| id.trim_end_matches('/').to_string())
    })
}

/// A metric or param name modelgate can use: letters, digits, `_`, `.`, `-`.
fn usable_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

/// A version's run and artifact, or why it cannot be imported.
pub(super) fn prepare<'s>(v: &MlVersion, store: &'s Store) -> Result<Prepared<'s>> {
    if let Some(why) = &v.broken {
        bail!("{why}");
    }
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
    let mut notes = found.notes.clone();
    notes.extend(all.iter().filter(|(_, x)| !x.is_finite()).map(|(k, x)| {
        format!(
            "the latest value of metric `{k}` is {x}, expected a number modelgate can record; the version is imported without it"
        )
    }));
    Ok(Prepared {
        run,
        run_id,
        format: found.format,
        sha,
        found,
        metrics,
        notes,
    })
}

/// How an imported version differs from what MLflow holds now (empty: it does not).
pub(super) fn changes(e: &VersionEntry, p: &Prepared) -> Vec<String> {
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

/// A version's file, and what is said of it.
pub(super) struct Rendered {
    /// `versions/v<N>.yaml`.
    pub(super) yaml: String,
    /// How many hyperparameters it records.
    pub(super) n_params: usize,
    /// The details of its `register` audit entry.
    pub(super) details: serde_json::Map<String, Value>,
}

/// Writes version `v` of MLflow model `m` as the file `file`, its artifact recorded at `uri`;
/// `actor` is its author when MLflow names none.
pub(super) fn render(
    m: &MlModel,
    v: &MlVersion,
    p: &Prepared,
    store: &Store,
    uri: String,
    actor: &str,
    file: String,
) -> Result<Rendered> {
    let run = p.run;
    let params = hyperparameters(v, run, store);
    let logged_model = logged_model_id(v);
    let mut tags = tags(v, run, &p.found, logged_model.as_deref());
    let dataset = training_dataset(&run.inputs).inspect(|d| {
        tags.insert("mlflow_dataset".into(), d.name.clone());
        tags.insert("mlflow_dataset_digest".into(), d.digest.clone());
    });
    tags.insert("imported_from".into(), "mlflow".into());
    let yaml = version_yaml::render(&NewVersion {
        file: Some(file),
        comment: Some(format!(
            "Imported from MLflow: {} version {}.",
            m.name, v.version
        )),
        version: v.version,
        created_at: timestamp_from_ms(v.created_ms).raw,
        created_by: created_by(v, run, actor),
        artifact: FileRef {
            uri,
            sha256: p.sha.clone(),
        },
        artifact_format: p.format,
        explainer: None,
        training: Training {
            run_id: Some(p.run_id.clone()),
            experiment: run.experiment.clone(),
            git_commit: git_commit(run),
            random_seed: random_seed(&params),
            dataset: dataset.map(|d| version_yaml::Dataset {
                file: FileRef {
                    uri: d.source.clone(),
                    sha256: String::new(),
                },
                snapshot: (!d.name.is_empty()).then(|| d.name.clone()),
                rows: None,
            }),
            environment: p.found.env.clone(),
            ..Default::default()
        },
        hyperparameters: params
            .iter()
            .map(|(k, x)| (k.clone(), crate::lifecycle::register::param_value(x)))
            .collect(),
        metrics: p.metrics.clone(),
        bias: BTreeMap::new(),
        tags,
    })
    .with_context(|| format!("{} v{}", m.name, v.version))?;
    let mut details = serde_json::Map::new();
    details.insert("source".into(), "mlflow".into());
    details.insert("mlflow_model".into(), m.name.clone().into());
    details.insert("run_id".into(), p.run_id.clone().into());
    if let Some(id) = &logged_model {
        details.insert("mlflow_model_id".into(), id.clone().into());
    }
    details.insert("artifact_sha256".into(), p.sha.clone().into());
    details.insert(
        "version_sha256".into(),
        Sha256::of(yaml.as_bytes()).hex().into(),
    );
    Ok(Rendered {
        yaml,
        n_params: params.len(),
        details,
    })
}

/// An MLflow time (ms since the epoch) as a timestamp (now, when it is out of range).
fn timestamp_from_ms(ms: i64) -> Timestamp {
    Timestamp::from_utc(
        chrono::DateTime::from_timestamp_millis(ms).unwrap_or_else(chrono::Utc::now),
    )
}

/// Who made the version: its MLflow user, else the run's (`mlflow.user`, then `user_id`), else
/// `actor`.
fn created_by(v: &MlVersion, run: &Run, actor: &str) -> String {
    v.user
        .clone()
        .filter(|u| !u.is_empty())
        .or_else(|| run.tags.get("mlflow.user").cloned())
        .or_else(|| run.user.clone())
        .unwrap_or_else(|| actor.to_string())
}

/// The run's git commit (`mlflow.source.git.commit`), when it is a full sha1.
fn git_commit(run: &Run) -> Option<String> {
    run.tags
        .get("mlflow.source.git.commit")
        .filter(|c| c.len() == 40 && c.chars().all(|x| x.is_ascii_hexdigit()))
        .map(|c| c.to_ascii_lowercase())
}

/// The run's params, and the logged model's own for names the run does not have.
fn hyperparameters(v: &MlVersion, run: &Run, store: &Store) -> BTreeMap<String, String> {
    let mut params = run.params.clone();
    if let Some(lm) = logged_model_of(v, store) {
        for (k, x) in &lm.params {
            params.entry(k.clone()).or_insert_with(|| x.clone());
        }
    }
    params
}

/// The random seed among the params (`random_seed`, `seed`, `random_state`), when one is a
/// whole number.
fn random_seed(params: &BTreeMap<String, String>) -> Option<u64> {
    ["random_seed", "seed", "random_state"]
        .iter()
        .find_map(|k| params.get(*k).and_then(|v| v.parse::<u64>().ok()))
}

/// The version's tags: the run's own (not `mlflow.*`), the version's, and what modelgate
/// records of MLflow (description, run name, logged model, flavors).
fn tags(
    v: &MlVersion,
    run: &Run,
    found: &Found,
    logged_model: Option<&str>,
) -> BTreeMap<String, String> {
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
    if let Some(id) = logged_model {
        tags.insert("mlflow_model_id".into(), id.to_string());
    }
    if !found.flavors.is_empty() {
        tags.insert("mlflow_flavors".into(), found.flavors.join(","));
    }
    tags
}

/// The training dataset: the first `training` input (else the first input), by name, digest
/// and source; none when it has no source.
fn training_dataset(inputs: &[DatasetInput]) -> Option<&DatasetInput> {
    let mut inputs: Vec<&DatasetInput> = inputs.iter().collect();
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
    inputs.first().copied().filter(|d| !d.source.is_empty())
}
