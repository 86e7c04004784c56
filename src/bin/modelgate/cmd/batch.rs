//! `modelgate batch`: score data with a registry model (or an ONNX file) with lineage.

use super::{Ctx, EXIT_OK};
use crate::cli::BatchArgs;
use anyhow::{Context, Result, bail};
use modelgate::batch::{self, Feature, Options, Target};
use modelgate::diag::render::Format;
use modelgate::registry::source::FsSource;
use std::io::IsTerminal;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &BatchArgs) -> Result<u8> {
    if !(args.threshold > 0.0 && args.threshold < 1.0) {
        bail!(
            "--threshold {} is out of range: expected a number in (0, 1)",
            args.threshold
        );
    }
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let shard = args.shard.as_deref().map(str::parse).transpose()?;
    let scored_at = modelgate::lifecycle::timestamp(args.scored_at.as_deref())?;
    let progress = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    let (model_bytes, target, base, log) = match (&args.onnx, &args.target) {
        (Some(onnx), _) => {
            let bytes =
                std::fs::read(onnx).with_context(|| format!("reading {}", onnx.display()))?;
            let target = Target {
                model: onnx
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "model".into()),
                version: 0,
                alias: None,
                artifact_sha256: modelgate::registry::types::Sha256::of(&bytes).hex(),
                artifact: onnx.to_string_lossy().into_owned(),
                features: args
                    .features
                    .iter()
                    .map(|f| Feature {
                        name: f.clone(),
                        categories: None,
                    })
                    .collect(),
            };
            (bytes, target, std::env::current_dir()?, None)
        }
        (None, Some(t)) => {
            let (name, sel) = modelgate::lifecycle::parse_target(t)?;
            let root = ctx.registry_root()?;
            let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
            let m = reg
                .models
                .get(&name)
                .with_context(|| format!("there is no model `{name}` in this registry"))?;
            let spec = m
                .spec
                .as_ref()
                .context("model.yaml does not parse; run `modelgate validate`")?;
            // Read through the registry's source and verified before loading (the scoring core).
            let modelgate::scoring::Resolved { bytes, target } =
                modelgate::scoring::resolve(&reg, &name, &sel, "batch")?;
            let version = target.version;
            let log = if args.log {
                let mon = spec.monitoring.as_ref().context(
                    "--log needs `monitoring.predictions` (or `monitoring.current`) in model.yaml",
                )?;
                let stamp = scored_at.at.format("%Y-%m-%dT%H%M%S");
                Some(batch::log_path(
                    &root,
                    mon.inference_log(),
                    &format!(
                        "{}/{name}/model.yaml: `{}`",
                        modelgate::registry::MODELS_DIR,
                        mon.inference_log_key()
                    ),
                    &format!("scored-{stamp}-v{version}.parquet"),
                )?)
            } else {
                None
            };
            (bytes, target, std::env::current_dir()?, log)
        }
        (None, None) => bail!("name a model (`heart_disease@champion`) or pass --onnx FILE"),
    };
    let opts = Options {
        input: args.input.clone(),
        base,
        output: args.output.clone(),
        id_columns: args.id_columns.clone(),
        batch_size: args.batch_size,
        threads: args.threads,
        shard,
        threshold: args.threshold,
        scored_at,
        log,
        progress,
    };
    let manifest = batch::run(&model_bytes, &target, &opts)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&manifest)?),
        _ => {
            println!(
                "scored {} rows with {} v{} (artifact {}) in {:.2} s",
                manifest.rows,
                target.model,
                target.version,
                &target.artifact_sha256[..12],
                manifest.duration_seconds
            );
            println!("  wrote {}", manifest.output);
            println!("  wrote {}", batch::manifest_path(&args.output).display());
            if let Some(l) = &manifest.log {
                println!("  appended to the inference log: {l}");
            }
        }
    }
    Ok(EXIT_OK)
}
