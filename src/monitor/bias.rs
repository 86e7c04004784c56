//! Fairness across protected attributes, as Fairlearn's `MetricFrame` and its
//! difference/ratio helpers compute them.
//!
//! Per attribute and group: count, selection rate, true- and false-positive rate, precision
//! (0 when nothing is predicted positive). Then the demographic parity difference (max − min
//! selection rate) and ratio (min / max), the equal opportunity difference (TPR max − min), the
//! equalized odds difference (the larger of the TPR and FPR differences) and the predictive
//! parity difference (precision max − min). The disparity the gate judges is the largest of the
//! demographic parity, equal opportunity and predictive parity differences.

use super::metrics::Confusion;
use serde::Serialize;
use std::collections::BTreeMap;

/// One group of one attribute.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Group {
    /// The group's value (`F`; `F,asian` for intersections).
    pub group: String,
    /// Rows.
    pub count: u64,
    /// Share predicted positive.
    pub selection_rate: f64,
    /// True-positive rate.
    pub tpr: f64,
    /// False-positive rate.
    pub fpr: f64,
    /// Precision.
    pub precision: f64,
}

/// One attribute (JSON contract).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Attribute {
    /// Attribute name (`sex`; `sex×race` for intersections).
    pub attribute: String,
    /// Its groups, sorted.
    pub groups: Vec<Group>,
    /// Selection rate max − min.
    pub demographic_parity_difference: f64,
    /// Selection rate min / max (1 when every group has rate 0).
    pub demographic_parity_ratio: f64,
    /// TPR max − min.
    pub equal_opportunity_difference: f64,
    /// max(TPR difference, FPR difference).
    pub equalized_odds_difference: f64,
    /// Precision max − min.
    pub predictive_parity_difference: f64,
    /// The largest of the demographic parity, equal opportunity and predictive parity
    /// differences.
    pub disparity: f64,
    /// `pass`, `warn` or `block` by the policy's thresholds.
    pub verdict: String,
}

/// The bias report (JSON contract).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// The decision threshold.
    pub threshold: f64,
    /// Per attribute.
    pub attributes: Vec<Attribute>,
}

fn spread(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    let min = values.fold(f64::INFINITY, f64::min);
    (min, max)
}

/// The verdict of a disparity: below `warn_at` passes, up to `block_at` warns, above blocks.
pub fn verdict(disparity: f64, warn_at: f64, block_at: f64) -> &'static str {
    if disparity > block_at {
        "block"
    } else if disparity >= warn_at {
        "warn"
    } else {
        "pass"
    }
}

/// Computes one attribute from each row's group, label and score.
pub fn attribute(
    name: &str,
    groups: &[Option<String>],
    labels: &[bool],
    scores: &[f64],
    threshold: f64,
    (warn_at, block_at): (f64, f64),
) -> Attribute {
    let mut by: BTreeMap<&str, Confusion> = BTreeMap::new();
    for ((g, l), s) in groups.iter().zip(labels).zip(scores) {
        let g = g.as_deref().unwrap_or("(null)");
        by.entry(g).or_default().add(*l, *s >= threshold);
    }
    let groups: Vec<Group> = by
        .iter()
        .map(|(g, c)| Group {
            group: g.to_string(),
            count: c.total(),
            selection_rate: c.selection_rate(),
            tpr: c.recall(),
            fpr: c.fpr(),
            precision: c.precision(),
        })
        .collect();
    let (sr_min, sr_max) = spread(groups.iter().map(|g| g.selection_rate));
    let (tpr_min, tpr_max) = spread(groups.iter().map(|g| g.tpr));
    let (fpr_min, fpr_max) = spread(groups.iter().map(|g| g.fpr));
    let (pr_min, pr_max) = spread(groups.iter().map(|g| g.precision));
    let dp = sr_max - sr_min;
    let eo = tpr_max - tpr_min;
    let pp = pr_max - pr_min;
    let disparity = dp.max(eo).max(pp);
    Attribute {
        attribute: name.to_string(),
        demographic_parity_difference: dp,
        demographic_parity_ratio: if sr_max == 0.0 { 1.0 } else { sr_min / sr_max },
        equal_opportunity_difference: eo,
        equalized_odds_difference: eo.max(fpr_max - fpr_min),
        predictive_parity_difference: pp,
        disparity,
        verdict: verdict(disparity, warn_at, block_at).to_string(),
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_groups() {
        let g: Vec<Option<String>> = ["a", "a", "b", "b"]
            .iter()
            .map(|s| Some(s.to_string()))
            .collect();
        let a = attribute(
            "x",
            &g,
            &[true, false, true, false],
            &[0.9, 0.1, 0.9, 0.9],
            0.5,
            (0.1, 0.15),
        );
        assert_eq!(a.groups[0].selection_rate, 0.5);
        assert_eq!(a.groups[1].selection_rate, 1.0);
        assert_eq!(a.demographic_parity_difference, 0.5);
        assert_eq!(a.demographic_parity_ratio, 0.5);
        assert_eq!(a.equalized_odds_difference, 1.0);
        assert_eq!(a.verdict, "block");
    }
}
