//! `list`: one line per model — its champion and challenger, the primary metric of the champion
//! gate with the champion's value, the latest drift severity of the champion (as the drift gate
//! sees it: only results signed by the monitoring role count), and the bias verdict of the
//! champion against the champion gate's thresholds.
//!
//! Versions come from the search index ([`super::index`]), so a registry of a thousand models
//! lists without parsing twenty thousand version files; per model only `model.yaml` and the
//! monitoring results are read, in parallel.

use super::index::{self, parse_file};
use crate::monitor::evidence::{self, Judge};
use crate::registry::schema::{ModelSpec, Policy};
use crate::registry::source::{EntryKind, FsSource, Source};
use crate::registry::types::{Alias, Severity};
use crate::signing::allowed_signers::{AllowedSigners, SIGNERS_PATH};
use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// The champion's drift as `list` shows it: the latest authenticated result's severity, or
/// `unverified` when results exist but none counts. Written as the word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChampionDrift {
    /// The severity of the latest result signed by the monitoring role.
    Verified(Severity),
    /// Results exist, but none is authenticated.
    Unverified,
}

impl ChampionDrift {
    /// `none|issue|alert|retrain|unverified`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChampionDrift::Verified(s) => s.as_str(),
            ChampionDrift::Unverified => "unverified",
        }
    }
}

impl Serialize for ChampionDrift {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One model's line.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The model.
    pub model: String,
    /// The champion's version.
    pub champion: Option<u32>,
    /// The challenger's version.
    pub challenger: Option<u32>,
    /// The champion gate's primary metric.
    pub primary_metric: Option<String>,
    /// The champion's value of it.
    pub primary_value: Option<f64>,
    /// The champion's latest authenticated drift severity (`none|issue|alert|retrain`);
    /// `unverified` when results exist but none is signed by the monitoring role; `null` when
    /// there are none.
    pub drift: Option<ChampionDrift>,
    /// The champion's bias verdict: `pass|warn|block` (`block` when a protected attribute has
    /// no usable numbers); `null` without a champion, protected attributes or a bias gate.
    pub bias: Option<String>,
}

/// Every model of the registry at `root`, by name.
pub fn list(root: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<Row>> {
    let idx = index::load(root)?;
    let src = FsSource::new(root)?;
    let policy: Policy = parse_file(&src, crate::registry::POLICY_PATH).unwrap_or_default();
    let signers = src
        .read(SIGNERS_PATH, 4 * 1024 * 1024)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(|t| AllowedSigners::parse(&t).0);
    let judge = Judge {
        policy: Some(&policy),
        signers: signers.as_ref(),
        now: Some(now),
        signatures: true,
    };
    let summaries: Vec<index::ModelSummary<'_>> = idx.models().collect();
    Ok(summaries
        .par_iter()
        .map(|s| {
            let dir = format!("{}/{}", crate::registry::MODELS_DIR, s.name);
            let spec: Option<ModelSpec> = parse_file(&src, &format!("{dir}/model.yaml"));
            let over = spec.as_ref().and_then(|m| m.policy.as_ref());
            let gate = crate::registry::policy::effective(&policy, over)
                .gates
                .get(&Alias::Champion)
                .cloned()
                .unwrap_or_default();
            let primary_metric = gate.primary_metric.as_ref().map(|m| m.value.clone());
            let primary_value = primary_metric
                .as_ref()
                .and_then(|k| s.champion_metrics.and_then(|m| m.get(k)).copied());
            let bias = match (&gate.bias, s.champion_bias, &spec) {
                (Some(b), Some(numbers), Some(spec)) if !spec.protected_attributes.is_empty() => {
                    let worst: Option<Vec<f64>> = spec
                        .protected_attributes
                        .iter()
                        .map(|a| numbers.get(a).copied().flatten())
                        .collect();
                    Some(match worst {
                        None => "block".to_string(),
                        Some(w) => crate::monitor::bias::verdict(
                            w.into_iter().fold(0.0, f64::max),
                            b.warn_at.value,
                            b.block_at.value,
                        )
                        .to_string(),
                    })
                }
                _ => None,
            };
            Row {
                model: s.name.to_string(),
                champion: s.champion,
                challenger: s.challenger,
                primary_metric,
                primary_value,
                drift: s
                    .champion
                    .and_then(|c| drift(&src, s.name, &dir, c, &judge)),
                bias,
            }
        })
        .collect())
}

/// The champion's latest authenticated monitoring severity.
fn drift(
    src: &FsSource,
    model: &str,
    dir: &str,
    champion: u32,
    judge: &Judge<'_>,
) -> Option<ChampionDrift> {
    let mdir = format!("{dir}/monitoring");
    let files: Vec<String> = src
        .list(&mdir)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| matches!(e.kind, EntryKind::File) && e.name.ends_with(".yaml"))
        .map(|e| format!("{mdir}/{}", e.name))
        .collect();
    if files.is_empty() {
        return None;
    }
    let good: Vec<evidence::Evidence> = files
        .iter()
        .filter_map(|f| evidence::judge_file(src, model, f, judge).ok())
        .filter(|e| e.version == champion)
        .collect();
    Some(match evidence::latest(&good) {
        Some(e) => ChampionDrift::Verified(e.severity),
        None => ChampionDrift::Unverified,
    })
}

/// The rows as a table.
pub fn text(rows: &[Row]) -> String {
    let v = |x: Option<u32>| x.map(|v| format!("v{v}")).unwrap_or_else(|| "-".into());
    let mut s = format!(
        "{:<24} {:<9} {:<10} {:<24} {:<10} {}\n",
        "model", "champion", "challenger", "primary metric", "drift", "bias"
    );
    for r in rows {
        let metric = match (&r.primary_metric, r.primary_value) {
            (Some(m), Some(x)) => format!("{m}={}", crate::gates::num(x)),
            (Some(m), None) => format!("{m}=-"),
            _ => "-".into(),
        };
        s.push_str(&format!(
            "{:<24} {:<9} {:<10} {:<24} {:<10} {}\n",
            r.model,
            v(r.champion),
            v(r.challenger),
            metric,
            r.drift.map_or("-", ChampionDrift::as_str),
            r.bias.as_deref().unwrap_or("-")
        ));
    }
    s.push_str(&format!(
        "{}\n",
        crate::diag::render::count(rows.len(), "model")
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn champion_drift_is_written_as_a_word() {
        let json = |d| serde_json::to_value(d).unwrap();
        assert_eq!(json(ChampionDrift::Verified(Severity::Alert)), "alert");
        assert_eq!(json(ChampionDrift::Verified(Severity::None)), "none");
        assert_eq!(json(ChampionDrift::Unverified), "unverified");
    }
}
