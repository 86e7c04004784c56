//! `modelgate site build`.

use super::{Ctx, EXIT_OK, Outcome};
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
                let gh = modelgate::github::GitHub::from_env(repo.as_deref(), false)?;
                if gh.is_dry_run() {
                    eprintln!(
                        "modelgate: no GITHUB_TOKEN: model pages are built without their drift issues"
                    );
                } else {
                    drift_issues = modelgate::github::drift::open_issues(&gh)?;
                }
            }
            let opts = modelgate::site::Options {
                out: out.clone(),
                base_url: base_url.clone(),
                stamp: *stamp,
                force: *force,
                drift_issues,
            };
            let r = modelgate::site::build(&root, &opts)?;
            let mut o = Outcome::new("site build")
                .detail("pages", r.pages)
                .detail("written", r.written)
                .detail("unchanged", r.unchanged)
                .detail("seconds", r.seconds)
                .detail("index", r.index.display().to_string());
            o.summary.push(format!(
                "built {} ({} written, {} unchanged) in {:.2} s; links checked",
                modelgate::diag::render::count(r.pages, "page"),
                r.written,
                r.unchanged,
                r.seconds
            ));
            o.next = Some(format!("open {}", r.index.display()));
            match args.format {
                crate::cli::OutputFormat::Text => {
                    println!("{}", o.summary[0]);
                    println!("open {}", r.index.display());
                }
                f => o.print(f)?,
            }
            Ok(EXIT_OK)
        }
    }
}
