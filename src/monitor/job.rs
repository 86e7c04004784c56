//! The registry drift job: for a model, read its reference and current data as `model.yaml`
//! says, compute data, prediction and concept drift for its champion, and write the result to
//! `monitoring/<date>.yaml` with a `drift` audit entry — both files or neither.

use super::data::{self, Kind, Request};
use super::drift::{self, ColumnDrift, Options, Report, Rows};
use super::metrics;
use crate::audit::{Action, NewEntry};
use crate::registry::number::{self, yaml as num};
use crate::registry::schema::{FeatureType, MonitoringConcept};
use crate::registry::types::{Alias, Timestamp};
use crate::registry::{Model, Registry};
use crate::yaml::write::string as yaml_str;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::Path;

/// Concept drift: the primary metric on labelled current rows vs the version's recorded value.
#[derive(Clone, Debug, Serialize)]
pub struct Concept {
    /// What the monitoring result stores: metric, rows, current, recorded, drop, drifted.
    #[serde(flatten)]
    pub result: MonitoringConcept,
    /// Why it could not be computed, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One file read, with its digest.
#[derive(Clone, Debug, Serialize)]
pub struct FileDigest {
    /// Repository-relative path.
    pub file: String,
    /// sha256.
    pub sha256: String,
}

/// What the job found for one model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelDrift {
    /// The model.
    pub model: String,
    /// The champion monitored.
    pub version: u32,
    /// The day of the result (the last day of the data window).
    pub date: String,
    /// The window of current data: first and last timestamp.
    pub window: Option<(String, String)>,
    /// Data drift over the features.
    pub data: Report,
    /// Prediction drift (the score column).
    pub prediction: Option<ColumnDrift>,
    /// Concept drift.
    pub concept: Option<Concept>,
    /// The files read.
    pub inputs: Vec<FileDigest>,
    /// What was not computed, and why (prediction or concept drift without the columns).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The monitoring file (written unless dry-run).
    pub file: String,
}

/// Settings of the job.
#[derive(Clone, Debug)]
pub struct JobOptions {
    /// Test options (method, threshold, correction, min effect). Severities come from policy.
    pub drift: Options,
    /// Allowed drop of the primary metric before concept drift.
    pub concept_drop: f64,
    /// The date to write under (default: the last day in the data window).
    pub date: Option<String>,
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Runs the job for one model (no writing; see [`files`]).
pub fn run(reg: &Registry, root: &Path, m: &Model, opts: &JobOptions) -> Result<ModelDrift> {
    let name = m.name.as_str();
    let spec = m
        .spec
        .as_ref()
        .with_context(|| format!("{name}: model.yaml does not parse; run `modelgate validate`"))?;
    let mon = spec
        .monitoring
        .as_ref()
        .with_context(|| format!("{name}: model.yaml has no `monitoring:` section"))?;
    let Some(champion) = m.aliases.get(&Alias::Champion).map(|v| v.value) else {
        bail!("{name} has no champion to monitor");
    };
    let version = m
        .versions
        .get(&champion)
        .with_context(|| format!("{name}: champion v{champion} does not exist"))?;
    let score_col = mon.score.clone().unwrap_or_else(|| "score".into());
    let features: Vec<(String, Kind)> = spec
        .features
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                match f.kind {
                    FeatureType::Numerical => Kind::Numerical,
                    FeatureType::Categorical => Kind::Categorical,
                },
            )
        })
        .collect();
    if features.is_empty() {
        bail!("{name}: model.yaml lists no features to monitor");
    }
    let mut columns: Vec<String> = features.iter().map(|f| f.0.clone()).collect();
    // The data model.yaml names: inside the repository, plain files only.
    data::expand_in_repository(&mon.reference, root)
        .with_context(|| format!("{name}: reference data"))?;
    let current_files = data::expand_in_repository(&mon.current, root)
        .with_context(|| format!("{name}: current data"))?;
    refuse_mixed_logs(root, &mon.current.value, &current_files)
        .with_context(|| format!("{name}: {}/model.yaml `monitoring.current`", m.dir))?;
    let mut notes = Vec::new();
    let reference = data::read(
        &mon.reference,
        root,
        &Request {
            columns: columns.clone(),
            ..Default::default()
        },
    )
    .with_context(|| format!("{name}: reference data"))?;
    let ref_has_score = data::column_names(&mon.reference, root)?.contains(&score_col);
    // Read the current data with the score and the label, when present.
    let current_names =
        data::column_names(&mon.current, root).with_context(|| format!("{name}: current data"))?;
    let has = |c: &str| current_names.iter().any(|n| n == c);
    if has(&score_col) {
        columns.push(score_col.clone());
    }
    let label = spec.label.clone().filter(|l| has(l));
    if let Some(l) = &label {
        columns.push(l.clone());
    }
    let current = data::read(
        &mon.current,
        root,
        &Request {
            columns,
            since: None,
            last_days: match (&mon.timestamp, mon.window_days) {
                (Some(ts), Some(days)) => Some((ts.clone(), days)),
                _ => None,
            },
        },
    )
    .with_context(|| format!("{name}: current data"))?;
    if current.frame.height() == 0 {
        bail!("{name}: the current data window is empty");
    }
    let mut pairs = Vec::new();
    for (f, kind) in &features {
        pairs.push((
            data::column(&reference.frame, f, Some(*kind))?,
            data::column(&current.frame, f, Some(*kind))?,
        ));
    }
    let data_report = drift::report(
        &pairs,
        Rows {
            reference: reference.frame.height() as u64,
            current: current.frame.height() as u64,
        },
        &opts.drift,
    )
    .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let score_key = if mon.score.is_some() {
        "`monitoring.score`"
    } else {
        "the default score column; set `monitoring.score` to name another"
    };
    if !ref_has_score {
        notes.push(format!(
            "prediction drift not computed: the reference data {} has no score column `{score_col}` ({score_key})",
            mon.reference.value
        ));
    } else if !has(&score_col) {
        notes.push(format!(
            "prediction drift not computed: the current data has no score column `{score_col}` ({score_key}); unscored inputs can be scored with `batch --log`"
        ));
    }
    match (&spec.label, &label) {
        (Some(l), None) => notes.push(format!(
            "concept drift not computed: the current data has no label column `{l}`"
        )),
        (Some(_), Some(_)) if !has(&score_col) => notes.push(format!(
            "concept drift not computed: the current data has labels but no score column `{score_col}`"
        )),
        _ => {}
    }
    let prediction = if ref_has_score && has(&score_col) {
        let r = data::read(
            &mon.reference,
            root,
            &Request {
                columns: vec![score_col.clone()],
                ..Default::default()
            },
        )?;
        Some(
            drift::column(
                &data::column(&r.frame, &score_col, Some(Kind::Numerical))?,
                &data::column(&current.frame, &score_col, Some(Kind::Numerical))?,
                opts.drift.method,
                opts.drift.threshold,
            )
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?,
        )
    } else {
        None
    };
    let policy = reg.policy.clone().unwrap_or_default();
    let eff = crate::registry::policy::effective(&policy, spec.policy.as_ref());
    let metric = eff
        .gates
        .get(&Alias::Champion)
        .and_then(|g| g.primary_metric.as_ref())
        .map(|m| m.value.clone())
        .unwrap_or_else(|| "roc_auc".into());
    let concept = match &label {
        Some(l) if has(&score_col) => {
            let (labels, scores, _) = data::labels_and_scores(&current.frame, l, &score_col)?;
            let recorded = version.spec.metrics.get(&metric).map(|v| v.value);
            let ev = metrics::evaluate(&labels, &scores, 0.5);
            // As it is stored; the drop is computed from the stored numbers.
            let now = ev.metrics.get(&metric).copied().map(number::stored);
            let drop = recorded.zip(now).map(|(r, c)| number::difference(r, c));
            let note = if labels.is_empty() {
                Some("no labelled rows in the window".to_string())
            } else if now.is_none() {
                Some(format!(
                    "{metric} is undefined on the labelled rows (one class only)"
                ))
            } else if recorded.is_none() {
                Some(format!("v{champion} records no {metric}"))
            } else {
                None
            };
            Some(Concept {
                result: MonitoringConcept {
                    metric,
                    rows: labels.len() as u64,
                    current: now,
                    recorded,
                    drop,
                    drifted: drop.is_some_and(|d| d > opts.concept_drop),
                },
                note,
            })
        }
        _ => None,
    };
    let mut inputs = Vec::new();
    for f in reference.files.iter().chain(&current.files) {
        inputs.push(FileDigest {
            file: rel(root, f),
            sha256: data::file_sha256(f)?.hex(),
        });
    }
    let window = match &mon.timestamp {
        Some(ts) => window_of(&current.frame, ts),
        None => None,
    };
    let date = match (&opts.date, &window) {
        (Some(d), _) => d.clone(),
        (None, Some((_, last))) => last[..10].to_string(),
        (None, None) => {
            bail!("{name}: no timestamp column to date the result; pass --date YYYY-MM-DD")
        }
    };
    if chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err() {
        bail!("`{date}` is not a date: expected YYYY-MM-DD");
    }
    let file = format!("{}/monitoring/{date}.yaml", m.dir);
    Ok(ModelDrift {
        model: name.to_string(),
        version: champion,
        file,
        date,
        window,
        data: data_report,
        prediction,
        concept,
        inputs,
        notes,
    })
}

/// Refuses current data that mixes `batch` output (scored copies of input rows) with other
/// files: scoring the inputs in the folder the drift job reads would count each row twice.
fn refuse_mixed_logs(root: &Path, pattern: &str, files: &[std::path::PathBuf]) -> Result<()> {
    let mut scored = Vec::new();
    for f in files {
        if super::data::is_scored_output(f)? {
            scored.push(rel(root, f));
        }
    }
    if scored.is_empty() || scored.len() == files.len() {
        return Ok(());
    }
    bail!(
        "`{pattern}` matches {} files written by `batch` ({}) and {} other files: the rows batch scored would be counted twice. Keep the scored log apart — set `monitoring.predictions` (e.g. data/<model>/predictions/*.parquet) so `batch --log` writes there, and move these files into it — or point `monitoring.current` at the scored log alone",
        scored.len(),
        scored.join(", "),
        files.len() - scored.len()
    )
}

fn window_of(frame: &polars::prelude::DataFrame, ts: &str) -> Option<(String, String)> {
    use polars::prelude::{DataType, TimeUnit};
    let s = frame.column(ts).ok()?.as_materialized_series();
    let s = s
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
        .ok()?
        .to_physical_repr()
        .into_owned();
    let v: Vec<i64> = s.i64().ok()?.iter().flatten().collect();
    let fmt = |m: i64| {
        chrono::DateTime::from_timestamp_micros(m)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    Some((fmt(*v.iter().min()?), fmt(*v.iter().max()?)))
}

/// The monitoring file's YAML, computed at `at`.
pub fn yaml(r: &ModelDrift, at: &Timestamp) -> String {
    let mut s = crate::registry::json_schema::with_modeline(&r.file, "");
    s.push_str(&format!(
        "# Written and signed by `modelgate drift`. The drift gate reads `version`, `computed_at` and `severity`.\nmodel: {}\nversion: {}\ndate: {}\ncomputed_at: {}\n",
        r.model, r.version, r.date, at.raw
    ));
    if let Some((a, b)) = &r.window {
        s.push_str(&format!("window: {{from: {a}, to: {b}}}\n"));
    }
    s.push_str(&format!(
        "rows: {{reference: {}, current: {}}}\ndrift_share: {}\ndataset_drift: {}\nseverity: {}\n",
        r.data.rows.reference,
        r.data.rows.current,
        num(r.data.drift_share),
        r.data.dataset_drift,
        r.data.severity
    ));
    s.push_str("columns:\n");
    for c in &r.data.columns {
        s.push_str(&format!(
            "  - {{column: {}, kind: {}, method: {}, threshold: {}, score: {}, drifted: {}}}\n",
            yaml_str(&c.column),
            match c.kind {
                Kind::Numerical => "numerical",
                Kind::Categorical => "categorical",
            },
            c.method.as_str(),
            num(c.threshold),
            num(c.score),
            c.drifted
        ));
    }
    if let Some(p) = &r.prediction {
        s.push_str(&format!(
            "prediction: {{column: {}, method: {}, threshold: {}, score: {}, drifted: {}}}\n",
            yaml_str(&p.column),
            p.method.as_str(),
            num(p.threshold),
            num(p.score),
            p.drifted
        ));
    }
    if let Some(Concept { result: c, .. }) = &r.concept {
        let opt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "null".into());
        s.push_str(&format!(
            "concept: {{metric: {}, rows: {}, current: {}, recorded: {}, drop: {}, drifted: {}}}\n",
            c.metric,
            c.rows,
            opt(c.current),
            opt(c.recorded),
            opt(c.drop),
            c.drifted
        ));
    }
    s.push_str("inputs:\n");
    for i in &r.inputs {
        s.push_str(&format!(
            "  - {{file: {}, sha256: {}}}\n",
            yaml_str(&i.file),
            i.sha256
        ));
    }
    s
}

/// Whether a result for this model and day exists. Merged results are evidence: a new run
/// never replaces one (rows dated to land on an existing result's day would otherwise overwrite
/// a real alert), and [`files`] leaves such a result out.
pub fn already_recorded(reg: &Registry, r: &ModelDrift) -> bool {
    reg.models
        .values()
        .any(|m| m.monitoring.iter().any(|f| f == &r.file))
}

/// The files the job writes: each monitoring result with its detached signature (namespace
/// `modelgate-monitoring`, by the job's key), and the audit log with its `drift` entries.
/// Without a key the results are written unsigned, and the drift gate will not trust them.
/// A result whose day is already recorded is left out ([`already_recorded`]).
pub fn files(
    reg: &Registry,
    results: &[ModelDrift],
    actor: &str,
    at: &Timestamp,
    key: Option<&ssh_key::PrivateKey>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let results: Vec<&ModelDrift> = results
        .iter()
        .filter(|r| !already_recorded(reg, r))
        .collect();
    for r in &results {
        let text = yaml(r, at);
        if let Some(key) = key {
            let sig = crate::signing::sign(key, super::evidence::NAMESPACE, text.as_bytes())
                .context("signing the monitoring result")?;
            out.push((super::evidence::signature_path(&r.file), sig.into_bytes()));
        }
        out.push((r.file.clone(), text.into_bytes()));
    }
    let entries: Vec<NewEntry> = results
        .iter()
        .map(|r| {
            NewEntry::new(Action::Drift, actor, at)
                .version(&r.model, r.version)
                .alias(Alias::Champion)
                .details(serde_json::json!({
                    "severity": r.data.severity,
                    "drift_share": number::stored(r.data.drift_share),
                    "file": r.file,
                }))
        })
        .collect();
    if !entries.is_empty() {
        out.push((
            crate::audit::AUDIT_PATH.to_string(),
            crate::audit::append(&reg.audit, &reg.audit_text, entries).into_bytes(),
        ));
    }
    Ok(out)
}
