//! `modelgate lineage <model@version | prediction-id>`.

use super::{Ctx, EXIT_OK};
use crate::cli::LineageArgs;
use anyhow::Result;
use modelgate::batch::lineage;
use modelgate::diag::render::Format;
use modelgate::registry::source::FsSource;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &LineageArgs) -> Result<u8> {
    let root = ctx.registry_root()?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let chain = if args.target.contains('@') {
        let (name, version) = modelgate::lifecycle::resolve_version(&reg, &args.target)?;
        lineage::of_version(&reg, name.as_str(), version)?
    } else {
        let (p, model, version) = match args.inputs.as_deref() {
            Some(pattern) => lineage::find(pattern, &std::env::current_dir()?, &args.target)?,
            None => lineage::find_in_registry(&reg, &root, &args.target)?,
        };
        let mut chain = lineage::of_version(&reg, &model, version)?;
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&p.scored_at.replace(' ', "T")) {
            chain.aliases_at_scoring =
                lineage::aliases_at(&reg, &model, version, t.with_timezone(&chrono::Utc));
        }
        chain.prediction = Some(p);
        chain
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&chain)?),
        _ => print!("{}", lineage::text(&chain)),
    }
    Ok(EXIT_OK)
}
