//! `modelgate init [DIR]`: scaffold a registry repository.

use super::{EXIT_OK, Outcome};
use crate::cli::InitArgs;
use anyhow::{Context, Result};
use modelgate::scaffold;

/// Runs the command.
pub fn run(args: &InitArgs) -> Result<u8> {
    let files = scaffold::init_files();
    let ignore_path = args.dir.join(".gitignore");
    let ignore = match std::fs::read_to_string(&ignore_path) {
        Ok(t) => scaffold::gitignore(Some(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => scaffold::gitignore(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", ignore_path.display())),
    };
    scaffold::write_new_files(&args.dir, &files)?;
    if let Some(text) = &ignore {
        scaffold::write_atomic(&ignore_path, text.as_bytes())?;
    }
    let mut o = Outcome::new("init").detail("dir", args.dir.display().to_string());
    o.summary.push(format!(
        "created a modelgate registry in {}",
        args.dir.display()
    ));
    o.wrote = files.iter().map(|(p, _)| p.clone()).collect();
    if ignore.is_some() {
        o.wrote.push(".gitignore".into());
    }
    o.next = Some(
        "add signers' public keys to registry/allowed_signers, name them under `roles:` in registry/policy.yaml and commit that to the default branch yourself (later rule changes are reviewed pull requests), then `modelgate new <model>`".into(),
    );
    o.print(args.format)?;
    Ok(EXIT_OK)
}
