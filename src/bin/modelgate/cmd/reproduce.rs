//! `modelgate reproduce <model>@<version>`.

use super::{Ctx, EXIT_FAIL, EXIT_OK};
use crate::cli::ReproduceArgs;
use anyhow::Result;
use modelgate::diag::render::Format;
use modelgate::lifecycle::reproduce;
use modelgate::registry::source::FsSource;

/// Runs the command. Exits 1 when the local dataset does not match its recorded digest.
pub fn run(ctx: &Ctx, args: &ReproduceArgs) -> Result<u8> {
    let root = ctx.registry_root()?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let (name, version) = modelgate::lifecycle::resolve_version(&reg, &args.target)?;
    let r = reproduce::recipe(&reg, &root, &name, version)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        _ => print!("{}", reproduce::text(&r)),
    }
    Ok(match r.dataset_check {
        reproduce::DatasetCheck::Mismatch { .. } => EXIT_FAIL,
        _ => EXIT_OK,
    })
}
