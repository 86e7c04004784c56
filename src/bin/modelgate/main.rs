//! The `modelgate` binary: parse arguments, run the command, map the outcome to an exit code
//! (0 all clear, 1 a gate blocked or a check failed, 2 bad input or an internal error).

mod cli;
#[cfg(test)]
mod cli_tests;
mod cmd;
mod manpages;

use clap::Parser;
use std::process::ExitCode;

/// At debug level (`-vv`, `RUST_LOG=debug`), logs the process's peak resident memory on exit
/// (VmHWM, which counts only this program, not the process it was forked from): what the
/// memory tests and benchmarks measure.
fn report_peak_rss() {
    if !log::log_enabled!(log::Level::Debug) {
        return;
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            log::debug!("peak RSS {}", line["VmHWM:".len()..].trim());
        }
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Writes modelgate's `log` records (not its dependencies') to stderr, with their level.
struct StderrLog(log::LevelFilter);

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= self.0 && m.target().starts_with("modelgate")
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            let level = r.level().as_str().to_ascii_lowercase();
            eprintln!("modelgate: {level}: {}", r.args());
        }
    }

    fn flush(&self) {}
}

/// The level: from `-v` (counted), else `RUST_LOG` (a level name), else warnings.
fn log_level(verbose: u8) -> log::LevelFilter {
    match verbose {
        0 => std::env::var("RUST_LOG")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(log::LevelFilter::Warn),
        1 => log::LevelFilter::Info,
        2 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let level = log_level(cli.verbose);
    if log::set_logger(Box::leak(Box::new(StderrLog(level)))).is_ok() {
        log::set_max_level(level);
    }
    let code = run(cli);
    report_peak_rss();
    code
}

fn run(cli: cli::Cli) -> ExitCode {
    let json = cli.command.json_output();
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`modelgate … | head`) is not an error.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            if json {
                println!("{}", cmd::error_json(&err));
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
