//! `modelgate runtime install|status`: the ONNX Runtime library batch scoring loads.

use super::{EXIT_FAIL, EXIT_OK};
use crate::cli::{OutputFormat, RuntimeArgs, RuntimeCommand};
use anyhow::Result;
use modelgate::batch::{install, runtime};

/// Runs the command.
pub fn run(args: &RuntimeArgs) -> Result<u8> {
    match &args.command {
        RuntimeCommand::Install(a) => {
            let (pin, data, source) = install::plan_here(a.from.as_deref())?;
            if !install::is_installed(&pin, &data) {
                eprintln!("{}", install::describe(&pin, &data, &source));
            }
            let done = install::install(&pin, &data, &source)?;
            match a.format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&done)?),
                OutputFormat::Text => {
                    if done.already_installed {
                        println!(
                            "ONNX Runtime {} is already installed: {} (its sha256 is the pinned one); nothing downloaded",
                            done.version,
                            done.library.display()
                        );
                    } else {
                        println!(
                            "installed ONNX Runtime {} ({}) from {}",
                            done.version,
                            done.platform,
                            done.from.as_deref().unwrap_or("-")
                        );
                        println!("library: {}", done.library.display());
                        println!("sha256:  {}", done.sha256);
                    }
                    println!(
                        "its path is in {}, where modelgate finds it",
                        done.path_file.display()
                    );
                }
            }
            if std::env::var_os(runtime::DYLIB_ENV).is_some_and(|v| !v.is_empty()) {
                eprintln!(
                    "note: {} is set, and wins over the installed library; unset it to use {}",
                    runtime::DYLIB_ENV,
                    done.library.display()
                );
            }
            Ok(EXIT_OK)
        }
        RuntimeCommand::Status(a) => {
            let st = runtime::status();
            match a.format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&st)?),
                OutputFormat::Text => {
                    match (&st.library, &st.source) {
                        (Some(l), Some(s)) => {
                            println!("library: {}", l.display());
                            println!("from:    {s}");
                        }
                        _ => println!("library: not found"),
                    }
                    if let Some(v) = &st.version {
                        println!("version: {v}");
                    }
                    if let Some(d) = &st.sha256 {
                        println!(
                            "sha256:  {d} ({})",
                            if st.pinned {
                                "the pinned library of this platform"
                            } else {
                                "not the pinned library of this platform"
                            }
                        );
                    }
                    println!("loads:   {}", if st.loads { "yes" } else { "no" });
                    if let Some(e) = &st.error {
                        println!("error:   {e}");
                    }
                }
            }
            Ok(if st.loads { EXIT_OK } else { EXIT_FAIL })
        }
    }
}
