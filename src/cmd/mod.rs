//! Subcommands: one file each, thin. They resolve arguments, call the library, render the
//! result and return an exit code.

mod approval;
mod approve;
mod batch;
mod bias;
mod check;
mod demo;
mod dev;
mod drift;
mod evaluate;
mod import;
mod init;
mod lineage;
mod new;
mod plan;
mod profile;
mod promote;
mod register;
mod reproduce;
mod retire;
mod schema;
mod search;
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
                crate::registry::POLICY_PATH
            ),
        }
    }
}

/// The nearest folder, from `start` upwards, that holds registry/policy.yaml.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(crate::registry::POLICY_PATH).is_file())
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
        Command::Schema(a) => schema::run(&a),
    }
}
