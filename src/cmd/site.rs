//! `modelgate site build`.

use super::{Ctx, EXIT_OK};
use crate::cli::{SiteArgs, SiteCommand};
use anyhow::Result;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &SiteArgs) -> Result<u8> {
    match &args.command {
        SiteCommand::Build {
            out,
            base_url,
            stamp,
            force,
        } => {
            let root = ctx.registry_root()?;
            let opts = crate::site::Options {
                out: out.clone(),
                base_url: base_url.clone(),
                stamp: *stamp,
                force: *force,
            };
            let r = crate::site::build(&root, &opts)?;
            println!(
                "built {} pages ({} written, {} unchanged) in {:.2} s; links checked",
                r.pages, r.written, r.unchanged, r.seconds
            );
            println!("open {}", r.index.display());
            Ok(EXIT_OK)
        }
    }
}
