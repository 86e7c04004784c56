//! `modelgate archive <model> <version>`.

use super::Ctx;
use crate::cli::ArchiveArgs;
use anyhow::{Result, anyhow};
use modelgate::lifecycle::{self, demote};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::ModelName;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ArchiveArgs) -> Result<u8> {
    let name = ModelName::new(&args.model)?;
    let version = lifecycle::parse_version(&args.model_version).map_err(|e| anyhow!(e))?;
    let root = ctx.registry_root()?;
    let actor = lifecycle::actor(args.actor.as_deref(), &root)?;
    let at = lifecycle::timestamp(args.at.as_deref())?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let plan = demote::archive(&reg, &name, version, args.reason.as_deref(), &actor, &at)?;
    let o = super::Outcome::new("archive")
        .detail("model", name.as_str())
        .detail("version", version);
    super::promote::write_plan(&root, &plan, o, args.format)
}
