//! `modelgate approve <model> <version> --alias A --role R --key PATH`.

use super::{Ctx, EXIT_OK, Outcome};
use crate::cli::ApproveArgs;
use anyhow::{Result, anyhow};
use modelgate::lifecycle::{self, approve};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::{Alias, ModelName};

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ApproveArgs) -> Result<u8> {
    let root = ctx.registry_root()?;
    let at = lifecycle::timestamp(args.at.as_deref())?;
    let key = approve::read_key(&args.key)?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    if let Some(file) = &args.governance {
        let base_src = modelgate::registry::source::GitSource::open(&root, &args.base).map_err(|e| {
            anyhow!(
                "cannot read the base revision `{}`: {}; pass the pull request's base with --base REV",
                args.base,
                e.message()
            )
        })?;
        let rel = modelgate::registry::source::normalize(file)
            .map_err(|_| anyhow!("{file} is outside the repository"))?;
        let base = {
            use modelgate::registry::source::{ReadError, Source};
            match base_src.sha256(&rel) {
                Ok(d) => Some(d),
                Err(ReadError::NotFound) => None,
                Err(e) => return Err(anyhow!("cannot read {rel} at {}: {e}", args.base)),
            }
        };
        let plan = approve::plan_governance(
            &reg,
            file,
            base.as_ref(),
            &args.role,
            &key,
            args.principal.as_deref(),
            &at,
        )?;
        let mut o =
            write(&root, &plan.files, &plan.principal, &args.role)?.detail("governance", file);
        o.summary.push(format!(
            "{} approves the new content of {file} in the role {}",
            plan.principal, args.role
        ));
        o.print(args.format)?;
        return Ok(EXIT_OK);
    }
    let (Some(model), Some(model_version), Some(alias)) =
        (&args.model, &args.model_version, &args.alias)
    else {
        anyhow::bail!("name the model, the version and --alias (or --governance FILE)");
    };
    let name = ModelName::new(model)?;
    let version = lifecycle::parse_version(model_version).map_err(|e| anyhow!(e))?;
    let alias: Alias = alias.parse().map_err(|e: String| anyhow!(e))?;
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
    let mut o = write(&root, &plan.files, &plan.principal, &args.role)?
        .detail("model", name.as_str())
        .detail("version", version)
        .detail("alias", alias.to_string());
    o.summary.push(format!(
        "{} approves {name} v{version} as {alias} in the role {} (an `approve` entry in {})",
        plan.principal,
        args.role,
        modelgate::audit::AUDIT_PATH
    ));
    o.print(args.format)?;
    Ok(EXIT_OK)
}

/// Writes the plan's files at once; the outcome names the approver, the role and the files.
fn write(
    root: &std::path::Path,
    files: &[(String, Vec<u8>)],
    principal: &str,
    role: &str,
) -> Result<Outcome> {
    modelgate::registry::write::write_changes(root, files)?;
    let mut o = Outcome::new("approve")
        .detail("principal", principal)
        .detail("role", role);
    o.wrote = files.iter().map(|(f, _)| f.clone()).collect();
    Ok(o)
}
