//! `modelgate register <model> --artifact PATH …`.

use super::{Ctx, EXIT_OK, Outcome};
use crate::cli::RegisterArgs;
use anyhow::{Context, Result, bail};
use modelgate::lifecycle::{self, register};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::ModelName;
use std::collections::BTreeMap;

fn key_value<'a>(s: &'a str, flag: &str) -> Result<(&'a str, &'a str)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v.trim())),
        _ => bail!("{flag} `{s}`: expected NAME=VALUE"),
    }
}

/// Metrics from `--metrics`: JSON files and `name=value` items.
fn metrics(items: &[String]) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for item in items {
        let mut add = |k: &str, v: f64, from: &str| -> Result<()> {
            if !v.is_finite() {
                bail!("metric `{k}` ({from}) is {v}; expected a finite number");
            }
            if out.insert(k.to_string(), v).is_some() {
                bail!("metric `{k}` is given twice");
            }
            Ok(())
        };
        if !item.contains('=') {
            let text = std::fs::read_to_string(item)
                .with_context(|| format!("--metrics {item}: expected a JSON file or NAME=VALUE"))?;
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{item}:{}:{}: not JSON: {e}", e.line(), e.column())
            })?;
            let Some(obj) = v.as_object() else {
                bail!("{item}: expected a JSON object of metric names to numbers");
            };
            for (k, v) in obj {
                let Some(x) = v.as_f64() else {
                    bail!("{item}: metric `{k}` is {v}; expected a number");
                };
                add(k, x, item)?;
            }
        } else {
            let (k, v) = key_value(item, "--metrics")?;
            let x: f64 = v
                .parse()
                .map_err(|_| anyhow::anyhow!("--metrics {item}: `{v}` is not a number"))?;
            add(k, x, "--metrics")?;
        }
    }
    Ok(out)
}

/// Runs the command.
pub fn run(ctx: &Ctx, args: &RegisterArgs) -> Result<u8> {
    let model = ModelName::new(&args.model)?;
    crate::cmd::evaluate::check_threshold(args.threshold)?;
    let root = ctx.registry_root()?;
    let actor = lifecycle::actor(args.actor.as_deref(), &root)?;
    let at = lifecycle::timestamp(args.at.as_deref())?;
    let mut params = BTreeMap::new();
    for p in &args.params {
        let (k, v) = key_value(p, "--param")?;
        params.insert(k.to_string(), register::param_value(v));
    }
    let mut tags = BTreeMap::new();
    for t in &args.tags {
        let (k, v) = key_value(t, "--tag")?;
        tags.insert(k.to_string(), v.to_string());
    }
    let req = register::Request {
        model,
        artifact: args.artifact.clone(),
        artifact_uri: args.artifact_uri.clone(),
        explainer: args.explainer.clone(),
        metrics: metrics(&args.metrics)?,
        params,
        tags,
        dataset: args.dataset.clone(),
        snapshot: args.snapshot.clone(),
        raw_data: args.raw_data.clone(),
        pipeline: args.pipeline.clone(),
        requirements: args.requirements.clone(),
        python: args.python.clone(),
        image: args.image.clone(),
        seed: args.seed,
        run_id: args.run_id.clone(),
        experiment: args.experiment.clone(),
        code_version: args.code_version.clone(),
        code_dir: match &args.code_dir {
            Some(d) => d.clone(),
            None => std::env::current_dir()?,
        },
        git_commit: args.git_commit.clone(),
        dirty: if args.allow_dirty {
            register::Dirty::Record
        } else {
            register::Dirty::Refuse
        },
        evaluate: match (&args.evaluate, &args.label) {
            (Some(d), Some(l)) => Some(register::Evaluate {
                data: d.clone(),
                label: l.clone(),
                threshold: args.threshold,
            }),
            _ => None,
        },
        actor,
        at,
    };
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let plan = register::plan(&reg, &root, &req)?;
    modelgate::registry::write::write_changes(&root, &plan.files)?;
    let mut o = Outcome::new("register")
        .detail("model", req.model.as_str())
        .detail("version", plan.version);
    o.summary
        .push(format!("registered {}@v{}", req.model, plan.version));
    o.summary
        .extend(plan.summary.iter().map(|l| format!("  {l}")));
    o.wrote = plan.files.iter().map(|(f, _)| f.clone()).collect();
    o.next = Some(format!(
        "commit, open a pull request; `modelgate reproduce {}@v{}` shows how to rebuild it",
        req.model, plan.version
    ));
    o.print(args.format)?;
    Ok(EXIT_OK)
}
