//! `modelgate dev …`: hidden developer tools.

use super::{EXIT_OK, Outcome};
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
            modelgate::synth::write(out, *models, *versions)?;
            let mut o = Outcome::new("dev synth")
                .detail("models", models)
                .detail("versions", versions);
            if *git {
                let id = modelgate::synth::commit_all(out, "synthetic registry")?;
                o.summary.push(format!("committed {id}"));
                o = o.detail("commit", id.to_string());
            }
            o.summary.push(format!(
                "wrote {models} models × {versions} versions to {}",
                out.display()
            ));
            o.print(args.format)?;
        }
    }
    Ok(EXIT_OK)
}
