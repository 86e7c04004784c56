//! The `modelgate` binary: parse arguments, run the command, map the outcome to an exit code
//! (0 all clear, 1 a gate blocked or a check failed, 2 bad input or an internal error).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = modelgate::cli::Cli::parse();
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
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
