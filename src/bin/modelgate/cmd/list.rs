//! `modelgate list`.

use super::{Ctx, EXIT_OK};
use crate::cli::ListArgs;
use anyhow::Result;
use modelgate::diag::render::Format;
use modelgate::lifecycle::list;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ListArgs) -> Result<u8> {
    let root = ctx.registry_root()?;
    let rows = list::list(&root, chrono::Utc::now())?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        _ => print!("{}", list::text(&rows)),
    }
    Ok(EXIT_OK)
}
