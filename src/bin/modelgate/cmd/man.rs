//! `modelgate man [--out DIR]`: roff man pages generated from the clap definition.

use super::EXIT_OK;
use crate::cli::{Cli, ManArgs};
use anyhow::{Context, Result};
use clap::CommandFactory;

/// Runs the command.
pub fn run(args: &ManArgs) -> Result<u8> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for (file, bytes) in crate::manpages::render(Cli::command())? {
        let path = args.out.join(&file);
        modelgate::registry::write::write_atomic(&path, &bytes)?;
        println!("wrote {}", path.display());
    }
    Ok(EXIT_OK)
}
