//! Lineage: from a prediction (found in batch outputs or the served prediction log by its
//! `prediction_id`) or a version back
//! through the model version, the alias it held when it scored, the training run, the dataset
//! snapshot and its digest, the raw data, the pipeline and the code commit.

use crate::audit::Action;
use crate::registry::Registry;
use crate::registry::types::ModelName;
use anyhow::{Context, Result, bail};
use polars::prelude::{DataType, col, lit};
use serde::Serialize;
use std::path::Path;

/// A prediction found in an output file.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// Its id.
    pub prediction_id: String,
    /// The file it is in.
    pub file: String,
    /// Its score.
    pub score: f64,
    /// When it was scored (RFC 3339).
    pub scored_at: String,
    /// The artifact digest recorded with it.
    pub artifact_sha256: String,
    /// The alias it was served as (served predictions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Whether it was scored in shadow, logged but not returned (served predictions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<bool>,
}

/// The chain of one version (and optionally one prediction).
#[derive(Clone, Debug, Serialize)]
pub struct Chain {
    /// The prediction, when asked by prediction id.
    pub prediction: Option<Prediction>,
    /// The model.
    pub model: String,
    /// The version.
    pub version: u32,
    /// Aliases the version held when the prediction was made (from the audit log).
    pub aliases_at_scoring: Vec<String>,
    /// Aliases it holds now.
    pub aliases_now: Vec<String>,
    /// Lifecycle stage now.
    pub stage: String,
    /// The artifact.
    pub artifact: serde_json::Value,
    /// The training run, dataset, raw data, pipeline, code and environment.
    pub training: serde_json::Value,
}

/// The chain of a version.
pub fn of_version(reg: &Registry, model: &str, version: u32) -> Result<Chain> {
    let name = ModelName::new(model)?;
    let m = reg
        .models
        .get(&name)
        .with_context(|| format!("there is no model `{model}` in this registry"))?;
    let v = m
        .versions
        .get(&version)
        .with_context(|| format!("{model} has no version {version}"))?;
    let aliases_now: Vec<String> = m
        .aliases
        .iter()
        .filter(|(_, t)| t.value == version)
        .map(|(a, _)| a.to_string())
        .collect();
    let stage = if let Some(a) = aliases_now.first() {
        a.clone()
    } else if v.spec.deleted_at.is_some() {
        "deleted".into()
    } else if v.spec.archived_at.is_some() {
        "archived".into()
    } else {
        "staging".into()
    };
    Ok(Chain {
        prediction: None,
        model: model.to_string(),
        version,
        aliases_at_scoring: Vec::new(),
        aliases_now,
        stage,
        artifact: serde_json::to_value(&v.spec.artifact)?,
        training: serde_json::to_value(&v.spec.training)?,
    })
}

/// The aliases that pointed at `version` of `model` at an instant, replayed from the audit log.
pub fn aliases_at(
    reg: &Registry,
    model: &str,
    version: u32,
    at: chrono::DateTime<chrono::Utc>,
) -> Vec<String> {
    let mut holders: std::collections::BTreeMap<String, Option<u32>> = Default::default();
    for e in reg.audit.entries() {
        if e.model.as_deref() != Some(model) || e.at.at > at {
            continue;
        }
        let Some(alias) = &e.alias else { continue };
        match e.action {
            Action::Promote => {
                holders.insert(alias.clone(), e.version);
            }
            Action::Demote => {
                holders.insert(alias.clone(), None);
            }
            _ => {}
        }
    }
    holders
        .into_iter()
        .filter(|(_, v)| *v == Some(version))
        .map(|(a, _)| a)
        .collect()
}

/// Finds a prediction by id in output files (a path or glob).
pub fn find(pattern: &str, base: &Path, id: &str) -> Result<(Prediction, String, u32)> {
    let files = crate::monitor::data::expand(pattern, base)?;
    match find_in(&files, id)? {
        Some(found) => Ok(found),
        None => bail!("no prediction `{id}` in {pattern}"),
    }
}

/// Finds a prediction by id in every model's prediction log: the files its
/// `monitoring.predictions` (else `monitoring.current`) names under `root`, where `batch --log`
/// and `modelgate serve` write, and the served log's `shadow/` folder beside them.
pub fn find_in_registry(
    reg: &Registry,
    root: &Path,
    id: &str,
) -> Result<(Prediction, String, u32)> {
    let mut searched = Vec::new();
    for m in reg.models.values() {
        let Some(mon) = m.spec.as_ref().and_then(|s| s.monitoring.as_ref()) else {
            continue;
        };
        let log = mon.inference_log();
        let folder = Path::new(log).parent().unwrap_or(Path::new(""));
        let shadow = folder
            .join(crate::serve::predlog::SHADOW_DIR)
            .join("*.parquet");
        for pattern in [log.to_string(), shadow.to_string_lossy().replace('\\', "/")] {
            // A log not written yet has no files: nothing to search. Files that are there are
            // read as the registry reads what it names (inside the repository, no links).
            if crate::monitor::data::expand(&pattern, root).is_err() {
                continue;
            }
            let files = crate::monitor::data::expand_in_repository(&pattern, root)?;
            if let Some(found) = find_in(&files, id)? {
                return Ok(found);
            }
            searched.push(pattern);
        }
    }
    if searched.is_empty() {
        bail!(
            "no prediction `{id}`: no model's prediction log has files yet (pass --in PATH|GLOB to search batch outputs)"
        );
    }
    bail!(
        "no prediction `{id}` in the prediction logs ({}); pass --in PATH|GLOB to search other batch outputs",
        searched.join(", ")
    )
}

/// The first of `files` that holds the prediction.
fn find_in(files: &[std::path::PathBuf], id: &str) -> Result<Option<(Prediction, String, u32)>> {
    for file in files {
        let lf = crate::monitor::data::scan_file(file)?;
        let mut schema_lf = lf.clone();
        let schema = schema_lf
            .collect_schema()
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        if schema.get("prediction_id").is_none() {
            continue;
        }
        let df = lf
            .filter(col("prediction_id").eq(lit(id)))
            .collect()
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        if df.height() == 0 {
            continue;
        }
        let optional = |c: &str| -> Result<Option<String>> {
            let Ok(column) = df.column(c) else {
                return Ok(None);
            };
            let s = column.as_materialized_series().cast(&DataType::String)?;
            Ok(s.str()?.get(0).map(str::to_string))
        };
        let get = |c: &str| -> Result<String> {
            if df.column(c).is_err() {
                bail!(
                    "{} has no `{c}` column: not a modelgate batch output",
                    file.display()
                );
            }
            Ok(optional(c)?.unwrap_or_default())
        };
        let version: u32 = get("version")?.parse().unwrap_or(0);
        let scored = get("scored_at")?;
        return Ok(Some((
            Prediction {
                prediction_id: id.to_string(),
                file: file.to_string_lossy().into_owned(),
                score: get("score")?.parse().unwrap_or(f64::NAN),
                scored_at: scored,
                artifact_sha256: get("artifact_sha256")?,
                alias: optional("alias")?,
                shadow: optional("shadow")?.map(|s| s == "true"),
            },
            get("model")?,
            version,
        )));
    }
    Ok(None)
}

/// Text rendering of a chain.
pub fn text(c: &Chain) -> String {
    let t = &c.training;
    let s = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    };
    let mut out = String::new();
    if let Some(p) = &c.prediction {
        let served = match (&p.alias, p.shadow) {
            (Some(a), Some(true)) => format!(", {a} in shadow"),
            (Some(a), _) => format!(", served as {a}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "prediction {} (score {:.6}, scored {}{served}) in {}\n  → ",
            p.prediction_id, p.score, p.scored_at, p.file
        ));
    }
    let at_scoring = if c.prediction.is_some() {
        format!(
            ", {} when it scored",
            if c.aliases_at_scoring.is_empty() {
                "no alias".to_string()
            } else {
                c.aliases_at_scoring.join("+")
            }
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "model {} v{} ({} now{at_scoring})\n",
        c.model, c.version, c.stage
    ));
    out.push_str(&format!(
        "  → artifact {} (sha256 {})\n",
        s(&c.artifact["uri"]),
        s(&c.artifact["sha256"])
    ));
    out.push_str(&format!(
        "  → training run {} (experiment {}, seed {})\n",
        s(&t["run_id"]),
        s(&t["experiment"]),
        s(&t["random_seed"])
    ));
    out.push_str(&format!(
        "  → dataset {} (snapshot {}, sha256 {}, {} rows)\n",
        s(&t["dataset"]["uri"]),
        s(&t["dataset"]["snapshot"]),
        s(&t["dataset"]["sha256"]),
        s(&t["dataset"]["rows"])
    ));
    out.push_str(&format!("  → raw data {}\n", s(&t["raw_data"])));
    out.push_str(&format!("  → pipeline {}\n", s(&t["pipeline"])));
    out.push_str(&format!(
        "  → code commit {} ({})\n",
        s(&t["git_commit"]),
        s(&t["code_version"])
    ));
    out
}
