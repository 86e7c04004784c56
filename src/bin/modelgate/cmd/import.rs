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
        } => {
            let root = ctx.registry_root()?;
            let actor = lifecycle::actor(actor.as_deref(), &root)?;
            let at = lifecycle::timestamp(None)?;
            let s = import::open(store, artifacts_root)?;
            let reg = modelgate::registry::load(Box::new(
                modelgate::registry::source::FsSource::new(&root)?,
            ))?
            .registry;
            let plan = import::plan(&reg, &s, model, &actor, &at, copy_artifacts.as_deref())?;
            let mut o = Outcome::new("import mlflow")
                .detail("models", plan.models)
                .detail("versions", plan.versions)
                .detail("dry_run", *dry_run);
            o.summary = plan.summary.clone();
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
                    "imported {}, {} from {store}",
                    count(plan.models, "model"),
                    count(plan.versions, "version")
                ));
                o.next = Some(
                    "review the features in each new model.yaml, commit, and open a pull request"
                        .into(),
                );
                if args.format == crate::cli::OutputFormat::Json {
                    o.wrote = plan.files.iter().map(|(f, _)| f.clone()).collect();
                }
            }
            o.print(args.format)?;
            Ok(EXIT_OK)
        }
    }
}
