//! `modelgate validate [--rev REV] [--format …]`.

use super::{Ctx, EXIT_ERROR, EXIT_FAIL, EXIT_OK};
use crate::cli::ValidateArgs;
use anyhow::{Context, Result};
use modelgate::diag::render::{self, Format};
use modelgate::registry::source::{FsSource, GitSource, Source};
pub use modelgate::validate::validate_source;
use modelgate::validate::{Options, Outcome};
use std::io::Write;
use std::path::Path;

/// Opens a source: the working tree, or a git revision of the repository at `root`.
pub fn open_source(root: &Path, rev: Option<&str>) -> Result<Box<dyn Source>> {
    Ok(match rev {
        None => {
            Box::new(FsSource::new(root).with_context(|| format!("opening {}", root.display()))?)
        }
        Some(rev) => Box::new(GitSource::open(root, rev).with_context(|| {
            format!(
                "reading revision `{rev}` of the git repository at {}",
                root.display()
            )
        })?),
    })
}

/// Renders a validation outcome in a format.
pub fn render(outcome: &Outcome, format: Format, color: bool) -> String {
    let reg = &outcome.registry;
    match format {
        Format::Json => {
            let mut s = render::json(&outcome.report);
            s.push('\n');
            s
        }
        Format::Github => render::github(&outcome.report),
        Format::Markdown => render::markdown(&outcome.report, "modelgate validate"),
        Format::Text => {
            let source = |f: &str| {
                reg.source
                    .read(f, u64::MAX)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
            };
            let mut s = render::text(&outcome.report, &source, color);
            let versions: usize = reg.models.values().map(|m| m.versions.len()).sum();
            s.push_str(&format!(
                "validated {}, {} ({}) in {}: {}\n",
                render::count(reg.models.len(), "model"),
                render::count(versions, "version"),
                render::count(reg.files_read, "file"),
                reg.source.describe(),
                render::summary(&outcome.report)
            ));
            s
        }
    }
}

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ValidateArgs) -> Result<u8> {
    let root = match (&ctx.root, &args.rev) {
        (Some(r), _) => r.clone(),
        // At a revision, the repository is wherever git finds it from here.
        (None, Some(_)) => {
            let cwd = std::env::current_dir()?;
            match git2::Repository::discover(&cwd) {
                Ok(repo) => repo
                    .workdir()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| repo.path().to_path_buf()),
                Err(_) => ctx.registry_root()?,
            }
        }
        (None, None) => ctx.registry_root()?,
    };
    let src = open_source(&root, args.rev.as_deref())?;
    let outcome = match validate_source(
        src,
        Options {
            digests: !args.report.no_digests,
            ..Options::default()
        },
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let text = render(&outcome, args.report.format, ctx.color);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if args.report.format == Format::Github {
        super::append_job_summary(&render::markdown(&outcome.report, "modelgate validate"))?;
    }
    Ok(if outcome.report.has_errors() {
        EXIT_FAIL
    } else {
        EXIT_OK
    })
}
