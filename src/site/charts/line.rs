//! Line charts: metric values across versions, with reference lines and bands.

use super::*;
use std::fmt::Write as _;

/// One line of a [`LineChart`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The name shown in the legend and tooltips.
    pub name: String,
    /// One value per x label. `None` and non-finite values are gaps: the line breaks there.
    pub values: Vec<Option<f64>>,
}

/// A labelled reference value: a horizontal line in a [`LineChart`] and a vertical line in a
/// [`BarChart`]. The value is appended to the label when it is drawn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefLine {
    /// The label, for example `"warn"` or `"block"`.
    pub label: String,
    /// The value where the line is drawn. A non-finite value is skipped.
    pub value: f64,
    /// The severity, which sets colour and dash pattern.
    pub kind: Level,
}

/// A horizontal reference line in a [`LineChart`] (same type as [`RefLine`]).
pub type HLine = RefLine;

/// A shaded horizontal band of y values in a [`LineChart`], for example a severity zone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Band {
    /// The lower y value. `f64::NEG_INFINITY` extends the band to the bottom of the plot.
    pub from: f64,
    /// The upper y value. `f64::INFINITY` extends the band to the top of the plot.
    pub to: f64,
    /// The severity, which sets the colour.
    pub kind: Level,
    /// A label drawn inside the band, at its top left, if it fits. May be empty.
    pub label: String,
}

/// A line chart over categorical x values (versions, dates).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// The prefix of every id in the chart. Must be unique on the page.
    pub id_prefix: String,
    /// The title, drawn at the top and used as the accessible name.
    pub title: String,
    /// The accessible description. If empty, one is generated from the data.
    pub desc: String,
    /// The x axis title, for example `"Version"`.
    pub x_title: String,
    /// The y axis title, with its unit, for example `"Accuracy (fraction)"`.
    pub y_title: String,
    /// One label per x position.
    pub x_labels: Vec<String>,
    /// The lines. A legend is drawn when there is more than one.
    pub series: Vec<Series>,
    /// A fixed y range. If `None`, the range covers the data and reference lines, rounded out to
    /// nice ticks. Points outside a fixed range are clipped.
    pub y_range: Option<(f64, f64)>,
    /// How y values are printed.
    pub y_format: ValueFormat,
    /// Horizontal reference lines, for example thresholds.
    pub hlines: Vec<HLine>,
    /// Shaded y bands, drawn under everything else.
    pub bands: Vec<Band>,
    /// A point to mark with a ring and a label: `(series index, x index, label)`, for example the
    /// champion version. Skipped if that point is missing.
    pub highlight: Option<(usize, usize, String)>,
}

/// Renders a line chart over categorical x values as an `<svg>` element.
///
/// The y axis has nice ticks, and the x labels are thinned when crowded. Bands are drawn first,
/// then grid, reference lines, lines with markers (markers only when there are at most 60 x
/// positions, plus isolated points) and the highlight.
pub fn line_chart(spec: &LineChart) -> String {
    let mut legend_svg = String::new();
    let f = Frame::new(spec, &mut legend_svg);
    let (p, mut out) = Head::new("line", &spec.id_prefix, &spec.title, &spec.desc).open(
        (WIDTH, f.height),
        8192,
        || line_desc(spec, &f.scale, f.n),
    );
    out.push_str(&legend_svg);
    w!(
        out,
        "<defs><clipPath id=\"{p}-clip\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>\n",
        c(f.left - 6.0),
        c(f.top - 6.0),
        c(f.plot_w() + 12.0),
        c(PLOT_H + 12.0)
    );
    f.bands(&mut out);
    f.y_axis(&mut out);
    f.x_axis(&mut out);
    f.ref_lines(&mut out);
    w!(out, "<g clip-path=\"url(#{p}-clip)\">\n");
    f.series(&mut out);
    f.highlight(&mut out);
    out.push_str("</svg>\n");
    out
}

/// The height of a line chart's plot area.
const PLOT_H: f64 = 230.0;
/// The longest x label shown, in characters.
const LABEL_CHARS: usize = 16;

/// A series' value at `i`, when there is a finite one.
fn value(s: &Series, i: usize) -> Option<f64> {
    finite(s.values.get(i).copied().flatten())
}

/// The y scale: the fixed range, or one covering the data and reference lines, with headroom
/// above the highlighted point for its label.
fn line_scale(spec: &LineChart) -> Scale {
    Scale::fixed_range(spec.y_range, spec.y_format).unwrap_or_else(|| {
        let vals: Vec<f64> = spec
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter_map(finite)
            .chain(
                spec.hlines
                    .iter()
                    .map(|h| h.value)
                    .filter(|v| v.is_finite()),
            )
            .collect();
        let (lo, mut hi) = extent(&vals);
        let hv = spec
            .highlight
            .as_ref()
            .and_then(|(si, xi, _)| spec.series.get(*si).and_then(|s| value(s, *xi)));
        if let Some(v) = hv {
            if hi > lo {
                hi = hi.max(v + (hi - lo) * 0.15);
            }
        }
        if vals.is_empty() {
            Scale::new(0.0, 1.0, 5, true, spec.y_format)
        } else {
            Scale::new(lo, hi, 5, true, spec.y_format)
        }
    })
}

/// A line chart's layout: where the plot sits, and how x indices and y values map onto it.
struct Frame<'s> {
    spec: &'s LineChart,
    scale: Scale,
    /// The number of x positions.
    n: usize,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    height: f64,
    /// Padding at both ends of the x axis, so that the first and last labels can be centred.
    pad: f64,
    /// The widest x label.
    label_w: f64,
}

impl<'s> Frame<'s> {
    /// Lays the chart out; the legend (when there is more than one series) goes to `legend_svg`.
    fn new(spec: &'s LineChart, legend_svg: &mut String) -> Frame<'s> {
        let n = spec
            .series
            .iter()
            .map(|s| s.values.len())
            .chain(std::iter::once(spec.x_labels.len()))
            .max()
            .unwrap_or(0);
        let scale = line_scale(spec);
        let tick_w = scale
            .ticks
            .iter()
            .map(|&t| text_w(&scale.fmt_tick(t), 11.0))
            .fold(0.0, f64::max);
        let left = if spec.y_title.is_empty() { 12.0 } else { 34.0 } + tick_w + 8.0;
        let right = WIDTH - 20.0;
        let plot_w = right - left;
        let legend_h = if spec.series.len() > 1 {
            let items: Vec<(f64, String)> =
                spec.series.iter().map(|s| (24.0, s.name.clone())).collect();
            legend(legend_svg, &items, left, 36.0, plot_w, |o, i, x, y| {
                let color = PALETTE[i % PALETTE.len()];
                let dash = DASHES[i % DASHES.len()];
                w!(
                    o,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"2\"{}/>\n",
                    c(x),
                    c(y),
                    c(x + 24.0),
                    c(y),
                    dash_attr(dash)
                );
                marker(o, i, x + 12.0, y, color, &spec.series[i].name);
            })
        } else {
            0.0
        };
        let top = 36.0 + legend_h + if legend_h > 0.0 { 14.0 } else { 8.0 };
        let bottom = top + PLOT_H;
        let height = bottom + if spec.x_title.is_empty() { 34.0 } else { 54.0 };
        // Category labels: truncated, thinned when crowded, and the plot is padded so that the
        // first and last labels can be centred on their points.
        let label = |i: usize| spec.x_labels.get(i).map(String::as_str).unwrap_or("");
        let label_w = widest((0..n).map(label), LABEL_CHARS, 11.0, 0.0);
        let pad = if n > 1 {
            (label_w / 2.0 - 12.0).clamp(18.0, plot_w * 0.12)
        } else {
            0.0
        };
        Frame {
            spec,
            scale,
            n,
            left,
            right,
            top,
            bottom,
            height,
            pad,
            label_w,
        }
    }

    fn plot_w(&self) -> f64 {
        self.right - self.left
    }

    fn label(&self, i: usize) -> &'s str {
        self.spec.x_labels.get(i).map(String::as_str).unwrap_or("")
    }

    fn xs(&self, i: usize) -> f64 {
        if self.n <= 1 {
            self.left + self.plot_w() / 2.0
        } else {
            self.left + self.pad + i as f64 * (self.plot_w() - 2.0 * self.pad) / (self.n - 1) as f64
        }
    }

    fn ys(&self, v: f64) -> f64 {
        self.scale.map(v, self.bottom, self.top)
    }

    /// The shaded bands, under everything else.
    fn bands(&self, out: &mut String) {
        for b in &self.spec.bands {
            if b.from.is_nan() || b.to.is_nan() {
                continue;
            }
            let (lo, hi) = if b.from <= b.to {
                (b.from, b.to)
            } else {
                (b.to, b.from)
            };
            let (lo, hi) = (lo.max(self.scale.lo), hi.min(self.scale.hi));
            if hi <= lo {
                continue;
            }
            let (y0, y1) = (self.ys(hi), self.ys(lo));
            let (fill, op) = b.kind.band();
            w!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" fill-opacity=\"{op}\"/>\n",
                c(self.left),
                c(y0),
                c(self.plot_w()),
                c(y1 - y0)
            );
            if !b.label.is_empty() && y1 - y0 >= 15.0 {
                let (t, _) = truncate(&b.label, 40);
                w!(
                    out,
                    "<text x=\"{}\" y=\"{}\" font-size=\"11\" font-style=\"italic\" fill=\"{}\">{}</text>\n",
                    c(self.left + 6.0),
                    c(y0 + 12.0),
                    b.kind.text(),
                    esc(&t)
                );
            }
        }
    }

    /// The grid and the y axis with its ticks and title.
    fn y_axis(&self, out: &mut String) {
        out.push_str("<g font-size=\"11\">\n");
        for &t in &self.scale.ticks {
            let y = self.ys(t);
            w!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\n",
                c(self.left),
                c(y),
                c(self.right),
                c(y)
            );
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"central\" fill=\"{MUTED}\">{}</text>\n",
                c(self.left - 8.0),
                c(y),
                esc(&self.scale.fmt_tick(t))
            );
        }
        out.push_str("</g>\n");
        if !self.spec.y_title.is_empty() {
            let (t, _) = truncate(&self.spec.y_title, (PLOT_H / 7.2) as usize);
            w!(
                out,
                "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
                c(self.top + PLOT_H / 2.0),
                esc(&t)
            );
        }
    }

    /// The x axis: ticks, labels (thinned when crowded) and title.
    fn x_axis(&self, out: &mut String) {
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\n",
            c(self.left),
            c(self.bottom),
            c(self.right),
            c(self.bottom)
        );
        let shown = shown_labels(self.n, self.label_w, self.plot_w() - 2.0 * self.pad);
        out.push_str("<g font-size=\"11\">\n");
        for (i, &show) in shown.iter().enumerate() {
            let x = self.xs(i);
            if show || self.n <= 60 {
                w!(
                    out,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\n",
                    c(x),
                    c(self.bottom),
                    c(x),
                    c(self.bottom + if show { 5.0 } else { 3.0 })
                );
            }
            if show {
                let (t, cut) = truncate(self.label(i), LABEL_CHARS);
                let anchor = if self.n > 1 && i == 0 && self.pad + 20.0 < self.label_w / 2.0 {
                    "start"
                } else if self.n > 1 && i == self.n - 1 && self.pad + 20.0 < self.label_w / 2.0 {
                    "end"
                } else {
                    "middle"
                };
                let tip = cut_tip(self.label(i), cut);
                w!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{MUTED}\">{}{tip}</text>\n",
                    c(x),
                    c(self.bottom + 18.0),
                    esc(&t)
                );
            }
        }
        out.push_str("</g>\n");
        if !self.spec.x_title.is_empty() {
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
                c(self.left + self.plot_w() / 2.0),
                c(self.bottom + 42.0),
                esc(&truncate(&self.spec.x_title, 80).0)
            );
        }
    }

    /// Reference lines, labelled at the right; a label that would collide with the previous one
    /// goes below its line instead.
    fn ref_lines(&self, out: &mut String) {
        let mut hl: Vec<&HLine> = self
            .spec
            .hlines
            .iter()
            .filter(|h| h.value.is_finite() && h.value >= self.scale.lo && h.value <= self.scale.hi)
            .collect();
        hl.sort_by(|a, b| b.value.total_cmp(&a.value));
        let mut last_label_y = f64::NEG_INFINITY;
        for h in hl {
            let y = self.ys(h.value);
            w!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n",
                c(self.left),
                c(y),
                c(self.right),
                c(y),
                h.kind.stroke(),
                dash_attr(h.kind.dash())
            );
            let text = ref_label(
                &h.label,
                &self.scale.fmt_tick(h.value),
                &self.scale,
                h.value,
            );
            let mut ty = y - 5.0;
            if ty - last_label_y < 13.0 || ty < self.top + 10.0 {
                ty = y + 14.0;
            }
            last_label_y = ty;
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\" font-weight=\"600\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>\n",
                c(self.right - 4.0),
                c(ty),
                h.kind.text(),
                esc(&text)
            );
        }
    }

    /// The lines and their markers (markers only when there are at most 60 x positions, plus
    /// isolated points).
    fn series(&self, out: &mut String) {
        for (si, s) in self.spec.series.iter().enumerate() {
            let color = PALETTE[si % PALETTE.len()];
            let mut d = String::new();
            let mut prev = false;
            for i in 0..self.n {
                match value(s, i) {
                    Some(v) => {
                        w!(
                            d,
                            "{}{} {}",
                            if prev { "L" } else { "M" },
                            c(self.xs(i)),
                            c(self.ys(v))
                        );
                        prev = true;
                    }
                    None => prev = false,
                }
            }
            if !d.is_empty() {
                w!(
                    out,
                    "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"{}/>\n",
                    dash_attr(DASHES[si % DASHES.len()])
                );
            }
            for i in 0..self.n {
                let Some(v) = value(s, i) else { continue };
                let isolated = (i == 0 || value(s, i - 1).is_none()) && value(s, i + 1).is_none();
                if self.n <= 60 || isolated {
                    let tip = format!("{}, {}: {}", s.name, self.label(i), self.scale.fmt_value(v));
                    marker(out, si, self.xs(i), self.ys(v), color, &tip);
                }
            }
        }
        out.push_str("</g>\n");
    }

    /// The highlighted point: a ring and a label, above the points under it or below them.
    fn highlight(&self, out: &mut String) {
        let hl_point = self.spec.highlight.as_ref().and_then(|(si, xi, text)| {
            let v = self.spec.series.get(*si).and_then(|s| value(s, *xi))?;
            (v >= self.scale.lo && v <= self.scale.hi).then_some((si, xi, text, v))
        });
        if let Some((si, xi, text, v)) = hl_point {
            let (x, y) = (self.xs(*xi), self.ys(v));
            let color = PALETTE[si % PALETTE.len()];
            w!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"8\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n",
                c(x),
                c(y)
            );
            if !text.is_empty() {
                let (t, _) = truncate(text, 32);
                let tw = text_w(&t, 11.0) + 10.0;
                let bx = (x - tw / 2.0).clamp(self.left, self.right - tw);
                // Above every point under the label's span, or below them if there is no room.
                let under: Vec<f64> = self
                    .spec
                    .series
                    .iter()
                    .flat_map(|s| (0..self.n).filter_map(move |i| value(s, i).map(|v| (i, v))))
                    .filter(|&(i, _)| self.xs(i) >= bx - 6.0 && self.xs(i) <= bx + tw + 6.0)
                    .map(|(_, v)| self.ys(v))
                    .collect();
                let above = under.iter().copied().fold(y, f64::min) - 14.0;
                let below = under.iter().copied().fold(y, f64::max) + 24.0;
                let (ty, ly) = if above - 12.0 >= self.top - 4.0 {
                    (above, above + 4.5)
                } else {
                    (below, below - 12.5)
                };
                let ring = if ty < y { y - 8.0 } else { y + 8.0 };
                if (ly - ring).abs() > 3.0 {
                    w!(
                        out,
                        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"1\"/>\n",
                        c(x),
                        c(ring),
                        c(x),
                        c(ly)
                    );
                }
                w!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"17\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"{color}\" stroke-width=\"1\"/>\n",
                    c(bx),
                    c(ty - 12.5),
                    c(tw)
                );
                w!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" font-weight=\"600\" fill=\"{INK}\">{}</text>\n",
                    c(bx + tw / 2.0),
                    c(ty),
                    esc(&t)
                );
            }
        }
    }
}

pub(super) fn dash_attr(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    }
}

/// "label value", with the value at data precision when the tick precision would hide it.
pub(super) fn ref_label(label: &str, tick_fmt: &str, scale: &Scale, v: f64) -> String {
    let d = scale.tick_decimals();
    let m = match scale.format {
        ValueFormat::Plain => v,
        ValueFormat::Percent => v * 100.0,
    };
    let exact = (m - fixed(m, d).parse::<f64>().unwrap_or(m)).abs() < 1e-9;
    let val = if exact {
        tick_fmt.to_string()
    } else {
        scale.fmt_value(v)
    };
    let (l, _) = truncate(label, 32);
    if l.is_empty() {
        val
    } else {
        format!("{l} {val}")
    }
}

pub(super) fn line_desc(spec: &LineChart, scale: &Scale, n: usize) -> String {
    let mut d = format!(
        "Line chart of {} by {}, {} series over {} points.",
        if spec.y_title.is_empty() {
            "values"
        } else {
            &spec.y_title
        },
        if spec.x_title.is_empty() {
            "position"
        } else {
            &spec.x_title
        },
        spec.series.len(),
        n
    );
    for s in &spec.series {
        let pts: Vec<(usize, f64)> = (0..n)
            .filter_map(|i| finite(s.values.get(i).copied().flatten()).map(|v| (i, v)))
            .collect();
        match pts.last() {
            None => w!(d, " {}: no data.", s.name),
            Some(&(li, lv)) => {
                let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
                let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
                w!(
                    d,
                    " {}: {} of {} points, latest {} at {}, range {} to {}.",
                    s.name,
                    pts.len(),
                    n,
                    scale.fmt_value(lv),
                    spec.x_labels.get(li).map(String::as_str).unwrap_or("?"),
                    scale.fmt_value(lo),
                    scale.fmt_value(hi)
                );
            }
        }
    }
    for h in &spec.hlines {
        if h.value.is_finite() {
            w!(
                d,
                " Reference line {} at {}.",
                h.label,
                scale.fmt_value(h.value)
            );
        }
    }
    d
}

// ---------------------------------------------------------------------------------------------
// Bar chart
