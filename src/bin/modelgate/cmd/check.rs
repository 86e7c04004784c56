//! `modelgate check --base REV --head REV`: the pull-request gate.

use super::{Ctx, EXIT_ERROR, EXIT_FAIL, EXIT_OK};
use crate::cli::CheckArgs;
use anyhow::Result;
use modelgate::check::{self, Verdict, report};
use modelgate::diag::render::Format;
use std::io::Write;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &CheckArgs) -> Result<u8> {
    let root = match &ctx.root {
        Some(r) => r.clone(),
        None => std::env::current_dir()?,
    };
    let at = match args.at.as_deref() {
        Some(t) => Some(modelgate::lifecycle::timestamp(Some(t))?.at),
        None => None,
    };
    let opts = check::Options {
        digests: !args.report.no_digests,
        at,
    };
    let outcome = match check::check(&root, &args.base, &args.head, &opts) {
        Ok(o) => o,
        Err(e) if args.report.format == Format::Json => {
            println!("{}", super::error_json(&anyhow::anyhow!("{e}")));
            eprintln!("error: {e}");
            return Ok(EXIT_ERROR);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    // check compares commits: changes not yet committed are not part of the verdict
    if args.head == "HEAD" {
        if let Ok(dirty) = modelgate::gitops::uncommitted(&root) {
            if let Some(first) = dirty.first() {
                eprintln!(
                    "modelgate: warning: {} uncommitted {} ({first}{}) {} not checked: check compares the commits {}..{}; commit them to have them judged",
                    dirty.len(),
                    if dirty.len() == 1 {
                        "change"
                    } else {
                        "changes"
                    },
                    if dirty.len() > 1 { ", …" } else { "" },
                    if dirty.len() == 1 { "is" } else { "are" },
                    args.base,
                    args.head,
                );
            }
        }
    }
    let text = match args.report.format {
        Format::Text => report::text(&outcome, ctx.color),
        Format::Json => report::json(&outcome),
        Format::Markdown => report::markdown(&outcome),
        Format::Github => report::github(&outcome),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    if args.report.format == Format::Github {
        super::append_job_summary(&report::markdown(&outcome))?;
    }
    if args.comment {
        let gh = modelgate::github::GitHub::from_env(args.repo.as_deref(), false)?;
        let pr = modelgate::github::comment::pr_number(args.pr)?;
        let done = modelgate::github::comment::upsert(&gh, pr, &report::markdown(&outcome))?;
        for line in gh.take_dry_log() {
            println!("{line}");
        }
        eprintln!("modelgate: {done}");
    }
    Ok(match outcome.verdict() {
        Verdict::Block => EXIT_FAIL,
        _ => EXIT_OK,
    })
}
