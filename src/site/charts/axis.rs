//! Axes: "nice" tick steps, value scales, thinned category labels.

use super::*;

/// "Nice" step for a raw step: the smallest of 1, 2, 5 × 10^k that is ≥ `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let e = raw.log10().floor();
    let base = 10f64.powf(e);
    let f = raw / base;
    let m = if f <= 1.0 + 1e-9 {
        1.0
    } else if f <= 2.0 + 1e-9 {
        2.0
    } else if f <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    m * base
}

/// Number of decimals needed to print multiples of `step` exactly.
pub(super) fn step_decimals(step: f64) -> usize {
    let d = -(step.log10() + 1e-9).floor();
    if d.is_finite() && d > 0.0 {
        (d as usize).min(10)
    } else {
        0
    }
}

/// A linear axis: domain, ticks and number format.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) step: f64,
    pub(super) format: ValueFormat,
}

impl Scale {
    /// Ticks for the domain `[lo, hi]`, rounded out to nice values when `extend` is true and kept
    /// inside `[lo, hi]` otherwise. Aims for about `target` intervals.
    pub(super) fn new(lo: f64, hi: f64, target: usize, extend: bool, format: ValueFormat) -> Scale {
        let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        if !(lo.is_finite() && hi.is_finite()) {
            lo = 0.0;
            hi = 1.0;
        }
        if hi - lo < 1e-12 {
            let pad = if lo.abs() < 1e-12 {
                1.0
            } else {
                lo.abs() * 0.1
            };
            if lo >= 0.0 && lo - pad < 0.0 {
                lo = 0.0;
            } else {
                lo -= pad;
            }
            hi += pad;
        }
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let (k0, k1) = if extend {
            (
                (lo / step + 1e-9).floor() as i64,
                (hi / step - 1e-9).ceil() as i64,
            )
        } else {
            (
                (lo / step - 1e-9).ceil() as i64,
                (hi / step + 1e-9).floor() as i64,
            )
        };
        let d = step_decimals(step);
        let round = |v: f64| -> f64 {
            let m = 10f64.powi(d as i32);
            (v * m).round() / m
        };
        let ticks: Vec<f64> = (k0..=k1).map(|k| round(k as f64 * step)).collect();
        if extend {
            let l = ticks.first().copied().unwrap_or(lo);
            let h = ticks.last().copied().unwrap_or(hi);
            Scale {
                lo: l,
                hi: h,
                ticks,
                step,
                format,
            }
        } else {
            Scale {
                lo,
                hi,
                ticks,
                step,
                format,
            }
        }
    }

    /// The scale of a caller's fixed range, when it is usable: finite and not empty.
    pub(super) fn fixed_range(range: Option<(f64, f64)>, format: ValueFormat) -> Option<Scale> {
        match range {
            Some((a, b)) if a.is_finite() && b.is_finite() && (a - b).abs() > 1e-12 => {
                Some(Scale::new(a, b, 5, false, format))
            }
            _ => None,
        }
    }

    /// Maps a value to `[a, b]` (pixel coordinates).
    pub(super) fn map(&self, v: f64, a: f64, b: f64) -> f64 {
        let t = (v - self.lo) / (self.hi - self.lo);
        a + t * (b - a)
    }

    pub(super) fn tick_decimals(&self) -> usize {
        match self.format {
            ValueFormat::Plain => step_decimals(self.step),
            ValueFormat::Percent => step_decimals(self.step * 100.0),
        }
    }

    pub(super) fn fmt_tick(&self, v: f64) -> String {
        let d = self.tick_decimals();
        match self.format {
            ValueFormat::Plain => fixed(v, d),
            ValueFormat::Percent => format!("{}%", fixed(v * 100.0, d)),
        }
    }

    /// Formats a data value with one more decimal than the ticks (at most 6), and a plain
    /// fraction with at least three: on a 0–1 axis with ticks 0.2 apart, 0.847 and 0.851 still
    /// read apart.
    pub(super) fn fmt_value(&self, v: f64) -> String {
        let d = (self.tick_decimals() + 1).min(6);
        match self.format {
            ValueFormat::Plain if v.abs() < 1.0 => fixed(v, d.max(3)),
            ValueFormat::Plain => fixed(v, d),
            ValueFormat::Percent => format!("{}%", fixed(v * 100.0, d)),
        }
    }
}

/// Which of `n` category labels to show so that labels of width `label_w` fit into `avail`
/// pixels. Counts back from the last label, which is always shown.
pub(super) fn shown_labels(n: usize, label_w: f64, avail: f64) -> Vec<bool> {
    if n == 0 {
        return Vec::new();
    }
    let fit = ((avail / (label_w + 10.0)).floor() as usize).max(1);
    let k = n.div_ceil(fit).max(1);
    (0..n).map(|i| (n - 1 - i) % k == 0).collect()
}

/// The smallest and the largest of `vals` (∞ and −∞ when there are none).
pub(super) fn extent(vals: &[f64]) -> (f64, f64) {
    (
        vals.iter().copied().fold(f64::INFINITY, f64::min),
        vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

pub(super) fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

// ---------------------------------------------------------------------------------------------
// Line chart

/// The y-axis of a metric drawn across versions, chosen so that a difference is drawn to scale.
///
/// The rule: a metric whose values all lie within 0..1 (AUC, accuracy, F1, precision, recall,
/// rates) gets the whole 0–1 axis; any other metric gets an axis from zero (or from below zero,
/// for negative values) to its largest value, rounded out to a nice tick. The axis never starts
/// near the smallest value: an axis from 0.73 makes a gain of 0.02 look like a climb. The exact
/// change is printed in the chart's caption instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricAxis {
    /// The y range, for [`LineChart::y_range`].
    pub range: (f64, f64),
    /// Whether every value lies within 0..1 and the axis is exactly 0–1.
    pub unit_interval: bool,
}

/// The honest y-axis for `values` ([`MetricAxis`]); missing and non-finite values are ignored.
pub fn metric_axis(values: &[Option<f64>]) -> MetricAxis {
    let vals: Vec<f64> = values.iter().copied().filter_map(finite).collect();
    if vals.iter().all(|v| (0.0..=1.0).contains(v)) {
        return MetricAxis {
            range: (0.0, 1.0),
            unit_interval: true,
        };
    }
    let lo = vals.iter().copied().fold(0.0, f64::min);
    let hi = vals.iter().copied().fold(0.0, f64::max);
    let step = nice_step((hi - lo) / 5.0);
    MetricAxis {
        range: (
            (lo / step + 1e-9).floor() * step,
            (hi / step - 1e-9).ceil() * step,
        ),
        unit_interval: false,
    }
}
