//! Live drift: a rolling profile of the last N served rows of a model against its reference
//! bins, and the share of features drifting in it.
//!
//! The bins are the drift job's profile bins ([`crate::monitor::profile`]: 10 reference-decile
//! PSI bins and 100 reference-percentile Wasserstein bins per numerical feature, counts per
//! category), and the report is the profile report the drift job gives for profiles
//! (`drift --profiles`): normed binned Wasserstein for numerical features and Jensen–Shannon for
//! categorical ones, drift at or above 0.1, the drift share = drifted features / features, and
//! the severity by the model's effective `drift.severity` thresholds. Nothing here bins or tests
//! on its own.
//!
//! Each row is counted in O(features): its slot per feature is kept in a ring of the last
//! `window` rows, and the row leaving the window is uncounted. Memory is the reference bins plus
//! `window × features` slots. A report costs O(bins) and is computed when asked.

use crate::monitor::data::{self, ColumnData, Kind, Request, Values};
use crate::monitor::drift::{Report, Rows};
use crate::monitor::profile::{self, ColumnProfile, Profile, Slot};
use crate::registry::schema::FeatureType;
use crate::registry::{Model, Registry};
use anyhow::{Context, Result, bail};
use std::collections::VecDeque;

/// The rolling drift of one model.
#[derive(Clone, Debug)]
pub struct LiveDrift {
    /// Reference bins with the window's counts as the current side.
    profile: Profile,
    /// The slots of the rows in the window, oldest first.
    ring: VecDeque<Vec<Slot>>,
    window: usize,
    severity: (f64, f64, f64),
}

impl LiveDrift {
    /// From a profile's reference bins (its current counts are ignored), over the last `window`
    /// rows, with the drift-share thresholds (issue, alert, retrain).
    pub fn new(reference: &Profile, window: usize, severity: (f64, f64, f64)) -> Result<Self> {
        if window == 0 {
            bail!("the live drift window needs at least one row");
        }
        Ok(LiveDrift {
            profile: reference.reference_only(),
            ring: VecDeque::with_capacity(window.min(1 << 20)),
            window,
            severity,
        })
    }

    /// From the reference columns (as [`data::column`] reads them).
    pub fn from_reference(
        reference: &[ColumnData],
        window: usize,
        severity: (f64, f64, f64),
    ) -> Result<Self> {
        let pairs: Vec<(ColumnData, ColumnData)> = reference
            .iter()
            .map(|r| {
                let empty = ColumnData {
                    name: r.name.clone(),
                    values: match &r.values {
                        Values::Numerical { .. } => Values::Numerical {
                            sorted: Vec::new(),
                            non_finite: 0,
                        },
                        Values::Categorical { .. } => Values::Categorical {
                            counts: Default::default(),
                        },
                    },
                    nulls: 0,
                };
                (r.clone(), empty)
            })
            .collect();
        let rows = Rows {
            reference: reference.first().map(|c| c.usable() + c.nulls).unwrap_or(0),
            current: 0,
        };
        LiveDrift::new(&profile::build(&pairs, rows)?, window, severity)
    }

    /// For a model of the registry: its features from the reference data `monitoring.reference`
    /// names, as the registry's source holds it (for `serve`, the served commit, never the
    /// working tree), read as the drift job reads it; and its effective severities.
    pub fn for_model(reg: &Registry, m: &Model, window: usize) -> Result<Self> {
        let name = m.name.as_str();
        let spec = m
            .spec
            .as_ref()
            .with_context(|| format!("{name}: model.yaml does not parse"))?;
        let mon = spec
            .monitoring
            .as_ref()
            .with_context(|| format!("{name}: model.yaml has no `monitoring:` section"))?;
        if spec.features.is_empty() {
            bail!("{name}: model.yaml lists no features to monitor");
        }
        // The committed files, copied aside and read as the drift job reads a working tree;
        // messages name them by their paths in the repository.
        let copy = tempfile::tempdir().context("creating a temporary folder")?;
        let root = copy.path();
        let in_repo = |e: anyhow::Error| {
            let prefix = format!("{}{}", root.display(), std::path::MAIN_SEPARATOR);
            anyhow::anyhow!(
                "{name}: reference data at {}: {}",
                reg.source.describe(),
                format!("{e:#}").replace(&prefix, "")
            )
        };
        data::export_from_source(&mon.reference, reg.source.as_ref(), root).map_err(in_repo)?;
        data::expand_in_repository(&mon.reference, root).map_err(in_repo)?;
        let reference = data::read(
            &mon.reference,
            root,
            &Request {
                columns: spec.features.iter().map(|f| f.name.clone()).collect(),
                ..Default::default()
            },
        )
        .map_err(in_repo)?;
        let mut columns = Vec::new();
        for f in &spec.features {
            let kind = match f.kind {
                FeatureType::Numerical => Kind::Numerical,
                FeatureType::Categorical => Kind::Categorical,
            };
            columns.push(data::column(&reference.frame, &f.name, Some(kind))?);
        }
        let policy = reg.policy.clone().unwrap_or_default();
        let eff = crate::registry::policy::effective(&policy, spec.policy.as_ref());
        let mut live = LiveDrift::from_reference(&columns, window, eff.severity)
            .with_context(|| format!("{name}: reference data"))?;
        live.profile.rows.reference = reference.frame.height() as u64;
        Ok(live)
    }

    /// The features, in the order [`LiveDrift::observe`] takes their values.
    pub fn columns(&self) -> Vec<&str> {
        self.profile.columns.iter().map(|c| c.name()).collect()
    }

    /// Rows in the window now.
    pub fn rows(&self) -> usize {
        self.ring.len()
    }

    /// Counts one served row: the value of each feature in [`LiveDrift::columns`] order, as
    /// the request gave it (a missing value is `Null`). The oldest row leaves a full window.
    pub fn observe<'v>(&mut self, values: impl IntoIterator<Item = &'v serde_json::Value>) {
        static NULL: serde_json::Value = serde_json::Value::Null;
        let mut values = values.into_iter();
        // The row leaving a full window is uncounted, and its buffer reused.
        let mut slots = match self.ring.len() == self.window {
            true => self.ring.pop_front().unwrap_or_default(),
            false => Vec::with_capacity(self.profile.columns.len()),
        };
        for (c, s) in self.profile.columns.iter_mut().zip(&slots) {
            c.count_slot(s, false);
        }
        slots.clear();
        for c in self.profile.columns.iter_mut() {
            let s = slot(c, values.next().unwrap_or(&NULL));
            c.count_slot(&s, true);
            slots.push(s);
        }
        self.ring.push_back(slots);
        self.profile.rows.current = self.ring.len() as u64;
    }

    /// The rolling profile (reference bins, the window's counts).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The drift report of the window; `None` while it is empty.
    pub fn report(&self) -> Result<Option<Report>> {
        if self.ring.is_empty() {
            return Ok(None);
        }
        profile::report(&self.profile, None, None, self.severity).map(Some)
    }

    /// The share of features drifting in the window; `None` while it is empty.
    pub fn drift_share(&self) -> Option<f64> {
        self.report().ok().flatten().map(|r| r.drift_share)
    }
}

/// The slot of a request value in a column: numbers and numeric text in numerical columns,
/// booleans as 1/0; text, numbers and booleans as written in categorical ones.
fn slot(c: &ColumnProfile, v: &serde_json::Value) -> Slot {
    use serde_json::Value;
    match (c, v) {
        (_, Value::Null) => Slot::Null,
        (ColumnProfile::Numerical { .. }, Value::Number(n)) => {
            n.as_f64().map_or(Slot::NonFinite, |x| c.number_slot(x))
        }
        (ColumnProfile::Numerical { .. }, Value::Bool(b)) => c.number_slot(f64::from(u8::from(*b))),
        (_, Value::String(s)) => c.text_slot(Some(s)),
        (ColumnProfile::Categorical { .. }, Value::Number(n)) => c.text_slot(Some(&n.to_string())),
        (ColumnProfile::Categorical { .. }, Value::Bool(b)) => c.text_slot(Some(&b.to_string())),
        (ColumnProfile::Numerical { .. }, _) => Slot::NonFinite,
        (ColumnProfile::Categorical { .. }, _) => Slot::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn numerical(name: &str, v: &[f64]) -> ColumnData {
        ColumnData::numerical(name, v)
    }

    fn categorical(name: &str, v: &[&str]) -> ColumnData {
        ColumnData::categorical(name, v)
    }

    const SEVERITY: (f64, f64, f64) = (0.1, 0.25, 0.5);

    fn reference() -> (Vec<f64>, Vec<&'static str>) {
        let x: Vec<f64> = (0..3000)
            .map(|i| ((i * 7919) % 1000) as f64 / 10.0)
            .collect();
        let c: Vec<&str> = (0..3000).map(|i| ["a", "b", "c"][i % 3]).collect();
        (x, c)
    }

    /// The window's report is the drift job's profile report of the same rows, exactly; after
    /// the window slides, of the last `window` rows only.
    #[test]
    fn window_equals_the_profile_of_its_rows() {
        let (rx, rc) = reference();
        let refs = [numerical("x", &rx), categorical("c", &rc)];
        let mut live = LiveDrift::from_reference(&refs, 500, SEVERITY).unwrap();
        assert_eq!(live.columns(), ["x", "c"]);
        assert!(live.report().unwrap().is_none());
        // 1,200 rows: the first 700 like the reference, the last 500 shifted and all "a".
        let mut rows: Vec<(f64, &str)> = (0..700).map(|i| (rx[i * 3], rc[i])).collect();
        rows.extend((0..500).map(|i| (rx[i] + 40.0, "a")));
        for (k, (x, c)) in rows.iter().enumerate() {
            live.observe(&[json!(x), json!(c)]);
            if k == 299 || k == rows.len() - 1 {
                let from = (k + 1).saturating_sub(500);
                let window = &rows[from..=k];
                let xs: Vec<f64> = window.iter().map(|r| r.0).collect();
                let cs: Vec<&str> = window.iter().map(|r| r.1).collect();
                let built = profile::build(
                    &[
                        (refs[0].clone(), numerical("x", &xs)),
                        (refs[1].clone(), categorical("c", &cs)),
                    ],
                    Rows {
                        reference: 3000,
                        current: window.len() as u64,
                    },
                )
                .unwrap();
                assert_eq!(live.profile(), &built, "after {} rows", k + 1);
                let want = profile::report(&built, None, None, SEVERITY).unwrap();
                assert_eq!(live.report().unwrap().unwrap(), want);
            }
        }
        assert_eq!(live.rows(), 500);
        assert_eq!(live.drift_share(), Some(1.0));
        // Back to reference-like rows: the drift leaves with the window.
        for i in 0..500 {
            live.observe(&[json!(rx[i * 5]), json!(rc[i * 5])]);
        }
        assert_eq!(live.drift_share(), Some(0.0));
    }

    /// Nulls, non-numbers, numeric text and booleans are counted as the profile counts CSV
    /// fields; a missing value is a null.
    #[test]
    fn request_values_are_counted_like_profile_fields() {
        let (rx, rc) = reference();
        let mut live =
            LiveDrift::from_reference(&[numerical("x", &rx), categorical("c", &rc)], 10, SEVERITY)
                .unwrap();
        live.observe(&[Value::Null, json!("b")]);
        live.observe(&[json!("12.5"), json!(null)]);
        live.observe(&[json!("n/a"), json!(7)]);
        live.observe(&[json!(true)]);
        let p = live.profile();
        match &p.columns[0] {
            ColumnProfile::Numerical {
                nulls,
                non_finite,
                current_psi,
                ..
            } => {
                assert_eq!(nulls.current, 1);
                assert_eq!(non_finite.current, 1);
                assert_eq!(current_psi.iter().sum::<u64>(), 2);
            }
            other => panic!("{other:?}"),
        }
        match &p.columns[1] {
            ColumnProfile::Categorical { current, nulls, .. } => {
                assert_eq!(nulls.current, 2);
                assert_eq!(current.get("b"), Some(&1));
                assert_eq!(current.get("7"), Some(&1));
            }
            other => panic!("{other:?}"),
        }
        assert!(LiveDrift::from_reference(&[numerical("x", &rx)], 0, SEVERITY).is_err());
    }
}
