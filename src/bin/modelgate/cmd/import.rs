//! `modelgate import mlflow <store>`.

use super::{Ctx, EXIT_OK, Outcome};
use crate::cli::{ImportArgs, ImportSource};
use anyhow::Result;
use modelgate::diag::render::count;
use modelgate::lifecycle::{self, import};

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ImportArgs) -> Result<u8> {
    match &args.source {
        ImportSource::Mlflow {
            store,
            model,
            dry_run,
            copy_artifacts,
            artifacts_root,
            actor,
            alias_map,
            strict,
        } => {
            let root = ctx.registry_root()?;
            let opts = import::Options {
                only: model.clone(),
                actor: lifecycle::actor(actor.as_deref(), &root)?,
                at: lifecycle::timestamp(None)?,
                copy_to: copy_artifacts.clone(),
                aliases: import::alias_map(alias_map)?,
                strict: *strict,
            };
            let s = import::open(store, artifacts_root)?;
            let reg = modelgate::registry::load(Box::new(
                modelgate::registry::source::FsSource::new(&root)?,
            ))?
            .registry;
            let plan = import::plan(&reg, &s, &opts)?;
            let mut o = Outcome::new("import mlflow")
                .detail("models", plan.models)
                .detail("versions", plan.versions)
                .detail("unchanged", plan.unchanged)
                .detail("alias_moves", plan.alias_moves)
                .detail("warnings", &plan.warnings)
                .detail("dry_run", *dry_run);
            o.summary = plan.summary.clone();
            o.summary
                .extend(plan.warnings.iter().map(|w| format!("warning: {w}")));
            if *dry_run {
                o.summary.push(format!(
                    "dry run: would import {}, {} ({}); nothing was written",
                    count(plan.models, "model"),
                    count(plan.versions, "version"),
                    count(plan.files.len(), "file")
                ));
                o = o.detail(
                    "would_write",
                    plan.files
                        .iter()
                        .map(|(f, _)| f.as_str())
                        .collect::<Vec<_>>(),
                );
            } else {
                // New files must not exist; changed ones (the audit log) are replaced
                // atomically, together.
                modelgate::registry::write::write_changes(&root, &plan.files)?;
                o.summary.push(format!(
                    "imported {}, {} from {store} ({} already imported and unchanged, {}, {})",
                    count(plan.models, "model"),
                    count(plan.versions, "version"),
                    plan.unchanged,
                    count(plan.alias_moves, "alias move"),
                    count(plan.warnings.len(), "warning")
                ));
                if plan.versions + plan.alias_moves > 0 {
                    o.next = Some(
                        "review the features in each new model.yaml, commit, and open a pull request"
                            .into(),
                    );
                }
                if args.format == crate::cli::OutputFormat::Json {
                    o.wrote = plan.files.iter().map(|(f, _)| f.clone()).collect();
                }
            }
            o.print(args.format)?;
            Ok(EXIT_OK)
        }
    }
}
