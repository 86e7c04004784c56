//! The promotion gates: one module each, pure functions from the policy and the registry's
//! facts to a [`GateResult`] with its diagnostics. No gate reads a file or the clock; every
//! threshold comes from the (effective) policy.

pub mod approvals;
pub mod bias;
pub mod card;
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

    /// A gate that passes unless it found problems, which block.
    pub fn blocking(gate: &'static str, detail: String, diagnostics: Vec<Diagnostic>) -> Self {
        GateResult {
            gate,
            status: if diagnostics.is_empty() {
                Status::Pass
            } else {
                Status::Block
            },
            detail,
            diagnostics,
        }
    }
}

/// The closed range a recorded metric must lie in, by its name: rates, AUCs and the Brier score
/// in [0, 1]; losses and errors at least 0; anything else any finite number.
pub fn metric_range(name: &str) -> (f64, f64) {
    match name {
        "roc_auc" | "pr_auc" | "average_precision" | "accuracy" | "balanced_accuracy"
        | "precision" | "recall" | "f1" | "specificity" | "brier" | "selection_rate" | "tpr"
        | "fpr" => (0.0, 1.0),
        "log_loss" | "rmse" | "mse" | "mae" => (0.0, f64::INFINITY),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

/// Why a number a gate reads cannot be used — not finite, or outside `range` — or `None`.
/// Every gate input passes through here: a gate fails closed on a number it cannot compare.
pub fn unusable(value: f64, range: (f64, f64)) -> Option<String> {
    if !value.is_finite() {
        return Some(format!("{value} is not a finite number"));
    }
    if value < range.0 || value > range.1 {
        let bound = |b: f64| {
            if b.is_finite() {
                num(b)
            } else if b > 0.0 {
                "∞".into()
            } else {
                "−∞".into()
            }
        };
        return Some(format!(
            "{} is outside [{}, {}]",
            num(value),
            bound(range.0),
            bound(range.1)
        ));
    }
    None
}

/// A blocking diagnostic at a number a gate cannot use (see [`unusable`]), or `None`.
pub fn check_number(
    version: &crate::registry::VersionEntry,
    what: &str,
    value: &crate::yaml::Spanned<f64>,
    range: (f64, f64),
) -> Option<Diagnostic> {
    let why = unusable(value.value, range)?;
    Some(
        Diagnostic::error(
            crate::diag::Code::GateInput,
            format!("v{}'s {what}: {why}; the gate cannot judge it", version.number),
        )
        .in_file(&version.file)
        .at(value.span)
        .hint("record the number as computed (modelgate evaluate / bias); a gate never compares a number that is not finite or outside its range"),
    )
}

/// The range of a fairness disparity (a difference of two rates).
pub const DISPARITY_RANGE: (f64, f64) = (0.0, 1.0);

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

/// Builders for gate unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::registry::VersionEntry;
    use crate::registry::schema::GateConfig;
    use crate::registry::types::Sha256;

    /// A version with these metrics (`{roc_auc: 0.8}`) and bias (`{sex: {...}}`).
    pub fn version(n: u32, metrics: &str, bias: &str) -> VersionEntry {
        let text = format!(
            "version: {n}\ncreated_at: 2024-01-01T00:00:00Z\ncreated_by: a@example.com\nartifact: {{uri: s3://x, sha256: {}, format: onnx}}\nmetrics: {metrics}\nbias: {bias}\n",
            "ab".repeat(32)
        );
        let node = crate::yaml::parse(&text).unwrap();
        VersionEntry {
            file: format!("registry/models/m/versions/v{n}.yaml"),
            number: n,
            spec: crate::yaml::from_node(&node).unwrap(),
            digest: Sha256::of(text.as_bytes()),
        }
    }

    /// A gate configuration from YAML.
    pub fn gate(yaml: &str) -> GateConfig {
        crate::yaml::from_node(&crate::yaml::parse(yaml).unwrap()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{gate, version};
    use super::*;

    const CHAMPION: &str = "primary_metric: roc_auc\nmin_improvement: 0.02\nstability: {metrics: [roc_auc, recall], min_ratio: 0.95}\nbias: {warn_at: 0.10, block_at: 0.15}\ndrift: {block_if_champion_drifting: true}\n";

    #[test]
    fn performance_compares_with_the_holder() {
        let g = gate(CHAMPION);
        let old = version(3, "{roc_auc: 0.85, recall: 0.7}", "{}");
        let good = version(4, "{roc_auc: 0.87, recall: 0.7}", "{}");
        let bad = version(4, "{roc_auc: 0.86, recall: 0.7}", "{}");
        let none = version(4, "{recall: 0.7}", "{}");
        let r = performance::check(&g, &good, Some(&old));
        assert_eq!(
            r.status,
            Status::Pass,
            "0.87 ≥ 0.85 + 0.02 despite rounding"
        );
        assert_eq!(r.detail, "roc_auc 0.87 ≥ 0.85 + 0.02");
        let r = performance::check(&g, &bad, Some(&old));
        assert_eq!(r.status, Status::Block);
        assert_eq!(r.diagnostics[0].code, crate::diag::Code::GatePerformance);
        assert_eq!(r.diagnostics[0].span.unwrap().start.line, 5);
        assert_eq!(
            performance::check(&g, &none, Some(&old)).status,
            Status::Block
        );
        assert_eq!(performance::check(&g, &good, None).status, Status::Skip);
    }

    #[test]
    fn stability_blocks_a_collapse_elsewhere() {
        let g = gate(CHAMPION);
        let old = version(3, "{roc_auc: 0.85, recall: 0.80}", "{}");
        let ok = version(4, "{roc_auc: 0.90, recall: 0.76}", "{}");
        let bad = version(4, "{roc_auc: 0.90, recall: 0.75}", "{}");
        assert_eq!(stability::check(&g, &ok, Some(&old)).status, Status::Pass);
        let r = stability::check(&g, &bad, Some(&old));
        assert_eq!(r.status, Status::Block);
        assert!(
            r.detail.contains("recall 0.75 < 0.8 × 0.95"),
            "{}",
            r.detail
        );
    }

    #[test]
    fn bias_passes_warns_and_blocks() {
        let g = gate(CHAMPION);
        let attrs = vec!["sex".to_string()];
        let card = |text| bias::Card {
            file: "model-cards/m.md",
            text,
        };
        let low = version(
            4,
            "{}",
            "{sex: {demographic_parity: 0.05, equal_opportunity: 0.09}}",
        );
        let mid = version(
            4,
            "{}",
            "{sex: {demographic_parity: 0.05, predictive_parity: 0.12}}",
        );
        let high = version(4, "{}", "{sex: {equal_opportunity: 0.16}}");
        let missing = version(4, "{}", "{}");
        assert_eq!(bias::check(&g, &low, &attrs, None).status, Status::Pass);
        let r = bias::check(&g, &mid, &attrs, Some(card("Results differ by Sex: …")));
        assert_eq!(r.status, Status::Warn);
        assert!(
            r.detail
                .starts_with("max disparity 0.12 (sex predictive_parity)"),
            "{}",
            r.detail
        );
        let r = bias::check(&g, &mid, &attrs, Some(card("Nothing about groups.")));
        assert_eq!(r.status, Status::Block);
        assert_eq!(r.diagnostics[0].file.as_deref(), Some("model-cards/m.md"));
        assert_eq!(
            bias::check(&g, &high, &attrs, Some(card("sex"))).status,
            Status::Block
        );
        assert_eq!(
            bias::check(&g, &missing, &attrs, None).status,
            Status::Block
        );
    }

    #[test]
    fn drift_blocks_at_alert() {
        let g = gate(CHAMPION);
        let latest = |severity, version| drift::Latest {
            file: "registry/models/m/monitoring/2024-06-24.yaml".into(),
            version,
            severity,
        };
        use crate::registry::types::Severity::{Alert, Issue, Retrain};
        assert_eq!(
            drift::check(&g, Some(3), Some(&latest(Issue, Some(3))), &[]).status,
            Status::Pass
        );
        assert_eq!(
            drift::check(&g, Some(3), Some(&latest(Alert, Some(3))), &[]).status,
            Status::Block
        );
        assert_eq!(
            drift::check(&g, Some(3), Some(&latest(Retrain, None)), &[]).status,
            Status::Block
        );
        // A result about another version is not about the champion.
        assert_eq!(
            drift::check(&g, Some(3), Some(&latest(Retrain, Some(2))), &[]).status,
            Status::Pass
        );
        assert_eq!(drift::check(&g, None, None, &[]).status, Status::Skip);
        let off = gate("drift: {block_if_champion_drifting: false}\n");
        assert_eq!(
            drift::check(&off, Some(3), Some(&latest(Retrain, Some(3))), &[]).status,
            Status::Skip
        );
    }
}
