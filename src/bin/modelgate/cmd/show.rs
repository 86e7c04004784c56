//! `modelgate show <model>[@alias|@vN]`.

use super::{Ctx, EXIT_OK};
use crate::cli::ShowArgs;
use anyhow::Result;
use modelgate::diag::render::Format;
use modelgate::lifecycle::show;
use modelgate::registry::source::FsSource;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ShowArgs) -> Result<u8> {
    let root = ctx.registry_root()?;
    let (name, sel) = match args.target.split_once('@') {
        None => (
            modelgate::registry::types::ModelName::new(&args.target)?,
            None,
        ),
        Some(_) => {
            let (n, s) = modelgate::lifecycle::parse_target(&args.target)?;
            (n, Some(s))
        }
    };
    let only = std::iter::once(name.clone()).collect();
    let reg = modelgate::registry::load_only(Box::new(FsSource::new(&root)?), &only)?.registry;
    let value = match sel {
        None => show::show_model(&reg, &name)?,
        Some(_) => {
            let (_, v) = modelgate::lifecycle::resolve_version(&reg, &args.target)?;
            show::show_version(&reg, &root, &name, v, chrono::Utc::now())?
        }
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&value)?),
        _ => print!("{}", show::text(&value)),
    }
    Ok(EXIT_OK)
}
