//! Mergeable profiles, for current data larger than one job.
//!
//! A profile holds, per column, bins derived from the reference alone and exact counts of the
//! reference and of one partition of the current data. Counts of partitions add up exactly, so
//! PSI (10 reference-decile bins), Jensen–Shannon, chi-square and the binned Wasserstein
//! distance (100 reference-percentile bins) of merged profiles are the same however the current
//! data was split. KS needs the raw values and is not part of a profile.

use super::data::{ColumnData, Kind, Values};
use super::drift::{ColumnDrift, Method, Nulls, Report, Rows, Statistics};
use super::stats;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Format version of profile files.
pub const FORMAT: u32 = 1;

/// One column's bins and counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ColumnProfile {
    /// Numerical: decile cuts (PSI), percentile cuts (binned Wasserstein), counts.
    Numerical {
        /// Column.
        column: String,
        /// The 9 reference deciles.
        psi_cuts: Vec<f64>,
        /// Reference counts in the 10 PSI bins.
        reference_psi: Vec<u64>,
        /// Current counts in the 10 PSI bins.
        current_psi: Vec<u64>,
        /// Reference minimum, the 99 percentiles, and maximum: edges of the Wasserstein bins.
        edges: Vec<f64>,
        /// Reference counts in the 100 Wasserstein bins.
        reference_fine: Vec<u64>,
        /// Current counts in the 100 Wasserstein bins.
        current_fine: Vec<u64>,
        /// Reference standard deviation (ddof 0).
        reference_std: f64,
        /// Null counts.
        nulls: Nulls,
        /// NaN and ±inf counts.
        non_finite: Nulls,
    },
    /// Categorical: counts per category.
    Categorical {
        /// Column.
        column: String,
        /// Reference counts.
        reference: BTreeMap<String, u64>,
        /// Current counts.
        current: BTreeMap<String, u64>,
        /// Null counts.
        nulls: Nulls,
    },
}

/// A profile file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// [`FORMAT`].
    pub format: u32,
    /// Row counts (current: of this partition, or the sum after merging).
    pub rows: Rows,
    /// Per column.
    pub columns: Vec<ColumnProfile>,
}

fn counts_in(sorted: &[f64], cuts: &[f64]) -> Vec<u64> {
    stats::bin_counts(sorted, cuts)
}

/// Profiles one partition of current data against the reference.
pub fn build(pairs: &[(ColumnData, ColumnData)], rows: Rows) -> Result<Profile> {
    let mut columns = Vec::new();
    for (r, c) in pairs {
        let nulls = Nulls {
            reference: r.nulls,
            current: c.nulls,
        };
        columns.push(match (&r.values, &c.values) {
            (
                Values::Numerical {
                    sorted: rs,
                    non_finite: rn,
                },
                Values::Numerical {
                    sorted: cs,
                    non_finite: cn,
                },
            ) => {
                if rs.is_empty() {
                    bail!("column `{}` has no usable reference values", r.name);
                }
                let psi_cuts = stats::psi_cuts(rs);
                let mut edges = vec![rs[0]];
                edges.extend((1..100).map(|k| stats::quantile(rs, k as f64 / 100.0)));
                edges.push(rs[rs.len() - 1]);
                let inner = &edges[1..edges.len() - 1];
                ColumnProfile::Numerical {
                    column: r.name.clone(),
                    reference_psi: counts_in(rs, &psi_cuts),
                    current_psi: counts_in(cs, &psi_cuts),
                    reference_fine: counts_in(rs, inner),
                    current_fine: counts_in(cs, inner),
                    psi_cuts,
                    edges,
                    reference_std: stats::std_pop(rs),
                    nulls,
                    non_finite: Nulls {
                        reference: *rn,
                        current: *cn,
                    },
                }
            }
            (Values::Categorical { counts: rc }, Values::Categorical { counts: cc }) => {
                ColumnProfile::Categorical {
                    column: r.name.clone(),
                    reference: rc.clone(),
                    current: cc.clone(),
                    nulls,
                }
            }
            _ => bail!(
                "column `{}` is numerical in one data set and not in the other",
                r.name
            ),
        });
    }
    Ok(Profile {
        format: FORMAT,
        rows,
        columns,
    })
}

fn add(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Merges profiles of partitions of the same current data against the same reference.
pub fn merge(profiles: &[Profile]) -> Result<Profile> {
    let Some(first) = profiles.first() else {
        bail!("no profiles to merge");
    };
    let mut out = first.clone();
    for (i, p) in profiles.iter().enumerate().skip(1) {
        if p.format != FORMAT {
            bail!(
                "profile {} has format {}, expected {FORMAT}",
                i + 1,
                p.format
            );
        }
        if p.rows.reference != out.rows.reference || p.columns.len() != out.columns.len() {
            bail!("profile {} was made against another reference", i + 1);
        }
        out.rows.current += p.rows.current;
        for (a, b) in out.columns.iter_mut().zip(&p.columns) {
            match (a, b) {
                (
                    ColumnProfile::Numerical {
                        column,
                        psi_cuts,
                        current_psi,
                        edges,
                        current_fine,
                        reference_psi,
                        nulls,
                        non_finite,
                        ..
                    },
                    ColumnProfile::Numerical {
                        column: c2,
                        psi_cuts: p2,
                        current_psi: cp2,
                        edges: e2,
                        current_fine: cf2,
                        reference_psi: rp2,
                        nulls: n2,
                        non_finite: nf2,
                        ..
                    },
                ) => {
                    if column != c2 || psi_cuts != p2 || edges != e2 || reference_psi != rp2 {
                        bail!(
                            "profile {} was made against another reference (column `{column}`)",
                            i + 1
                        );
                    }
                    add(current_psi, cp2);
                    add(current_fine, cf2);
                    nulls.current += n2.current;
                    non_finite.current += nf2.current;
                }
                (
                    ColumnProfile::Categorical {
                        column,
                        reference,
                        current,
                        nulls,
                    },
                    ColumnProfile::Categorical {
                        column: c2,
                        reference: r2,
                        current: cur2,
                        nulls: n2,
                    },
                ) => {
                    if column != c2 || reference != r2 {
                        bail!(
                            "profile {} was made against another reference (column `{column}`)",
                            i + 1
                        );
                    }
                    for (k, v) in cur2 {
                        *current.entry(k.clone()).or_insert(0) += v;
                    }
                    nulls.current += n2.current;
                }
                _ => bail!("profile {} does not match the others' columns", i + 1),
            }
        }
    }
    Ok(out)
}

/// Wasserstein-1 of two histograms over the same edges, mass spread uniformly within a bin:
/// the integral of |CDF_r − CDF_c| with both CDFs linear inside each bin.
pub fn binned_wasserstein(edges: &[f64], r: &[u64], c: &[u64]) -> f64 {
    let (rn, cn) = (r.iter().sum::<u64>() as f64, c.iter().sum::<u64>() as f64);
    if rn == 0.0 || cn == 0.0 {
        return f64::NAN;
    }
    let (mut fr, mut fc, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..r.len() {
        let width = edges[i + 1] - edges[i];
        let (dr, dc) = (r[i] as f64 / rn, c[i] as f64 / cn);
        let (a, b) = (fr - fc, fr + dr - fc - dc);
        // ∫ |a + (b − a)t| dt over [0, 1], times the width.
        let area = if a * b >= 0.0 {
            (a.abs() + b.abs()) / 2.0
        } else {
            (a * a + b * b) / (2.0 * (a.abs() + b.abs()))
        };
        total += area * width;
        fr += dr;
        fc += dc;
    }
    total
}

/// A drift report from a (merged) profile: PSI, Jensen–Shannon, chi-square and binned
/// Wasserstein; numerical columns are decided by the normed binned Wasserstein distance, and
/// categorical ones by Jensen–Shannon (Evidently's choice for large data), unless `method`
/// names another statistic the profile has.
pub fn report(
    p: &Profile,
    method: Option<Method>,
    threshold: Option<f64>,
    severity: (f64, f64, f64),
) -> Result<Report> {
    let mut columns = Vec::new();
    for c in &p.columns {
        let mut st = Statistics::default();
        let (name, kind, nulls, non_finite, chosen) = match c {
            ColumnProfile::Numerical {
                column,
                reference_psi,
                current_psi,
                edges,
                reference_fine,
                current_fine,
                reference_std,
                nulls,
                non_finite,
                ..
            } => {
                st.psi = Some(stats::psi_from_counts(reference_psi, current_psi));
                let w = binned_wasserstein(edges, reference_fine, current_fine);
                st.wasserstein = Some(w);
                st.wasserstein_normed = Some(w / reference_std.max(0.001));
                let m = method.unwrap_or(Method::Wasserstein);
                if !matches!(m, Method::Wasserstein | Method::Psi) {
                    bail!("from profiles, numerical columns support --method wasserstein or psi");
                }
                (column, Kind::Numerical, nulls, Some(non_finite.clone()), m)
            }
            ColumnProfile::Categorical {
                column,
                reference,
                current,
                nulls,
            } => {
                let (_, _, psi) = super::drift::category_tests(&mut st, reference, current);
                st.psi = Some(psi);
                let m = method.unwrap_or(Method::Jensenshannon);
                if !matches!(m, Method::Jensenshannon | Method::Psi | Method::Chisquare) {
                    bail!(
                        "from profiles, categorical columns support --method jensenshannon, psi or chisquare"
                    );
                }
                (column, Kind::Categorical, nulls, None, m)
            }
        };
        let score = match chosen {
            Method::Wasserstein => st.wasserstein_normed,
            Method::Psi => st.psi,
            Method::Jensenshannon => st.jensen_shannon,
            Method::Chisquare => st.chi_square.as_ref().map(|c| c.p_value),
            _ => None,
        }
        .unwrap_or(f64::NAN);
        let t = threshold.unwrap_or(chosen.default_threshold());
        let drifted = !score.is_nan()
            && if chosen.is_p_value() {
                score < t
            } else {
                score >= t
            };
        columns.push(ColumnDrift {
            column: name.clone(),
            kind,
            method: chosen,
            threshold: t,
            score,
            drifted,
            nulls: nulls.clone(),
            non_finite,
            statistics: st,
        });
    }
    Ok(Report::of_columns(p.rows.clone(), columns, severity))
}

/// The bins of a profile, derived from the reference alone, with empty current counts.
fn empty_current(p: &mut Profile) {
    p.rows.current = 0;
    for c in &mut p.columns {
        match c {
            ColumnProfile::Numerical {
                current_psi,
                current_fine,
                nulls,
                non_finite,
                ..
            } => {
                current_psi.iter_mut().for_each(|x| *x = 0);
                current_fine.iter_mut().for_each(|x| *x = 0);
                nulls.current = 0;
                non_finite.current = 0;
            }
            ColumnProfile::Categorical { current, nulls, .. } => {
                current.clear();
                nulls.current = 0;
            }
        }
    }
}

impl Profile {
    /// The same reference bins with no current data: what current values are counted into.
    pub fn reference_only(&self) -> Profile {
        let mut p = self.clone();
        empty_current(&mut p);
        p
    }
}

/// Where one current value falls in a column profile: the one binning rule of profiles, used
/// when a profile is built from streamed rows and when a rolling window counts and uncounts
/// them (`serve::live`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Null (or empty text).
    Null,
    /// NaN, ±inf, or text that is not a number in a numerical column.
    NonFinite,
    /// A finite number: its PSI bin and its Wasserstein bin.
    Bins {
        /// Index among the 10 PSI bins.
        psi: usize,
        /// Index among the 100 Wasserstein bins.
        fine: usize,
    },
    /// A category.
    Category(String),
}

impl ColumnProfile {
    /// The column's name.
    pub fn name(&self) -> &str {
        match self {
            ColumnProfile::Numerical { column, .. } | ColumnProfile::Categorical { column, .. } => {
                column
            }
        }
    }

    /// The slot of a number.
    pub fn number_slot(&self, x: f64) -> Slot {
        match self {
            ColumnProfile::Numerical {
                psi_cuts, edges, ..
            } => {
                if !x.is_finite() {
                    return Slot::NonFinite;
                }
                let inner = &edges[1..edges.len() - 1];
                Slot::Bins {
                    psi: psi_cuts.partition_point(|c| *c <= x),
                    fine: inner.partition_point(|c| *c <= x),
                }
            }
            ColumnProfile::Categorical { .. } => Slot::Category(format!("{x}")),
        }
    }

    /// The slot of a value read as text (a CSV field): trimmed and parsed in a numerical
    /// column, as it is in a categorical one.
    pub fn text_slot(&self, value: Option<&str>) -> Slot {
        match self {
            ColumnProfile::Numerical { .. } => match value.map(str::trim).filter(|v| !v.is_empty())
            {
                None => Slot::Null,
                Some(v) => match v.parse::<f64>() {
                    Ok(x) => self.number_slot(x),
                    // A non-number in a numerical column: counted with the nulls would hide it.
                    Err(_) => Slot::NonFinite,
                },
            },
            ColumnProfile::Categorical { .. } => match value.filter(|v| !v.is_empty()) {
                None => Slot::Null,
                Some(v) => Slot::Category(v.to_string()),
            },
        }
    }

    /// Counts a slot into the current side (`add`), or takes it out again (`!add`: a value
    /// leaving a rolling window; it must have been counted before).
    pub fn count_slot(&mut self, slot: &Slot, add: bool) {
        let step = |x: &mut u64| {
            if add {
                *x += 1;
            } else {
                *x = x.saturating_sub(1);
            }
        };
        match (self, slot) {
            (ColumnProfile::Numerical { nulls, .. }, Slot::Null)
            | (ColumnProfile::Categorical { nulls, .. }, Slot::Null) => step(&mut nulls.current),
            (ColumnProfile::Numerical { non_finite, .. }, Slot::NonFinite) => {
                step(&mut non_finite.current)
            }
            (
                ColumnProfile::Numerical {
                    current_psi,
                    current_fine,
                    ..
                },
                Slot::Bins { psi, fine },
            ) => {
                step(&mut current_psi[*psi]);
                step(&mut current_fine[*fine]);
            }
            (ColumnProfile::Categorical { current, .. }, Slot::Category(v)) => {
                if add {
                    // A category seen before (the common case) is counted without a copy of it.
                    match current.get_mut(v) {
                        Some(n) => *n += 1,
                        None => {
                            current.insert(v.clone(), 1);
                        }
                    }
                } else if let Some(n) = current.get_mut(v) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        current.remove(v);
                    }
                }
            }
            // A slot of the other kind of column: never made by this column's own methods.
            _ => {}
        }
    }
}

/// Counts one value into a column profile's current side.
fn count(c: &mut ColumnProfile, value: Option<&str>) {
    let slot = c.text_slot(value);
    c.count_slot(&slot, true);
}

/// Profiles current CSV files of any size against a reference profile's bins, reading them row
/// by row: memory is the profile, not the data.
pub fn stream_csv(reference: &Profile, files: &[std::path::PathBuf]) -> Result<Profile> {
    let mut p = reference.reference_only();
    for file in files {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(file)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        let headers = rdr
            .headers()
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?
            .clone();
        let mut index = Vec::new();
        for c in &p.columns {
            let name = c.name();
            match headers.iter().position(|h| h == name) {
                Some(i) => index.push(i),
                None => bail!("{} has no column `{name}`", file.display()),
            }
        }
        let mut record = csv::StringRecord::new();
        while rdr
            .read_record(&mut record)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?
        {
            p.rows.current += 1;
            for (c, i) in p.columns.iter_mut().zip(&index) {
                count(c, record.get(*i));
            }
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(name: &str, v: Vec<f64>) -> ColumnData {
        ColumnData::numerical(name, &v)
    }

    #[test]
    fn partitions_merge_exactly() {
        let reference: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 1000) as f64 / 10.0)
            .collect();
        let current: Vec<f64> = (0..7000)
            .map(|i| ((i * 104729) % 1200) as f64 / 10.0)
            .collect();
        let rows = |n: usize| Rows {
            reference: 5000,
            current: n as u64,
        };
        let whole = build(
            &[(num("x", reference.clone()), num("x", current.clone()))],
            rows(7000),
        )
        .unwrap();
        let parts: Vec<Profile> = current
            .chunks(1000)
            .map(|part| {
                build(
                    &[(num("x", reference.clone()), num("x", part.to_vec()))],
                    rows(part.len()),
                )
                .unwrap()
            })
            .collect();
        assert_eq!(parts.len(), 7);
        let merged = merge(&parts).unwrap();
        assert_eq!(merged, whole);
        let a = report(&whole, None, None, (0.1, 0.25, 0.5)).unwrap();
        let b = report(&merged, None, None, (0.1, 0.25, 0.5)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn binned_wasserstein_of_identical_histograms_is_zero() {
        assert_eq!(
            binned_wasserstein(&[0.0, 1.0, 2.0], &[5, 5], &[10, 10]),
            0.0
        );
        // All mass in the first bin vs the second: distance 1 (bin width).
        assert!((binned_wasserstein(&[0.0, 1.0, 2.0], &[1, 0], &[0, 1]) - 1.0).abs() < 1e-12);
    }
}
