//! `modelgate init [DIR]`: scaffold a registry repository.

use super::EXIT_OK;
use crate::cli::InitArgs;
use crate::scaffold;
use anyhow::Result;

/// Runs the command.
pub fn run(args: &InitArgs) -> Result<u8> {
    let files = scaffold::init_files();
    scaffold::write_new_files(&args.dir, &files)?;
    println!("created a modelgate registry in {}:", args.dir.display());
    for (path, _) in &files {
        println!("  {path}");
    }
    println!(
        "next: add signers' public keys to registry/allowed_signers, name them under `roles:` in registry/policy.yaml and commit that to the default branch yourself (later rule changes are reviewed pull requests), then `modelgate new <model>`"
    );
    Ok(EXIT_OK)
}
