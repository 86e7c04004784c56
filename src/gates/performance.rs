//! Performance: the candidate's primary metric must be at least the current holder's plus
//! `min_improvement` (absolute).

use super::{GateResult, Status, num};
use crate::diag::{Code, Diagnostic};
use crate::registry::VersionEntry;
use crate::registry::schema::GateConfig;

/// Runs the gate. `holder` is the version that holds the alias in the base revision.
pub fn check(
    gate: &GateConfig,
    candidate: &VersionEntry,
    holder: Option<&VersionEntry>,
) -> GateResult {
    const NAME: &str = "performance";
    let Some(metric) = &gate.primary_metric else {
        return GateResult::skip(NAME, "no primary_metric in the policy");
    };
    let min = gate
        .min_improvement
        .as_ref()
        .map(|m| m.value)
        .unwrap_or(0.0);
    let Some(holder) = holder else {
        return GateResult::skip(NAME, "no current holder of the alias to compare with");
    };
    let Some(cand) = candidate.spec.metrics.get(metric.as_str()) else {
        return GateResult::blocking(
            NAME,
            format!("v{} has no `{}`", candidate.number, metric.value),
            vec![
                Diagnostic::error(
                    Code::GatePerformance,
                    format!(
                        "v{} records no `{}`, the primary metric",
                        candidate.number, metric.value
                    ),
                )
                .in_file(&candidate.file)
                .hint("add it under `metrics:` (modelgate evaluate computes it)"),
            ],
        );
    };
    let Some(base) = holder.spec.metrics.get(metric.as_str()) else {
        // Nothing to compare with is no pass: the gate fails closed.
        return GateResult::blocking(
            NAME,
            format!("v{} has no `{}`", holder.number, metric.value),
            vec![
                Diagnostic::error(
                    Code::GateInput,
                    format!(
                        "the current holder v{} records no `{}`, the primary metric: the performance gate cannot compare",
                        holder.number, metric.value
                    ),
                )
                .in_file(&holder.file)
                .hint("set a primary_metric that the current holder records (a governance change of the model's policy)"),
            ],
        );
    };
    let range = super::metric_range(metric.as_str());
    let bad: Vec<Diagnostic> = [(candidate, cand), (holder, base)]
        .into_iter()
        .filter_map(|(v, x)| super::check_number(v, metric.as_str(), x, range))
        .collect();
    if !bad.is_empty() {
        return GateResult::blocking(NAME, format!("{} cannot be compared", metric.value), bad);
    }
    let needed = base.value + min;
    // A tolerance of a few ulps: 0.87 ≥ 0.85 + 0.02 must pass despite binary rounding.
    let ok = cand.value >= needed - 1e-12;
    let detail = format!(
        "{} {} {} {} + {}",
        metric.value,
        num(cand.value),
        if ok { "≥" } else { "<" },
        num(base.value),
        num(min)
    );
    let mut r = GateResult {
        gate: NAME,
        status: if ok { Status::Pass } else { Status::Block },
        detail: detail.clone(),
        diagnostics: Vec::new(),
    };
    if !ok {
        r.diagnostics.push(
            Diagnostic::error(
                Code::GatePerformance,
                format!(
                    "v{} does not improve enough on v{}: {detail}",
                    candidate.number, holder.number
                ),
            )
            .in_file(&candidate.file)
            .at(cand.span)
            .hint(format!(
                "the policy requires an improvement of at least {} in {}",
                num(min),
                metric.value
            )),
        );
    }
    r
}
