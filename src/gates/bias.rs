//! Bias: the candidate's largest disparity (demographic parity, equal opportunity, predictive
//! parity or equalized odds difference, over every protected attribute) must stay below `warn_at`. Between
//! `warn_at` and `block_at` it warns, and the model card must then discuss the attribute;
//! above `block_at` it blocks. Missing numbers for a protected attribute block.

use super::{GateResult, Status, num};
use crate::diag::{Code, Diagnostic};
use crate::registry::VersionEntry;
use crate::registry::schema::GateConfig;

/// The model card, for the "does it discuss the attribute" rule.
pub struct Card<'a> {
    /// Its path.
    pub file: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// Runs the gate.
pub fn check(
    gate: &GateConfig,
    candidate: &VersionEntry,
    protected: &[String],
    card: Option<Card<'_>>,
) -> GateResult {
    const NAME: &str = "bias";
    let Some(cfg) = &gate.bias else {
        return GateResult::skip(NAME, "no bias gate in the policy");
    };
    let (warn, block) = (cfg.warn_at.value, cfg.block_at.value);
    let mut diagnostics = Vec::new();
    let mut worst: Option<(f64, String, &'static str)> = None;
    let mut parts = Vec::new();
    for attr in protected {
        let Some(numbers) = candidate.spec.bias.get(attr) else {
            diagnostics.push(
                Diagnostic::error(
                    Code::GateBias,
                    format!(
                        "v{} has no bias numbers for the protected attribute `{attr}`",
                        candidate.number
                    ),
                )
                .in_file(&candidate.file)
                .hint("add them under `bias:` (modelgate bias computes them)"),
            );
            parts.push(format!("{attr}: missing"));
            continue;
        };
        let measures = [
            ("demographic_parity", numbers.demographic_parity),
            ("equal_opportunity", numbers.equal_opportunity),
            ("predictive_parity", numbers.predictive_parity),
            ("equalized_odds", numbers.equalized_odds),
        ];
        let present: Vec<(&'static str, f64)> = measures
            .iter()
            .filter_map(|(n, v)| v.map(|v| (*n, v)))
            .collect();
        // Every number must be usable: a `.nan` beside a 0.40 must not hide the 0.40.
        let bad: Vec<Diagnostic> = present
            .iter()
            .filter_map(|(n, v)| {
                super::check_number(
                    candidate,
                    &format!("bias.{attr}.{n}"),
                    &crate::yaml::Spanned {
                        value: *v,
                        span: numbers.span,
                    },
                    super::DISPARITY_RANGE,
                )
            })
            .collect();
        if !bad.is_empty() {
            parts.push(format!("{attr}: unusable numbers"));
            diagnostics.extend(bad);
            continue;
        }
        let Some(&(measure, value)) = present.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            diagnostics.push(
                Diagnostic::error(
                    Code::GateBias,
                    format!("v{} records no disparity for `{attr}`", candidate.number),
                )
                .in_file(&candidate.file)
                .at(numbers.span),
            );
            continue;
        };
        if worst.as_ref().is_none_or(|w| value > w.0) {
            worst = Some((value, attr.clone(), measure));
        }
        let level = if value > block {
            diagnostics.push(
                Diagnostic::error(
                    Code::GateBias,
                    format!(
                        "v{}: {attr} {measure} difference {} is above block_at {}",
                        candidate.number,
                        num(value),
                        num(block)
                    ),
                )
                .in_file(&candidate.file)
                .at(numbers.span)
                .hint("reduce the disparity before promoting (reweighting, thresholds per group, more data)"),
            );
            "block"
        } else if value >= warn {
            let discussed = card
                .as_ref()
                .is_some_and(|c| c.text.to_lowercase().contains(&attr.to_lowercase()));
            if discussed {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::GateBias,
                        format!(
                            "v{}: {attr} {measure} difference {} is in the warning band [{}, {}]",
                            candidate.number,
                            num(value),
                            num(warn),
                            num(block)
                        ),
                    )
                    .in_file(&candidate.file)
                    .at(numbers.span)
                    .hint("the model card discusses it; reviewers should read that section"),
                );
            } else {
                let file = card.as_ref().map(|c| c.file).unwrap_or("model card");
                diagnostics.push(
                    Diagnostic::error(
                        Code::GateBias,
                        format!(
                            "v{}: {attr} {measure} difference {} is in the warning band, and the model card does not discuss `{attr}`",
                            candidate.number,
                            num(value)
                        ),
                    )
                    .in_file(file)
                    .hint(format!(
                        "explain the disparity across `{attr}` under \"Quantitative analyses\" in {file}"
                    )),
                );
            }
            "warn"
        } else {
            "ok"
        };
        parts.push(format!("{attr} {} ({level})", num(value)));
    }
    let status = if diagnostics
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error)
    {
        Status::Block
    } else if !diagnostics.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let detail = match worst {
        Some((v, attr, measure)) => format!(
            "max disparity {} ({attr} {measure}); warn at {}, block above {}",
            num(v),
            num(warn),
            num(block)
        ),
        None => parts.join("; "),
    };
    GateResult {
        gate: NAME,
        status,
        detail,
        diagnostics,
    }
}
