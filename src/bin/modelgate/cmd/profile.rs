//! `modelgate profile --reference R --current PART --out P.json`.

use super::{EXIT_OK, Outcome};
use crate::cli::ProfileArgs;
use anyhow::Result;
use modelgate::monitor::profile;

/// Runs the command.
pub fn run(args: &ProfileArgs) -> Result<u8> {
    let base = std::env::current_dir()?;
    let p = if args.stream {
        modelgate::monitor::pairs::streamed_profile(
            &args.reference,
            &args.current,
            &args.columns,
            &args.categorical,
            &base,
        )?
    } else {
        let (pairs, rows) = modelgate::monitor::pairs::column_pairs(
            &args.reference,
            &args.current,
            &args.columns,
            &args.categorical,
            None,
            None,
            &base,
        )?;
        profile::build(&pairs, rows)?
    };
    let text = serde_json::to_string_pretty(&p)? + "\n";
    modelgate::registry::write::write_atomic(&args.out, text.as_bytes())?;
    let mut o = Outcome::new("profile")
        .detail("columns", p.columns.len())
        .detail("rows", p.rows.current);
    o.summary.push(format!(
        "profiled {} of {} current rows into {}",
        modelgate::diag::render::count(p.columns.len(), "column"),
        p.rows.current,
        args.out.display()
    ));
    o.wrote.push(args.out.display().to_string());
    match args.format {
        // the written file is already listed in the summary
        crate::cli::OutputFormat::Text => println!("{}", o.summary[0]),
        f => o.print(f)?,
    }
    Ok(EXIT_OK)
}
