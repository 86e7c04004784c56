//! `modelgate init [DIR]`: scaffold a registry repository.

use super::{EXIT_OK, Outcome};
use crate::cli::InitArgs;
use crate::scaffold;
use anyhow::Result;

/// Runs the command.
pub fn run(args: &InitArgs) -> Result<u8> {
    let files = scaffold::init_files();
    scaffold::write_new_files(&args.dir, &files)?;
    let mut o = Outcome::new("init").detail("dir", args.dir.display().to_string());
    o.summary.push(format!(
        "created a modelgate registry in {}",
        args.dir.display()
    ));
    o.wrote = files.iter().map(|(p, _)| p.clone()).collect();
    o.next = Some(
        "add signers' public keys to registry/allowed_signers, name them under `roles:` in registry/policy.yaml and commit that to the default branch yourself (later rule changes are reviewed pull requests), then `modelgate new <model>`".into(),
    );
    o.print(args.format)?;
    Ok(EXIT_OK)
}
