//! The promotion gates: one module each, pure functions from the policy and the registry's
//! facts to a [`GateResult`] with its diagnostics. No gate reads a file or the clock; every
//! threshold comes from the (effective) policy.

pub mod approvals;
pub mod bias;
pub mod drift;
pub mod performance;
pub mod stability;

use crate::diag::Diagnostic;
use serde::Serialize;

/// The outcome of one gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Passed.
    Pass,
    /// Not configured for this alias, or nothing to compare with.
    Skip,
    /// Passed with a warning.
    Warn,
    /// Blocks the promotion.
    Block,
}

impl Status {
    /// The symbol used in text and Markdown reports.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Skip => "–",
            Status::Warn => "⚠",
            Status::Block => "✗",
        }
    }
}

/// What one gate found: its status, the numbers it compared, and the diagnostics behind it.
#[derive(Clone, Debug, Serialize)]
pub struct GateResult {
    /// `performance`, `stability`, `bias`, `drift` or `approvals`.
    pub gate: &'static str,
    /// The outcome.
    pub status: Status,
    /// The comparison in words, e.g. `roc_auc 0.8909 ≥ 0.8467 + 0.02`.
    pub detail: String,
    /// Problems, pointing at the files and lines involved.
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
}

impl GateResult {
    /// A gate that does not apply.
    pub fn skip(gate: &'static str, detail: impl Into<String>) -> Self {
        GateResult {
            gate,
            status: Status::Skip,
            detail: detail.into(),
            diagnostics: Vec::new(),
        }
    }
}

/// Formats a metric value: four decimals, trailing zeros trimmed.
pub fn num(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}
