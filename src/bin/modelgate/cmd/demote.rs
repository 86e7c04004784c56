//! `modelgate demote <model> --from <alias>`.

use super::Ctx;
use crate::cli::DemoteArgs;
use anyhow::{Result, anyhow};
use modelgate::lifecycle::{self, demote};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::{Alias, ModelName};

/// Runs the command.
pub fn run(ctx: &Ctx, args: &DemoteArgs) -> Result<u8> {
    let name = ModelName::new(&args.model)?;
    let alias: Alias = args.from.parse().map_err(|e: String| anyhow!(e))?;
    let root = ctx.registry_root()?;
    let actor = lifecycle::actor(args.actor.as_deref(), &root)?;
    let at = lifecycle::timestamp(args.at.as_deref())?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let plan = demote::demote(&reg, &name, alias, args.reason.as_deref(), &actor, &at)?;
    let o = super::Outcome::new("demote")
        .detail("model", name.as_str())
        .detail("alias", alias.to_string());
    super::promote::write_plan(&root, &plan, o, args.format)
}
