//! Classification metrics of scores against binary labels, as scikit-learn computes them.
//!
//! A row is predicted positive when its score is at least the threshold. Precision (and any
//! other ratio) is 0 when its denominator is 0, as scikit-learn's `zero_division=0`.

use serde::Serialize;
use std::collections::BTreeMap;

/// Exact ROC-AUC, ties handled as scikit-learn's `roc_auc_score` (trapezoids over distinct
/// scores, which equals the Mann–Whitney statistic with average ranks). `None` when the labels
/// hold one class only: the AUC is undefined then.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let n_pos = labels.iter().filter(|l| **l).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    // Sum of the (average) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            if labels[*k] {
                rank_sum += avg_rank;
            }
        }
        i = j + 1;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Counts of a confusion matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confusion {
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// True negatives.
    pub tn: u64,
    /// False negatives.
    pub fn_: u64,
}

impl Confusion {
    /// Adds one row.
    pub fn add(&mut self, label: bool, predicted: bool) {
        match (label, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }

    /// Rows counted.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }

    /// tp / (tp + fp), 0 when nothing is predicted positive.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// tp / (tp + fn): recall, the true-positive rate.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// fp / (fp + tn).
    pub fn fpr(&self) -> f64 {
        ratio(self.fp, self.fp + self.tn)
    }

    /// Share predicted positive.
    pub fn selection_rate(&self) -> f64 {
        ratio(self.tp + self.fp, self.total())
    }

    /// Share correct.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }

    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The metrics of `modelgate evaluate` (JSON contract: `{"rows", "metrics": {…}}`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Evaluation {
    /// Rows evaluated.
    pub rows: u64,
    /// The threshold.
    pub threshold: f64,
    /// Metric values; `roc_auc` is absent when the labels hold one class.
    pub metrics: BTreeMap<String, f64>,
    /// Why a metric is absent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Evaluates scores against labels.
pub fn evaluate(labels: &[bool], scores: &[f64], threshold: f64) -> Evaluation {
    let mut cm = Confusion::default();
    for (l, s) in labels.iter().zip(scores) {
        cm.add(*l, *s >= threshold);
    }
    let mut metrics = BTreeMap::new();
    let mut notes = Vec::new();
    match roc_auc(labels, scores) {
        Some(a) => {
            metrics.insert("roc_auc".into(), a);
        }
        None => notes.push("roc_auc is undefined: the labels hold one class only".to_string()),
    }
    metrics.insert("precision".into(), cm.precision());
    metrics.insert("recall".into(), cm.recall());
    metrics.insert("f1".into(), cm.f1());
    metrics.insert("accuracy".into(), cm.accuracy());
    let eps = f64::EPSILON;
    let n = labels.len() as f64;
    let log_loss = labels
        .iter()
        .zip(scores)
        .map(|(l, s)| {
            let p = s.clamp(eps, 1.0 - eps);
            if *l { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum::<f64>()
        / n;
    metrics.insert("log_loss".into(), log_loss);
    let brier = labels
        .iter()
        .zip(scores)
        .map(|(l, s)| (s - if *l { 1.0 } else { 0.0 }).powi(2))
        .sum::<f64>()
        / n;
    metrics.insert("brier".into(), brier);
    Evaluation {
        rows: labels.len() as u64,
        threshold,
        metrics,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_with_ties() {
        // sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
        assert_eq!(
            roc_auc(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]),
            Some(0.75)
        );
        // all tied: 0.5
        assert_eq!(roc_auc(&[false, true, false, true], &[0.5; 4]), Some(0.5));
        assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None);
    }

    #[test]
    fn confusion_ratios() {
        let e = evaluate(&[true, false, true, false], &[0.9, 0.8, 0.2, 0.1], 0.5);
        assert_eq!(e.metrics["precision"], 0.5);
        assert_eq!(e.metrics["recall"], 0.5);
        assert_eq!(e.metrics["accuracy"], 0.5);
        let none = evaluate(&[true, false], &[0.1, 0.2], 0.5);
        assert_eq!(none.metrics["precision"], 0.0);
    }
}
