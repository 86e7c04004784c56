//! `reproduce`: everything needed to rebuild a version — the code commit, the environment, the
//! dataset and its digest, the seed and the run — as steps to follow, with the local dataset's
//! digest checked when the file is present.

use crate::registry::Registry;
use crate::registry::types::ModelName;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The state of the dataset file on this machine.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DatasetCheck {
    /// The file is here and its sha256 matches.
    Verified,
    /// The file is here and its sha256 differs: it is not the data the version was trained on.
    Mismatch {
        /// The digest of the local file.
        found: String,
    },
    /// The URI is not a local path, or the file is not here.
    NotLocal,
    /// The version records no dataset.
    Unknown,
    /// The version records a dataset without its sha256 (an MLflow dataset input, say): it
    /// cannot be verified.
    NoDigest,
}

/// What rebuilding a version takes.
#[derive(Clone, Debug, Serialize)]
pub struct Recipe {
    /// The model.
    pub model: String,
    /// The version.
    pub version: u32,
    /// The artifact the rebuild should reproduce.
    pub artifact: BTreeMap<String, String>,
    /// The code commit.
    pub git_commit: Option<String>,
    /// The commit had uncommitted changes when registered.
    pub dirty: bool,
    /// The code version.
    pub code_version: Option<String>,
    /// Python version.
    pub python: Option<String>,
    /// Container image.
    pub image: Option<String>,
    /// Pinned packages.
    pub packages: BTreeMap<String, String>,
    /// Dataset URI.
    pub dataset_uri: Option<String>,
    /// Dataset sha256.
    pub dataset_sha256: Option<String>,
    /// Dataset snapshot name.
    pub snapshot: Option<String>,
    /// Dataset rows.
    pub rows: Option<u64>,
    /// The dataset's state here.
    pub dataset_check: DatasetCheck,
    /// Random seed.
    pub random_seed: Option<u64>,
    /// Training run id.
    pub run_id: Option<String>,
    /// Experiment.
    pub experiment: Option<String>,
    /// Hyperparameters.
    pub hyperparameters: BTreeMap<String, serde_json::Value>,
    /// The steps, as shell commands and notes.
    pub steps: Vec<String>,
    /// What is missing to reproduce it exactly.
    pub gaps: Vec<String>,
}

fn is_local(uri: &str) -> bool {
    !uri.contains("://")
}

/// Builds the recipe of a version; `root` resolves a repository-relative dataset path.
pub fn recipe(reg: &Registry, root: &Path, model: &ModelName, version: u32) -> Result<Recipe> {
    let m = reg
        .models
        .get(model)
        .with_context(|| format!("there is no model `{model}` in this registry"))?;
    let v = m
        .versions
        .get(&version)
        .with_context(|| format!("{model} has no version {version}"))?;
    let s = &v.spec;
    let t = s.training.as_ref();
    let env = t.and_then(|t| t.environment.as_ref());
    let ds = t.and_then(|t| t.dataset.as_ref());
    let mut gaps = Vec::new();
    let mut steps = Vec::new();
    let commit = t
        .and_then(|t| t.git_commit.as_ref())
        .map(|c| c.value.0.clone());
    let dirty = t.and_then(|t| t.dirty).unwrap_or(false);
    match &commit {
        Some(c) => steps.push(format!("git checkout {c}")),
        None => gaps.push("no git commit is recorded: the code cannot be pinned".into()),
    }
    if dirty {
        gaps.push(
            "the working tree had uncommitted changes when it was registered (dirty: true): the commit alone may not reproduce it"
                .into(),
        );
    }
    if let Some(img) = env.and_then(|e| e.image.as_ref()) {
        steps.push(format!("docker pull {img}"));
    }
    let packages = env.map(|e| e.packages.clone()).unwrap_or_default();
    let python = env.and_then(|e| e.python.clone());
    if let Some(p) = &python {
        steps.push(format!("# Python {p}"));
    } else {
        gaps.push("no Python version is recorded".into());
    }
    if packages.is_empty() {
        gaps.push("no package versions are recorded".into());
    } else {
        let pins: Vec<String> = packages.iter().map(|(k, v)| format!("{k}=={v}")).collect();
        steps.push(format!("python -m pip install {}", pins.join(" ")));
    }
    let mut check = DatasetCheck::Unknown;
    if let Some(d) = ds {
        if d.sha256.is_none() {
            gaps.push("the dataset's sha256 is not recorded: it cannot be verified".into());
        }
        let uri = d.uri.value.clone();
        let want = d.sha256.as_ref().map(|h| h.value.hex()).unwrap_or_default();
        check = if want.is_empty() {
            DatasetCheck::NoDigest
        } else {
            DatasetCheck::NotLocal
        };
        if is_local(&uri) && !want.is_empty() {
            let p = root.join(&uri);
            if p.is_file() {
                let found = crate::monitor::data::file_sha256(&p)?.hex();
                check = if found == want {
                    DatasetCheck::Verified
                } else {
                    DatasetCheck::Mismatch { found }
                };
            }
        }
        if want.is_empty() {
            steps.push(format!("# dataset {uri} (no sha256 recorded)"));
        } else {
            steps.push(format!("# dataset {uri} (sha256 {want})"));
            steps.push(match is_local(&uri) {
                true => format!("sha256sum {uri}   # must print {want}"),
                false => format!("# fetch {uri}, then check: sha256sum <file> must print {want}"),
            });
        }
    } else {
        gaps.push("no training dataset is recorded".into());
    }
    let seed = t.and_then(|t| t.random_seed);
    if seed.is_none() {
        gaps.push("no random seed is recorded".into());
    }
    let run_id = t.and_then(|t| t.run_id.clone());
    let hp: BTreeMap<String, serde_json::Value> = s.hyperparameters.clone();
    let mut train = String::from("# train with");
    if let Some(seed) = seed {
        train.push_str(&format!(" seed={seed}"));
    }
    for (k, v) in &hp {
        train.push_str(&format!(" {k}={v}"));
    }
    if let Some(r) = &run_id {
        train.push_str(&format!(" (original run {r})"));
    }
    steps.push(train);
    steps.push(if s.artifact.format == crate::registry::schema::ArtifactFormat::Onnx {
        format!(
            "sha256sum <new artifact>   # the original is {}",
            s.artifact.sha256.value.hex()
        )
    } else {
        // A model folder (docs/format.md, the folder digest).
        format!(
            "(cd <new {} model folder> && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum)   # the original is {}",
            s.artifact.format,
            s.artifact.sha256.value.hex()
        )
    });
    let mut artifact = BTreeMap::new();
    artifact.insert("uri".into(), s.artifact.uri.value.clone());
    artifact.insert("sha256".into(), s.artifact.sha256.value.hex());
    Ok(Recipe {
        model: model.to_string(),
        version,
        artifact,
        git_commit: commit,
        dirty,
        code_version: t.and_then(|t| t.code_version.clone()),
        python,
        image: env.and_then(|e| e.image.clone()),
        packages,
        dataset_uri: ds.map(|d| d.uri.value.clone()),
        dataset_sha256: ds.and_then(|d| d.sha256.as_ref().map(|h| h.value.hex())),
        snapshot: ds.and_then(|d| d.snapshot.clone()),
        rows: ds.and_then(|d| d.rows),
        dataset_check: check,
        random_seed: seed,
        run_id,
        experiment: t.and_then(|t| t.experiment.clone()),
        hyperparameters: hp,
        steps,
        gaps,
    })
}

/// The recipe as text.
pub fn text(r: &Recipe) -> String {
    let mut s = format!("reproduce {}@v{}\n\n", r.model, r.version);
    let row = |s: &mut String, k: &str, v: Option<&str>| {
        s.push_str(&format!("  {k:<12} {}\n", v.unwrap_or("—")));
    };
    row(&mut s, "commit", r.git_commit.as_deref());
    row(&mut s, "code", r.code_version.as_deref());
    row(&mut s, "python", r.python.as_deref());
    row(&mut s, "image", r.image.as_deref());
    row(&mut s, "dataset", r.dataset_uri.as_deref());
    row(&mut s, "sha256", r.dataset_sha256.as_deref());
    row(&mut s, "snapshot", r.snapshot.as_deref());
    row(
        &mut s,
        "seed",
        r.random_seed.map(|x| x.to_string()).as_deref(),
    );
    row(&mut s, "run", r.run_id.as_deref());
    row(&mut s, "experiment", r.experiment.as_deref());
    let check = match &r.dataset_check {
        DatasetCheck::Verified => "the local file matches its sha256".to_string(),
        DatasetCheck::Mismatch { found } => {
            format!("MISMATCH: the local file's sha256 is {found}; it is not the training data")
        }
        DatasetCheck::NotLocal => "not on this machine; check its sha256 after fetching".into(),
        DatasetCheck::Unknown => "no dataset recorded".into(),
        DatasetCheck::NoDigest => "no sha256 recorded: the data cannot be verified".into(),
    };
    s.push_str(&format!("  {:<12} {check}\n\nsteps:\n", "data check"));
    for st in &r.steps {
        s.push_str(&format!("  {st}\n"));
    }
    if !r.gaps.is_empty() {
        s.push_str("\ngaps (what is not recorded, so cannot be reproduced exactly):\n");
        for g in &r.gaps {
            s.push_str(&format!("  - {g}\n"));
        }
    }
    s
}
