//! The drift and fairness statistics, as pure functions on slices. Each is checked against the
//! reference library it names (scipy, numpy) by fixture values made by `scripts/fixtures.py`.
//!
//! Inputs are finite numbers (callers drop and count nulls, NaN and ±inf first) or category
//! counts. Nothing here allocates more than a sorted copy of its input.

use std::collections::BTreeMap;

/// Zero proportions are raised to this before PSI takes logarithms.
pub const PSI_FLOOR: f64 = 1e-4;

/// Sorts a copy of finite values.
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Number of values in a sorted slice that are `<= x` (numpy's `searchsorted(side="right")`).
fn count_le(sorted: &[f64], x: f64) -> usize {
    sorted.partition_point(|v| *v <= x)
}

/// Two-sample Kolmogorov–Smirnov statistic D of two sorted samples, as scipy's `ks_2samp`:
/// the largest distance between the empirical CDFs, evaluated at every observed value.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (mut i, mut j) = (0usize, 0usize);
    let mut d: f64 = 0.0;
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    d.max((i as f64 / n - j as f64 / m).abs())
}

/// The survival function of the limiting Kolmogorov distribution, `Q_KS(x) = P(K > x)`, as
/// scipy's `kstwobign.sf`. Two series, each used where it converges fast.
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x < 1.0 {
        // 1 - sqrt(2π)/x Σ exp(-(2k-1)² π² / (8x²))
        let f = -std::f64::consts::PI.powi(2) / (8.0 * x * x);
        let mut sum = 0.0;
        for k in 1..=100 {
            let t = ((2 * k - 1) as f64).powi(2) * f;
            let term = t.exp();
            sum += term;
            if term < 1e-18 * sum {
                break;
            }
        }
        1.0 - (2.0 * std::f64::consts::PI).sqrt() / x * sum
    } else {
        // 2 Σ (-1)^(k-1) exp(-2 k² x²)
        let mut sum = 0.0;
        for k in 1..=100 {
            let term = (-2.0 * (k * k) as f64 * x * x).exp();
            sum += if k % 2 == 1 { term } else { -term };
            if term < 1e-18 * sum.abs() {
                break;
            }
        }
        (2.0 * sum).clamp(0.0, 1.0)
    }
}

/// KS statistic and its asymptotic p-value `Q_KS(√(nm/(n+m))·D)` of two sorted samples.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> (f64, f64) {
    let d = ks_statistic(a, b);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let en = (n * m / (n + m)).sqrt();
    (d, kolmogorov_sf(en * d))
}

/// Wasserstein-1 distance between two sorted samples' empirical distributions, as scipy's
/// `wasserstein_distance`: the integral of |U(x) − V(x)|.
pub fn wasserstein(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = a[0].min(b[0]);
    let mut total = 0.0;
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.min(*y),
            (Some(x), None) => *x,
            (None, Some(y)) => *y,
            (None, None) => break,
        };
        total += (i as f64 / n - j as f64 / m).abs() * (x - prev);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        prev = x;
    }
    total
}

/// Population standard deviation (ddof 0), two-pass for accuracy.
pub fn std_pop(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Wasserstein distance divided by the reference's standard deviation (floored at 0.001, as
/// Evidently does, so a constant reference does not divide by zero).
pub fn wasserstein_normed(reference: &[f64], current: &[f64]) -> f64 {
    wasserstein(reference, current) / std_pop(reference).max(0.001)
}

/// numpy's default (linear) quantile of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// The 9 cut points of the 10 PSI bins: reference quantiles k/10.
pub fn psi_cuts(reference_sorted: &[f64]) -> Vec<f64> {
    (1..10)
        .map(|k| quantile(reference_sorted, k as f64 / 10.0))
        .collect()
}

/// Counts of sorted values in the bins defined by cut points, bins closed on the left:
/// (-∞, c1), [c1, c2), …, [c9, ∞).
pub fn bin_counts(sorted: &[f64], cuts: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(cuts.len() + 1);
    let mut prev = 0usize;
    for c in cuts {
        let below = sorted.partition_point(|v| *v < *c);
        counts.push((below - prev) as u64);
        prev = below;
    }
    counts.push((sorted.len() - prev) as u64);
    counts
}

/// PSI of two count vectors over the same bins: `Σ (c − r)·ln(c / r)` over proportions, zero
/// proportions raised to [`PSI_FLOOR`].
pub fn psi_from_counts(reference: &[u64], current: &[u64]) -> f64 {
    let (rn, cn) = (
        reference.iter().sum::<u64>() as f64,
        current.iter().sum::<u64>() as f64,
    );
    reference
        .iter()
        .zip(current)
        .map(|(r, c)| {
            let r = (*r as f64 / rn).max(PSI_FLOOR);
            let c = (*c as f64 / cn).max(PSI_FLOOR);
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// Category counts of two samples over the union of their categories, in sorted order.
pub fn aligned_counts(
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
) -> (Vec<String>, Vec<u64>, Vec<u64>) {
    let keys: Vec<String> = reference
        .keys()
        .chain(current.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let r = keys
        .iter()
        .map(|k| *reference.get(k).unwrap_or(&0))
        .collect();
    let c = keys.iter().map(|k| *current.get(k).unwrap_or(&0)).collect();
    (keys, r, c)
}

/// Chi-square goodness of fit of current counts against the reference proportions (expected =
/// reference proportion × current total), as scipy's `chisquare`: (statistic, p-value, dof).
/// A category absent from the reference but present now makes the statistic infinite.
pub fn chi_square(reference: &[u64], current: &[u64]) -> (f64, f64, u64) {
    let (rn, cn) = (
        reference.iter().sum::<u64>() as f64,
        current.iter().sum::<u64>() as f64,
    );
    let k = reference.len() as u64;
    if k < 2 || rn == 0.0 || cn == 0.0 {
        return (0.0, 1.0, k.saturating_sub(1));
    }
    let mut stat = 0.0;
    for (r, c) in reference.iter().zip(current) {
        let expected = *r as f64 / rn * cn;
        let observed = *c as f64;
        if expected == 0.0 {
            if observed > 0.0 {
                stat = f64::INFINITY;
            }
            continue;
        }
        stat += (observed - expected).powi(2) / expected;
    }
    let dof = k - 1;
    let p = if stat.is_infinite() {
        0.0
    } else {
        chi2_sf(stat, dof as f64)
    };
    (stat, p, dof)
}

/// Survival function of the chi-square distribution: the regularized upper incomplete gamma
/// function Q(dof/2, x/2).
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    statrs::function::gamma::gamma_ur(dof / 2.0, x / 2.0)
}

/// Jensen–Shannon distance (natural log) of two count vectors over the same categories, as
/// scipy's `jensenshannon` of the frequency vectors.
pub fn jensen_shannon(reference: &[u64], current: &[u64]) -> f64 {
    let (rn, cn) = (
        reference.iter().sum::<u64>() as f64,
        current.iter().sum::<u64>() as f64,
    );
    if rn == 0.0 || cn == 0.0 {
        return f64::NAN;
    }
    let mut js = 0.0;
    for (r, c) in reference.iter().zip(current) {
        let p = *r as f64 / rn;
        let q = *c as f64 / cn;
        let m = (p + q) / 2.0;
        if p > 0.0 {
            js += p * (p / m).ln();
        }
        if q > 0.0 {
            js += q * (q / m).ln();
        }
    }
    (js / 2.0).max(0.0).sqrt()
}

/// Standard normal survival function.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}

/// Two-proportion Z-test as Evidently's `z_stat_test`: the share of the first category in each
/// sample, pooled standard error, two-sided p-value. Returns (z, p).
pub fn two_proportion_z(reference: &[u64], current: &[u64]) -> (f64, f64) {
    let (rn, cn) = (
        reference.iter().sum::<u64>() as f64,
        current.iter().sum::<u64>() as f64,
    );
    if reference.len() < 2 && current.len() < 2 || rn == 0.0 || cn == 0.0 {
        return (0.0, 1.0);
    }
    let p1 = reference[0] as f64 / rn;
    let p2 = current[0] as f64 / cn;
    let pooled = (p1 * rn + p2 * cn) / (rn + cn);
    let se = (pooled * (1.0 - pooled) * (1.0 / rn + 1.0 / cn)).sqrt();
    if se == 0.0 {
        return (0.0, 1.0);
    }
    let z = (p1 - p2) / se;
    (z, 2.0 * normal_sf(z.abs()))
}

/// Counts in the order of `count_le` for a sorted slice (exposed for profiles).
pub fn count_at_most(sorted: &[f64], x: f64) -> usize {
    count_le(sorted, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn kolmogorov_series_agree_where_they_meet() {
        // Both series around x = 1 give the same value (scipy: kstwobign.sf(1.0) = 0.26999967).
        assert!(close(kolmogorov_sf(1.0), 0.2699996716773546, 1e-12));
        assert!(close(kolmogorov_sf(0.5), 0.9639452436648751, 1e-12));
        assert!(close(kolmogorov_sf(2.0), 0.0006709252557796953, 1e-12));
        assert_eq!(kolmogorov_sf(0.0), 1.0);
    }

    #[test]
    fn ks_and_wasserstein_small_cases() {
        let a = sorted(&[1.0, 2.0, 3.0]);
        let b = sorted(&[2.0, 3.0, 4.0, 5.0]);
        // scipy.stats.ks_2samp([1,2,3],[2,3,4,5]).statistic = 0.5
        assert!(close(ks_statistic(&a, &b), 0.5, 1e-15));
        // scipy.stats.wasserstein_distance([1,2,3],[2,3,4,5]) = 1.5
        assert!(close(wasserstein(&a, &b), 1.5, 1e-15));
        assert_eq!(wasserstein(&a, &a), 0.0);
    }

    #[test]
    fn psi_bins_and_quantiles() {
        let r: Vec<f64> = (0..100).map(f64::from).collect();
        let cuts = psi_cuts(&r);
        assert!(close(cuts[0], 9.9, 1e-12)); // np.quantile(range(100), 0.1) = 9.9
        let counts = bin_counts(&r, &cuts);
        assert_eq!(counts.iter().sum::<u64>(), 100);
        assert_eq!(counts[0], 10);
        assert!(psi_from_counts(&counts, &counts).abs() < 1e-15);
    }

    #[test]
    fn categorical_tests() {
        // scipy.stats.chisquare([30, 70], [50, 50]) = (16.0, 6.334e-05)
        let (s, p, dof) = chi_square(&[50, 50], &[30, 70]);
        assert!(close(s, 16.0, 1e-12));
        assert!(close(p, 6.334248366623996e-05, 1e-9), "{p}");
        assert_eq!(dof, 1);
        assert_eq!(chi_square(&[10, 0], &[5, 5]).1, 0.0);
        // scipy.spatial.distance.jensenshannon([0.5,0.5],[0.3,0.7]) = 0.14465065
        assert!(close(
            jensen_shannon(&[50, 50], &[30, 70]),
            0.14493421163354434,
            1e-12
        ));
        let (_, p) = two_proportion_z(&[50, 50], &[50, 50]);
        assert!(close(p, 1.0, 1e-15));
    }
}
