//! The `modelgate` binary: parse arguments, run the command, map the outcome to an exit code
//! (0 all clear, 1 a gate blocked or a check failed, 2 bad input or an internal error).

use clap::Parser;
use std::process::ExitCode;

/// With `MODELGATE_PEAK_RSS` set, prints the process's peak resident memory (VmHWM, which
/// counts only this program, not the process it was forked from) to stderr on exit: what the
/// memory tests and benchmarks measure.
fn report_peak_rss() {
    if std::env::var_os("MODELGATE_PEAK_RSS").is_none() {
        return;
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("modelgate: peak RSS {}", line["VmHWM:".len()..].trim());
        }
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = modelgate::cli::Cli::parse();
    let code = run(cli);
    report_peak_rss();
    code
}

fn run(cli: modelgate::cli::Cli) -> ExitCode {
    let json = cli.command.json_output();
    match modelgate::cmd::run(cli) {
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
                println!("{}", modelgate::cmd::error_json(&err));
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
