//! Bar charts: grouped bars, e.g. a metric by group.

use super::*;
use std::fmt::Write as _;

/// One bar of a [`BarGroup`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bar {
    /// The bar's label. Bars with the same label share a colour and a legend entry across groups.
    pub label: String,
    /// The value. `None` (or non-finite) is drawn as "n/a".
    pub value: Option<f64>,
}

/// A group of bars in a [`BarChart`], for example one protected attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarGroup {
    /// The group's label, drawn at the left.
    pub label: String,
    /// The bars, from top to bottom.
    pub bars: Vec<Bar>,
}

/// A horizontal grouped bar chart with vertical threshold lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    /// The prefix of every id in the chart. Must be unique on the page.
    pub id_prefix: String,
    /// The title, drawn at the top and used as the accessible name.
    pub title: String,
    /// The accessible description. If empty, one is generated from the data.
    pub desc: String,
    /// The x (value) axis title, with its unit.
    pub x_title: String,
    /// The groups, from top to bottom.
    pub groups: Vec<BarGroup>,
    /// A fixed x range. If `None`, the range covers 0, the values and the thresholds, rounded
    /// out to nice ticks.
    pub x_range: Option<(f64, f64)>,
    /// How values are printed.
    pub x_format: ValueFormat,
    /// Vertical threshold lines, labelled above the plot.
    pub thresholds: Vec<RefLine>,
}

/// Renders a horizontal grouped bar chart as an `<svg>` element.
///
/// Bars with the same label share a colour across groups; a legend is drawn when there is more
/// than one distinct bar label. Bars start at 0, values are printed at the bar ends, missing
/// values are drawn as "n/a", and thresholds are vertical lines labelled above the plot.
pub fn bar_chart(spec: &BarChart) -> String {
    let p = sanitize_id(&spec.id_prefix);

    // Distinct bar labels, in order of first appearance.
    let mut keys: Vec<&str> = Vec::new();
    for g in &spec.groups {
        for b in &g.bars {
            if !keys.contains(&b.label.as_str()) {
                keys.push(&b.label);
            }
        }
    }
    let color_of = |label: &str| {
        let i = keys.iter().position(|k| *k == label).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };

    // X scale.
    let scale = match spec.x_range {
        Some((a, b)) if a.is_finite() && b.is_finite() && (a - b).abs() > 1e-12 => {
            Scale::new(a, b, 5, false, spec.x_format)
        }
        _ => {
            let vals: Vec<f64> = spec
                .groups
                .iter()
                .flat_map(|g| g.bars.iter().map(|b| b.value))
                .filter_map(finite)
                .chain(
                    spec.thresholds
                        .iter()
                        .map(|t| t.value)
                        .filter(|v| v.is_finite()),
                )
                .chain(std::iter::once(0.0))
                .collect();
            let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Scale::new(lo, hi, 5, true, spec.x_format)
        }
    };

    // Layout.
    let group_label_w = spec
        .groups
        .iter()
        .map(|g| text_w(&truncate(&g.label, 24).0, 12.0))
        .fold(40.0, f64::max);
    let left = 16.0 + group_label_w + 14.0;
    let right = WIDTH - 64.0;
    let plot_w = right - left;
    let xs = |v: f64| scale.map(v.clamp(scale.lo, scale.hi), left, right);

    let mut legend_svg = String::new();
    let legend_h = if keys.len() > 1 {
        let items: Vec<(f64, String)> = keys.iter().map(|k| (12.0, k.to_string())).collect();
        legend(&mut legend_svg, &items, left, 36.0, plot_w, |o, i, x, y| {
            w!(
                o,
                "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{}\"/>\n",
                c(x),
                c(y - 6.0),
                PALETTE[i % PALETTE.len()]
            );
        })
    } else {
        0.0
    };

    // Threshold labels, above the plot, in rows so that they do not overlap.
    let mut th: Vec<&RefLine> = spec
        .thresholds
        .iter()
        .filter(|t| t.value.is_finite() && t.value >= scale.lo && t.value <= scale.hi)
        .collect();
    th.sort_by(|a, b| a.value.total_cmp(&b.value));
    let mut rows_end: Vec<f64> = Vec::new();
    let mut placed: Vec<(usize, String, &str)> = Vec::new(); // (row, text, anchor)
    for t in &th {
        let text = ref_label(&t.label, &scale.fmt_tick(t.value), &scale, t.value);
        let tw = text_w(&text, 11.0);
        let x = xs(t.value);
        let (x0, anchor) = if x + tw / 2.0 > WIDTH - 8.0 {
            (x - tw, "end")
        } else if x - tw / 2.0 < left {
            (x, "start")
        } else {
            (x - tw / 2.0, "middle")
        };
        let row = rows_end
            .iter()
            .position(|&end| x0 > end + 8.0)
            .unwrap_or(rows_end.len());
        if row == rows_end.len() {
            rows_end.push(x0 + tw);
        } else {
            rows_end[row] = x0 + tw;
        }
        placed.push((row, text, anchor));
    }
    let th_h = rows_end.len() as f64 * 14.0;
    let top = 36.0 + legend_h + if legend_h > 0.0 { 10.0 } else { 4.0 } + th_h + 6.0;

    let bar_h = 16.0;
    let bar_gap = 4.0;
    let group_gap = 18.0;
    let mut y = top + group_gap / 2.0;
    let mut group_y: Vec<(f64, f64)> = Vec::new();
    for g in &spec.groups {
        let h = g.bars.len().max(1) as f64 * (bar_h + bar_gap) - bar_gap;
        group_y.push((y, h));
        y += h + group_gap;
    }
    let bottom = (y - group_gap / 2.0).max(top + 40.0);
    let height = bottom + if spec.x_title.is_empty() { 32.0 } else { 52.0 };

    let desc = if spec.desc.is_empty() {
        bar_desc(spec, &scale)
    } else {
        spec.desc.clone()
    };
    let mut out = String::with_capacity(8192);
    open_svg(&mut out, &p, "bar", WIDTH, height, &spec.title, &desc);
    out.push_str(&legend_svg);

    // Grid and x axis.
    out.push_str("<g font-size=\"11\">\n");
    for &t in &scale.ticks {
        let x = xs(t);
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\n",
            c(x),
            c(top),
            c(x),
            c(bottom)
        );
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>\n",
            c(x),
            c(bottom + 17.0),
            esc(&scale.fmt_tick(t))
        );
    }
    out.push_str("</g>\n");
    w!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\n",
        c(left),
        c(bottom),
        c(right),
        c(bottom)
    );
    if !spec.x_title.is_empty() {
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
            c(left + plot_w / 2.0),
            c(bottom + 40.0),
            esc(&truncate(&spec.x_title, 80).0)
        );
    }

    // Groups and bars; value labels go on top of the threshold lines, so they are collected.
    let mut labels = String::new();
    let zero = xs(0.0_f64.clamp(scale.lo, scale.hi));
    for (gi, g) in spec.groups.iter().enumerate() {
        let (gy, gh) = group_y[gi];
        if gi > 0 {
            let sep = gy - group_gap / 2.0;
            w!(
                out,
                "<line x1=\"16\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\n",
                c(sep),
                c(right),
                c(sep)
            );
        }
        let (gl, cut) = truncate(&g.label, 24);
        let tip = if cut {
            format!("<title>{}</title>", esc(&g.label))
        } else {
            String::new()
        };
        w!(
            out,
            "<text x=\"16\" y=\"{}\" dominant-baseline=\"central\" font-weight=\"600\">{}{tip}</text>\n",
            c(gy + gh / 2.0),
            esc(&gl)
        );
        for (bi, b) in g.bars.iter().enumerate() {
            let by = gy + bi as f64 * (bar_h + bar_gap);
            let cy = by + bar_h / 2.0;
            match finite(b.value) {
                Some(v) => {
                    let x = xs(v);
                    let (x0, x1) = if x >= zero { (zero, x) } else { (x, zero) };
                    let tip = format!("{} — {}: {}", g.label, b.label, scale.fmt_value(v));
                    w!(
                        out,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{}\"><title>{}</title></rect>\n",
                        c(x0),
                        c(by),
                        c((x1 - x0).max(1.0)),
                        c(bar_h),
                        color_of(&b.label),
                        esc(&tip)
                    );
                    let (lx, anchor) = if x >= zero {
                        (x1 + 5.0, "start")
                    } else {
                        (x0 - 5.0, "end")
                    };
                    w!(
                        labels,
                        "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" dominant-baseline=\"central\" font-size=\"11\" fill=\"{INK}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>\n",
                        c(lx),
                        c(cy),
                        esc(&scale.fmt_value(v))
                    );
                }
                None => {
                    w!(
                        labels,
                        "<text x=\"{}\" y=\"{}\" dominant-baseline=\"central\" font-size=\"11\" font-style=\"italic\" fill=\"{MUTED}\">n/a<title>{}</title></text>\n",
                        c(zero + 5.0),
                        c(cy),
                        esc(&format!("{} — {}: no data", g.label, b.label))
                    );
                }
            }
        }
    }

    // Thresholds, over the bars.
    for (t, (row, text, anchor)) in th.iter().zip(&placed) {
        let x = xs(t.value);
        let label_y = top - 6.0 - (rows_end.len() - 1 - row) as f64 * 14.0;
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n",
            c(x),
            c(label_y + 3.0),
            c(x),
            c(bottom),
            t.kind.stroke(),
            dash_attr(t.kind.dash())
        );
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"11\" font-weight=\"600\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>\n",
            c(x),
            c(label_y),
            t.kind.text(),
            esc(text)
        );
    }
    out.push_str(&labels);
    out.push_str("</svg>\n");
    out
}

pub(super) fn bar_desc(spec: &BarChart, scale: &Scale) -> String {
    let mut d = format!(
        "Horizontal bar chart of {} in {} groups.",
        if spec.x_title.is_empty() {
            "values"
        } else {
            &spec.x_title
        },
        spec.groups.len()
    );
    for g in &spec.groups {
        w!(d, " {}:", g.label);
        for (i, b) in g.bars.iter().enumerate() {
            let v = finite(b.value).map_or_else(|| "n/a".to_string(), |v| scale.fmt_value(v));
            w!(d, "{} {} {}", if i == 0 { "" } else { "," }, b.label, v);
        }
        d.push('.');
    }
    for t in &spec.thresholds {
        if t.value.is_finite() {
            w!(d, " Threshold {} at {}.", t.label, scale.fmt_value(t.value));
        }
    }
    d
}

// ---------------------------------------------------------------------------------------------
// Heat strip
