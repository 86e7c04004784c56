//! Stability: every listed metric of the candidate must be at least `min_ratio` times the
//! current holder's, so a gain in the primary metric cannot hide a collapse elsewhere.

use super::{GateResult, num};
use crate::diag::{Code, Diagnostic};
use crate::registry::VersionEntry;
use crate::registry::schema::GateConfig;

/// Runs the gate.
pub fn check(
    gate: &GateConfig,
    candidate: &VersionEntry,
    holder: Option<&VersionEntry>,
) -> GateResult {
    const NAME: &str = "stability";
    let Some(cfg) = &gate.stability else {
        return GateResult::skip(NAME, "no stability gate in the policy");
    };
    let Some(holder) = holder else {
        return GateResult::skip(NAME, "no current holder of the alias to compare with");
    };
    let ratio = cfg.min_ratio.value;
    let mut parts = Vec::new();
    let mut diagnostics = Vec::new();
    for metric in &cfg.metrics {
        let Some(base) = holder.spec.metrics.get(metric) else {
            // Nothing to compare with is no pass: the gate fails closed.
            parts.push(format!("{metric}: v{} has none", holder.number));
            diagnostics.push(
                Diagnostic::error(
                    Code::GateInput,
                    format!(
                        "the current holder v{} records no `{metric}`, a stability metric: the gate cannot compare",
                        holder.number
                    ),
                )
                .in_file(&holder.file)
                .hint("list stability metrics that the current holder records (a governance change of the model's policy)"),
            );
            continue;
        };
        let Some(cand) = candidate.spec.metrics.get(metric) else {
            parts.push(format!("{metric} missing"));
            diagnostics.push(
                Diagnostic::error(
                    Code::GateStability,
                    format!(
                        "v{} records no `{metric}`, a stability metric",
                        candidate.number
                    ),
                )
                .in_file(&candidate.file),
            );
            continue;
        };
        let bad: Vec<Diagnostic> = [(candidate, cand), (holder, base)]
            .into_iter()
            .filter_map(|(v, x)| super::check_number(v, metric, x, super::metric_range(metric)))
            .collect();
        if !bad.is_empty() {
            parts.push(format!("{metric} cannot be compared"));
            diagnostics.extend(bad);
            continue;
        }
        let floor = base.value * ratio;
        let ok = cand.value >= floor - 1e-12;
        let part = format!(
            "{metric} {} {} {} × {}",
            num(cand.value),
            if ok { "≥" } else { "<" },
            num(base.value),
            num(ratio)
        );
        if !ok {
            diagnostics.push(
                Diagnostic::error(
                    Code::GateStability,
                    format!(
                        "v{} is less stable than v{}: {part}",
                        candidate.number, holder.number
                    ),
                )
                .in_file(&candidate.file)
                .at(cand.span)
                .hint(format!(
                    "each of {} must stay at or above {} of the current value",
                    cfg.metrics.join(", "),
                    num(ratio)
                )),
            );
        }
        parts.push(part);
    }
    GateResult::blocking(NAME, parts.join("; "), diagnostics)
}
