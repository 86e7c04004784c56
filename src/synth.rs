//! Synthetic registries of many models, for benchmarks and scale tests.
//!
//! The output is deterministic (names, numbers and digests are derived from the model and
//! version), valid under `validate`, and shaped like the example: a model.yaml with twelve
//! features, version files with full lineage, aliases, model cards and a hash-chained audit log.

use crate::audit::{Action, Entry, Log, to_line};
use crate::registry::types::Sha256;
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::Path;

/// The public key used for every synthetic signer (never used to sign anything).
const FAKE_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5dbmzG5c0uUFxFx3lQ0Nq8cFhQFhJ8aTn1ZgUyfHoJ";

fn model_name(i: u32) -> String {
    format!("model_{i:04}")
}

fn digest(parts: &str) -> String {
    Sha256::of(parts.as_bytes()).hex()
}

/// The text of one synthetic version file.
pub fn version_yaml(model: &str, v: u32) -> String {
    // Each version beats the one before by more than the default min_improvement (0.02).
    let auc = (0.5 + 0.021 * (v as f64) + 0.001 * (model.len() % 7) as f64).min(0.999);
    let day = 1 + (v % 28);
    let month = 1 + (v / 28) % 12;
    let mut s = String::with_capacity(1400);
    let _ = write!(
        s,
        "version: {v}
created_at: 2024-{month:02}-{day:02}T10:00:00Z
created_by: alice@example.com
artifact: {{uri: s3://models/{model}/v{v}/model.onnx, sha256: {art}, format: onnx}}
training:
  run_id: run_{run}
  experiment: {model}_exp
  git_commit: {commit}
  code_version: v1.{v}.0
  random_seed: {v}
  dataset: {{uri: s3://data/{model}/snapshot_{v}.parquet, sha256: {ds}, snapshot: snap_{v}, rows: {rows}}}
  raw_data: {model}_raw (2024-01-01 to 2024-01-14)
  pipeline: ETL_{model}_{v}
  environment: {{python: \"3.11.7\", image: \"registry.example.com/{model}:v{v}\", packages: {{xgboost: \"2.1.4\", scikit-learn: \"1.7.2\"}}}}
hyperparameters: {{n_estimators: {trees}, max_depth: 4, learning_rate: 0.1}}
metrics: {{roc_auc: {auc:.4}, precision: {prec:.4}, recall: {rec:.4}}}
bias:
  sex: {{demographic_parity: 0.04, equal_opportunity: 0.05, predictive_parity: 0.03}}
  age_group: {{demographic_parity: 0.06, equal_opportunity: 0.07, predictive_parity: 0.02}}
tags: {{team: synthetic}}
archived_at: null
",
        art = digest(&format!("{model}/{v}/artifact")),
        run = &digest(&format!("{model}/{v}/run"))[..10],
        commit = &digest(&format!("{model}/{v}/commit"))[..40],
        ds = digest(&format!("{model}/{v}/dataset")),
        rows = 10_000 + v * 100,
        trees = 50 + v,
        prec = auc - 0.05,
        rec = auc - 0.08,
    );
    s
}

fn model_yaml(model: &str) -> String {
    let mut s = format!(
        "name: {model}\ndescription: Synthetic model {model} for scale tests.\nowner: team-{}@example.com\ntask: binary_classification\nfeatures:\n",
        &model[6..]
    );
    for f in 0..10 {
        let _ = writeln!(s, "  - {{name: f{f}, type: numerical}}");
    }
    s.push_str("  - {name: sex, type: categorical, categories: [F, M]}\n");
    s.push_str("  - {name: region, type: categorical, categories: [north, south, east, west]}\n");
    s.push_str("protected_attributes: [sex, age_group]\nlabel: label\n");
    let _ = write!(
        s,
        "monitoring:\n  reference: s3://data/{model}/reference.parquet\n  current: s3://data/{model}/inference/*.parquet\n  timestamp: scored_at\n  window_days: 7\npolicy: {{}}\n"
    );
    s
}

/// Writes a registry of `models` × `versions` into `out` (which must not exist).
pub fn write(out: &Path, models: u32, versions: u32) -> Result<()> {
    if out.exists() {
        bail!("{} already exists", out.display());
    }
    let reg = out.join("registry");
    std::fs::create_dir_all(reg.join("models"))?;
    std::fs::create_dir_all(out.join("model-cards"))?;
    let policy = crate::scaffold::POLICY.replace(
        "  data_scientist: []\n  compliance: []\n  business: []",
        "  data_scientist: [alice@example.com]\n  compliance: [carol@example.com]\n  business: [bob@example.com]",
    );
    std::fs::write(reg.join("policy.yaml"), policy)?;
    let mut signers = String::new();
    for p in ["alice", "bob", "carol"] {
        let _ = writeln!(
            signers,
            "{p}@example.com namespaces=\"modelgate-approval,git\" {FAKE_KEY}"
        );
    }
    std::fs::write(reg.join("allowed_signers"), signers)?;

    let mut audit = String::new();
    let mut log = Log::default();
    let push =
        |audit: &mut String, log: &mut Log, action, model: &str, v: u32, alias: Option<&str>| {
            let (seq, prev) = log.next_link();
            let line = to_line(&Entry {
                seq,
                at: crate::registry::types::Timestamp::from_utc(
                    chrono::DateTime::from_timestamp(1_704_067_200 + seq as i64 * 60, 0)
                        .unwrap_or_default(),
                ),
                actor: "alice@example.com".into(),
                action,
                model: Some(model.into()),
                version: Some(v),
                alias: alias.map(Into::into),
                details: Default::default(),
                prev,
            });
            log.lines.push(crate::audit::Line {
                number: seq as u32,
                span: crate::yaml::Span::default(),
                digest: Sha256::of(line.trim_end_matches('\n').as_bytes()),
                entry: None,
            });
            audit.push_str(&line);
        };
    for i in 0..models {
        let m = model_name(i);
        let dir = reg.join("models").join(&m);
        std::fs::create_dir_all(dir.join("versions"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("model.yaml"), model_yaml(&m))?;
        for v in 1..=versions {
            std::fs::write(dir.join(format!("versions/v{v}.yaml")), version_yaml(&m, v))?;
            push(&mut audit, &mut log, Action::Register, &m, v, None);
        }
        let mut aliases = String::new();
        if versions >= 1 {
            let champion = versions.saturating_sub(1).max(1);
            let _ = writeln!(aliases, "champion: {champion}");
            push(
                &mut audit,
                &mut log,
                Action::Promote,
                &m,
                champion,
                Some("champion"),
            );
            if versions > champion {
                let _ = writeln!(aliases, "challenger: {versions}");
                push(
                    &mut audit,
                    &mut log,
                    Action::Promote,
                    &m,
                    versions,
                    Some("challenger"),
                );
            }
        }
        std::fs::write(dir.join("aliases.yaml"), aliases)?;
        std::fs::write(out.join("model-cards").join(format!("{m}.md")), card(&m))?;
    }
    std::fs::write(reg.join("audit.jsonl"), audit)?;
    Ok(())
}

/// A complete model card: every section of the built-in template, written.
fn card(model: &str) -> String {
    let mut s = format!(
        "# {model}

A synthetic model.
"
    );
    for section in crate::gates::card::Template::builtin().sections {
        s.push_str(&format!(
            "
## {section}
The {} of {model}.
",
            section.to_lowercase()
        ));
    }
    s
}

/// Makes `dir` a git repository with everything in it committed; returns the commit id.
pub fn commit_all(dir: &Path, message: &str) -> Result<git2::Oid> {
    let repo = match git2::Repository::open(dir) {
        Ok(r) => r,
        Err(_) => git2::Repository::init_opts(
            dir,
            git2::RepositoryInitOptions::new().initial_head("main"),
        )?,
    };
    let mut index = repo.index()?;
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree_id = index.write_tree()?;
    let tree = repo.find_tree(tree_id)?;
    let sig = git2::Signature::new(
        "modelgate",
        "modelgate@example.com",
        &git2::Time::new(1_704_067_200, 0),
    )?;
    let parents: Vec<git2::Commit<'_>> = match repo.head().ok().and_then(|h| h.target()) {
        Some(id) => vec![repo.find_commit(id)?],
        None => vec![],
    };
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    Ok(repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parent_refs)?)
}
