//! `modelgate show <model>[@alias|@vN]`.

use super::{Ctx, EXIT_OK};
use crate::cli::ShowArgs;
use crate::diag::render::Format;
use crate::lifecycle::show;
use crate::registry::source::FsSource;
use anyhow::Result;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ShowArgs) -> Result<u8> {
    let root = ctx.registry_root()?;
    let (name, sel) = match args.target.split_once('@') {
        None => (crate::registry::types::ModelName::new(&args.target)?, None),
        Some(_) => {
            let (n, s) = super::batch::parse_target(&args.target)?;
            (n, Some(s))
        }
    };
    let only = std::iter::once(name.clone()).collect();
    let reg = crate::registry::load_only(Box::new(FsSource::new(&root)?), &only)?.registry;
    let value = match sel {
        None => show::show_model(&reg, &name)?,
        Some(_) => {
            let (_, v) = super::batch::resolve_version(&reg, &args.target)?;
            show::show_version(&reg, &root, &name, v, chrono::Utc::now())?
        }
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&value)?),
        _ => print!("{}", show::text(&value)),
    }
    Ok(EXIT_OK)
}
