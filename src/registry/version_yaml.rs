//! The one writer of version files (`versions/v<N>.yaml`), used by `register`, `import mlflow`
//! and `dev synth`.
//!
//! Its output is a contract: it is byte for byte what `register` has always written and users
//! have in their repositories — keys in the schema's order, the artifact, explainer, dataset,
//! environment, hyperparameters, metrics and tags as flow maps, the bias numbers as a block —
//! and every file it returns reads back with the registry's own schema.

use crate::monitor::bias::Group;
use crate::registry::number::yaml as num;
use crate::registry::schema::{ArtifactFormat, VersionSpec};
use crate::yaml::write::{quoted, string as yaml_str};
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A new version, as the file records it.
#[derive(Clone, Debug, Default)]
pub struct NewVersion {
    /// The file's repository path, for its schema modeline (none: no modeline).
    pub file: Option<String>,
    /// A comment line written before the keys (without the `# `).
    pub comment: Option<String>,
    /// The version number.
    pub version: u32,
    /// When it was registered (RFC 3339, written as it is).
    pub created_at: String,
    /// Who registered it.
    pub created_by: String,
    /// The model artifact.
    pub artifact: FileRef,
    /// Its format (ONNX unless imported from MLflow with another flavor).
    pub artifact_format: ArtifactFormat,
    /// The explainer file.
    pub explainer: Option<FileRef>,
    /// Lineage.
    pub training: Training,
    /// Hyperparameters (strings, numbers, booleans).
    pub hyperparameters: BTreeMap<String, serde_json::Value>,
    /// Metrics (finite; written as stored numbers).
    pub metrics: BTreeMap<String, f64>,
    /// Bias numbers per protected attribute.
    pub bias: BTreeMap<String, Bias>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A file the version refers to: where it is and its sha256 (hex).
#[derive(Clone, Debug, Default)]
pub struct FileRef {
    /// Repository-relative path or URI.
    pub uri: String,
    /// sha256, 64 hex digits.
    pub sha256: String,
}

/// The `training:` block.
#[derive(Clone, Debug, Default)]
pub struct Training {
    /// The training run.
    pub run_id: Option<String>,
    /// The experiment.
    pub experiment: Option<String>,
    /// The code commit (40 hex digits, lower case).
    pub git_commit: Option<String>,
    /// The code had uncommitted changes.
    pub dirty: bool,
    /// The code version (a tag or release).
    pub code_version: Option<String>,
    /// The random seed.
    pub random_seed: Option<u64>,
    /// The training dataset.
    pub dataset: Option<Dataset>,
    /// Where the raw data came from.
    pub raw_data: Option<String>,
    /// The pipeline that made the dataset.
    pub pipeline: Option<String>,
    /// The environment (written when any part of it is set).
    pub environment: Environment,
}

/// The training dataset.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Where it is and its digest (empty: not known, no `sha256` key — an MLflow dataset's
    /// digest is not a sha256).
    pub file: FileRef,
    /// Its snapshot name.
    pub snapshot: Option<String>,
    /// Its rows.
    pub rows: Option<u64>,
}

/// The training environment.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// The Python version.
    pub python: Option<String>,
    /// The container image.
    pub image: Option<String>,
    /// Pinned packages: name → version.
    pub packages: BTreeMap<String, String>,
}

impl Environment {
    fn is_empty(&self) -> bool {
        self.python.is_none() && self.image.is_none() && self.packages.is_empty()
    }
}

/// The bias numbers of one protected attribute.
#[derive(Clone, Debug, Default)]
pub struct Bias {
    /// Selection rate max − min.
    pub demographic_parity: f64,
    /// TPR max − min.
    pub equal_opportunity: f64,
    /// Precision max − min.
    pub predictive_parity: f64,
    /// The groups' rates (none: no `groups` key).
    pub groups: Option<Vec<Group>>,
}

/// A flow map: `{k: v, …}` with the keys written as YAML strings.
fn flow<'a>(items: impl IntoIterator<Item = (&'a String, String)>) -> String {
    let items: Vec<String> = items
        .into_iter()
        .map(|(k, v)| format!("{}: {v}", yaml_str(k)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// A hyperparameter: a string as a YAML string, a number or boolean as JSON writes it.
fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => yaml_str(s),
        other => other.to_string(),
    }
}

/// The text of a version file, checked to read back with the registry's schema: never write
/// what `validate` refuses.
pub fn render(v: &NewVersion) -> Result<String> {
    let mut y = match &v.file {
        Some(f) => crate::registry::json_schema::with_modeline(f, ""),
        None => String::new(),
    };
    if let Some(c) = &v.comment {
        let _ = writeln!(y, "# {c}");
    }
    let _ = writeln!(y, "version: {}", v.version);
    let _ = writeln!(y, "created_at: {}", v.created_at);
    let _ = writeln!(y, "created_by: {}", yaml_str(&v.created_by));
    let _ = writeln!(
        y,
        "artifact: {{uri: {}, sha256: {}, format: {}}}",
        yaml_str(&v.artifact.uri),
        v.artifact.sha256,
        v.artifact_format
    );
    if let Some(e) = &v.explainer {
        let _ = writeln!(
            y,
            "explainer: {{uri: {}, sha256: {}}}",
            yaml_str(&e.uri),
            e.sha256
        );
    }
    let t = &v.training;
    y.push_str("training:\n");
    if let Some(r) = &t.run_id {
        let _ = writeln!(y, "  run_id: {}", yaml_str(r));
    }
    if let Some(e) = &t.experiment {
        let _ = writeln!(y, "  experiment: {}", yaml_str(e));
    }
    if let Some(c) = &t.git_commit {
        let _ = writeln!(y, "  git_commit: {c}");
    }
    if t.dirty {
        y.push_str("  dirty: true\n");
    }
    if let Some(c) = &t.code_version {
        let _ = writeln!(y, "  code_version: {}", yaml_str(c));
    }
    if let Some(s) = t.random_seed {
        let _ = writeln!(y, "  random_seed: {s}");
    }
    if let Some(d) = &t.dataset {
        let mut s = format!("{{uri: {}", yaml_str(&d.file.uri));
        if !d.file.sha256.is_empty() {
            let _ = write!(s, ", sha256: {}", d.file.sha256);
        }
        if let Some(snap) = &d.snapshot {
            let _ = write!(s, ", snapshot: {}", yaml_str(snap));
        }
        if let Some(r) = d.rows {
            let _ = write!(s, ", rows: {r}");
        }
        s.push('}');
        let _ = writeln!(y, "  dataset: {s}");
    }
    if let Some(r) = &t.raw_data {
        let _ = writeln!(y, "  raw_data: {}", yaml_str(r));
    }
    if let Some(p) = &t.pipeline {
        let _ = writeln!(y, "  pipeline: {}", yaml_str(p));
    }
    let env = &t.environment;
    if !env.is_empty() {
        let mut parts = Vec::new();
        if let Some(p) = &env.python {
            parts.push(format!("python: {}", quoted(p)));
        }
        if let Some(i) = &env.image {
            parts.push(format!("image: {}", quoted(i)));
        }
        if !env.packages.is_empty() {
            let packages = flow(env.packages.iter().map(|(k, v)| (k, quoted(v))));
            parts.push(format!("packages: {packages}"));
        }
        let _ = writeln!(y, "  environment: {{{}}}", parts.join(", "));
    }
    if !v.hyperparameters.is_empty() {
        let items = v.hyperparameters.iter().map(|(k, x)| (k, scalar(x)));
        let _ = writeln!(y, "hyperparameters: {}", flow(items));
    }
    if !v.metrics.is_empty() {
        let items = v.metrics.iter().map(|(k, x)| (k, num(*x)));
        let _ = writeln!(y, "metrics: {}", flow(items));
    }
    if !v.bias.is_empty() {
        y.push_str("bias:\n");
        for (a, b) in &v.bias {
            let _ = writeln!(
                y,
                "  {}:\n    demographic_parity: {}\n    equal_opportunity: {}\n    predictive_parity: {}",
                yaml_str(a),
                num(b.demographic_parity),
                num(b.equal_opportunity),
                num(b.predictive_parity)
            );
            let Some(groups) = &b.groups else {
                continue;
            };
            y.push_str("    groups:\n");
            // The groups' rates, stored as every number is (`validate` allows for the rounding).
            for g in groups {
                let _ = writeln!(
                    y,
                    "      {}: {{count: {}, selection_rate: {}, tpr: {}, fpr: {}, precision: {}}}",
                    yaml_str(&g.group),
                    g.count,
                    num(g.selection_rate),
                    num(g.tpr),
                    num(g.fpr),
                    num(g.precision)
                );
            }
        }
    }
    if !v.tags.is_empty() {
        let _ = writeln!(
            y,
            "tags: {}",
            flow(v.tags.iter().map(|(k, x)| (k, yaml_str(x))))
        );
    }
    y.push_str("archived_at: null\n");

    let node = crate::yaml::parse(&y).map_err(|e| {
        anyhow::anyhow!(
            "internal error: the new version file does not parse: {}\n{y}",
            e.message
        )
    })?;
    let parsed: VersionSpec = crate::yaml::de::from_node(&node).map_err(|e| {
        anyhow::anyhow!("internal error: the new version file does not match the schema: {e}\n{y}")
    })?;
    debug_assert_eq!(parsed.version.value, v.version);
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> NewVersion {
        let sha = "a".repeat(64);
        NewVersion {
            file: Some("registry/models/m/versions/v2.yaml".into()),
            comment: None,
            version: 2,
            created_at: "2024-01-15T10:00:00Z".into(),
            created_by: "alice@example.com".into(),
            artifact: FileRef {
                uri: "s3://models/m/v2/model.onnx".into(),
                sha256: sha.clone(),
            },
            artifact_format: ArtifactFormat::Onnx,
            explainer: Some(FileRef {
                uri: "explainers/m.json".into(),
                sha256: sha.clone(),
            }),
            training: Training {
                run_id: Some("run 1".into()),
                experiment: Some("TRUE".into()),
                git_commit: Some("b".repeat(40)),
                dirty: true,
                code_version: Some("1.5".into()),
                random_seed: Some(42),
                dataset: Some(Dataset {
                    file: FileRef {
                        uri: "data/train.parquet".into(),
                        sha256: sha,
                    },
                    snapshot: Some("0x1F".into()),
                    rows: Some(1000),
                }),
                raw_data: Some("warehouse: claims".into()),
                pipeline: Some("etl".into()),
                environment: Environment {
                    python: Some("3.10".into()),
                    image: None,
                    packages: [("numpy".to_string(), "2.2.6".to_string())].into(),
                },
            },
            hyperparameters: [
                ("early_stopping".to_string(), serde_json::json!("TRUE")),
                ("max_depth".to_string(), serde_json::json!(4)),
                ("eta".to_string(), serde_json::json!(0.1)),
                ("booster".to_string(), serde_json::json!("gbtree")),
            ]
            .into(),
            metrics: [("roc_auc".to_string(), 0.84671234)].into(),
            bias: [(
                "sex".to_string(),
                Bias {
                    demographic_parity: 0.04,
                    equal_opportunity: 0.05,
                    predictive_parity: 0.03,
                    groups: Some(vec![Group {
                        group: "F".into(),
                        count: 10,
                        selection_rate: 0.5,
                        tpr: 0.6,
                        fpr: 0.1,
                        precision: 0.7,
                    }]),
                },
            )]
            .into(),
            tags: [("team".to_string(), "yes".to_string())].into(),
        }
    }

    /// register's format, byte for byte: the contract of files users have.
    #[test]
    fn the_format_of_register() {
        let y = render(&full()).unwrap();
        let a = "a".repeat(64);
        let b = "b".repeat(40);
        assert_eq!(
            y,
            format!(
                "# yaml-language-server: $schema=../../../../schemas/version.schema.json
version: 2
created_at: 2024-01-15T10:00:00Z
created_by: alice@example.com
artifact: {{uri: \"s3://models/m/v2/model.onnx\", sha256: {a}, format: onnx}}
explainer: {{uri: explainers/m.json, sha256: {a}}}
training:
  run_id: run 1
  experiment: \"TRUE\"
  git_commit: {b}
  dirty: true
  code_version: \"1.5\"
  random_seed: 42
  dataset: {{uri: data/train.parquet, sha256: {a}, snapshot: \"0x1F\", rows: 1000}}
  raw_data: \"warehouse: claims\"
  pipeline: etl
  environment: {{python: \"3.10\", packages: {{numpy: \"2.2.6\"}}}}
hyperparameters: {{booster: gbtree, early_stopping: \"TRUE\", eta: 0.1, max_depth: 4}}
metrics: {{roc_auc: 0.846712}}
bias:
  sex:
    demographic_parity: 0.04
    equal_opportunity: 0.05
    predictive_parity: 0.03
    groups:
      F: {{count: 10, selection_rate: 0.5, tpr: 0.6, fpr: 0.1, precision: 0.7}}
tags: {{team: \"yes\"}}
archived_at: null
"
            )
        );
    }

    /// What the file says reads back as what was described: strings stay strings.
    #[test]
    fn strings_read_back_as_strings() {
        let y = render(&full()).unwrap();
        let node = crate::yaml::parse(&y).unwrap();
        let spec: VersionSpec = crate::yaml::de::from_node(&node).unwrap();
        let h = |k: &str| node.get("hyperparameters").unwrap().get(k).unwrap();
        assert_eq!(
            h("early_stopping").resolve(),
            Some(crate::yaml::Resolved::Str("TRUE"))
        );
        assert_eq!(
            h("max_depth").resolve(),
            Some(crate::yaml::Resolved::Int(4))
        );
        let t = node.get("training").unwrap();
        assert_eq!(
            t.get("experiment").unwrap().resolve(),
            Some(crate::yaml::Resolved::Str("TRUE"))
        );
        assert_eq!(spec.version.value, 2);
    }

    /// A minimal version: no modeline, a comment, no optional block.
    #[test]
    fn a_minimal_version() {
        let v = NewVersion {
            comment: Some("Imported from MLflow: m version 1.".into()),
            version: 1,
            created_at: "2024-01-15T10:00:00Z".into(),
            created_by: "x@y".into(),
            artifact: FileRef {
                uri: "m.onnx".into(),
                sha256: "c".repeat(64),
            },
            training: Training {
                run_id: Some("abc".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            render(&v).unwrap(),
            format!(
                "# Imported from MLflow: m version 1.\nversion: 1\ncreated_at: 2024-01-15T10:00:00Z\ncreated_by: x@y\nartifact: {{uri: m.onnx, sha256: {}, format: onnx}}\ntraining:\n  run_id: abc\narchived_at: null\n",
                "c".repeat(64)
            )
        );
    }
}
