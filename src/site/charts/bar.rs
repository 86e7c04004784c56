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
    let mut legend_svg = String::new();
    let f = BarFrame::new(spec, &mut legend_svg);
    let (_, mut out) = Head::new("bar", &spec.id_prefix, &spec.title, &spec.desc).open(
        (WIDTH, f.height),
        8192,
        || bar_desc(spec, &f.scale),
    );
    out.push_str(&legend_svg);
    f.x_axis(&mut out);
    // Value labels go on top of the threshold lines, so they are collected.
    let mut labels = String::new();
    f.groups(&mut out, &mut labels);
    f.thresholds(&mut out);
    out.push_str(&labels);
    out.push_str("</svg>\n");
    out
}

/// The height of one bar, the space between the bars of a group, and between groups.
const BAR_H: f64 = 16.0;
const BAR_GAP: f64 = 4.0;
const GROUP_GAP: f64 = 18.0;
/// The longest group label shown, in characters.
const GROUP_CHARS: usize = 24;

/// Distinct bar labels, in order of first appearance: one colour and legend entry each.
fn bar_keys(spec: &BarChart) -> Vec<&str> {
    let mut keys: Vec<&str> = Vec::new();
    for g in &spec.groups {
        for b in &g.bars {
            if !keys.contains(&b.label.as_str()) {
                keys.push(&b.label);
            }
        }
    }
    keys
}

/// The x scale: the fixed range, or one covering 0, the values and the thresholds.
fn bar_scale(spec: &BarChart) -> Scale {
    Scale::fixed_range(spec.x_range, spec.x_format).unwrap_or_else(|| {
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
        let (lo, hi) = extent(&vals);
        Scale::new(lo, hi, 5, true, spec.x_format)
    })
}

/// A threshold whose label is placed above the plot: its row (0 is the top one), its text and
/// the label's anchor.
struct PlacedRef<'s> {
    line: &'s RefLine,
    row: usize,
    text: String,
    anchor: &'static str,
}

/// A bar chart's layout: where the plot, the groups and the threshold labels sit, and how
/// values map onto x.
struct BarFrame<'s> {
    spec: &'s BarChart,
    keys: Vec<&'s str>,
    scale: Scale,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    height: f64,
    /// Each group's top and height.
    group_y: Vec<(f64, f64)>,
    /// The thresholds within the scale, by value.
    thresholds: Vec<PlacedRef<'s>>,
    /// The number of rows of threshold labels.
    label_rows: usize,
}

impl<'s> BarFrame<'s> {
    /// Lays the chart out; the legend (when there is more than one bar label) goes to
    /// `legend_svg`.
    fn new(spec: &'s BarChart, legend_svg: &mut String) -> BarFrame<'s> {
        let keys = bar_keys(spec);
        let scale = bar_scale(spec);
        let group_label_w = widest(
            spec.groups.iter().map(|g| g.label.as_str()),
            GROUP_CHARS,
            12.0,
            40.0,
        );
        let left = 16.0 + group_label_w + 14.0;
        let right = WIDTH - 64.0;
        let legend_h = if keys.len() > 1 {
            let items: Vec<(f64, String)> = keys.iter().map(|k| (12.0, k.to_string())).collect();
            legend(
                legend_svg,
                &items,
                left,
                36.0,
                right - left,
                |o, i, x, y| {
                    w!(
                        o,
                        "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{}\"/>\n",
                        c(x),
                        c(y - 6.0),
                        PALETTE[i % PALETTE.len()]
                    );
                },
            )
        } else {
            0.0
        };
        let mut f = BarFrame {
            spec,
            keys,
            scale,
            left,
            right,
            top: 0.0,
            bottom: 0.0,
            height: 0.0,
            group_y: Vec::new(),
            thresholds: Vec::new(),
            label_rows: 0,
        };
        f.place_thresholds();
        let th_h = f.label_rows as f64 * 14.0;
        f.top = 36.0 + legend_h + if legend_h > 0.0 { 10.0 } else { 4.0 } + th_h + 6.0;
        let mut y = f.top + GROUP_GAP / 2.0;
        for g in &spec.groups {
            let h = g.bars.len().max(1) as f64 * (BAR_H + BAR_GAP) - BAR_GAP;
            f.group_y.push((y, h));
            y += h + GROUP_GAP;
        }
        f.bottom = (y - GROUP_GAP / 2.0).max(f.top + 40.0);
        f.height = f.bottom + if spec.x_title.is_empty() { 32.0 } else { 52.0 };
        f
    }

    /// Threshold labels, above the plot, in rows so that they do not overlap.
    fn place_thresholds(&mut self) {
        let mut th: Vec<&'s RefLine> = self
            .spec
            .thresholds
            .iter()
            .filter(|t| t.value.is_finite() && t.value >= self.scale.lo && t.value <= self.scale.hi)
            .collect();
        th.sort_by(|a, b| a.value.total_cmp(&b.value));
        let mut rows_end: Vec<f64> = Vec::new();
        for t in th {
            let text = ref_label(
                &t.label,
                &self.scale.fmt_tick(t.value),
                &self.scale,
                t.value,
            );
            let tw = text_w(&text, 11.0);
            let x = self.xs(t.value);
            let (x0, anchor) = if x + tw / 2.0 > WIDTH - 8.0 {
                (x - tw, "end")
            } else if x - tw / 2.0 < self.left {
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
            self.thresholds.push(PlacedRef {
                line: t,
                row,
                text,
                anchor,
            });
        }
        self.label_rows = rows_end.len();
    }

    fn xs(&self, v: f64) -> f64 {
        self.scale
            .map(v.clamp(self.scale.lo, self.scale.hi), self.left, self.right)
    }

    fn color_of(&self, label: &str) -> &'static str {
        let i = self.keys.iter().position(|k| *k == label).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    }

    /// The grid and the x axis with its ticks and title.
    fn x_axis(&self, out: &mut String) {
        let (top, bottom) = (self.top, self.bottom);
        out.push_str("<g font-size=\"11\">\n");
        for &t in &self.scale.ticks {
            let x = self.xs(t);
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
                esc(&self.scale.fmt_tick(t))
            );
        }
        out.push_str("</g>\n");
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\n",
            c(self.left),
            c(bottom),
            c(self.right),
            c(bottom)
        );
        if !self.spec.x_title.is_empty() {
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
                c(self.left + (self.right - self.left) / 2.0),
                c(bottom + 40.0),
                esc(&truncate(&self.spec.x_title, 80).0)
            );
        }
    }

    /// The groups: separators, labels and bars; the bars' value labels go to `labels`.
    fn groups(&self, out: &mut String, labels: &mut String) {
        for (gi, g) in self.spec.groups.iter().enumerate() {
            let (gy, gh) = self.group_y[gi];
            if gi > 0 {
                let sep = gy - GROUP_GAP / 2.0;
                w!(
                    out,
                    "<line x1=\"16\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\n",
                    c(sep),
                    c(self.right),
                    c(sep)
                );
            }
            let (gl, cut) = truncate(&g.label, GROUP_CHARS);
            w!(
                out,
                "<text x=\"16\" y=\"{}\" dominant-baseline=\"central\" font-weight=\"600\">{}{}</text>\n",
                c(gy + gh / 2.0),
                esc(&gl),
                cut_tip(&g.label, cut)
            );
            for (bi, b) in g.bars.iter().enumerate() {
                self.bar(out, labels, g, b, gy + bi as f64 * (BAR_H + BAR_GAP));
            }
        }
    }

    /// One bar at `by` (its top) and its value label, or "n/a".
    fn bar(&self, out: &mut String, labels: &mut String, g: &BarGroup, b: &Bar, by: f64) {
        let zero = self.xs(0.0_f64.clamp(self.scale.lo, self.scale.hi));
        let cy = by + BAR_H / 2.0;
        let Some(v) = finite(b.value) else {
            w!(
                labels,
                "<text x=\"{}\" y=\"{}\" dominant-baseline=\"central\" font-size=\"11\" font-style=\"italic\" fill=\"{MUTED}\">n/a<title>{}</title></text>\n",
                c(zero + 5.0),
                c(cy),
                esc(&format!("{} — {}: no data", g.label, b.label))
            );
            return;
        };
        let x = self.xs(v);
        let (x0, x1) = if x >= zero { (zero, x) } else { (x, zero) };
        let tip = format!("{} — {}: {}", g.label, b.label, self.scale.fmt_value(v));
        w!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{}\"><title>{}</title></rect>\n",
            c(x0),
            c(by),
            c((x1 - x0).max(1.0)),
            c(BAR_H),
            self.color_of(&b.label),
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
            esc(&self.scale.fmt_value(v))
        );
    }

    /// The thresholds, over the bars, with their labels above the plot.
    fn thresholds(&self, out: &mut String) {
        for t in &self.thresholds {
            let x = self.xs(t.line.value);
            let label_y = self.top - 6.0 - (self.label_rows - 1 - t.row) as f64 * 14.0;
            w!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n",
                c(x),
                c(label_y + 3.0),
                c(x),
                c(self.bottom),
                t.line.kind.stroke(),
                dash_attr(t.line.kind.dash())
            );
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\" font-size=\"11\" font-weight=\"600\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>\n",
                c(x),
                c(label_y),
                t.anchor,
                t.line.kind.text(),
                esc(&t.text)
            );
        }
    }
}

pub(super) fn bar_desc(spec: &BarChart, scale: &Scale) -> String {
    let mut d = format!(
        "Horizontal bar chart of {} in {} groups.",
        nonempty(&spec.x_title, "values"),
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
