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
            github_issues,
            repo,
        } => {
            let root = ctx.registry_root()?;
            let mut drift_issues = Default::default();
            if *github_issues {
                let gh = crate::github::GitHub::from_env(repo.as_deref(), false)?;
                if gh.is_dry_run() {
                    eprintln!(
                        "modelgate: no GITHUB_TOKEN: model pages are built without their drift issues"
                    );
                } else {
                    drift_issues = crate::github::drift::open_issues(&gh)?;
                }
            }
            let opts = crate::site::Options {
                out: out.clone(),
                base_url: base_url.clone(),
                stamp: *stamp,
                force: *force,
                drift_issues,
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
