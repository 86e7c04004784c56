//! `modelgate promote <model> <version> --to <alias>`.

use super::{Ctx, EXIT_OK};
use crate::cli::PromoteArgs;
use crate::lifecycle::{self, promote};
use crate::registry::source::FsSource;
use crate::registry::types::{Alias, ModelName};
use anyhow::{Result, anyhow};

/// Runs the command.
pub fn run(ctx: &Ctx, args: &PromoteArgs) -> Result<u8> {
    let name = ModelName::new(&args.model)?;
    let version = lifecycle::parse_version(&args.model_version).map_err(|e| anyhow!(e))?;
    let alias: Alias = args.to.parse().map_err(|e: String| anyhow!(e))?;
    let root = ctx.registry_root()?;
    let actor = lifecycle::actor(args.actor.as_deref(), &root)?;
    let at = lifecycle::timestamp(args.at.as_deref())?;
    let reg = crate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let plan = promote::plan(&reg, &name, version, alias, &actor, &at)?;
    write_plan(&root, &plan)
}

/// Writes a plan of `promote`, `demote` or `archive` (all files or none) and says what it did.
pub(super) fn write_plan(root: &std::path::Path, plan: &promote::Plan) -> Result<u8> {
    crate::registry::write::write_changes(root, &plan.files)?;
    for line in &plan.summary {
        println!("{line}");
    }
    for (f, _) in &plan.files {
        println!("  wrote {f}");
    }
    println!("next: commit, open a pull request, and let `modelgate check` judge it");
    Ok(EXIT_OK)
}
