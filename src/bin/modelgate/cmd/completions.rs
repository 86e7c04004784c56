//! `modelgate completions <shell>`: a completion script generated from the clap definition.

use super::EXIT_OK;
use crate::cli::{Cli, CompletionsArgs};
use anyhow::Result;
use clap::CommandFactory;

/// Runs the command.
pub fn run(args: &CompletionsArgs) -> Result<u8> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "modelgate", &mut std::io::stdout());
    Ok(EXIT_OK)
}
