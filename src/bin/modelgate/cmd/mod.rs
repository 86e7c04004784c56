//! Subcommands: one file each, thin. They resolve arguments, call the library, render the
//! result and return an exit code.

mod approval;
mod approve;
mod archive;
mod batch;
mod bias;
mod check;
mod completions;
mod demo;
mod demote;
mod dev;
mod diff;
mod drift;
mod evaluate;
mod import;
mod init;
mod lineage;
mod list;
mod man;
mod new;
mod plan;
mod profile;
mod promote;
mod register;
mod reproduce;
mod retire;
mod runtime;
mod schema;
mod search;
mod serve;
mod show;
mod site;
mod validate;

use crate::cli::{Cli, ColorChoice, Command};
use anyhow::{Context, Result, bail};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Exit code: all clear.
pub const EXIT_OK: u8 = 0;
/// Exit code: a check failed or a gate blocked.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: bad input or an internal error.
pub const EXIT_ERROR: u8 = 2;

/// What a command that writes did: lines of text for people, or one JSON document
/// (`--format json`) for programs: `{"command", "summary", "wrote", "next", ...details}`.
#[derive(Debug, Default, serde::Serialize)]
pub struct Outcome {
    /// The command, `promote`.
    pub command: &'static str,
    /// What happened, in words, one line each.
    pub summary: Vec<String>,
    /// The files written (repository-relative in a registry), in the order written.
    pub wrote: Vec<String>,
    /// What to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Values a program wants without parsing the summary (the version registered, …).
    #[serde(flatten)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Outcome {
    /// An outcome of `command` with no lines yet.
    pub fn new(command: &'static str) -> Outcome {
        Outcome {
            command,
            ..Outcome::default()
        }
    }

    /// Adds a value for the JSON document.
    pub fn detail(mut self, key: &str, value: impl serde::Serialize) -> Outcome {
        let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.details.insert(key.to_string(), v);
        self
    }

    /// Prints the outcome: the summary, `  wrote <file>` per file and `next: …`, or JSON.
    pub fn print(&self, format: crate::cli::OutputFormat) -> Result<()> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        match format {
            crate::cli::OutputFormat::Json => {
                writeln!(out, "{}", serde_json::to_string_pretty(self)?)?;
            }
            crate::cli::OutputFormat::Text => {
                for line in &self.summary {
                    writeln!(out, "{line}")?;
                }
                for f in &self.wrote {
                    writeln!(out, "  wrote {f}")?;
                }
                if let Some(n) = &self.next {
                    writeln!(out, "next: {n}")?;
                }
            }
        }
        Ok(())
    }
}

/// An error as the JSON document `--format json` promises: `{"error": {"message", "causes"}}`.
pub fn error_json(err: &anyhow::Error) -> String {
    let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
    let doc = serde_json::json!({"error": {"message": err.to_string(), "causes": causes}});
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// With `--format github` in GitHub Actions, appends a Markdown report to the job summary
/// (`$GITHUB_STEP_SUMMARY`); elsewhere does nothing.
pub fn append_job_summary(markdown: &str) -> Result<()> {
    use std::io::Write;
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| {
            format!(
                "opening $GITHUB_STEP_SUMMARY ({})",
                Path::new(&path).display()
            )
        })?;
    f.write_all(markdown.as_bytes())?;
    Ok(())
}

/// Settings every command shares.
pub struct Ctx {
    /// `--root`, if given.
    pub root: Option<PathBuf>,
    /// Whether to color text output.
    pub color: bool,
}

impl Ctx {
    /// The registry root: `--root`, or the nearest folder upwards that holds
    /// registry/policy.yaml.
    pub fn registry_root(&self) -> Result<PathBuf> {
        if let Some(r) = &self.root {
            return Ok(r.clone());
        }
        let cwd = std::env::current_dir().context("reading the current directory")?;
        match find_root(&cwd) {
            Some(r) => Ok(r),
            None => bail!(
                "no registry found: neither {} nor any folder above it holds {}; pass --root DIR, or create one with `modelgate init`",
                cwd.display(),
                modelgate::registry::POLICY_PATH
            ),
        }
    }
}

/// The nearest folder, from `start` upwards, that holds registry/policy.yaml.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(modelgate::registry::POLICY_PATH).is_file())
        .map(Path::to_path_buf)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<u8> {
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let ctx = Ctx {
        root: cli.root,
        color,
    };
    match cli.command {
        Command::Init(a) => init::run(&a),
        Command::New(a) => new::run(&ctx, &a),
        Command::Validate(a) => validate::run(&ctx, &a),
        Command::Demo(a) => demo::run(&ctx, &a),
        Command::Approval(a) => approval::run(&ctx, &a),
        Command::Check(a) => check::run(&ctx, &a),
        Command::Drift(a) => drift::run(&ctx, &a),
        Command::Bias(a) => bias::run(&ctx, &a),
        Command::Evaluate(a) => evaluate::run(&a),
        Command::Profile(a) => profile::run(&a),
        Command::Batch(a) => batch::run(&ctx, &a),
        Command::Serve(a) => serve::run(&ctx, &a),
        Command::Plan(a) => plan::run(&ctx, &a),
        Command::Search(a) => search::run(&ctx, &a),
        Command::Lineage(a) => lineage::run(&ctx, &a),
        Command::Promote(a) => promote::run(&ctx, &a),
        Command::Approve(a) => approve::run(&ctx, &a),
        Command::Dev(a) => dev::run(&a),
        Command::Register(a) => register::run(&ctx, &a),
        Command::Reproduce(a) => reproduce::run(&ctx, &a),
        Command::Retire(a) => retire::run(&ctx, &a),
        Command::Import(a) => import::run(&ctx, &a),
        Command::Site(a) => site::run(&ctx, &a),
        Command::List(a) => list::run(&ctx, &a),
        Command::Show(a) => show::run(&ctx, &a),
        Command::Diff(a) => diff::run(&ctx, &a),
        Command::Demote(a) => demote::run(&ctx, &a),
        Command::Archive(a) => archive::run(&ctx, &a),
        Command::Completions(a) => completions::run(&a),
        Command::Man(a) => man::run(&a),
        Command::Runtime(a) => runtime::run(&a),
        Command::Schema(a) => schema::run(&a),
    }
}
