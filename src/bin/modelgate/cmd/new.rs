//! `modelgate new <model>`: scaffold a model from the template.

use super::{Ctx, EXIT_OK, Outcome};
use crate::cli::NewArgs;
use anyhow::Result;
use modelgate::registry::types::ModelName;
use modelgate::scaffold;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &NewArgs) -> Result<u8> {
    let name = ModelName::new(&args.model)?;
    let root = ctx.registry_root()?;
    let model_dir = root
        .join(modelgate::registry::MODELS_DIR)
        .join(name.as_str());
    if model_dir.exists() {
        anyhow::bail!("model `{name}` already exists at {}", model_dir.display());
    }
    let template = std::fs::read_to_string(root.join(scaffold::CARD_TEMPLATE_PATH))
        .unwrap_or_else(|_| scaffold::MODEL_CARD.to_string());
    let description = args
        .description
        .clone()
        .unwrap_or_else(|| format!("What {name} predicts, in one line."));
    let mut files = scaffold::model_files(&name, &args.owner, &description, &template);
    files.extend(scaffold::missing_schema_files(&root));
    scaffold::write_new_files(&root, &files)?;
    let mut o = Outcome::new("new").detail("model", name.as_str());
    o.summary.push(format!("created model `{name}`"));
    o.wrote = files.iter().map(|(p, _)| p.clone()).collect();
    o.next = Some(
        "describe its features in model.yaml, write its model card, and register a version".into(),
    );
    o.print(args.format)?;
    Ok(EXIT_OK)
}
