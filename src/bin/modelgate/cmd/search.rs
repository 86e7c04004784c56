//! `modelgate search '<filter>' [--order-by …] [--max-results N]`.

use super::{Ctx, EXIT_ERROR, EXIT_OK};
use crate::cli::SearchArgs;
use anyhow::Result;
use modelgate::diag::render::Format;
use modelgate::lifecycle::search;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &SearchArgs) -> Result<u8> {
    let filter = match search::parse(&args.filter) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: invalid filter: {}", e.message);
            eprintln!("  {}", args.filter);
            eprintln!(
                "  {}^ column {}",
                " ".repeat(e.column.saturating_sub(1)),
                e.column
            );
            return Ok(EXIT_ERROR);
        }
    };
    let mut order = Vec::new();
    for o in &args.order_by {
        match search::parse_order(o) {
            Ok(x) => order.push(x),
            Err(e) => {
                eprintln!("error: invalid --order-by `{o}`: {}", e.message);
                return Ok(EXIT_ERROR);
            }
        }
    }
    let root = ctx.registry_root()?;
    // The search index (.modelgate/search-index.json): only changed files are parsed.
    let index = modelgate::lifecycle::index::load(&root)?;
    let hits = search::search_hits(index.hits(), filter.as_ref(), &order, args.max_results);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&hits)?),
        _ => {
            println!(
                "{:<20} {:>7}  {:<10} {:<21} metrics",
                "model", "version", "stage", "created_at"
            );
            for h in &hits {
                let metrics: Vec<String> =
                    h.metrics.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "{:<20} {:>7}  {:<10} {:<21} {}",
                    h.name,
                    format!("v{}", h.version),
                    h.stage,
                    h.created_at,
                    metrics.join(" ")
                );
            }
            println!("{}", modelgate::diag::render::count(hits.len(), "version"));
        }
    }
    Ok(EXIT_OK)
}
