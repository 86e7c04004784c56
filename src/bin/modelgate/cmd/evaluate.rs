//! `modelgate evaluate --data D --label L --score S`.

use super::EXIT_OK;
use crate::cli::EvaluateArgs;
use anyhow::{Result, bail};
use modelgate::diag::render::Format;
use modelgate::monitor::{data, metrics, render};
use std::io::Write;

/// Checks a decision threshold.
pub fn check_threshold(t: f64) -> Result<()> {
    if !(t > 0.0 && t < 1.0) {
        bail!("--threshold {t} is out of range: expected a number in (0, 1)");
    }
    Ok(())
}

/// Runs the command.
pub fn run(args: &EvaluateArgs) -> Result<u8> {
    check_threshold(args.threshold)?;
    let base = std::env::current_dir()?;
    let t = data::read(
        &args.data,
        &base,
        &data::Request {
            columns: vec![args.label.clone(), args.score.clone()],
            ..Default::default()
        },
    )?;
    let (labels, scores, dropped) = data::labels_and_scores(&t.frame, &args.label, &args.score)?;
    if labels.is_empty() {
        bail!("no row has both a label and a finite score");
    }
    let mut e = metrics::evaluate(&labels, &scores, args.threshold);
    if dropped > 0 {
        e.notes.push(format!(
            "{dropped} rows without a label or a finite score were left out"
        ));
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&e)? + "\n",
        _ => render::evaluation_text(&e),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(EXIT_OK)
}
