//! `modelgate dev …`: hidden developer tools.

use super::EXIT_OK;
use crate::cli::{DevArgs, DevCommand};
use anyhow::Result;

/// Runs the command.
pub fn run(args: &DevArgs) -> Result<u8> {
    match &args.command {
        DevCommand::Synth {
            out,
            models,
            versions,
            git,
        } => {
            crate::synth::write(out, *models, *versions)?;
            if *git {
                let id = crate::synth::commit_all(out, "synthetic registry")?;
                println!("committed {id}");
            }
            println!(
                "wrote {models} models × {versions} versions to {}",
                out.display()
            );
        }
    }
    Ok(EXIT_OK)
}
