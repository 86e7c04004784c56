//! `modelgate retire [--today YYYY-MM-DD] [--apply [--delete-artifacts]]`.

use super::{Ctx, EXIT_OK};
use crate::cli::RetireArgs;
use anyhow::Result;
use modelgate::diag::render::Format;
use modelgate::lifecycle::{self, retire};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::ModelName;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &RetireArgs) -> Result<u8> {
    let today = match &args.today {
        Some(d) => retire::parse_day(d)?,
        None => chrono::Utc::now().date_naive(),
    };
    let only = args
        .model
        .iter()
        .map(|m| ModelName::new(m).map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()?;
    let root = ctx.registry_root()?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let actor = if args.apply {
        lifecycle::actor(args.actor.as_deref(), &root)?
    } else {
        args.actor.clone().unwrap_or_else(|| "modelgate".into())
    };
    let plan = retire::plan(&reg, today, &only, &actor)?;
    let mut purged = Vec::new();
    if args.apply && !plan.files.is_empty() {
        modelgate::registry::write::write_changes(&root, &plan.files)?;
        if args.delete_artifacts {
            purged = retire::purge_artifacts(&root, &plan)?;
        }
    }
    match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&plan)?;
            v["applied"] = args.apply.into();
            v["artifacts_deleted"] = serde_json::json!(purged);
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        _ => {
            print!("{}", retire::text(&plan, args.apply));
            if args.apply {
                for (f, _) in &plan.files {
                    println!("  wrote {f}");
                }
                for p in &purged {
                    println!("  deleted {p}");
                }
                if !args.delete_artifacts
                    && plan.steps.iter().any(|s| s.action == retire::Act::Delete)
                {
                    println!(
                        "  artifacts were kept on disk: add --delete-artifacts to delete the local files"
                    );
                }
            }
        }
    }
    Ok(EXIT_OK)
}
