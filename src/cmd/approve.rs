//! `modelgate approve <model> <version> --alias A --role R --key PATH`.

use super::{Ctx, EXIT_OK};
use crate::cli::ApproveArgs;
use crate::lifecycle::{self, approve};
use crate::registry::source::FsSource;
use crate::registry::types::{Alias, ModelName};
use anyhow::{Result, anyhow};

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ApproveArgs) -> Result<u8> {
    let name = ModelName::new(&args.model)?;
    let version = lifecycle::parse_version(&args.model_version).map_err(|e| anyhow!(e))?;
    let alias: Alias = args.alias.parse().map_err(|e: String| anyhow!(e))?;
    let root = ctx.registry_root()?;
    let at = lifecycle::timestamp(args.at.as_deref())?;
    let key = approve::read_key(&args.key)?;
    let reg = crate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let plan = approve::plan(
        &reg,
        &name,
        version,
        alias,
        &args.role,
        &key,
        args.principal.as_deref(),
        &at,
    )?;
    crate::registry::write::write_changes(&root, &plan.files)?;
    println!(
        "{} approves {name} v{version} as {alias} in the role {}",
        plan.principal, args.role
    );
    println!("  wrote {}", plan.file);
    println!(
        "  appended an `approve` entry to {}",
        crate::audit::AUDIT_PATH
    );
    Ok(EXIT_OK)
}
