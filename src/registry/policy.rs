//! The effective policy of a model: policy.yaml with the model's `policy:` overrides merged in,
//! and the range checks on every threshold.
//!
//! Gate settings merge field by field (a model may override only `min_improvement`); `drift`
//! and `retention` are replaced whole when a model sets them.

use super::schema::{GateConfig, Policy, PolicyOverride};
use super::types::Alias;
use crate::diag::{Code, Diagnostic};
use crate::yaml::Spanned;
use std::collections::BTreeMap;

/// Drift-share thresholds used when the policy sets none.
pub const DEFAULT_SEVERITY: (f64, f64, f64) = (0.10, 0.25, 0.50);

/// The gates of each alias after merging.
#[derive(Clone, Debug, Default)]
pub struct Effective {
    /// Merged gate settings per alias.
    pub gates: BTreeMap<Alias, GateConfig>,
    /// Drift-share thresholds: issue, alert, retrain.
    pub severity: (f64, f64, f64),
}

fn merge_gate(base: &GateConfig, over: &GateConfig) -> GateConfig {
    GateConfig {
        primary_metric: over
            .primary_metric
            .clone()
            .or_else(|| base.primary_metric.clone()),
        min_improvement: over
            .min_improvement
            .clone()
            .or_else(|| base.min_improvement.clone()),
        stability: over.stability.clone().or_else(|| base.stability.clone()),
        bias: over.bias.clone().or_else(|| base.bias.clone()),
        drift: over.drift.clone().or_else(|| base.drift.clone()),
        approvals: over.approvals.clone().or_else(|| base.approvals.clone()),
    }
}

/// Merges a model's overrides over the registry policy.
pub fn effective(policy: &Policy, over: Option<&PolicyOverride>) -> Effective {
    let mut gates = policy.gates.clone();
    if let Some(o) = over {
        for (alias, g) in &o.gates {
            let merged = merge_gate(gates.get(alias).unwrap_or(&GateConfig::default()), g);
            gates.insert(*alias, merged);
        }
    }
    let drift = over
        .and_then(|o| o.drift.as_ref())
        .or(policy.drift.as_ref());
    let severity = drift
        .map(|d| (*d.severity.issue, *d.severity.alert, *d.severity.retrain))
        .unwrap_or(DEFAULT_SEVERITY);
    Effective { gates, severity }
}

fn out_of_range(file: &str, v: &Spanned<f64>, what: &str, range: &str) -> Diagnostic {
    Diagnostic::error(
        Code::PolicyRange,
        format!("{what} is {}, expected {range}", v.value),
    )
    .in_file(file)
    .at(v.span)
}

/// Range checks on the thresholds written in one file (policy.yaml or a model.yaml).
pub fn check_ranges(
    file: &str,
    gates: &BTreeMap<Alias, GateConfig>,
    drift: Option<&super::schema::DriftPolicy>,
    retention: Option<&super::schema::Retention>,
) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let unit = |v: &Spanned<f64>| v.value.is_finite() && (0.0..=1.0).contains(&v.value);
    for (alias, g) in gates {
        if let Some(m) = &g.min_improvement {
            if !(m.value.is_finite() && (0.0..1.0).contains(&m.value)) {
                d.push(out_of_range(
                    file,
                    m,
                    &format!("gates.{alias}.min_improvement"),
                    "a number in [0, 1)",
                ));
            }
        }
        if let Some(s) = &g.stability {
            if !(s.min_ratio.value.is_finite()
                && s.min_ratio.value > 0.0
                && s.min_ratio.value <= 1.0)
            {
                d.push(out_of_range(
                    file,
                    &s.min_ratio,
                    &format!("gates.{alias}.stability.min_ratio"),
                    "a ratio in (0, 1]",
                ));
            }
        }
        if let Some(b) = &g.bias {
            for (v, name) in [(&b.warn_at, "warn_at"), (&b.block_at, "block_at")] {
                if !unit(v) {
                    d.push(out_of_range(
                        file,
                        v,
                        &format!("gates.{alias}.bias.{name}"),
                        "a disparity in [0, 1]",
                    ));
                }
            }
            if b.warn_at.value > b.block_at.value {
                d.push(
                    Diagnostic::error(
                        Code::PolicyRange,
                        format!(
                            "gates.{alias}.bias.warn_at ({}) is above block_at ({})",
                            b.warn_at.value, b.block_at.value
                        ),
                    )
                    .in_file(file)
                    .at(b.warn_at.span)
                    .hint("warn_at must be less than or equal to block_at"),
                );
            }
        }
    }
    if let Some(dp) = drift {
        let s = &dp.severity;
        for (v, name) in [
            (&s.issue, "issue"),
            (&s.alert, "alert"),
            (&s.retrain, "retrain"),
        ] {
            if !unit(v) {
                d.push(out_of_range(
                    file,
                    v,
                    &format!("drift.severity.{name}"),
                    "a drift share in [0, 1]",
                ));
            }
        }
        if !(s.issue.value <= s.alert.value && s.alert.value <= s.retrain.value) {
            d.push(
                Diagnostic::error(
                    Code::PolicyRange,
                    format!(
                        "drift severities must rise: issue {} <= alert {} <= retrain {}",
                        s.issue.value, s.alert.value, s.retrain.value
                    ),
                )
                .in_file(file)
                .at(s.issue.span),
            );
        }
    }
    if let Some(r) = retention {
        for (v, name) in [
            (&r.archive_after_days, "archive_after_days"),
            (&r.champion_history_days, "champion_history_days"),
            (&r.delete_after_days, "delete_after_days"),
        ] {
            if v.value == 0 {
                d.push(
                    Diagnostic::error(
                        Code::PolicyRange,
                        format!("retention.{name} is 0, expected a number of days of at least 1"),
                    )
                    .in_file(file)
                    .at(v.span),
                );
            }
        }
        if r.delete_after_days.value < r.archive_after_days.value {
            d.push(
                Diagnostic::error(
                    Code::PolicyRange,
                    format!(
                        "retention.delete_after_days ({}) is less than archive_after_days ({})",
                        r.delete_after_days.value, r.archive_after_days.value
                    ),
                )
                .in_file(file)
                .at(r.delete_after_days.span)
                .hint("a version is archived before its artifact is deleted"),
            );
        }
    }
    d
}
