//! `modelgate diff <model> <vA> <vB>`.

use super::{Ctx, EXIT_OK};
use crate::cli::DiffArgs;
use anyhow::{Result, anyhow};
use modelgate::diag::render::Format;
use modelgate::lifecycle::{self, show};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::ModelName;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &DiffArgs) -> Result<u8> {
    let name = ModelName::new(&args.model)?;
    let a = lifecycle::parse_version(&args.a).map_err(|e| anyhow!(e))?;
    let b = lifecycle::parse_version(&args.b).map_err(|e| anyhow!(e))?;
    let root = ctx.registry_root()?;
    let only = std::iter::once(name.clone()).collect();
    let reg = modelgate::registry::load_only(Box::new(FsSource::new(&root)?), &only)?.registry;
    let value = show::diff(&reg, &root, &name, a, b)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&value)?),
        _ => print!("{}", show::text(&value)),
    }
    Ok(EXIT_OK)
}
