//! Data drift per column, reference vs current.
//!
//! Every column gets all the statistics that apply to its kind; one of them decides. The
//! automatic choice follows Evidently's documented defaults: with at most 1,000 reference rows,
//! KS for numerical columns with more than 5 distinct values, chi-square for columns with more
//! than 2, the two-proportion Z-test otherwise (drift when p < 0.05); with more rows, normed
//! Wasserstein for numerical and Jensen–Shannon for categorical columns (drift when ≥ 0.1).
//!
//! Beyond what Evidently does: an optional multiple-testing correction of the p-values
//! (`Bonferroni` or Benjamini–Hochberg) and a minimum effect size, so that very large samples
//! do not flag trivial shifts.

use super::data::{ColumnData, Kind, Values};
use super::stats;
use crate::registry::types::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A drift test.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Two-sample Kolmogorov–Smirnov p-value (numerical).
    Ks,
    /// Population stability index.
    Psi,
    /// Wasserstein distance normed by the reference standard deviation (numerical).
    Wasserstein,
    /// Jensen–Shannon distance.
    Jensenshannon,
    /// Chi-square goodness-of-fit p-value (categorical).
    Chisquare,
    /// Two-proportion Z-test p-value (two categories).
    Ztest,
}

impl Method {
    /// p-value tests drift below their threshold; distances at or above it.
    pub fn is_p_value(self) -> bool {
        matches!(self, Method::Ks | Method::Chisquare | Method::Ztest)
    }

    /// The default threshold.
    pub fn default_threshold(self) -> f64 {
        if self.is_p_value() { 0.05 } else { 0.1 }
    }

    /// As written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::Psi => "psi",
            Method::Wasserstein => "wasserstein",
            Method::Jensenshannon => "jensenshannon",
            Method::Chisquare => "chisquare",
            Method::Ztest => "ztest",
        }
    }
}

/// Multiple-testing correction of p-values across columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    /// Bonferroni: p × number of tests.
    Bonferroni,
    /// Benjamini–Hochberg false discovery rate.
    Bh,
}

/// How to decide.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Force one method for every column it applies to (else automatic).
    pub method: Option<Method>,
    /// Override the method's threshold.
    pub threshold: Option<f64>,
    /// Per-column method and threshold (from model.yaml).
    pub per_column: BTreeMap<String, (Option<Method>, Option<f64>)>,
    /// Correct p-values for the number of columns tested.
    pub correction: Option<Correction>,
    /// Minimum effect size (KS D, or Jensen–Shannon distance) for a p-value test to count.
    pub min_effect: Option<f64>,
    /// Drift-share thresholds of the severities: issue, alert, retrain.
    pub severity: (f64, f64, f64),
}

/// KS statistic and p-value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ks {
    /// D.
    pub statistic: f64,
    /// Asymptotic p-value.
    pub p_value: f64,
}

/// Chi-square statistic, p-value and degrees of freedom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// Statistic.
    pub statistic: f64,
    /// p-value.
    pub p_value: f64,
    /// Degrees of freedom.
    pub dof: u64,
}

/// Two-proportion Z-test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZTest {
    /// z.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Every statistic that applies to a column's kind (the others are absent in JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// Numerical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ks: Option<Ks>,
    /// Numerical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein: Option<f64>,
    /// Numerical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein_normed: Option<f64>,
    /// Both kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<f64>,
    /// Categorical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chi_square: Option<ChiSquare>,
    /// Categorical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jensen_shannon: Option<f64>,
    /// Categorical with two categories (or when the Z-test decides).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z_test: Option<ZTest>,
}

/// Null counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nulls {
    /// In the reference.
    pub reference: u64,
    /// In the current data.
    pub current: u64,
}

/// The drift of one column (JSON contract).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    /// Column name.
    pub column: String,
    /// Numerical or categorical.
    pub kind: Kind,
    /// The deciding method.
    pub method: Method,
    /// Its threshold.
    pub threshold: f64,
    /// Its score (a p-value, after correction if any; or a distance).
    pub score: f64,
    /// Whether the column drifted.
    pub drifted: bool,
    /// Null counts.
    pub nulls: Nulls,
    /// NaN and ±inf counts, excluded from the statistics (numerical columns only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_finite: Option<Nulls>,
    /// All statistics.
    pub statistics: Statistics,
}

/// Row counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rows {
    /// Reference rows.
    pub reference: u64,
    /// Current rows.
    pub current: u64,
}

/// A drift report (JSON contract).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Row counts.
    pub rows: Rows,
    /// Per column.
    pub columns: Vec<ColumnDrift>,
    /// Drifted columns / columns.
    pub drift_share: f64,
    /// Whether the share reaches 0.5 (Evidently's default).
    pub dataset_drift: bool,
    /// From the policy's severities (strictly above each).
    pub severity: Severity,
    /// Plain-file drift: the label's distribution, compared apart from the features (concept
    /// drift; not counted in the drift share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<ColumnDrift>,
    /// What was left out, and why (identifier columns, a label missing from the current data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Category counts of a numerical column treated as categorical (few distinct values).
fn as_categories(sorted: &[f64]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for v in sorted {
        *m.entry(format!("{v}")).or_insert(0) += 1;
    }
    m
}

fn distinct(sorted_a: &[f64], sorted_b: &[f64]) -> usize {
    let mut all: Vec<f64> = sorted_a.iter().chain(sorted_b).copied().collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    all.len()
}

/// Why a column cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ColumnError {
    /// The two sides have different kinds.
    #[error("column `{0}` is numerical in one data set and not in the other")]
    KindMismatch(String),
    /// Nothing to compare.
    #[error(
        "column `{column}` has no usable values in the {side} data (all null, NaN or infinite)"
    )]
    Empty {
        /// Column.
        column: String,
        /// `reference` or `current`.
        side: &'static str,
    },
}

/// Compares one column (without correction; see [`report`]).
pub fn column(
    reference: &ColumnData,
    current: &ColumnData,
    method: Option<Method>,
    threshold: Option<f64>,
) -> Result<ColumnDrift, ColumnError> {
    let name = reference.name.clone();
    if reference.kind() != current.kind() {
        return Err(ColumnError::KindMismatch(name));
    }
    for (c, side) in [(reference, "reference"), (current, "current")] {
        if c.usable() == 0 {
            return Err(ColumnError::Empty { column: name, side });
        }
    }
    let mut st = Statistics::default();
    let ref_rows = reference.usable();
    let (chosen, non_finite) = match (&reference.values, &current.values) {
        (
            Values::Numerical {
                sorted: r,
                non_finite: rn,
            },
            Values::Numerical {
                sorted: c,
                non_finite: cn,
            },
        ) => {
            let (d, p) = stats::ks_2samp(r, c);
            st.ks = Some(Ks {
                statistic: d,
                p_value: p,
            });
            st.wasserstein = Some(stats::wasserstein(r, c));
            st.wasserstein_normed = Some(stats::wasserstein_normed(r, c));
            let cuts = stats::psi_cuts(r);
            st.psi = Some(stats::psi_from_counts(
                &stats::bin_counts(r, &cuts),
                &stats::bin_counts(c, &cuts),
            ));
            let n_values = distinct(r, c);
            let auto = if ref_rows <= 1000 {
                if n_values <= 5 {
                    if n_values > 2 {
                        Method::Chisquare
                    } else {
                        Method::Ztest
                    }
                } else {
                    Method::Ks
                }
            } else if n_values <= 5 {
                // Evidently treats a numerical column with few values as categorical here.
                Method::Jensenshannon
            } else {
                Method::Wasserstein
            };
            let chosen = method.unwrap_or(auto);
            if matches!(
                chosen,
                Method::Chisquare | Method::Ztest | Method::Jensenshannon
            ) {
                categorical_stats(&mut st, &as_categories(r), &as_categories(c));
            }
            (
                chosen,
                Some(Nulls {
                    reference: *rn,
                    current: *cn,
                }),
            )
        }
        (Values::Categorical { counts: r }, Values::Categorical { counts: c }) => {
            categorical_stats(&mut st, r, c);
            let n_values = r
                .keys()
                .chain(c.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let auto = if ref_rows <= 1000 {
                if n_values > 2 {
                    Method::Chisquare
                } else {
                    Method::Ztest
                }
            } else {
                Method::Jensenshannon
            };
            // A method for numbers only (KS, Wasserstein) applies to the numerical columns of a
            // report; categorical ones keep the automatic choice.
            let chosen = match method {
                Some(Method::Ks | Method::Wasserstein) | None => auto,
                Some(m) => m,
            };
            (chosen, None)
        }
        _ => return Err(ColumnError::KindMismatch(name)),
    };
    let score = match chosen {
        Method::Ks => st.ks.as_ref().map(|k| k.p_value),
        Method::Psi => st.psi,
        Method::Wasserstein => st.wasserstein_normed,
        Method::Jensenshannon => st.jensen_shannon,
        Method::Chisquare => st.chi_square.as_ref().map(|c| c.p_value),
        Method::Ztest => st.z_test.as_ref().map(|z| z.p_value),
    }
    .unwrap_or(f64::NAN);
    let threshold = threshold.unwrap_or(chosen.default_threshold());
    let drifted = decide(chosen, score, threshold);
    Ok(ColumnDrift {
        column: name,
        kind: reference.kind(),
        method: chosen,
        threshold,
        score,
        drifted,
        nulls: Nulls {
            reference: reference.nulls,
            current: current.nulls,
        },
        non_finite,
        statistics: st,
    })
}

fn decide(method: Method, score: f64, threshold: f64) -> bool {
    if score.is_nan() {
        return false;
    }
    if method.is_p_value() {
        score < threshold
    } else {
        score >= threshold
    }
}

/// χ² and Jensen–Shannon of two categorical count maps (raw data and profiles alike); returns
/// the counts aligned on the union of categories, and their PSI.
pub(super) fn category_tests(
    st: &mut Statistics,
    r: &BTreeMap<String, u64>,
    c: &BTreeMap<String, u64>,
) -> (Vec<u64>, Vec<u64>, f64) {
    let (_, rc, cc) = stats::aligned_counts(r, c);
    let (s, p, dof) = stats::chi_square(&rc, &cc);
    st.chi_square = Some(ChiSquare {
        statistic: s,
        p_value: p,
        dof,
    });
    st.jensen_shannon = Some(stats::jensen_shannon(&rc, &cc));
    let psi = stats::psi_from_counts(&rc, &cc);
    (rc, cc, psi)
}

fn categorical_stats(st: &mut Statistics, r: &BTreeMap<String, u64>, c: &BTreeMap<String, u64>) {
    let (rc, cc, psi) = category_tests(st, r, c);
    st.psi.get_or_insert(psi);
    if rc.len() <= 2 {
        let (z, p) = stats::two_proportion_z(&rc, &cc);
        st.z_test = Some(ZTest {
            statistic: z,
            p_value: p,
        });
    }
}

/// Severity of a drift share: strictly above each threshold.
pub fn severity(share: f64, (issue, alert, retrain): (f64, f64, f64)) -> Severity {
    if share > retrain {
        Severity::Retrain
    } else if share > alert {
        Severity::Alert
    } else if share > issue {
        Severity::Issue
    } else {
        Severity::None
    }
}

/// Benjamini–Hochberg adjusted p-values (monotone step-up), in input order.
pub fn bh_adjust(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let mut out = vec![0.0; m];
    let mut running = 1.0f64;
    for rank in (0..m).rev() {
        let i = idx[rank];
        let adj = (p[i] * m as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(adj);
        out[i] = running;
    }
    out
}

/// Compares every column and summarizes.
pub fn report(
    pairs: &[(ColumnData, ColumnData)],
    rows: Rows,
    opts: &Options,
) -> Result<Report, ColumnError> {
    use rayon::prelude::*;
    let mut columns = pairs
        .par_iter()
        .map(|(r, c)| {
            let (m, t) = opts
                .per_column
                .get(&r.name)
                .copied()
                .unwrap_or((None, None));
            column(r, c, m.or(opts.method), t.or(opts.threshold))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tested: Vec<usize> = (0..columns.len())
        .filter(|i| columns[*i].method.is_p_value())
        .collect();
    if let Some(corr) = opts.correction {
        let raw: Vec<f64> = tested.iter().map(|i| columns[*i].score).collect();
        let adjusted = match corr {
            Correction::Bonferroni => raw
                .iter()
                .map(|p| (p * raw.len() as f64).min(1.0))
                .collect(),
            Correction::Bh => bh_adjust(&raw),
        };
        for (i, p) in tested.iter().zip(adjusted) {
            let c = &mut columns[*i];
            c.score = p;
            c.drifted = decide(c.method, p, c.threshold);
        }
    }
    if let Some(min) = opts.min_effect {
        for c in columns.iter_mut().filter(|c| c.method.is_p_value()) {
            let effect = match c.kind {
                Kind::Numerical if c.method == Method::Ks => {
                    c.statistics.ks.as_ref().map(|k| k.statistic)
                }
                _ => c.statistics.jensen_shannon,
            };
            if effect.is_some_and(|e| e < min) {
                c.drifted = false;
            }
        }
    }
    Ok(Report::of_columns(rows, columns, opts.severity))
}

impl Report {
    /// The report of these columns: the share that drifted, dataset drift at 0.5, and the
    /// severity of the share under `thresholds` (issue, alert, retrain).
    pub fn of_columns(rows: Rows, columns: Vec<ColumnDrift>, thresholds: (f64, f64, f64)) -> Self {
        let drifted = columns.iter().filter(|c| c.drifted).count();
        let share = if columns.is_empty() {
            0.0
        } else {
            drifted as f64 / columns.len() as f64
        };
        Report {
            rows,
            drift_share: share,
            dataset_drift: share >= 0.5,
            severity: severity(share, thresholds),
            columns,
            label: None,
            notes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(name: &str, v: &[f64]) -> ColumnData {
        ColumnData::numerical(name, v)
    }

    #[test]
    fn automatic_choice_follows_evidently() {
        let small: Vec<f64> = (0..100).map(f64::from).collect();
        let big: Vec<f64> = (0..2000).map(f64::from).collect();
        let few: Vec<f64> = (0..100).map(|i| f64::from(i % 4)).collect();
        let two: Vec<f64> = (0..100).map(|i| f64::from(i % 2)).collect();
        let m = |a: &[f64]| {
            column(&num("x", a), &num("x", a), None, None)
                .unwrap()
                .method
        };
        assert_eq!(m(&small), Method::Ks);
        assert_eq!(m(&big), Method::Wasserstein);
        assert_eq!(m(&few), Method::Chisquare);
        assert_eq!(m(&two), Method::Ztest);
    }

    #[test]
    fn bh_is_monotone() {
        // By hand: raw 0.01·4/1, 0.03·4/2, 0.04·4/3, 0.2·4/4, then the running minimum from the top.
        let adj = bh_adjust(&[0.01, 0.04, 0.03, 0.2]);
        let expected = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.2];
        for (a, e) in adj.iter().zip(expected) {
            assert!((a - e).abs() < 1e-15, "{adj:?}");
        }
    }

    #[test]
    fn severities_are_strictly_above() {
        let s = (0.1, 0.25, 0.5);
        assert_eq!(severity(0.1, s), Severity::None);
        assert_eq!(severity(0.11, s), Severity::Issue);
        assert_eq!(severity(0.25, s), Severity::Issue);
        assert_eq!(severity(0.5, s), Severity::Alert);
        assert_eq!(severity(0.51, s), Severity::Retrain);
    }
}
