//! `modelgate profile --reference R --current PART --out P.json`.

use super::EXIT_OK;
use crate::cli::ProfileArgs;
use crate::monitor::profile;
use anyhow::Result;

/// Runs the command.
pub fn run(args: &ProfileArgs) -> Result<u8> {
    let p = if args.stream {
        super::drift::streamed_profile(
            &args.reference,
            &args.current,
            &args.columns,
            &args.categorical,
        )?
    } else {
        let (pairs, rows) = super::drift::column_pairs(
            &args.reference,
            &args.current,
            &args.columns,
            &args.categorical,
            None,
            None,
        )?;
        profile::build(&pairs, rows)?
    };
    let text = serde_json::to_string_pretty(&p)? + "\n";
    crate::registry::write::write_atomic(&args.out, text.as_bytes())?;
    println!(
        "profiled {} columns of {} current rows into {}",
        p.columns.len(),
        p.rows.current,
        args.out.display()
    );
    Ok(EXIT_OK)
}
