//! Synthetic registries of many models, for benchmarks and scale tests.
//!
//! The output is deterministic (names, numbers and digests are derived from the model and
//! version), valid under `validate`, and shaped like the example: a model.yaml with twelve
//! features, version files with full lineage, aliases, model cards and a hash-chained audit log.

use crate::audit::{Action, Log, NewEntry};
use crate::registry::types::{Alias, Sha256, Timestamp};
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

/// The text of one synthetic version file, written as `register` writes one.
pub fn version_yaml(model: &str, v: u32) -> Result<String> {
    use crate::registry::version_yaml::{
        Bias, Dataset, Environment, FileRef, NewVersion, Training, render,
    };
    // Each version beats the one before by more than the default min_improvement (0.02).
    let auc = (0.5 + 0.021 * (v as f64) + 0.001 * (model.len() % 7) as f64).min(0.999);
    let day = 1 + (v % 28);
    let month = 1 + (v / 28) % 12;
    let s = |x: &str| x.to_string();
    let bias = |dp, eo, pp| Bias {
        demographic_parity: dp,
        equal_opportunity: eo,
        predictive_parity: pp,
        groups: None,
    };
    render(&NewVersion {
        file: None,
        comment: None,
        version: v,
        created_at: format!("2024-{month:02}-{day:02}T10:00:00Z"),
        created_by: s("alice@example.com"),
        artifact: FileRef {
            uri: format!("s3://models/{model}/v{v}/model.onnx"),
            sha256: digest(&format!("{model}/{v}/artifact")),
        },
        artifact_format: crate::registry::schema::ArtifactFormat::Onnx,
        explainer: None,
        training: Training {
            run_id: Some(format!(
                "run_{}",
                &digest(&format!("{model}/{v}/run"))[..10]
            )),
            experiment: Some(format!("{model}_exp")),
            git_commit: Some(digest(&format!("{model}/{v}/commit"))[..40].to_string()),
            dirty: false,
            code_version: Some(format!("v1.{v}.0")),
            random_seed: Some(u64::from(v)),
            dataset: Some(Dataset {
                file: FileRef {
                    uri: format!("s3://data/{model}/snapshot_{v}.parquet"),
                    sha256: digest(&format!("{model}/{v}/dataset")),
                },
                snapshot: Some(format!("snap_{v}")),
                rows: Some(10_000 + u64::from(v) * 100),
            }),
            raw_data: Some(format!("{model}_raw (2024-01-01 to 2024-01-14)")),
            pipeline: Some(format!("ETL_{model}_{v}")),
            environment: Environment {
                python: Some(s("3.11.7")),
                image: Some(format!("registry.example.com/{model}:v{v}")),
                packages: [(s("xgboost"), s("2.1.4")), (s("scikit-learn"), s("1.7.2"))].into(),
            },
        },
        hyperparameters: [
            (s("n_estimators"), (50 + v).into()),
            (s("max_depth"), 4.into()),
            (s("learning_rate"), 0.1.into()),
        ]
        .into(),
        metrics: [
            (s("roc_auc"), auc),
            (s("precision"), auc - 0.05),
            (s("recall"), auc - 0.08),
        ]
        .into(),
        bias: [
            (s("sex"), bias(0.04, 0.05, 0.03)),
            (s("age_group"), bias(0.06, 0.07, 0.02)),
        ]
        .into(),
        tags: [(s("team"), s("synthetic"))].into(),
    })
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

    // The n-th entry (from 1) is dated n minutes after 2024-01-01.
    let mut audit: Vec<NewEntry> = Vec::new();
    let push = |audit: &mut Vec<NewEntry>, action, model: &str, v: u32, alias: Option<Alias>| {
        let seq = audit.len() as i64 + 1;
        let at = Timestamp::from_utc(
            chrono::DateTime::from_timestamp(1_704_067_200 + seq * 60, 0).unwrap_or_default(),
        );
        let e = NewEntry::new(action, "alice@example.com", &at).version(model, v);
        audit.push(match alias {
            Some(a) => e.alias(a),
            None => e,
        });
    };
    for i in 0..models {
        let m = model_name(i);
        let dir = reg.join("models").join(&m);
        std::fs::create_dir_all(dir.join("versions"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("model.yaml"), model_yaml(&m))?;
        for v in 1..=versions {
            std::fs::write(
                dir.join(format!("versions/v{v}.yaml")),
                version_yaml(&m, v)?,
            )?;
            push(&mut audit, Action::Register, &m, v, None);
        }
        let mut aliases = String::new();
        if versions >= 1 {
            let champion = versions.saturating_sub(1).max(1);
            let _ = writeln!(aliases, "champion: {champion}");
            push(
                &mut audit,
                Action::Promote,
                &m,
                champion,
                Some(Alias::Champion),
            );
            if versions > champion {
                let _ = writeln!(aliases, "challenger: {versions}");
                push(
                    &mut audit,
                    Action::Promote,
                    &m,
                    versions,
                    Some(Alias::Challenger),
                );
            }
        }
        std::fs::write(dir.join("aliases.yaml"), aliases)?;
        std::fs::write(out.join("model-cards").join(format!("{m}.md")), card(&m))?;
    }
    std::fs::write(
        reg.join("audit.jsonl"),
        crate::audit::append(&Log::default(), "", audit),
    )?;
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
