//! Drift: with `block_if_champion_drifting`, no promotion while the current champion's latest
//! monitoring result is at `alert` severity or above — fix production first.
//!
//! Monitoring results are `monitoring/<YYYY-MM-DD>.yaml` files written by the drift job; this
//! gate reads only their `version` (the version monitored) and `severity`
//! (`none|issue|alert|retrain`).

use super::{GateResult, Status};
use crate::diag::{Code, Diagnostic};
use crate::registry::schema::GateConfig;
use crate::registry::types::Severity;

/// The latest monitoring result of a model.
#[derive(Clone, Debug)]
pub struct Latest {
    /// The file.
    pub file: String,
    /// The version it monitored.
    pub version: Option<u32>,
    /// Its severity.
    pub severity: Severity,
}

/// Runs the gate. `champion` is the current champion's version in the base revision,
/// `latest` its latest authenticated monitoring result, and `untrusted` the diagnostics of the
/// model's results that do not count: the gate fails closed on them.
pub fn check(
    gate: &GateConfig,
    champion: Option<u32>,
    latest: Option<&Latest>,
    untrusted: &[Diagnostic],
) -> GateResult {
    const NAME: &str = "drift";
    let Some(cfg) = &gate.drift else {
        return GateResult::skip(NAME, "no drift gate in the policy");
    };
    if !cfg.block_if_champion_drifting {
        return GateResult::skip(NAME, "block_if_champion_drifting is off");
    }
    let Some(champion) = champion else {
        return GateResult::skip(NAME, "no current champion");
    };
    if !untrusted.is_empty() {
        return GateResult {
            gate: NAME,
            status: Status::Block,
            detail: format!(
                "{} monitoring result(s) cannot be trusted: the gate fails closed",
                untrusted.len()
            ),
            diagnostics: untrusted
                .iter()
                .map(|d| {
                    let mut d = d.clone();
                    d.message = format!("the drift gate fails closed: {}", d.message);
                    d
                })
                .collect(),
        };
    }
    let Some(latest) = latest.filter(|l| l.version.is_none_or(|v| v == champion)) else {
        return GateResult {
            gate: NAME,
            status: Status::Pass,
            detail: format!("no monitoring result for champion v{champion}"),
            diagnostics: Vec::new(),
        };
    };
    let detail = format!(
        "champion v{champion}: latest drift severity `{}` ({})",
        latest.severity.as_str(),
        latest.file
    );
    if latest.severity >= Severity::Alert {
        GateResult {
            gate: NAME,
            status: Status::Block,
            detail: detail.clone(),
            diagnostics: vec![
                Diagnostic::error(
                    Code::GateDrift,
                    format!("promotions are blocked while the champion drifts: {detail}"),
                )
                .in_file(&latest.file)
                .hint("investigate the drift first; the policy sets block_if_champion_drifting"),
            ],
        }
    } else {
        GateResult {
            gate: NAME,
            status: Status::Pass,
            detail,
            diagnostics: Vec::new(),
        }
    }
}
