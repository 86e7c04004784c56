//! `modelgate demo`: the whole flow that exists so far, on a temporary copy of the bundled
//! example registry. It grows with each capability.

use super::{Ctx, EXIT_FAIL, EXIT_OK, find_root};
use crate::cli::DemoArgs;
use crate::diag::render::Format;
use crate::validate::Options;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The folders of the example that the demo copies.
const EXAMPLE_DIRS: &[&str] = &["registry", "model-cards", "examples", "schemas"];

/// Where the bundled example is: `--example`, or the registry around the current folder (no
/// path of the machine the binary was built on is compiled in).
fn example_root(args: &DemoArgs) -> Result<PathBuf> {
    if let Some(e) = &args.example {
        return Ok(e.clone());
    }
    let cwd = std::env::current_dir()?;
    if let Some(r) = find_root(&cwd) {
        if r.join("examples").is_dir() {
            return Ok(r);
        }
    }
    bail!(
        "cannot find the example registry: run the demo from the modelgate source tree, or pass --example DIR"
    )
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let target = to.join(entry.file_name());
        if ft.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if ft.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Checks out main again, runs the drift job of every model (writing the monitoring files and
/// audit entries, as the scheduled CI job does) and the bias report of heart_disease.
fn monitor_main(work: &Path, main: git2::Oid) -> Result<String> {
    use crate::monitor::{job, render};
    let repo = git2::Repository::open(work)?;
    repo.set_head("refs/heads/main")?;
    repo.checkout_head(Some(
        git2::build::CheckoutBuilder::new()
            .force()
            .remove_untracked(true),
    ))?;
    let _ = main;
    let reg =
        crate::registry::load(Box::new(crate::registry::source::FsSource::new(work)?))?.registry;
    let policy = reg.policy.clone().unwrap_or_default();
    // Four weekly runs, as the scheduled job would have made them: a drift history.
    let mut results = Vec::new();
    for (date, at) in [
        ("2024-06-09", "2024-06-10T06:00:00Z"),
        ("2024-06-16", "2024-06-17T06:00:00Z"),
        ("2024-06-23", "2024-06-24T06:00:00Z"),
        ("2024-06-30", "2024-07-01T06:00:00Z"),
    ] {
        let reg = crate::registry::load(Box::new(crate::registry::source::FsSource::new(work)?))?
            .registry;
        results.clear();
        for m in reg.models.values() {
            let over = m.spec.as_ref().and_then(|s| s.policy.as_ref());
            let eff = crate::registry::policy::effective(&policy, over);
            let opts = job::JobOptions {
                drift: crate::monitor::drift::Options {
                    severity: eff.severity,
                    ..Default::default()
                },
                concept_drop: 0.05,
                date: Some(date.to_string()),
            };
            results.push(job::run(&reg, work, m, &opts)?);
        }
        let at: crate::registry::types::Timestamp =
            at.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        let key = crate::lifecycle::approve::read_key(&work.join("examples/keys/drift-job"))?;
        crate::registry::write::write_changes(
            work,
            &job::files(&reg, &results, "modelgate-ci", &at, Some(&key))?,
        )?;
        crate::synth::commit_all(work, &format!("Weekly drift job {date}"))?;
    }
    let _ = &reg;
    let mut gh = crate::github::GitHub::from_env(Some("acme/model-registry"), true)?;
    gh.brief = true;
    let issues_out = {
        let opts = crate::github::drift::Options::default();
        let outcomes = crate::github::drift::sync(&gh, &results, &opts)?;
        outcomes
            .iter()
            .map(|o| {
                format!(
                    "{}: {}",
                    o.model,
                    if o.action == "opened" {
                        "would open an issue"
                    } else {
                        o.action.as_str()
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut s = String::new();
    s.push_str(&format!(
        "{:<16} {:>8}  {:<11} {:>11}  {:<17} files\n",
        "model", "champion", "severity", "drift share", "prediction drift"
    ));
    for r in &results {
        s.push_str(&format!(
            "{:<16} {:>8}  {:<11} {:>11.2}  {:<17} {}\n",
            r.model,
            format!("v{}", r.version),
            r.data.severity,
            r.data.drift_share,
            r.prediction
                .as_ref()
                .map(|p| if p.drifted { "drift" } else { "ok" })
                .unwrap_or("-"),
            r.file
        ));
    }
    if let Some(hd) = results.iter().find(|r| r.model == "heart_disease") {
        s.push_str(&format!(
            "\nheart_disease v{} on {}:\n",
            hd.version, hd.date
        ));
        s.push_str(&render::drift_text(&hd.data));
    }
    s.push_str("\nfour weekly runs committed to main, each with one `drift` audit entry per model; from now on the drift gate blocks promotions of heart_disease until its drift is dealt with\n");
    s.push_str(&format!("\nmodelgate drift --all --open-issues (dry run: the requests above are what it would send): {issues_out}\n"));
    Ok(s)
}

/// Scores the newest inference week with the champion of heart_disease and traces the first
/// prediction back to its training data and code.
fn score_with_champion(work: &Path) -> Result<String> {
    use crate::batch::{self, Feature, Options, Target, lineage};
    crate::batch::runtime::environment()?;
    let reg =
        crate::registry::load(Box::new(crate::registry::source::FsSource::new(work)?))?.registry;
    let name = crate::registry::types::ModelName::new("heart_disease")?;
    let m = reg.models.get(&name).context("heart_disease is missing")?;
    let champion = m
        .aliases
        .get(&crate::registry::types::Alias::Champion)
        .map(|v| v.value)
        .context("no champion")?;
    let v = m
        .versions
        .get(&champion)
        .context("champion version missing")?;
    let spec = m.spec.as_ref().context("model.yaml")?;
    let bytes = std::fs::read(work.join(&v.spec.artifact.uri.value))?;
    if crate::registry::types::Sha256::of(&bytes) != v.spec.artifact.sha256.value {
        bail!("the champion's artifact does not match its digest");
    }
    let target = Target {
        model: name.to_string(),
        version: champion,
        alias: Some("champion".into()),
        artifact_sha256: v.spec.artifact.sha256.value.hex(),
        artifact: v.spec.artifact.uri.value.clone(),
        features: spec.features.iter().map(Feature::from_spec).collect(),
    };
    let output = work.join("scored-2024-06-24.parquet");
    let opts = Options {
        input: "examples/heart_disease/inference/2024-06-24.parquet".into(),
        base: work.to_path_buf(),
        output: output.clone(),
        id_columns: vec!["id".into()],
        batch_size: 65_536,
        threads: 1,
        shard: None,
        threshold: 0.5,
        scored_at: "2024-07-01T06:30:00Z"
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?,
        log: None,
        progress: false,
    };
    let manifest = batch::run(&bytes, &target, &opts)?;
    let first = crate::monitor::data::scan_file(&output)?
        .limit(1)
        .collect()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = crate::monitor::data::strings(&first, "prediction_id")?
        .into_iter()
        .next()
        .flatten()
        .context("no prediction")?;
    let (p, model, version) = lineage::find(&output.to_string_lossy(), work, &id)?;
    let mut chain = lineage::of_version(&reg, &model, version)?;
    chain.aliases_at_scoring = lineage::aliases_at(&reg, &model, version, opts.scored_at.at);
    chain.prediction = Some(p);
    Ok(format!(
        "scored {} rows with heart_disease v{champion} in {:.2} s into {}\n(manifest beside it)\n\nmodelgate lineage {id} --in {}\n{}",
        manifest.rows,
        manifest.duration_seconds,
        output.display(),
        output.display(),
        lineage::text(&chain)
    ))
}

/// Registers diabetes v3 from the example's v2 artifact, with metrics and bias numbers computed
/// on the labelled evaluation data, and commits it.
fn register_diabetes(work: &Path) -> Result<String> {
    use crate::lifecycle::register;
    // The training code's pinned environment, committed with it.
    crate::registry::write::write_atomic(
        &work.join("train/requirements.txt"),
        b"# the training environment of diabetes v3\nxgboost==2.1.4\nonnxmltools==1.16.0\nonnx==1.19.1\nnumpy==2.2.6\nscikit-learn==1.7.2\n",
    )?;
    crate::synth::commit_all(work, "Training environment of diabetes v3")?;
    let reg =
        crate::registry::load(Box::new(crate::registry::source::FsSource::new(work)?))?.registry;
    let mut params = std::collections::BTreeMap::new();
    params.insert("n_estimators".to_string(), register::param_value("40"));
    params.insert("max_depth".to_string(), register::param_value("3"));
    params.insert("learning_rate".to_string(), register::param_value("0.1"));
    let req = register::Request {
        model: crate::registry::types::ModelName::new("diabetes")?,
        artifact: work.join("examples/diabetes/v2/model.onnx"),
        artifact_uri: None,
        explainer: None,
        metrics: Default::default(),
        params,
        tags: [("framework".to_string(), "xgboost".to_string())].into(),
        dataset: Some(work.join("examples/diabetes/reference.parquet")),
        snapshot: Some("feature_snapshot_20240701".into()),
        requirements: Some(work.join("train/requirements.txt")),
        python: Some("3.11.7".into()),
        image: Some("registry.example.com/diabetes:v3".into()),
        seed: Some(303),
        run_id: Some("run_demo_303".into()),
        experiment: Some("diabetes_20240701_retrain".into()),
        code_version: Some("v1.1.0".into()),
        code_dir: work.to_path_buf(),
        git_commit: None,
        dirty: register::Dirty::Refuse,
        evaluate: Some(register::Evaluate {
            data: work
                .join("examples/diabetes/eval.parquet")
                .display()
                .to_string(),
            label: "label".into(),
            threshold: 0.5,
        }),
        actor: "alice@example.com".into(),
        at: "2024-07-02T09:00:00Z"
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?,
    };
    let plan = register::plan(&reg, work, &req)?;
    crate::registry::write::write_changes(work, &plan.files)?;
    crate::synth::commit_all(work, "Register diabetes v3")?;
    let mut s = format!("registered diabetes@v{}\n", plan.version);
    for l in &plan.summary {
        s.push_str(&format!("  {l}\n"));
    }
    s.push_str(&format!(
        "  wrote {} and the audit entry; committed\n",
        plan.version_file
    ));
    Ok(s)
}

/// Makes a branch from `from`, checks it out, promotes heart_disease v4 to champion with the
/// three approvals (the compliance one forged by Bob when `forge`), and commits.
fn promotion_branch(work: &Path, from: git2::Oid, name: &str, forge: bool) -> Result<git2::Oid> {
    use crate::lifecycle::{approve, promote};
    use crate::registry::types::{Alias, ModelName};
    let repo = git2::Repository::open(work)?;
    let commit = repo.find_commit(from)?;
    repo.branch(name, &commit, true)?;
    repo.set_head(&format!("refs/heads/{name}"))?;
    repo.checkout_head(Some(
        git2::build::CheckoutBuilder::new()
            .force()
            .remove_untracked(true),
    ))?;
    let model = ModelName::new("heart_disease")?;
    let load = || -> Result<crate::registry::Registry> {
        Ok(
            crate::registry::load(Box::new(crate::registry::source::FsSource::new(work)?))?
                .registry,
        )
    };
    let at = |t: &str| -> Result<crate::registry::types::Timestamp> {
        t.parse().map_err(|e: String| anyhow::anyhow!(e))
    };
    let reg = load()?;
    let plan = promote::plan(
        &reg,
        &model,
        4,
        Alias::Champion,
        "alice@example.com",
        &at("2024-06-03T09:00:00Z")?,
    )?;
    crate::registry::write::write_changes(work, &plan.files)?;
    let approvals = [
        ("data_scientist", "alice", None),
        (
            "compliance",
            if forge { "bob" } else { "carol" },
            Some("carol@example.com"),
        ),
        ("business", "bob", None),
    ];
    for (role, key, principal) in approvals {
        let reg = load()?;
        let key = approve::read_key(&work.join("examples/keys").join(key))?;
        let at = at("2024-06-03T10:00:00Z")?;
        let plan = match principal {
            // Bob's own tooling: `modelgate approve` refuses to sign as someone else.
            Some(p) if forge => {
                approve::plan_unchecked(&reg, &model, 4, Alias::Champion, role, &key, p, &at)?
            }
            _ => approve::plan(&reg, &model, 4, Alias::Champion, role, &key, None, &at)?,
        };
        crate::registry::write::write_changes(work, &plan.files)?;
    }
    crate::synth::commit_all(
        work,
        &format!("Promote heart_disease v4 to champion ({name})"),
    )
}

fn heading(title: &str) {
    println!(
        "\n━━ {title} {}",
        "━".repeat(70usize.saturating_sub(title.len()))
    );
}

/// Runs the command.
pub fn run(ctx: &Ctx, args: &DemoArgs) -> Result<u8> {
    let example = example_root(args)?;
    let work = match &args.out {
        Some(o) => {
            if o.exists() {
                bail!(
                    "{} already exists; the demo writes into a new folder",
                    o.display()
                );
            }
            o.clone()
        }
        None => tempfile::Builder::new()
            .prefix("modelgate-demo-")
            .tempdir()
            .context("creating a temporary folder")?
            .keep(),
    };
    heading("1. A copy of the example registry");
    for d in EXAMPLE_DIRS {
        copy_dir(&example.join(d), &work.join(d))?;
    }
    let commit = crate::synth::commit_all(&work, "example registry")?;
    println!(
        "copied {} into {}",
        EXAMPLE_DIRS.join("/, "),
        work.display()
    );
    println!(
        "and committed it to a new git repository there ({})",
        &commit.to_string()[..12]
    );

    heading("2. What is in it");
    let src = super::validate::open_source(&work, None)?;
    let outcome =
        super::validate::validate_source(src, Options::default()).map_err(anyhow::Error::from)?;
    println!(
        "{:<16} {:>8}  {:<10} {:<11} {:>8}  owner",
        "model", "versions", "champion", "challenger", "roc_auc"
    );
    for m in outcome.registry.models.values() {
        let alias = |a| {
            m.aliases
                .get(&a)
                .map(|v| format!("v{}", v.value))
                .unwrap_or_else(|| "-".into())
        };
        let champion = m.aliases.get(&crate::registry::types::Alias::Champion);
        let auc = champion
            .and_then(|v| m.versions.get(&v.value))
            .and_then(|v| v.spec.metrics.get("roc_auc"))
            .map(|x| format!("{:.4}", x.value))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<16} {:>8}  {:<10} {:<11} {:>8}  {}",
            m.name.as_str(),
            m.versions.len(),
            alias(crate::registry::types::Alias::Champion),
            alias(crate::registry::types::Alias::Challenger),
            auc,
            m.spec.as_ref().map(|s| s.owner.as_str()).unwrap_or("-")
        );
    }

    heading("3. modelgate validate (working tree)");
    print!(
        "{}",
        super::validate::render(&outcome, Format::Text, ctx.color)
    );

    heading("4. modelgate validate --rev HEAD (read from git, no checkout)");
    let src = super::validate::open_source(&work, Some("HEAD"))?;
    let at_head =
        super::validate::validate_source(src, Options::default()).map_err(anyhow::Error::from)?;
    print!(
        "{}",
        super::validate::render(&at_head, Format::Text, ctx.color)
    );
    let validated_with_errors = outcome.report.has_errors() || at_head.report.has_errors();

    heading("5. A promotion by pull request: heart_disease v4 → champion, three signed approvals");
    let main = commit;
    let pass = promotion_branch(&work, main, "promote-heart-disease-v4", false)?;
    println!(
        "on branch promote-heart-disease-v4: modelgate promote heart_disease 4 --to champion,"
    );
    println!("then modelgate approve … --key examples/keys/{{alice,carol,bob}} (demo-only keys)\n");
    let outcome = crate::check::check(
        &work,
        "main",
        "promote-heart-disease-v4",
        &Default::default(),
    )?;
    print!("{}", crate::check::report::text(&outcome, ctx.color));
    let passed = outcome.verdict() != crate::check::Verdict::Block;

    heading("6. The same promotion with a forged approval");
    promotion_branch(&work, main, "forged-approval", true)?;
    println!("on branch forged-approval: Bob signs the compliance approval as carol@example.com\n");
    let forged = crate::check::check(&work, "main", "forged-approval", &Default::default())?;
    print!("{}", crate::check::report::text(&forged, ctx.color));
    let blocked = forged.verdict() == crate::check::Verdict::Block;
    let _ = pass;

    heading("7. Monitoring on main: modelgate drift --all");
    let monitored = monitor_main(&work, main)?;
    print!("{monitored}");

    heading("8. Batch inference with lineage: modelgate batch heart_disease --log");
    match score_with_champion(&work) {
        Ok(text) => print!("{text}"),
        Err(e) => println!("skipped: {e:#}"),
    }

    heading("9. Register a new version: modelgate register diabetes --evaluate …");
    let registered = register_diabetes(&work)?;
    print!("{registered}");

    heading("10. Reproduce it: modelgate reproduce diabetes@v3");
    let reg =
        crate::registry::load(Box::new(crate::registry::source::FsSource::new(&work)?))?.registry;
    let name = crate::registry::types::ModelName::new("diabetes")?;
    let recipe = crate::lifecycle::reproduce::recipe(&reg, &work, &name, 3)?;
    print!("{}", crate::lifecycle::reproduce::text(&recipe));

    heading("11. Search: metrics.roc_auc > 0.8 AND (stage = 'champion' OR stage = 'challenger')");
    let filter = crate::lifecycle::search::parse(
        "metrics.roc_auc > 0.8 AND (stage = 'champion' OR stage = 'challenger')",
    )
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let order = vec![
        crate::lifecycle::search::parse_order("metrics.roc_auc DESC")
            .map_err(|e| anyhow::anyhow!(e.message))?,
    ];
    for h in crate::lifecycle::search::search(&reg, filter.as_ref(), &order, 10) {
        println!(
            "{:<16} v{:<3} {:<11} roc_auc {}",
            h.name,
            h.version,
            h.stage,
            h.metrics
                .get("roc_auc")
                .map(|x| format!("{x:.4}"))
                .unwrap_or_default()
        );
    }

    heading("12. Retention plan: modelgate retire --today 2025-06-01");
    let today = crate::lifecycle::retire::parse_day("2025-06-01")?;
    let plan = crate::lifecycle::retire::plan(&reg, today, &[], "modelgate")?;
    print!("{}", crate::lifecycle::retire::text(&plan, false));

    heading("13. Sharding the scheduled jobs: modelgate plan --shards 2");
    for i in 0..2u32 {
        let models: Vec<&str> = reg
            .models
            .keys()
            .map(|m| m.as_str())
            .filter(|m| crate::shard::shard_of(m, 2) == i)
            .collect();
        println!("shard {i}/2: {}", models.join(" "));
    }

    heading("14. The site: modelgate site build");
    let site = work.join("site");
    let report = crate::site::build(
        &work,
        &crate::site::Options {
            out: site.clone(),
            base_url: None,
            stamp: false,
            force: false,
            drift_issues: Default::default(),
        },
    )?;
    println!(
        "built {} pages in {:.2} s; every internal link and anchor checked",
        report.pages, report.seconds
    );
    println!("open file://{}", report.index.display());

    heading("Where to look");
    println!("the registry:   {}", work.join("registry").display());
    println!("model cards:    {}", work.join("model-cards").display());
    println!(
        "try:            modelgate --root {} validate --format json",
        work.display()
    );
    println!(
        "monitoring:     {}",
        work.join("registry/models/heart_disease/monitoring")
            .display()
    );
    println!(
        "the site:       file://{}",
        site.join("index.html").display()
    );
    println!(
        "branches:       git -C {} log --oneline --all",
        work.display()
    );
    println!(
        "try:            modelgate --root {} check --base main --head forged-approval --format markdown",
        work.display()
    );
    let as_expected = !validated_with_errors && passed && blocked;
    Ok(if as_expected { EXIT_OK } else { EXIT_FAIL })
}
