//! `register`: a new version of a model, with everything needed to reproduce it.
//!
//! The plan is computed first and checked completely — the artifact opens in ONNX Runtime and
//! its input matches the model's features, the digests are streamed, the git state is read, the
//! metrics are computed, the new version file parses with the registry's own schema — and only
//! then are the version file and the audit log written, together, all or none.

use super::{Files, append_audit};
use crate::audit::{Action, NewEntry};
use crate::registry::Registry;
use crate::registry::types::{ModelName, Timestamp};
use crate::registry::version_yaml::{self, Dataset, Environment, FileRef, NewVersion, Training};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How to treat uncommitted changes in the code repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dirty {
    /// Refuse to register (the default): the commit would not reproduce the version.
    Refuse,
    /// Register and record `dirty: true`.
    Record,
}

/// Labelled data to compute metrics on.
#[derive(Clone, Debug)]
pub struct Evaluate {
    /// Path or glob of Parquet/CSV files.
    pub data: String,
    /// The 0/1 label column.
    pub label: String,
    /// Decision threshold for precision, recall and the fairness numbers.
    pub threshold: f64,
}

/// Everything `register` is told.
#[derive(Clone, Debug)]
pub struct Request {
    /// The model.
    pub model: ModelName,
    /// The ONNX artifact (a local file).
    pub artifact: PathBuf,
    /// The URI to record instead of the artifact's repository-relative path.
    pub artifact_uri: Option<String>,
    /// An explainer file.
    pub explainer: Option<PathBuf>,
    /// Metrics given by the user.
    pub metrics: BTreeMap<String, f64>,
    /// Hyperparameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The training dataset (a local file, hashed).
    pub dataset: Option<PathBuf>,
    /// The dataset's snapshot name.
    pub snapshot: Option<String>,
    /// Where the raw data came from.
    pub raw_data: Option<String>,
    /// The pipeline that made the dataset.
    pub pipeline: Option<String>,
    /// A requirements or lock file (`name==version` lines).
    pub requirements: Option<PathBuf>,
    /// The Python version.
    pub python: Option<String>,
    /// The container image.
    pub image: Option<String>,
    /// The random seed.
    pub seed: Option<u64>,
    /// The training run id.
    pub run_id: Option<String>,
    /// The experiment.
    pub experiment: Option<String>,
    /// The code version (a tag or release).
    pub code_version: Option<String>,
    /// The code repository whose commit is recorded (a folder inside it).
    pub code_dir: PathBuf,
    /// A commit to record instead of reading `code_dir`.
    pub git_commit: Option<String>,
    /// Uncommitted changes: refuse or record.
    pub dirty: Dirty,
    /// Compute metrics and bias numbers on labelled data.
    pub evaluate: Option<Evaluate>,
    /// Who registers.
    pub actor: String,
    /// When.
    pub at: Timestamp,
}

/// The plan: files to write and what to tell the user.
pub struct Plan {
    /// The new version number.
    pub version: u32,
    /// Files to write (the version file and the audit log).
    pub files: Files,
    /// Path of the new version file.
    pub version_file: String,
    /// One line per fact recorded, for the user.
    pub summary: Vec<String>,
}

/// Resolves a path given on the command line (relative to the current folder) and the text to
/// record for it in the registry: repository-relative when inside the root.
fn locate(root: &Path, given: &Path, what: &str, uri: Option<&str>) -> Result<(PathBuf, String)> {
    let abs = if given.is_absolute() {
        given.to_path_buf()
    } else {
        std::env::current_dir()?.join(given)
    };
    let meta = std::fs::metadata(&abs)
        .with_context(|| format!("the {what} {} cannot be read", given.display()))?;
    if !meta.is_file() {
        bail!("the {what} {} is not a file", given.display());
    }
    if let Some(u) = uri {
        return Ok((abs, u.to_string()));
    }
    let canon = abs.canonicalize()?;
    let root_c = root.canonicalize()?;
    match canon.strip_prefix(&root_c) {
        Ok(rel) => Ok((
            abs,
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
        )),
        Err(_) => bail!(
            "the {what} {} is outside the registry repository {}; copy it in, or pass --{}-uri with where it is stored (e.g. s3://…) so the registry can record it",
            given.display(),
            root.display(),
            if what == "artifact" {
                "artifact"
            } else {
                "dataset"
            }
        ),
    }
}

/// Packages pinned in a requirements or lock file: `name==version` lines (pip freeze,
/// requirements.txt, `uv pip compile`); comments, options and unpinned lines are skipped.
pub fn parse_requirements(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('-') {
            continue;
        }
        let line = line.split(';').next().unwrap_or("").trim();
        if let Some((name, version)) = line.split_once("==") {
            let name = name.split('[').next().unwrap_or(name).trim();
            let version = version.split_whitespace().next().unwrap_or("").trim();
            if !name.is_empty() && !version.is_empty() {
                out.insert(name.to_ascii_lowercase(), version.to_string());
            }
        }
    }
    out
}

/// The commit of the code repository holding `dir`, and whether it has uncommitted changes to
/// tracked files.
pub fn git_state(dir: &Path) -> Result<(String, bool)> {
    let repo = git2::Repository::discover(dir).with_context(|| {
        format!(
            "{} is not inside a git repository; pass --code-dir with the training code's repository, or --git-commit",
            dir.display()
        )
    })?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .with_context(|| format!("the repository at {} has no commit yet", dir.display()))?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(false).include_ignored(false);
    let dirty = repo
        .statuses(Some(&mut opts))
        .map(|s| !s.is_empty())
        .unwrap_or(false);
    Ok((head.id().to_string(), dirty))
}

/// Parses `k=v` into a hyperparameter value: integer, number, boolean, or string.
pub fn param_value(v: &str) -> serde_json::Value {
    if let Ok(i) = v.parse::<i64>() {
        return i.into();
    }
    if let Ok(f) = v.parse::<f64>() {
        if f.is_finite() {
            return serde_json::json!(f);
        }
    }
    match v {
        "true" => true.into(),
        "false" => false.into(),
        _ => v.into(),
    }
}

/// Metrics and bias numbers of the artifact on labelled data.
struct Evaluated {
    metrics: BTreeMap<String, f64>,
    bias: BTreeMap<String, crate::monitor::bias::Attribute>,
    rows: usize,
}

fn evaluate(
    root: &Path,
    model_bytes: &[u8],
    scorer: &mut crate::batch::runtime::Scorer,
    spec: &crate::registry::schema::ModelSpec,
    ev: &Evaluate,
) -> Result<Evaluated> {
    use crate::monitor::{bias, data, metrics};
    let _ = model_bytes;
    let features: Vec<crate::batch::Feature> = spec
        .features
        .iter()
        .map(crate::batch::Feature::from_spec)
        .collect();
    let mut columns: Vec<String> = features.iter().map(|f| f.name.clone()).collect();
    columns.push(ev.label.clone());
    for a in &spec.protected_attributes {
        if !columns.contains(a) {
            columns.push(a.clone());
        }
    }
    let cwd = std::env::current_dir()?;
    let base = if Path::new(&ev.data).is_absolute() || cwd.join(&ev.data).exists() {
        cwd
    } else {
        root.to_path_buf()
    };
    let t = data::read(
        &ev.data,
        &base,
        &data::Request {
            columns,
            ..Default::default()
        },
    )
    .with_context(|| format!("reading the evaluation data {}", ev.data))?;
    let scores = crate::batch::score_frame(scorer, &features, &t.frame, Path::new(&ev.data))?;
    let mut frame = t.frame.clone();
    frame
        .with_column(polars::prelude::Column::new(
            "__modelgate_score".into(),
            scores,
        ))
        .context("adding scores to the evaluation data")?;
    let (labels, scores, kept) = data::labels_scores_kept(&frame, &ev.label, "__modelgate_score")?;
    if labels.is_empty() {
        bail!("no row of {} has a label and a finite score", ev.data);
    }
    if !labels.iter().any(|l| *l) || labels.iter().all(|l| *l) {
        bail!(
            "the evaluation data {} holds only one class in `{}`; metrics such as ROC-AUC need both",
            ev.data,
            ev.label
        );
    }
    let e = metrics::evaluate(&labels, &scores, ev.threshold);
    let m = e.metrics;
    let mut b = BTreeMap::new();
    for a in &spec.protected_attributes {
        let groups: Vec<Option<String>> = data::strings(&frame, a)
            .with_context(|| {
                format!(
                    "the evaluation data has no usable column `{a}` (a protected attribute of {})",
                    spec.name.value
                )
            })?
            .into_iter()
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|(g, _)| g)
            .collect();
        let r = bias::attribute(a, &groups, &labels, &scores, ev.threshold, (1.0, 1.0));
        b.insert(a.clone(), r);
    }
    Ok(Evaluated {
        metrics: m,
        bias: b,
        rows: labels.len(),
    })
}

/// Plans registering a new version.
pub fn plan(reg: &Registry, root: &Path, req: &Request) -> Result<Plan> {
    let Some(model) = reg.models.get(&req.model) else {
        bail!(
            "there is no model `{}` in this registry; create it with `modelgate new {}`",
            req.model,
            req.model
        );
    };
    let Some(spec) = &model.spec else {
        bail!(
            "{}/model.yaml does not load; fix it first (`modelgate validate`)",
            model.dir
        );
    };
    let mut summary = Vec::new();
    let (artifact_path, artifact_uri) =
        locate(root, &req.artifact, "artifact", req.artifact_uri.as_deref())?;
    let bytes = std::fs::read(&artifact_path)
        .with_context(|| format!("reading {}", req.artifact.display()))?;
    let artifact_sha = crate::registry::types::Sha256::of(&bytes).hex();
    // Open the artifact and check its input against the features before anything is written.
    // ONNX Runtime is loaded first: a missing library is not the artifact's fault.
    crate::batch::runtime::environment()?;
    let mut scorer = crate::batch::runtime::Scorer::new(&bytes, 1).with_context(|| {
        format!(
            "{} is not a usable ONNX model (`register` and `register --evaluate` run ONNX artifacts only: convert a scikit-learn model with skl2onnx, an XGBoost or LightGBM model with onnxmltools; `import mlflow` records other MLflow flavors without running them)",
            req.artifact.display()
        )
    })?;
    let n = spec.features.len();
    match scorer.n_features {
        Some(k) if k != n => bail!(
            "{}: the model's input takes {k} features, but {}/model.yaml lists {n} ({}); re-export the model or fix the features",
            req.artifact.display(),
            model.dir,
            spec.features
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => {}
    }
    summary.push(format!(
        "artifact  {artifact_uri} (sha256 {}…, {} inputs checked against model.yaml)",
        &artifact_sha[..12],
        n
    ));
    let explainer = match &req.explainer {
        Some(p) => {
            let (abs, uri) = locate(root, p, "explainer", None)?;
            let sha = crate::monitor::data::file_sha256(&abs)?.hex();
            summary.push(format!("explainer {uri} (sha256 {}…)", &sha[..12]));
            Some((uri, sha))
        }
        None => None,
    };
    let dataset = match &req.dataset {
        Some(p) => {
            let (abs, uri) = locate(root, p, "dataset", None)?;
            let sha = crate::monitor::data::file_sha256(&abs)?.hex();
            let rows = crate::monitor::data::row_count(&abs).ok();
            summary.push(format!(
                "dataset   {uri} (sha256 {}…{})",
                &sha[..12],
                rows.map(|r| format!(", {r} rows")).unwrap_or_default()
            ));
            Some((uri, sha, rows))
        }
        None => None,
    };
    let (commit, dirty) = match &req.git_commit {
        Some(c) => {
            if c.len() != 40 || !c.chars().all(|ch| ch.is_ascii_hexdigit()) {
                bail!("--git-commit `{c}` is not a full commit id (40 hex digits)");
            }
            (c.to_ascii_lowercase(), false)
        }
        None => git_state(&req.code_dir)?,
    };
    if dirty && req.dirty == Dirty::Refuse {
        bail!(
            "the code repository at {} has uncommitted changes, so commit {} would not reproduce this version; commit them, or pass --allow-dirty to record `dirty: true`",
            req.code_dir.display(),
            &commit[..12]
        );
    }
    summary.push(format!(
        "code      commit {}{}",
        &commit[..12],
        if dirty { " (dirty)" } else { "" }
    ));
    let packages = match &req.requirements {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the requirements file {}", p.display()))?;
            let pk = parse_requirements(&text);
            if pk.is_empty() {
                bail!(
                    "{}: no pinned package (`name==version` lines) found",
                    p.display()
                );
            }
            summary.push(format!(
                "env       {} pinned packages from {}",
                pk.len(),
                p.display()
            ));
            pk
        }
        None => BTreeMap::new(),
    };
    let mut metrics = req.metrics.clone();
    let mut bias = BTreeMap::new();
    if let Some(ev) = &req.evaluate {
        let e = evaluate(root, &bytes, &mut scorer, spec, ev)?;
        for (k, v) in e.metrics {
            if metrics.contains_key(&k) {
                bail!(
                    "metric `{k}` is both given and computed from --evaluate; give one or the other"
                );
            }
            metrics.insert(k, v);
        }
        bias = e.bias;
        summary.push(format!(
            "evaluate  {} labelled rows of {}: {} metrics, bias for {}",
            e.rows,
            ev.data,
            metrics.len(),
            if bias.is_empty() {
                "no protected attribute".to_string()
            } else {
                bias.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        ));
    }
    for (k, v) in &metrics {
        if !v.is_finite() {
            bail!("metric `{k}` is {v}; expected a finite number");
        }
    }
    let version = model
        .versions
        .keys()
        .chain(model.broken_versions.iter())
        .max()
        .copied()
        .unwrap_or(0)
        + 1;
    let version_file = format!("{}/versions/v{version}.yaml", model.dir);

    let y = version_yaml::render(&NewVersion {
        file: Some(version_file.clone()),
        comment: None,
        version,
        created_at: req.at.raw.clone(),
        created_by: req.actor.clone(),
        artifact: FileRef {
            uri: artifact_uri,
            sha256: artifact_sha.clone(),
        },
        artifact_format: crate::registry::schema::ArtifactFormat::Onnx,
        explainer: explainer.map(|(uri, sha256)| FileRef { uri, sha256 }),
        training: Training {
            run_id: req.run_id.clone(),
            experiment: req.experiment.clone(),
            git_commit: Some(commit.clone()),
            dirty,
            code_version: req.code_version.clone(),
            random_seed: req.seed,
            dataset: dataset.map(|(uri, sha256, rows)| Dataset {
                file: FileRef { uri, sha256 },
                snapshot: req.snapshot.clone(),
                rows,
            }),
            raw_data: req.raw_data.clone(),
            pipeline: req.pipeline.clone(),
            environment: Environment {
                python: req.python.clone(),
                image: req.image.clone(),
                packages,
            },
        },
        hyperparameters: req.params.clone(),
        metrics,
        bias: bias
            .into_iter()
            .map(|(a, r)| {
                let b = version_yaml::Bias {
                    demographic_parity: r.demographic_parity_difference,
                    equal_opportunity: r.equal_opportunity_difference,
                    predictive_parity: r.predictive_parity_difference,
                    groups: Some(r.groups),
                };
                (a, b)
            })
            .collect(),
        tags: req.tags.clone(),
    })?;

    let mut details = serde_json::Map::new();
    details.insert("file".into(), version_file.clone().into());
    details.insert("artifact_sha256".into(), artifact_sha.clone().into());
    details.insert(
        "version_sha256".into(),
        crate::registry::types::Sha256::of(y.as_bytes())
            .hex()
            .into(),
    );
    details.insert("git_commit".into(), commit.clone().into());
    if let Some(r) = &req.run_id {
        details.insert("run_id".into(), r.clone().into());
    }
    let audit = append_audit(
        reg,
        vec![
            NewEntry::new(Action::Register, &req.actor, &req.at)
                .version(req.model.as_str(), version)
                .details(serde_json::Value::Object(details)),
        ],
    );
    Ok(Plan {
        version,
        files: vec![
            (version_file.clone(), y.into_bytes()),
            (crate::audit::AUDIT_PATH.to_string(), audit.into_bytes()),
        ],
        version_file,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_parsed_as_pins() {
        let p = parse_requirements(
            "# pinned\nnumpy==2.2.6\nXGBoost[cpu] == 2.1.4 ; python_version > '3.8'\n-r other.txt\nrequests>=2\n\n",
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p["numpy"], "2.2.6");
        assert_eq!(p["xgboost"], "2.1.4");
    }

    #[test]
    fn params_keep_their_types() {
        assert_eq!(param_value("50"), serde_json::json!(50));
        assert_eq!(param_value("0.1"), serde_json::json!(0.1));
        assert_eq!(param_value("true"), serde_json::json!(true));
        assert_eq!(param_value("gbtree"), serde_json::json!("gbtree"));
        assert_eq!(crate::registry::number::yaml(1.0), "1.0");
        assert_eq!(crate::registry::number::yaml(0.8281), "0.8281");
    }
}
