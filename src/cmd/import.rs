//! `modelgate import mlflow <store>`.

use super::Ctx;
use crate::cli::{ImportArgs, ImportSource};
use anyhow::Result;

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
        } => crate::lifecycle::import::run_mlflow(
            ctx,
            store,
            model,
            *dry_run,
            actor.as_deref(),
            copy_artifacts.as_deref(),
            artifacts_root,
        ),
    }
}
