//! `modelgate promote <model> <version> --to <alias>`.

use super::{Ctx, EXIT_OK, Outcome};
use crate::cli::PromoteArgs;
use anyhow::{Result, anyhow};
use modelgate::lifecycle::{self, promote};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::{Alias, ModelName};

/// Runs the command.
pub fn run(ctx: &Ctx, args: &PromoteArgs) -> Result<u8> {
    let name = ModelName::new(&args.model)?;
    let version = lifecycle::parse_version(&args.model_version).map_err(|e| anyhow!(e))?;
    let alias: Alias = args.to.parse().map_err(|e: String| anyhow!(e))?;
    let root = ctx.registry_root()?;
    let actor = lifecycle::actor(args.actor.as_deref(), &root)?;
    let at = lifecycle::timestamp(args.at.as_deref())?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let plan = promote::plan(&reg, &name, version, alias, &actor, &at)?;
    let o = Outcome::new("promote")
        .detail("model", name.as_str())
        .detail("version", version)
        .detail("alias", alias.to_string());
    write_plan(&root, &plan, o, args.format)
}

/// Writes a plan of `promote`, `demote` or `archive` (all files or none) and says what it did
/// (`o`: the command and its values).
pub(super) fn write_plan(
    root: &std::path::Path,
    plan: &promote::Plan,
    mut o: Outcome,
    format: crate::cli::OutputFormat,
) -> Result<u8> {
    modelgate::registry::write::write_changes(root, &plan.files)?;
    o.summary = plan.summary.clone();
    o.wrote = plan.files.iter().map(|(f, _)| f.clone()).collect();
    o.next = Some("commit, open a pull request, and let `modelgate check` judge it".into());
    o.print(format)?;
    Ok(EXIT_OK)
}
