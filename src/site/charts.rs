//! SVG charts for the static site, rendered at build time as plain strings.
//!
//! Design choices:
//!
//! - **No JavaScript, no dependencies.** Every chart is one self-contained `<svg>` element that can
//!   be inlined in a page. It has no `<style>` element, which would leak into the page, and no
//!   `style` attributes, which a strict Content-Security-Policy would block. Styling uses SVG
//!   presentation attributes only. The root has a `mg-chart mg-chart-<kind>` class that the page's
//!   CSS can target (for example to set a `max-width`).
//! - **Responsive.** Each chart sets a `viewBox` and `width="100%"` and no height, so it scales to
//!   its container and keeps its aspect ratio.
//! - **Accessible.** The root has `role="img"` and `aria-labelledby` pointing at its `<title>` and
//!   `<desc>`. The lineage graph uses `role="group"` instead when it contains links, because the
//!   children of an `img` are hidden from assistive technology. All ids start with the caller's
//!   `id_prefix`, which is reduced to `[A-Za-z0-9_-]`, so several charts can share a page. If no
//!   description is given, one is generated from the data. Points, bars, cells and nodes have
//!   `<title>` tooltips with their exact values.
//! - **Readable for colour-blind readers.** Colours come from the Okabe–Ito palette, and colour is
//!   never the only cue. Line series also differ by dash pattern and marker shape. Reference lines
//!   differ by dash pattern and are labelled. Drifted heat-strip cells carry a dot, missing cells
//!   are hatched, and lineage nodes print their kind.
//! - **Readable axes.** Ticks use "nice" steps (1, 2 or 5 × 10^k), grid lines are light, and
//!   crowded category labels are thinned (the last one is always shown) or truncated with `…`.
//!   Truncated text is shown in full in a tooltip.
//! - **Deterministic.** The same input gives the same bytes. Numbers are printed with fixed
//!   precision, `-0` is printed as `0`, and no hash-map iteration order reaches the output.
//!   Non-finite values (NaN, ±inf) never reach the output: missing or non-finite points are
//!   skipped, and lines break around them.
//! - **Safe.** Every piece of caller text is XML-escaped, and characters that XML forbids are
//!   dropped. Link targets pass [`safe_href`]: only relative references and `http(s)` URLs are
//!   kept, so `javascript:` and other schemes are dropped.
//!
//! Text widths are estimated at 0.6 em per character, which is good enough for layout in a
//! system sans-serif font.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

/// Writes formatted text to a `String`. Writing to a `String` cannot fail.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = write!($dst, $($arg)*);
    }};
}

// The font stacks; the charts write them pre-escaped (`FONT_ATTR`, `MONO_ATTR`, checked in tests).
#[cfg(test)]
const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
#[cfg(test)]
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";
/// `FONT` and `MONO` escaped for an attribute (written into every chart and lineage node).
const FONT_ATTR: &str = "system-ui, -apple-system, &#39;Segoe UI&#39;, Roboto, &#39;Helvetica Neue&#39;, Arial, sans-serif";
const MONO_ATTR: &str =
    "ui-monospace, SFMono-Regular, Menlo, Consolas, &#39;Liberation Mono&#39;, monospace";
const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const GRID: &str = "#e6e8eb";
const AXIS: &str = "#8c959f";
/// The Okabe–Ito palette, in the order used for series and bars. Orange and vermillion come last
/// because reference lines use them for "warn" and "block".
const PALETTE: [&str; 7] = [
    "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#D55E00", "#000000",
];
/// Dash patterns for line series, by series index (cycled).
const DASHES: [&str; 4] = ["", "7 4", "2 3", "10 3 2 3"];
/// Canvas width of the line, bar and heat-strip charts in `viewBox` units.
const WIDTH: f64 = 720.0;

/// A severity level for reference lines and shaded bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// Informational: grey-blue, dotted.
    #[default]
    Info,
    /// Warning: orange, dashed.
    Warn,
    /// Blocking: vermillion, solid.
    Block,
}

impl Level {
    fn stroke(self) -> &'static str {
        match self {
            Level::Info => "#4f7ea8",
            Level::Warn => "#E69F00",
            Level::Block => "#D55E00",
        }
    }
    fn dash(self) -> &'static str {
        match self {
            Level::Info => "2 3",
            Level::Warn => "6 4",
            Level::Block => "",
        }
    }
    /// A darker shade of the stroke, with enough contrast for text on white.
    fn text(self) -> &'static str {
        match self {
            Level::Info => "#2f5d87",
            Level::Warn => "#8a5a00",
            Level::Block => "#a33a00",
        }
    }
    fn band(self) -> (&'static str, &'static str) {
        match self {
            Level::Info => ("#56B4E9", "0.10"),
            Level::Warn => ("#E69F00", "0.14"),
            Level::Block => ("#D55E00", "0.14"),
        }
    }
}

/// How values are printed on an axis and in tooltips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueFormat {
    /// The number itself, with precision derived from the tick step.
    #[default]
    Plain,
    /// Fractions printed as percentages: `0.25` is printed as `25%`.
    Percent,
}

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

/// One cell of a [`HeatStrip`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HeatCell {
    /// The score, in `[0, 1]`. Values outside are clamped, and a non-finite score means no data.
    pub score: f64,
    /// Whether the cell counts as drifted. Drifted cells carry a dot.
    pub drifted: bool,
}

/// A grid of scores: one row per feature, one column per monitoring run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeatStrip {
    /// The prefix of every id in the chart. Must be unique on the page.
    pub id_prefix: String,
    /// The title, drawn at the top and used as the accessible name.
    pub title: String,
    /// The accessible description. If empty, one is generated from the data.
    pub desc: String,
    /// The x axis title, for example `"Monitoring run (date)"`.
    pub x_title: String,
    /// The legend's title for the colour scale, for example `"Drift score"`. Defaults to
    /// `"Score"` when empty.
    pub score_title: String,
    /// Row labels (feature names), from top to bottom.
    pub rows: Vec<String>,
    /// Column labels (run dates), from left to right.
    pub cols: Vec<String>,
    /// `cells[row][col]`. Missing entries (ragged or short vectors) and `None` mean no data.
    pub cells: Vec<Vec<Option<HeatCell>>>,
}

/// A node of a [`Lineage`] graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    /// The id that edges refer to. Nodes with a duplicate id are skipped.
    pub id: String,
    /// The kind: `raw_data`, `pipeline`, `dataset`, `run`, `commit`, `version`, `alias` or
    /// `batch`. Other kinds are drawn in grey.
    pub kind: String,
    /// The label, truncated with `…` if long (the full text is in the tooltip).
    pub label: String,
    /// A second line in monospace, for example a short hash.
    pub detail: Option<String>,
    /// A link target. Only relative references and `http(s)` URLs are kept (see [`safe_href`]).
    pub href: Option<String>,
}

/// A lineage graph, drawn left to right.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lineage {
    /// The prefix of every id in the chart. Must be unique on the page.
    pub id_prefix: String,
    /// The title, drawn at the top and used as the accessible name.
    pub title: String,
    /// The accessible description. If empty, one is generated from the data.
    pub desc: String,
    /// The nodes.
    pub nodes: Vec<Node>,
    /// Edges as `(from id, to id)`. Edges to unknown ids, self-loops and duplicates are skipped.
    /// Edges that close a cycle are drawn but do not affect the layout.
    pub edges: Vec<(String, String)>,
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// Escapes text for XML content and attribute values. Tabs and newlines become spaces, and
/// characters that XML 1.0 forbids are dropped.
/// Escapes text for XML and HTML text and attributes (tabs and newlines become spaces, other
/// control characters are dropped).
pub fn escape(s: &str) -> String {
    esc(s).to_string()
}

/// Text escaped for XML, written straight into the output (no intermediate string).
fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

struct Esc<'a>(&'a str);

impl Esc<'_> {
    /// Hands the escaped text to `push` in pieces.
    fn pieces(&self, mut push: impl FnMut(&str) -> fmt::Result) -> fmt::Result {
        let s = self.0;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                '\t' | '\n' | '\r' => " ",
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => "",
                _ => continue,
            };
            push(&s[start..i])?;
            push(rep)?;
            start = i + c.len_utf8();
        }
        push(&s[start..])
    }
}

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces(|p| f.write_str(p))
    }
}

/// Reduces an id prefix to `[A-Za-z0-9_-]`, starting with a letter.
fn sanitize_id(p: &str) -> String {
    let mut o: String = p
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !o.starts_with(|c: char| c.is_ascii_alphabetic()) {
        o.insert_str(0, "c-");
    }
    o
}

/// Formats a number with `d` decimals, never as `-0`, and `0` for non-finite input.
fn fixed(x: f64, d: usize) -> String {
    if !x.is_finite() {
        return "0".into();
    }
    // Fast path (most coordinates and labels): integer arithmetic instead of the exact
    // float formatter, which is a tenth of a full site build otherwise.
    if d <= 6 && x.abs() < 1e9 {
        let p = 10u64.pow(d as u32);
        let n = (x * p as f64).round() as i64;
        let a = n.unsigned_abs();
        let mut s = String::with_capacity(12);
        if n < 0 {
            s.push('-');
        }
        s.push_str(&(a / p).to_string());
        if d > 0 {
            s.push('.');
            s.push_str(&format!("{:0width$}", a % p, width = d));
        }
        return s;
    }
    let s = format!("{x:.d$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Formats a coordinate (one decimal, trailing `.0` dropped), written straight into the output.
fn c(x: f64) -> Coord {
    Coord(x)
}

struct Coord(f64);

impl Coord {
    /// Writes the coordinate into a small buffer; `None` outside the integer fast path.
    fn digits(&self, buf: &mut [u8; 24]) -> Option<usize> {
        let x = self.0;
        if !(x.is_finite() && x.abs() < 1e9) {
            return None;
        }
        // The integer fast path of `fixed(x, 1)`, without its allocations.
        let n = (x * 10.0).round() as i64;
        let mut a = n.unsigned_abs();
        let mut i = buf.len();
        let tenth = (a % 10) as u8;
        a /= 10;
        if tenth != 0 {
            i -= 2;
            buf[i] = b'.';
            buf[i + 1] = b'0' + tenth;
        }
        loop {
            i -= 1;
            buf[i] = b'0' + (a % 10) as u8;
            a /= 10;
            if a == 0 {
                break;
            }
        }
        if n < 0 {
            i -= 1;
            buf[i] = b'-';
        }
        Some(i)
    }
}

impl fmt::Display for Coord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        match self.digits(&mut buf) {
            Some(i) => f.write_str(std::str::from_utf8(&buf[i..]).unwrap_or("0")),
            None => {
                let s = fixed(self.0, 1);
                f.write_str(s.strip_suffix(".0").unwrap_or(&s))
            }
        }
    }
}

/// A piece of SVG appended to the output without the formatting machinery: the lineage graph
/// of every version page is built from these.
trait Put {
    fn put(self, out: &mut String);
}

impl Put for &str {
    fn put(self, out: &mut String) {
        out.push_str(self);
    }
}

impl Put for Coord {
    fn put(self, out: &mut String) {
        let mut buf = [0u8; 24];
        match self.digits(&mut buf) {
            Some(i) => out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0")),
            None => w!(out, "{self}"),
        }
    }
}

impl Put for Esc<'_> {
    fn put(self, out: &mut String) {
        let _ = self.pieces(|p| {
            out.push_str(p);
            Ok(())
        });
    }
}

/// Appends pieces (`&str` as is, `c(x)` as a coordinate, `esc(s)` escaped).
macro_rules! put {
    ($out:expr, $($p:expr),* $(,)?) => {{
        $( Put::put($p, &mut *$out); )*
    }};
}

/// Estimated width of `s` in a sans-serif font of `size` px.
fn text_w(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * 0.6 * size
}

/// Truncates to at most `max` characters, ending with `…` when cut.
fn truncate(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        (s.to_string(), false)
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        (t, true)
    }
}

/// Opens the root `<svg>` element with title and description.
fn open_svg(out: &mut String, p: &str, class: &str, w: f64, h: f64, title: &str, desc: &str) {
    open_svg_role(out, p, class, w, h, title, desc, "img");
}

#[allow(clippy::too_many_arguments)]
fn open_svg_role(
    out: &mut String,
    p: &str,
    class: &str,
    w: f64,
    h: f64,
    title: &str,
    desc: &str,
    role: &str,
) {
    w!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"mg-chart mg-chart-{class}\" \
         viewBox=\"0 0 {} {}\" width=\"100%\" role=\"{role}\" \
         aria-labelledby=\"{p}-title {p}-desc\" font-family=\"{}\" font-size=\"12\" \
         fill=\"{INK}\">\n",
        c(w),
        c(h),
        FONT_ATTR
    );
    w!(out, "<title id=\"{p}-title\">{}</title>\n", esc(title));
    w!(out, "<desc id=\"{p}-desc\">{}</desc>\n", esc(desc));
    w!(
        out,
        "<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n",
        c(w),
        c(h)
    );
    if !title.is_empty() {
        let (t, _) = truncate(title, ((w - 32.0) / (0.6 * 15.0)) as usize);
        w!(
            out,
            "<text x=\"16\" y=\"24\" font-size=\"15\" font-weight=\"600\">{}</text>\n",
            esc(&t)
        );
    }
}

/// "Nice" step for a raw step: the smallest of 1, 2, 5 × 10^k that is ≥ `raw`.
fn nice_step(raw: f64) -> f64 {
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
fn step_decimals(step: f64) -> usize {
    let d = -(step.log10() + 1e-9).floor();
    if d.is_finite() && d > 0.0 {
        (d as usize).min(10)
    } else {
        0
    }
}

/// A linear axis: domain, ticks and number format.
#[derive(Debug, Clone, PartialEq)]
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    step: f64,
    format: ValueFormat,
}

impl Scale {
    /// Ticks for the domain `[lo, hi]`, rounded out to nice values when `extend` is true and kept
    /// inside `[lo, hi]` otherwise. Aims for about `target` intervals.
    fn new(lo: f64, hi: f64, target: usize, extend: bool, format: ValueFormat) -> Scale {
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

    /// Maps a value to `[a, b]` (pixel coordinates).
    fn map(&self, v: f64, a: f64, b: f64) -> f64 {
        let t = (v - self.lo) / (self.hi - self.lo);
        a + t * (b - a)
    }

    fn tick_decimals(&self) -> usize {
        match self.format {
            ValueFormat::Plain => step_decimals(self.step),
            ValueFormat::Percent => step_decimals(self.step * 100.0),
        }
    }

    fn fmt_tick(&self, v: f64) -> String {
        let d = self.tick_decimals();
        match self.format {
            ValueFormat::Plain => fixed(v, d),
            ValueFormat::Percent => format!("{}%", fixed(v * 100.0, d)),
        }
    }

    /// Formats a data value with one more decimal than the ticks (at most 6), and a plain
    /// fraction with at least three: on a 0–1 axis with ticks 0.2 apart, 0.847 and 0.851 still
    /// read apart.
    fn fmt_value(&self, v: f64) -> String {
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
fn shown_labels(n: usize, label_w: f64, avail: f64) -> Vec<bool> {
    if n == 0 {
        return Vec::new();
    }
    let fit = ((avail / (label_w + 10.0)).floor() as usize).max(1);
    let k = n.div_ceil(fit).max(1);
    (0..n).map(|i| (n - 1 - i) % k == 0).collect()
}

/// A marker shape centred on `(x, y)`.
fn marker(out: &mut String, shape: usize, x: f64, y: f64, fill: &str, tip: &str) {
    let tip = format!("<title>{}</title>", esc(tip));
    match shape % 4 {
        0 => w!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.6\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"1\">{tip}</circle>\n",
            c(x),
            c(y)
        ),
        1 => w!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"1\">{tip}</rect>\n",
            c(x - 3.5),
            c(y - 3.5)
        ),
        2 => w!(
            out,
            "<path d=\"M{} {}L{} {}L{} {}Z\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"1\">{tip}</path>\n",
            c(x),
            c(y - 4.5),
            c(x + 4.2),
            c(y + 3.2),
            c(x - 4.2),
            c(y + 3.2)
        ),
        _ => w!(
            out,
            "<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"1\">{tip}</path>\n",
            c(x),
            c(y - 4.6),
            c(x + 4.6),
            c(y),
            c(x),
            c(y + 4.6),
            c(x - 4.6),
            c(y)
        ),
    }
}

/// A legend laid out in rows that wrap at `max_w`. Each item is `(swatch width, label)`; the
/// swatch is drawn by `draw(out, index, x, y_center)`. Returns the height used.
fn legend(
    out: &mut String,
    items: &[(f64, String)],
    x0: f64,
    y0: f64,
    max_w: f64,
    mut draw: impl FnMut(&mut String, usize, f64, f64),
) -> f64 {
    if items.is_empty() {
        return 0.0;
    }
    let row_h = 18.0;
    let (mut x, mut y) = (x0, y0);
    out.push_str("<g font-size=\"12\">\n");
    for (i, (sw, label)) in items.iter().enumerate() {
        let (label, _) = truncate(label, 40);
        let item_w = sw + 6.0 + text_w(&label, 12.0) + 18.0;
        if x > x0 && x + item_w > x0 + max_w {
            x = x0;
            y += row_h;
        }
        draw(out, i, x, y + row_h / 2.0);
        put!(
            out,
            "<text x=\"",
            c(x + sw + 6.0),
            "\" y=\"",
            c(y + row_h / 2.0),
            "\" dominant-baseline=\"central\" fill=\"",
            INK,
            "\">",
            esc(&label),
            "</text>\n",
        );
        x += item_w;
    }
    out.push_str("</g>\n");
    y + row_h - y0
}

fn finite(v: Option<f64>) -> Option<f64> {
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

/// Renders a line chart over categorical x values as an `<svg>` element.
///
/// The y axis has nice ticks, and the x labels are thinned when crowded. Bands are drawn first,
/// then grid, reference lines, lines with markers (markers only when there are at most 60 x
/// positions, plus isolated points) and the highlight.
pub fn line_chart(spec: &LineChart) -> String {
    let p = sanitize_id(&spec.id_prefix);
    let n = spec
        .series
        .iter()
        .map(|s| s.values.len())
        .chain(std::iter::once(spec.x_labels.len()))
        .max()
        .unwrap_or(0);
    let label = |i: usize| spec.x_labels.get(i).map(String::as_str).unwrap_or("");
    let value = |s: &Series, i: usize| finite(s.values.get(i).copied().flatten());

    // Y scale.
    let scale = match spec.y_range {
        Some((a, b)) if a.is_finite() && b.is_finite() && (a - b).abs() > 1e-12 => {
            Scale::new(a, b, 5, false, spec.y_format)
        }
        _ => {
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
            let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let mut hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // Headroom above the highlighted point for its label.
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
        }
    };

    // Layout.
    let tick_w = scale
        .ticks
        .iter()
        .map(|&t| text_w(&scale.fmt_tick(t), 11.0))
        .fold(0.0, f64::max);
    let left = if spec.y_title.is_empty() { 12.0 } else { 34.0 } + tick_w + 8.0;
    let right = WIDTH - 20.0;
    let plot_w = right - left;

    let mut legend_svg = String::new();
    let legend_h = if spec.series.len() > 1 {
        let items: Vec<(f64, String)> =
            spec.series.iter().map(|s| (24.0, s.name.clone())).collect();
        legend(&mut legend_svg, &items, left, 36.0, plot_w, |o, i, x, y| {
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
    let plot_h = 230.0;
    let bottom = top + plot_h;
    let height = bottom + if spec.x_title.is_empty() { 34.0 } else { 54.0 };

    // Category labels: truncated, thinned when crowded, and the plot is padded so that the
    // first and last labels can be centred on their points.
    let max_chars = 16;
    let label_w = (0..n)
        .map(|i| text_w(&truncate(label(i), max_chars).0, 11.0))
        .fold(0.0, f64::max);
    let pad = if n > 1 {
        (label_w / 2.0 - 12.0).clamp(18.0, plot_w * 0.12)
    } else {
        0.0
    };
    let xs = |i: usize| -> f64 {
        if n <= 1 {
            left + plot_w / 2.0
        } else {
            left + pad + i as f64 * (plot_w - 2.0 * pad) / (n - 1) as f64
        }
    };
    let ys = |v: f64| scale.map(v, bottom, top);

    let desc = if spec.desc.is_empty() {
        line_desc(spec, &scale, n)
    } else {
        spec.desc.clone()
    };
    let mut out = String::with_capacity(8192);
    open_svg(&mut out, &p, "line", WIDTH, height, &spec.title, &desc);
    out.push_str(&legend_svg);
    w!(
        out,
        "<defs><clipPath id=\"{p}-clip\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>\n",
        c(left - 6.0),
        c(top - 6.0),
        c(plot_w + 12.0),
        c(plot_h + 12.0)
    );

    // Bands.
    for b in &spec.bands {
        if b.from.is_nan() || b.to.is_nan() {
            continue;
        }
        let (lo, hi) = if b.from <= b.to {
            (b.from, b.to)
        } else {
            (b.to, b.from)
        };
        let (lo, hi) = (lo.max(scale.lo), hi.min(scale.hi));
        if hi <= lo {
            continue;
        }
        let (y0, y1) = (ys(hi), ys(lo));
        let (fill, op) = b.kind.band();
        w!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" fill-opacity=\"{op}\"/>\n",
            c(left),
            c(y0),
            c(plot_w),
            c(y1 - y0)
        );
        if !b.label.is_empty() && y1 - y0 >= 15.0 {
            let (t, _) = truncate(&b.label, 40);
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" font-style=\"italic\" fill=\"{}\">{}</text>\n",
                c(left + 6.0),
                c(y0 + 12.0),
                b.kind.text(),
                esc(&t)
            );
        }
    }

    // Grid and y axis.
    out.push_str("<g font-size=\"11\">\n");
    for &t in &scale.ticks {
        let y = ys(t);
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\n",
            c(left),
            c(y),
            c(right),
            c(y)
        );
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"central\" fill=\"{MUTED}\">{}</text>\n",
            c(left - 8.0),
            c(y),
            esc(&scale.fmt_tick(t))
        );
    }
    out.push_str("</g>\n");
    if !spec.y_title.is_empty() {
        let (t, _) = truncate(&spec.y_title, (plot_h / 7.2) as usize);
        w!(
            out,
            "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
            c(top + plot_h / 2.0),
            esc(&t)
        );
    }

    // X axis.
    w!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\n",
        c(left),
        c(bottom),
        c(right),
        c(bottom)
    );
    let shown = shown_labels(n, label_w, plot_w - 2.0 * pad);
    out.push_str("<g font-size=\"11\">\n");
    for (i, &show) in shown.iter().enumerate() {
        let x = xs(i);
        if show || n <= 60 {
            w!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\n",
                c(x),
                c(bottom),
                c(x),
                c(bottom + if show { 5.0 } else { 3.0 })
            );
        }
        if show {
            let (t, cut) = truncate(label(i), max_chars);
            let anchor = if n > 1 && i == 0 && pad + 20.0 < label_w / 2.0 {
                "start"
            } else if n > 1 && i == n - 1 && pad + 20.0 < label_w / 2.0 {
                "end"
            } else {
                "middle"
            };
            let tip = if cut {
                format!("<title>{}</title>", esc(label(i)))
            } else {
                String::new()
            };
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{MUTED}\">{}{tip}</text>\n",
                c(x),
                c(bottom + 18.0),
                esc(&t)
            );
        }
    }
    out.push_str("</g>\n");
    if !spec.x_title.is_empty() {
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
            c(left + plot_w / 2.0),
            c(bottom + 42.0),
            esc(&truncate(&spec.x_title, 80).0)
        );
    }

    // Reference lines, labelled at the right; a label that would collide with the previous one
    // goes below its line instead.
    let mut hl: Vec<&HLine> = spec
        .hlines
        .iter()
        .filter(|h| h.value.is_finite() && h.value >= scale.lo && h.value <= scale.hi)
        .collect();
    hl.sort_by(|a, b| b.value.total_cmp(&a.value));
    let mut last_label_y = f64::NEG_INFINITY;
    for h in hl {
        let y = ys(h.value);
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n",
            c(left),
            c(y),
            c(right),
            c(y),
            h.kind.stroke(),
            dash_attr(h.kind.dash())
        );
        let text = ref_label(&h.label, &scale.fmt_tick(h.value), &scale, h.value);
        let mut ty = y - 5.0;
        if ty - last_label_y < 13.0 || ty < top + 10.0 {
            ty = y + 14.0;
        }
        last_label_y = ty;
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\" font-weight=\"600\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>\n",
            c(right - 4.0),
            c(ty),
            h.kind.text(),
            esc(&text)
        );
    }

    // Series.
    w!(out, "<g clip-path=\"url(#{p}-clip)\">\n");
    for (si, s) in spec.series.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        let mut d = String::new();
        let mut prev = false;
        for i in 0..n {
            match value(s, i) {
                Some(v) => {
                    w!(
                        d,
                        "{}{} {}",
                        if prev { "L" } else { "M" },
                        c(xs(i)),
                        c(ys(v))
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
        for i in 0..n {
            let Some(v) = value(s, i) else { continue };
            let isolated = (i == 0 || value(s, i - 1).is_none()) && value(s, i + 1).is_none();
            if n <= 60 || isolated {
                let tip = format!("{}, {}: {}", s.name, label(i), scale.fmt_value(v));
                marker(&mut out, si, xs(i), ys(v), color, &tip);
            }
        }
    }
    out.push_str("</g>\n");

    // Highlight.
    let hl_point = spec.highlight.as_ref().and_then(|(si, xi, text)| {
        let v = spec.series.get(*si).and_then(|s| value(s, *xi))?;
        (v >= scale.lo && v <= scale.hi).then_some((si, xi, text, v))
    });
    if let Some((si, xi, text, v)) = hl_point {
        let (x, y) = (xs(*xi), ys(v));
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
            let bx = (x - tw / 2.0).clamp(left, right - tw);
            // Above every point under the label's span, or below them if there is no room.
            let under: Vec<f64> = spec
                .series
                .iter()
                .flat_map(|s| (0..n).filter_map(move |i| value(s, i).map(|v| (i, v))))
                .filter(|&(i, _)| xs(i) >= bx - 6.0 && xs(i) <= bx + tw + 6.0)
                .map(|(_, v)| ys(v))
                .collect();
            let above = under.iter().copied().fold(y, f64::min) - 14.0;
            let below = under.iter().copied().fold(y, f64::max) + 24.0;
            let (ty, ly) = if above - 12.0 >= top - 4.0 {
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
    out.push_str("</svg>\n");
    out
}

fn dash_attr(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    }
}

/// "label value", with the value at data precision when the tick precision would hide it.
fn ref_label(label: &str, tick_fmt: &str, scale: &Scale, v: f64) -> String {
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

fn line_desc(spec: &LineChart, scale: &Scale, n: usize) -> String {
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

fn bar_desc(spec: &BarChart, scale: &Scale) -> String {
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

/// Colour stops of the heat scale: a light-to-dark sequential ramp (reversed magma), which is
/// ordered by lightness and so readable with any colour-vision deficiency and in greyscale.
const HEAT: [(f64, [u8; 3]); 6] = [
    (0.0, [0xfc, 0xfd, 0xbf]),
    (0.2, [0xfe, 0xc2, 0x87]),
    (0.4, [0xfb, 0x87, 0x61]),
    (0.6, [0xe5, 0x59, 0x64]),
    (0.8, [0xb5, 0x36, 0x7a]),
    (1.0, [0x51, 0x12, 0x7c]),
];

fn heat_rgb(t: f64) -> [u8; 3] {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    for w in HEAT.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if t <= b {
            let f = (t - a) / (b - a);
            let mix = |i: usize| (ca[i] as f64 + (cb[i] as f64 - ca[i] as f64) * f).round() as u8;
            return [mix(0), mix(1), mix(2)];
        }
    }
    HEAT[HEAT.len() - 1].1
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// Whether black text or marks would have more contrast on `rgb` than white.
fn is_light(rgb: [u8; 3]) -> bool {
    let lin = |v: u8| {
        let s = v as f64 / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
    // Contrast with black (l + 0.05) / 0.05 against white 1.05 / (l + 0.05).
    (l + 0.05) * (l + 0.05) > 0.0525
}

/// Renders a heat strip (rows × columns of scores in `[0, 1]`) as an `<svg>` element.
///
/// Each cell is coloured by its score on a light-to-dark scale. Drifted cells carry a dot, and
/// cells without data are grey and hatched, so colour is not the only cue. Every cell has a
/// tooltip `"row, column: score (drifted)"`. A legend shows the scale, "no data" and "drifted".
/// Cells get narrower as the number of columns grows (down to 4 units); the chart gets wider
/// beyond that.
pub fn heat_strip(spec: &HeatStrip) -> String {
    let p = sanitize_id(&spec.id_prefix);
    let nr = spec.rows.len();
    let nc = spec.cols.len();
    let cell = |r: usize, col: usize| -> Option<HeatCell> {
        spec.cells
            .get(r)
            .and_then(|row| row.get(col).copied().flatten())
            .filter(|cl| cl.score.is_finite())
            .map(|cl| HeatCell {
                score: cl.score.clamp(0.0, 1.0),
                drifted: cl.drifted,
            })
    };

    let row_chars = 24;
    let label_w = spec
        .rows
        .iter()
        .map(|r| text_w(&truncate(r, row_chars).0, 12.0))
        .fold(40.0, f64::max);
    let left = 16.0 + label_w + 10.0;
    // Column labels are centred under their cells; the right margin leaves room for the last.
    let col_chars = 12;
    let col_w = spec
        .cols
        .iter()
        .map(|s| text_w(&truncate(s, col_chars).0, 11.0))
        .fold(0.0, f64::max);
    let right_margin = (col_w / 2.0).max(20.0);
    let avail = WIDTH - right_margin - left;
    let cell_w = if nc == 0 {
        avail
    } else {
        (avail / nc as f64).clamp(4.0, 36.0)
    };
    let cell_h = 20.0;
    let grid_w = cell_w * nc as f64;
    let width = (left + grid_w + right_margin).max(WIDTH);
    let top = 44.0;
    let bottom = top + cell_h * nr as f64;
    let col_label_y = bottom + 16.0;
    let x_title_y = col_label_y + 22.0;
    let legend_y = if spec.x_title.is_empty() {
        col_label_y + 16.0
    } else {
        x_title_y + 14.0
    };
    let height = legend_y + 46.0;

    let desc = if spec.desc.is_empty() {
        let mut drifted: Vec<String> = Vec::new();
        let mut missing = 0usize;
        for r in 0..nr {
            for col in 0..nc {
                match cell(r, col) {
                    Some(cl) if cl.drifted => {
                        drifted.push(format!("{} on {}", spec.rows[r], spec.cols[col]))
                    }
                    Some(_) => {}
                    None => missing += 1,
                }
            }
        }
        let mut d = format!(
            "Heat map of {} for {} features over {} runs{}. {} drifted cells",
            if spec.score_title.is_empty() {
                "scores"
            } else {
                &spec.score_title
            },
            nr,
            nc,
            match (spec.cols.first(), spec.cols.last()) {
                (Some(a), Some(b)) if nc > 1 => format!(" from {a} to {b}"),
                _ => String::new(),
            },
            drifted.len()
        );
        if !drifted.is_empty() {
            let shown: Vec<&str> = drifted.iter().take(20).map(String::as_str).collect();
            w!(d, ": {}", shown.join(", "));
            if drifted.len() > 20 {
                w!(d, " and {} more", drifted.len() - 20);
            }
        }
        w!(d, ". {missing} cells without data.");
        d
    } else {
        spec.desc.clone()
    };

    let mut out = String::with_capacity(16384 + nr * nc * 120);
    open_svg(&mut out, &p, "heat", width, height, &spec.title, &desc);
    w!(
        out,
        "<defs><pattern id=\"{p}-nodata\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#eceef1\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b7bdc5\" stroke-width=\"2\"/></pattern>\
         <linearGradient id=\"{p}-grad\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">"
    );
    for (t, rgb) in HEAT {
        w!(
            out,
            "<stop offset=\"{}\" stop-color=\"{}\"/>",
            fixed(t, 1),
            hex(rgb)
        );
    }
    out.push_str("</linearGradient></defs>\n");

    // Row labels.
    out.push_str("<g font-size=\"12\">\n");
    for (r, name) in spec.rows.iter().enumerate() {
        let (t, cut) = truncate(name, row_chars);
        let tip = if cut {
            format!("<title>{}</title>", esc(name))
        } else {
            String::new()
        };
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"central\">{}{tip}</text>\n",
            c(left - 8.0),
            c(top + cell_h * (r as f64 + 0.5)),
            esc(&t)
        );
    }
    out.push_str("</g>\n");

    // Cells.
    let dot_r = (cell_w.min(cell_h) * 0.2).clamp(1.5, 3.5);
    out.push_str("<g stroke=\"#ffffff\" stroke-width=\"1\">\n");
    for r in 0..nr {
        for col in 0..nc {
            let x = left + cell_w * col as f64;
            let y = top + cell_h * r as f64;
            let row_name = &spec.rows[r];
            let col_name = &spec.cols[col];
            match cell(r, col) {
                Some(cl) => {
                    let rgb = heat_rgb(cl.score);
                    let tip = format!(
                        "{row_name}, {col_name}: {}{}",
                        fixed(cl.score, 3),
                        if cl.drifted { " (drifted)" } else { "" }
                    );
                    w!(
                        out,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>\n",
                        c(x),
                        c(y),
                        c(cell_w),
                        c(cell_h),
                        hex(rgb),
                        esc(&tip)
                    );
                    if cl.drifted {
                        let mark = if is_light(rgb) { INK } else { "#ffffff" };
                        w!(
                            out,
                            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{mark}\" stroke=\"none\" pointer-events=\"none\"/>\n",
                            c(x + cell_w / 2.0),
                            c(y + cell_h / 2.0),
                            c(dot_r)
                        );
                    }
                }
                None => {
                    w!(
                        out,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"url(#{p}-nodata)\"><title>{}</title></rect>\n",
                        c(x),
                        c(y),
                        c(cell_w),
                        c(cell_h),
                        esc(&format!("{row_name}, {col_name}: no data"))
                    );
                }
            }
        }
    }
    out.push_str("</g>\n");

    // Column labels.
    let shown = shown_labels(nc, col_w, grid_w.max(1.0));
    out.push_str("<g font-size=\"11\">\n");
    for (col, &show) in shown.iter().enumerate() {
        if !show {
            continue;
        }
        let x = left + cell_w * (col as f64 + 0.5);
        let (t, cut) = truncate(&spec.cols[col], col_chars);
        let anchor = if x + col_w / 2.0 > width - 4.0 {
            "end"
        } else if x - col_w / 2.0 < 4.0 {
            "start"
        } else {
            "middle"
        };
        let tip = if cut {
            format!("<title>{}</title>", esc(&spec.cols[col]))
        } else {
            String::new()
        };
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\n",
            c(x),
            c(bottom),
            c(x),
            c(bottom + 4.0)
        );
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{MUTED}\">{}{tip}</text>\n",
            c(x),
            c(col_label_y),
            esc(&t)
        );
    }
    out.push_str("</g>\n");
    if !spec.x_title.is_empty() {
        w!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
            c(left + grid_w / 2.0),
            c(x_title_y),
            esc(&truncate(&spec.x_title, 80).0)
        );
    }

    // Legend: colour scale, no data, drifted.
    let score_title = if spec.score_title.is_empty() {
        "Score"
    } else {
        &spec.score_title
    };
    let (st, _) = truncate(score_title, 24);
    let lx = 16.0;
    let ly = legend_y;
    w!(
        out,
        "<g font-size=\"11\" fill=\"{MUTED}\">\n<text x=\"{}\" y=\"{}\" dominant-baseline=\"central\" fill=\"{INK}\">{}</text>\n",
        c(lx),
        c(ly + 7.0),
        esc(&st)
    );
    let gx = lx + text_w(&st, 11.0) + 10.0;
    let gw = 140.0;
    w!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"url(#{p}-grad)\" stroke=\"{AXIS}\" stroke-width=\"0.5\"/>\n",
        c(gx),
        c(ly),
        c(gw)
    );
    for (t, s) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
        let x = gx + gw * t;
        w!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"1\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{s}</text>\n",
            c(x),
            c(ly + 14.0),
            c(x),
            c(ly + 18.0),
            c(x),
            c(ly + 30.0)
        );
    }
    let nx = gx + gw + 24.0;
    w!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"14\" fill=\"url(#{p}-nodata)\"/><text x=\"{}\" y=\"{}\" dominant-baseline=\"central\" fill=\"{INK}\">no data</text>\n",
        c(nx),
        c(ly),
        c(nx + 24.0),
        c(ly + 7.0)
    );
    let dx = nx + 24.0 + text_w("no data", 11.0) + 22.0;
    let mid = hex(heat_rgb(0.7));
    w!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"14\" fill=\"{mid}\"/><circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"#ffffff\"/><text x=\"{}\" y=\"{}\" dominant-baseline=\"central\" fill=\"{INK}\">drifted</text>\n</g>\n",
        c(dx),
        c(ly),
        c(dx + 9.0),
        c(ly + 7.0),
        c(dx + 24.0),
        c(ly + 7.0)
    );
    out.push_str("</svg>\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Lineage graph

/// Known node kinds, in legend order, with their fill (a light tint) and stroke colours.
const KINDS: [(&str, &str, &str); 8] = [
    ("raw_data", "#fbeccc", "#E69F00"),
    ("pipeline", "#d9ecf8", "#56B4E9"),
    ("dataset", "#cceadf", "#009E73"),
    ("run", "#fbf7cf", "#b8ab00"),
    ("commit", "#e3e3e3", "#4d4d4d"),
    ("version", "#cfe2f1", "#0072B2"),
    ("alias", "#f6dccd", "#D55E00"),
    ("batch", "#f3e0ec", "#CC79A7"),
];
const UNKNOWN_KIND: (&str, &str) = ("#f2f3f5", "#8c959f");

fn kind_colors(kind: &str) -> (&'static str, &'static str) {
    KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map_or(UNKNOWN_KIND, |k| (k.1, k.2))
}

/// Returns the href if it is safe to put in a link: a relative reference (no scheme, not
/// protocol-relative) or an `http`/`https` URL. Anything with ASCII control characters or
/// whitespace inside is rejected, because browsers strip them before reading the scheme
/// (`java\tscript:`). The result is trimmed but not escaped.
pub fn safe_href(href: &str) -> Option<&str> {
    let h = href.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    if h.is_empty() || h.chars().any(|c| c.is_ascii_control() || c.is_whitespace()) {
        return None;
    }
    if h.starts_with("//") || h.starts_with("\\\\") || h.starts_with("/\\") {
        return None;
    }
    let end = h.find(['/', '?', '#']).unwrap_or(h.len());
    match h[..end].find(':') {
        None => Some(h),
        Some(i) => {
            let scheme = h[..i].to_ascii_lowercase();
            if scheme == "http" || scheme == "https" {
                Some(h)
            } else {
                None
            }
        }
    }
}

struct Placed {
    node: usize,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// Renders a lineage graph as a left-to-right `<svg>` DAG.
///
/// Nodes are placed in columns by longest-path layering (sources are then moved right, next to
/// their first consumer) and ordered within columns by a few barycentre sweeps to reduce
/// crossings. Boxes are sized to their text; labels longer than 28 characters are truncated,
/// with the full text in the tooltip. Each box shows its kind, label and detail, and is coloured
/// by kind, with a legend of the kinds present. Nodes with a [`safe_href`] link are wrapped in
/// `<a href>`; the root then has `role="group"` so the links stay reachable.
pub fn lineage_graph(spec: &Lineage) -> String {
    let p = sanitize_id(&spec.id_prefix);

    // Unique nodes and valid edges.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut nodes: Vec<&Node> = Vec::new();
    for n in &spec.nodes {
        if !index.contains_key(n.id.as_str()) {
            index.insert(&n.id, nodes.len());
            nodes.push(n);
        }
    }
    let nn = nodes.len();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut seen: std::collections::BTreeSet<(usize, usize)> = std::collections::BTreeSet::new();
    for (a, b) in &spec.edges {
        if let (Some(&i), Some(&j)) = (index.get(a.as_str()), index.get(b.as_str())) {
            if i != j && seen.insert((i, j)) {
                edges.push((i, j));
            }
        }
    }

    // Topological order (Kahn, lowest index first); nodes on cycles are appended in input
    // order, and edges that point backwards in this order are ignored for layering.
    let mut indeg = vec![0usize; nn];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); nn];
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); nn];
    for &(a, b) in &edges {
        indeg[b] += 1;
        succ[a].push(b);
        pred[b].push(a);
    }
    let mut order: Vec<usize> = Vec::with_capacity(nn);
    let mut ready: std::collections::BTreeSet<usize> = (0..nn).filter(|&i| indeg[i] == 0).collect();
    let mut done = vec![false; nn];
    while let Some(i) = ready.pop_first() {
        order.push(i);
        done[i] = true;
        for &j in &succ[i] {
            indeg[j] -= 1;
            if indeg[j] == 0 {
                ready.insert(j);
            }
        }
    }
    order.extend((0..nn).filter(|&i| !done[i]));
    let mut pos = vec![0usize; nn];
    for (k, &i) in order.iter().enumerate() {
        pos[i] = k;
    }
    let forward = |a: usize, b: usize| pos[a] < pos[b];

    // Longest-path layers.
    let mut layer = vec![0usize; nn];
    for &i in &order {
        layer[i] = pred[i]
            .iter()
            .filter(|&&a| forward(a, i))
            .map(|&a| layer[a] + 1)
            .max()
            .unwrap_or(0);
    }
    // Pull sources right, next to their nearest consumer.
    for &i in order.iter().rev() {
        let has_pred = pred[i].iter().any(|&a| forward(a, i));
        let nearest = succ[i]
            .iter()
            .filter(|&&b| forward(i, b))
            .map(|&b| layer[b])
            .min();
        if let (false, Some(m)) = (has_pred, nearest) {
            layer[i] = m.saturating_sub(1).max(layer[i]);
        }
    }
    let n_layers = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
    for i in 0..nn {
        cols[layer[i]].push(i);
    }

    // Barycentre sweeps.
    let mut rank = vec![0.0f64; nn];
    let set_rank = |cols: &Vec<Vec<usize>>, rank: &mut Vec<f64>| {
        for col in cols {
            let len = col.len().max(1) as f64;
            for (k, &i) in col.iter().enumerate() {
                rank[i] = (k as f64 + 0.5) / len;
            }
        }
    };
    set_rank(&cols, &mut rank);
    for sweep in 0..4 {
        let down = sweep % 2 == 0;
        let range: Vec<usize> = if down {
            (1..n_layers).collect()
        } else {
            (0..n_layers.saturating_sub(1)).rev().collect()
        };
        for l in range {
            let mut keyed: Vec<(f64, usize, usize)> = cols[l]
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let nb = if down { &pred[i] } else { &succ[i] };
                    let r: Vec<f64> = nb.iter().map(|&j| rank[j]).collect();
                    let key = if r.is_empty() {
                        rank[i]
                    } else {
                        r.iter().sum::<f64>() / r.len() as f64
                    };
                    (key, k, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            cols[l] = keyed.into_iter().map(|k| k.2).collect();
            let len = cols[l].len().max(1) as f64;
            for (k, &i) in cols[l].iter().enumerate() {
                rank[i] = (k as f64 + 0.5) / len;
            }
        }
    }

    // Sizes.
    let labels: Vec<Vec<String>> = nodes.iter().map(|n| wrap2(&n.label, LABEL_CHARS)).collect();
    let captions: Vec<String> = nodes.iter().map(|n| kind_caption(&n.kind)).collect();
    let details: Vec<Option<String>> = nodes
        .iter()
        .map(|n| n.detail.as_ref().map(|d| truncate(d, DETAIL_CHARS).0))
        .collect();
    let size = |i: usize| -> (f64, f64) {
        let n = nodes[i];
        let mut w = labels[i]
            .iter()
            .map(|l| text_w(l, 12.0) * 1.05)
            .fold(0.0, f64::max);
        w = w.max(text_w(&captions[i], 9.5) * 1.1);
        if let Some(d) = &details[i] {
            w = w.max(text_w(d, 10.5));
        }
        let h = 38.0
            + 15.0 * labels[i].len().saturating_sub(1) as f64
            + if n.detail.is_some() { 14.0 } else { 0.0 };
        ((w + 20.0).max(72.0), h)
    };
    let sizes: Vec<(f64, f64)> = (0..nn).map(size).collect();
    let col_gap = 48.0;
    let row_gap = 14.0;
    let col_w: Vec<f64> = cols
        .iter()
        .map(|col| col.iter().map(|&i| sizes[i].0).fold(0.0, f64::max))
        .collect();
    let col_h: Vec<f64> = cols
        .iter()
        .map(|col| {
            col.iter().map(|&i| sizes[i].1).sum::<f64>()
                + row_gap * col.len().saturating_sub(1) as f64
        })
        .collect();
    let graph_w: f64 = col_w.iter().sum::<f64>() + col_gap * n_layers.saturating_sub(1) as f64;
    let graph_h = col_h.iter().copied().fold(0.0, f64::max);

    // Legend of kinds present: known kinds in canonical order, then others by appearance.
    let mut kinds: Vec<String> = KINDS
        .iter()
        .filter(|k| nodes.iter().any(|n| n.kind == k.0))
        .map(|k| k.0.to_string())
        .collect();
    for n in &nodes {
        if !kinds.contains(&n.kind) {
            kinds.push(n.kind.clone());
        }
    }
    let width = (graph_w + 32.0).max(480.0);
    let mut legend_svg = String::new();
    let legend_h = if nodes.is_empty() {
        0.0
    } else {
        let items: Vec<(f64, String)> = kinds.iter().map(|k| (14.0, kind_name(k))).collect();
        legend(
            &mut legend_svg,
            &items,
            16.0,
            34.0,
            width - 32.0,
            |o, i, x, y| {
                let (fill, stroke) = kind_colors(&kinds[i]);
                put!(
                    o,
                    "<rect x=\"",
                    c(x),
                    "\" y=\"",
                    c(y - 6.0),
                    "\" width=\"14\" height=\"12\" rx=\"3\" fill=\"",
                    fill,
                    "\" stroke=\"",
                    stroke,
                    "\" stroke-width=\"1.5\"/>\n",
                );
            },
        )
    };
    let top = 34.0 + legend_h + 14.0;
    let height = top + graph_h.max(20.0) + 16.0;
    let x0 = ((width - graph_w) / 2.0).max(16.0);

    let mut placed: Vec<Option<Placed>> = (0..nn).map(|_| None).collect();
    let mut x = x0;
    for (l, col) in cols.iter().enumerate() {
        let mut y = top + (graph_h - col_h[l]) / 2.0;
        for &i in col {
            let (w, h) = sizes[i];
            placed[i] = Some(Placed {
                node: i,
                x: x + (col_w[l] - w) / 2.0,
                y,
                w,
                h,
            });
            y += h + row_gap;
        }
        x += col_w[l] + col_gap;
    }
    let placed: Vec<Placed> = placed.into_iter().flatten().collect();
    let at = |i: usize| placed.iter().find(|pl| pl.node == i);

    let any_link = nodes
        .iter()
        .any(|n| n.href.as_deref().and_then(safe_href).is_some());
    let desc = if spec.desc.is_empty() {
        lineage_desc(&nodes, &edges)
    } else {
        spec.desc.clone()
    };
    let mut out = String::with_capacity(4096 + nn * 600);
    open_svg_role(
        &mut out,
        &p,
        "lineage",
        width,
        height,
        &spec.title,
        &desc,
        if any_link { "group" } else { "img" },
    );
    w!(
        out,
        "<defs><marker id=\"{p}-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#6e7781\"/></marker></defs>\n"
    );
    out.push_str(&legend_svg);

    // Edges under nodes.
    w!(
        out,
        "<g fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1.4\">\n"
    );
    for &(a, b) in &edges {
        let (Some(pa), Some(pb)) = (at(a), at(b)) else {
            continue;
        };
        let (x1, y1) = (pa.x + pa.w, pa.y + pa.h / 2.0);
        let (x2, y2) = (pb.x - 1.5, pb.y + pb.h / 2.0);
        let dx = if x2 > x1 { (x2 - x1) / 2.0 } else { 48.0 };
        put!(
            &mut out,
            "<path d=\"M",
            c(x1),
            " ",
            c(y1),
            "C",
            c(x1 + dx),
            " ",
            c(y1),
            " ",
            c(x2 - dx),
            " ",
            c(y2),
            " ",
            c(x2),
            " ",
            c(y2),
            "\" marker-end=\"url(#",
            p.as_str(),
            "-arrow)\"/>\n",
        );
    }
    out.push_str("</g>\n");

    // Nodes.
    for pl in &placed {
        let n = nodes[pl.node];
        let (fill, stroke) = kind_colors(&n.kind);
        let mut tip = format!("{}: {}", kind_name(&n.kind), n.label);
        if let Some(d) = &n.detail {
            w!(tip, " ({d})");
        }
        let href = n.href.as_deref().and_then(safe_href);
        if let Some(h) = href {
            w!(out, "<a href=\"{}\">\n", esc(h));
        }
        put!(&mut out, "<g><title>", esc(&tip), "</title>\n");
        put!(
            &mut out,
            "<rect x=\"",
            c(pl.x),
            "\" y=\"",
            c(pl.y),
            "\" width=\"",
            c(pl.w),
            "\" height=\"",
            c(pl.h),
            "\" rx=\"7\" fill=\"",
            fill,
            "\" stroke=\"",
            stroke,
            "\" stroke-width=\"1.5\"/>\n",
        );
        let cx = pl.x + pl.w / 2.0;
        put!(
            &mut out,
            "<text x=\"",
            c(cx),
            "\" y=\"",
            c(pl.y + 13.0),
            "\" text-anchor=\"middle\" font-size=\"9.5\" letter-spacing=\"0.5\" fill=\"",
            MUTED,
            "\">",
            esc(&captions[pl.node]),
            "</text>\n",
        );
        let mut ty = pl.y + 29.0;
        for line in &labels[pl.node] {
            put!(
                &mut out,
                "<text x=\"",
                c(cx),
                "\" y=\"",
                c(ty),
                "\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\"",
                if href.is_some() {
                    " text-decoration=\"underline\""
                } else {
                    ""
                },
                ">",
                esc(line),
                "</text>\n",
            );
            ty += 15.0;
        }
        if let Some(d) = &details[pl.node] {
            put!(
                &mut out,
                "<text x=\"",
                c(cx),
                "\" y=\"",
                c(ty),
                "\" text-anchor=\"middle\" font-size=\"10.5\" font-family=\"",
                MONO_ATTR,
                "\" fill=\"",
                MUTED,
                "\">",
                esc(d),
                "</text>\n",
            );
        }
        out.push_str("</g>\n");
        if href.is_some() {
            out.push_str("</a>\n");
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Label characters per line in a lineage node, and characters of its detail line.
const LABEL_CHARS: usize = 20;
const DETAIL_CHARS: usize = 24;

/// Splits a label into at most two lines of at most `max` characters, preferring to break after
/// a space, `/`, `-`, `_`, `.` or `:` in the last two thirds of the line; the second line is
/// truncated with `…` if the label is still too long.
fn wrap2(s: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return vec![s.to_string()];
    }
    let brk = ((max / 3).max(1)..=max)
        .rev()
        .find(|&i| matches!(chars[i - 1], ' ' | '/' | '-' | '_' | '.' | ':'))
        .unwrap_or(max);
    let first: String = chars[..brk]
        .iter()
        .collect::<String>()
        .trim_end()
        .to_string();
    let rest: String = chars[brk..]
        .iter()
        .collect::<String>()
        .trim_start()
        .to_string();
    vec![first, truncate(&rest, max).0]
}

/// The caption printed in a node: the kind in capitals, with `_` as a space.
fn kind_caption(kind: &str) -> String {
    truncate(&kind.replace('_', " ").to_uppercase(), 20).0
}

/// The kind as a legend entry: `raw_data` → `raw data`.
fn kind_name(kind: &str) -> String {
    if kind.is_empty() {
        "other".into()
    } else {
        kind.replace('_', " ")
    }
}

fn lineage_desc(nodes: &[&Node], edges: &[(usize, usize)]) -> String {
    let mut d = format!(
        "Lineage graph with {} nodes and {} edges, flowing left to right.",
        nodes.len(),
        edges.len()
    );
    for (k, &(a, b)) in edges.iter().enumerate() {
        if k == 40 {
            w!(d, " And {} more edges.", edges.len() - 40);
            break;
        }
        w!(
            d,
            " {} {} → {} {}.",
            kind_name(&nodes[a].kind),
            nodes[a].label,
            kind_name(&nodes[b].kind),
            nodes[b].label
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_line() -> LineChart {
        LineChart {
            id_prefix: "m1".into(),
            title: "Accuracy across versions".into(),
            x_title: "Version".into(),
            y_title: "Accuracy (fraction)".into(),
            x_labels: (1..=6).map(|i| format!("v{i}")).collect(),
            series: vec![
                Series {
                    name: "accuracy".into(),
                    values: vec![
                        Some(0.91),
                        Some(0.925),
                        None,
                        Some(0.94),
                        Some(0.938),
                        Some(0.95),
                    ],
                },
                Series {
                    name: "f1".into(),
                    values: vec![Some(0.88), Some(0.9), Some(0.905), None, None, Some(0.93)],
                },
            ],
            hlines: vec![HLine {
                label: "min".into(),
                value: 0.9,
                kind: Level::Block,
            }],
            highlight: Some((0, 5, "champion".into())),
            ..Default::default()
        }
    }

    fn well_formed(svg: &str) {
        // A small check: tags balance, and no raw NaN/inf or unescaped specials in text.
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            let text = &rest[..i];
            assert!(!text.contains('>'), "raw > in text: {text:?}");
            for (j, _) in text.match_indices('&') {
                let t = &text[j..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                        .iter()
                        .any(|e| t.starts_with(e)),
                    "bare & in text: {t:?}"
                );
            }
            let end = rest[i..].find('>').expect("unclosed tag") + i;
            let tag = &rest[i + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or("").to_string();
                stack.push(name);
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert!(
            !svg.contains("NaN") && !svg.contains("inf\""),
            "non-finite in {svg}"
        );
    }

    #[test]
    fn nice_ticks() {
        let s = Scale::new(0.0, 1.0, 5, true, ValueFormat::Plain);
        assert_eq!(s.ticks, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let s = Scale::new(0.913, 0.948, 5, true, ValueFormat::Plain);
        assert_eq!(s.ticks, vec![0.91, 0.92, 0.93, 0.94, 0.95]);
        assert_eq!(s.fmt_tick(0.93), "0.93");
        let s = Scale::new(3.0, 97.0, 5, true, ValueFormat::Plain);
        assert_eq!(s.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(s.fmt_tick(40.0), "40");
        let s = Scale::new(-0.3, 0.25, 5, true, ValueFormat::Plain);
        assert_eq!(s.ticks, vec![-0.4, -0.2, 0.0, 0.2, 0.4]);
        assert_eq!(s.fmt_tick(0.0), "0.0");
        // Within a fixed range, ticks stay inside it.
        let s = Scale::new(0.0, 0.9, 5, false, ValueFormat::Plain);
        assert_eq!((s.lo, s.hi), (0.0, 0.9));
        assert_eq!(s.ticks.last().copied(), Some(0.8));
        // Every step is 1, 2 or 5 × 10^k.
        for (lo, hi) in [(0.0, 7.3), (1e-6, 3e-6), (120.0, 125_000.0), (-5.0, -4.99)] {
            let s = Scale::new(lo, hi, 5, true, ValueFormat::Plain);
            let m = s.step / 10f64.powf(s.step.log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|n| (m - n).abs() < 1e-6),
                "{lo}..{hi}: step {}",
                s.step
            );
            assert!(s.lo <= lo && s.hi >= hi);
            assert!((3..=12).contains(&s.ticks.len()), "{:?}", s.ticks);
        }
        // Degenerate ranges.
        assert_eq!(
            Scale::new(0.0, 0.0, 5, true, ValueFormat::Plain)
                .ticks
                .len(),
            6
        );
        let s = Scale::new(0.5, 0.5, 5, true, ValueFormat::Plain);
        assert!(s.lo < 0.5 && s.hi > 0.5);
        let s = Scale::new(f64::NAN, 1.0, 5, true, ValueFormat::Plain);
        assert_eq!((s.lo, s.hi), (0.0, 1.0));
        // Percent.
        let s = Scale::new(0.0, 0.5, 5, true, ValueFormat::Percent);
        assert_eq!(s.fmt_tick(0.3), "30%");
    }

    #[test]
    fn a_metric_axis_draws_differences_to_scale() {
        // AUCs of 0.73 and 0.75: the whole 0–1 axis, not one from 0.73.
        let a = metric_axis(&[Some(0.73), None, Some(0.75), Some(f64::NAN)]);
        assert_eq!(a.range, (0.0, 1.0));
        assert!(a.unit_interval);
        // Nothing to draw: still 0–1.
        assert_eq!(metric_axis(&[]).range, (0.0, 1.0));
        // An unbounded metric (an RMSE of 1,200–1,250) starts at zero.
        let a = metric_axis(&[Some(1210.0), Some(1248.0)]);
        assert!(!a.unit_interval);
        assert_eq!(a.range.0, 0.0);
        assert!(a.range.1 >= 1248.0 && a.range.1 <= 1500.0, "{:?}", a.range);
        // A negative value (an R² below zero) reaches below zero, and zero stays on the axis.
        let a = metric_axis(&[Some(-0.2), Some(0.6)]);
        assert!(
            a.range.0 <= -0.2 && a.range.0 > -0.5 && a.range.1 >= 0.6,
            "{:?}",
            a.range
        );
        // The chart drawn with that axis has its lowest tick at 0.
        let svg = line_chart(&LineChart {
            id_prefix: "m".into(),
            title: "auc".into(),
            x_labels: vec!["v1".into(), "v2".into()],
            series: vec![Series {
                name: "auc".into(),
                values: vec![Some(0.73), Some(0.75)],
            }],
            y_range: Some(metric_axis(&[Some(0.73), Some(0.75)]).range),
            ..Default::default()
        });
        assert!(
            svg.contains(">0.0</text>") && svg.contains(">1.0</text>"),
            "{svg}"
        );
        assert!(
            !svg.contains(">0.72</text>") && !svg.contains(">0.73</text>"),
            "{svg}"
        );
    }

    #[test]
    fn nice_step_values() {
        assert_eq!(nice_step(0.13), 0.2);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn fixed_never_negative_zero() {
        assert_eq!(fixed(-0.0, 2), "0.00");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(fixed(-0.5, 1), "-0.5");
        assert_eq!(fixed(f64::NAN, 2), "0");
        // Coordinates: `fixed(x, 1)` without a trailing `.0`, written without allocating.
        for i in -20_000..20_000 {
            let x = f64::from(i) * 0.0137;
            let s = fixed(x, 1);
            assert_eq!(c(x).to_string(), s.strip_suffix(".0").unwrap_or(&s), "{x}");
        }
        for x in [
            0.05,
            -0.05,
            0.95,
            -0.95,
            1e10,
            -1e10,
            f64::NAN,
            f64::INFINITY,
            -0.0,
        ] {
            let s = fixed(x, 1);
            assert_eq!(c(x).to_string(), s.strip_suffix(".0").unwrap_or(&s), "{x}");
        }
        assert_eq!(esc(FONT).to_string(), FONT_ATTR);
        assert_eq!(esc(MONO).to_string(), MONO_ATTR);
        assert_eq!(
            esc("a<b>&\"'\tc\u{1}").to_string(),
            "a&lt;b&gt;&amp;&quot;&#39; c"
        );
        assert_eq!(c(12.0).to_string(), "12");
        assert_eq!(c(-0.01).to_string(), "0");
    }

    #[test]
    fn line_chart_basics() {
        let svg = line_chart(&sample_line());
        well_formed(&svg);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"m1-title m1-desc\""));
        assert!(svg.contains("<title id=\"m1-title\">Accuracy across versions</title>"));
        assert!(svg.contains("viewBox=\"0 0 720 "));
        assert!(svg.contains("width=\"100%\""));
        assert!(svg.contains(">0.92<"), "tick label");
        assert!(svg.contains(">Version<") && svg.contains(">Accuracy (fraction)<"));
        assert!(svg.contains(">champion<"));
        assert!(svg.contains("min 0.90"), "hline label with value");
        // Legend with both series.
        assert!(svg.contains(">accuracy<") && svg.contains(">f1<"));
        // Missing values break the line: the accuracy path has two segments.
        let path = svg
            .lines()
            .find(|l| l.starts_with("<path d=\"M") && l.contains("#0072B2"))
            .expect("accuracy path");
        assert_eq!(path.matches('M').count(), 2, "{path}");
        // The missing point has no marker.
        assert!(!svg.contains("accuracy, v3:"));
        assert!(svg.contains("accuracy, v4: 0.940"));
    }

    #[test]
    fn single_series_has_no_legend() {
        let mut spec = sample_line();
        spec.series.truncate(1);
        let svg = line_chart(&spec);
        well_formed(&svg);
        assert!(!svg.contains(">accuracy</text>"));
    }

    #[test]
    fn line_chart_missing_and_non_finite_values() {
        let spec = LineChart {
            id_prefix: "d".into(),
            title: "Drift share".into(),
            x_labels: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            series: vec![Series {
                name: "share".into(),
                values: vec![Some(f64::NAN), Some(0.2), Some(f64::INFINITY), None],
            }],
            y_range: Some((0.0, 1.0)),
            y_format: ValueFormat::Percent,
            bands: vec![
                Band {
                    from: 0.3,
                    to: 0.5,
                    kind: Level::Warn,
                    label: "alert".into(),
                },
                Band {
                    from: 0.5,
                    to: f64::INFINITY,
                    kind: Level::Block,
                    label: "retrain".into(),
                },
                Band {
                    from: f64::NAN,
                    to: 1.0,
                    kind: Level::Info,
                    label: "bad".into(),
                },
            ],
            hlines: vec![HLine {
                label: "nan".into(),
                value: f64::NAN,
                kind: Level::Info,
            }],
            ..Default::default()
        };
        let svg = line_chart(&spec);
        well_formed(&svg);
        assert!(svg.contains(">alert<") && svg.contains(">retrain<"));
        assert!(!svg.contains(">bad<") && !svg.contains(">nan"));
        assert!(svg.contains(">100%<"));
        // The only finite point is isolated, so it gets a marker even without a line.
        assert!(svg.contains("share, b: 20.0%"));
        // All-empty input still renders.
        let empty = line_chart(&LineChart::default());
        well_formed(&empty);
        assert!(empty.contains("id=\"c--title\""));
    }

    #[test]
    fn escaping_everywhere() {
        let evil = "<script>alert(\"x\" & 'y')</script>";
        let spec = LineChart {
            id_prefix: "a\" onload=\"x".into(),
            title: evil.into(),
            x_title: evil.into(),
            y_title: evil.into(),
            x_labels: vec![evil.into(), "b".into()],
            series: vec![
                Series {
                    name: evil.into(),
                    values: vec![Some(1.0), Some(2.0)],
                },
                Series {
                    name: "s\u{1}2".into(),
                    values: vec![Some(1.5), None],
                },
            ],
            hlines: vec![HLine {
                label: evil.into(),
                value: 1.5,
                kind: Level::Warn,
            }],
            highlight: Some((0, 1, evil.into())),
            ..Default::default()
        };
        let bars = BarChart {
            id_prefix: "b".into(),
            title: evil.into(),
            x_title: evil.into(),
            groups: vec![BarGroup {
                label: evil.into(),
                bars: vec![
                    Bar {
                        label: evil.into(),
                        value: Some(0.1),
                    },
                    Bar {
                        label: "x".into(),
                        value: None,
                    },
                ],
            }],
            thresholds: vec![RefLine {
                label: evil.into(),
                value: 0.2,
                kind: Level::Block,
            }],
            ..Default::default()
        };
        let heat = HeatStrip {
            id_prefix: "h".into(),
            title: evil.into(),
            rows: vec![evil.into()],
            cols: vec![evil.into()],
            cells: vec![vec![Some(HeatCell {
                score: 0.5,
                drifted: true,
            })]],
            ..Default::default()
        };
        let lin = Lineage {
            id_prefix: "l".into(),
            title: evil.into(),
            nodes: vec![Node {
                id: "a".into(),
                kind: evil.into(),
                label: evil.into(),
                detail: Some(evil.into()),
                href: Some("x.html?a=1&b=\"2\"".into()),
            }],
            ..Default::default()
        };
        for svg in [
            line_chart(&spec),
            bar_chart(&bars),
            heat_strip(&heat),
            lineage_graph(&lin),
        ] {
            well_formed(&svg);
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("\"x\""), "{svg}");
            assert!(!svg.contains('\u{1}'));
            assert!(
                svg.contains("&lt;script&gt;") || svg.contains("&lt;script"),
                "{svg}"
            );
        }
        let l = lineage_graph(&lin);
        assert!(l.contains("href=\"x.html?a=1&amp;b=&quot;2&quot;\""), "{l}");
        let s = line_chart(&spec);
        assert!(s.contains("id=\"a--onload--x-title\""));
        assert!(s.contains("&quot;x&quot; &amp; &#39;y&#39;"));
    }

    #[test]
    fn deterministic_output() {
        let a = line_chart(&sample_line());
        let b = line_chart(&sample_line());
        assert_eq!(a, b);
        let lin = sample_lineage();
        assert_eq!(lineage_graph(&lin), lineage_graph(&lin.clone()));
        let h = sample_heat();
        assert_eq!(heat_strip(&h), heat_strip(&h.clone()));
        let bc = sample_bars();
        assert_eq!(bar_chart(&bc), bar_chart(&bc.clone()));
    }

    #[test]
    fn unique_ids_per_prefix() {
        let mut a = sample_line();
        a.id_prefix = "one".into();
        let mut b = sample_line();
        b.id_prefix = "two".into();
        let (sa, sb) = (line_chart(&a), line_chart(&b));
        let ids = |s: &str| -> Vec<String> {
            s.match_indices(" id=\"")
                .map(|(i, _)| {
                    let t = &s[i + 5..];
                    t[..t.find('"').unwrap_or(0)].to_string()
                })
                .collect()
        };
        let ia = ids(&sa);
        assert!(ia.iter().all(|i| i.starts_with("one-")), "{ia:?}");
        assert!(ids(&sb).iter().all(|i| i.starts_with("two-")));
        assert!(sa.contains("url(#one-clip)"));
    }

    fn sample_bars() -> BarChart {
        let g = |label: &str, v: [Option<f64>; 3]| BarGroup {
            label: label.into(),
            bars: [
                "demographic_parity",
                "equal_opportunity",
                "predictive_parity",
            ]
            .iter()
            .zip(v)
            .map(|(l, v)| Bar {
                label: l.to_string(),
                value: v,
            })
            .collect(),
        };
        BarChart {
            id_prefix: "bias".into(),
            title: "Bias by protected attribute".into(),
            x_title: "Disparity (absolute difference)".into(),
            groups: vec![
                g("sex", [Some(0.04), Some(0.12), Some(0.02)]),
                g("age_group", [Some(0.21), None, Some(0.07)]),
            ],
            thresholds: vec![
                RefLine {
                    label: "warn".into(),
                    value: 0.1,
                    kind: Level::Warn,
                },
                RefLine {
                    label: "block".into(),
                    value: 0.2,
                    kind: Level::Block,
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn bar_chart_basics() {
        let svg = bar_chart(&sample_bars());
        well_formed(&svg);
        assert!(svg.contains(">sex<") && svg.contains(">age_group<"));
        assert!(svg.contains(">warn 0.10<") && svg.contains(">block 0.20<"));
        assert!(svg.contains(">0.120<"), "value label");
        assert!(svg.contains(">n/a<"));
        assert!(svg.contains("age_group — equal_opportunity: no data"));
        // Legend entries for the three metrics.
        for m in [
            "demographic_parity",
            "equal_opportunity",
            "predictive_parity",
        ] {
            assert!(svg.contains(&format!(">{m}</text>")), "{m}");
        }
        // Same metric, same colour in both groups.
        let color = |tip: &str| {
            let line = svg.lines().find(|l| l.contains(tip)).expect("bar");
            let i = line.find("fill=\"").expect("fill") + 6;
            line[i..i + 7].to_string()
        };
        assert_eq!(
            color("sex — predictive_parity"),
            color("age_group — predictive_parity")
        );
    }

    #[test]
    fn bar_chart_negative_and_empty() {
        let spec = BarChart {
            groups: vec![BarGroup {
                label: "g".into(),
                bars: vec![Bar {
                    label: "delta".into(),
                    value: Some(-0.3),
                }],
            }],
            ..Default::default()
        };
        let svg = bar_chart(&spec);
        well_formed(&svg);
        assert!(svg.contains(">-0.3<") || svg.contains(">-0.30<"));
        assert!(svg.contains("text-anchor=\"end\""));
        well_formed(&bar_chart(&BarChart::default()));
    }

    fn sample_heat() -> HeatStrip {
        HeatStrip {
            id_prefix: "heat".into(),
            title: "Drift by feature".into(),
            x_title: "Monitoring run".into(),
            score_title: "Drift score".into(),
            rows: vec![
                "age".into(),
                "income".into(),
                "a_very_long_feature_name_indeed_yes".into(),
            ],
            cols: vec![
                "2024-05-01".into(),
                "2024-05-08".into(),
                "2024-05-15".into(),
            ],
            cells: vec![
                vec![
                    Some(HeatCell {
                        score: 0.1,
                        drifted: false,
                    }),
                    Some(HeatCell {
                        score: 0.8,
                        drifted: true,
                    }),
                    None,
                ],
                vec![Some(HeatCell {
                    score: f64::NAN,
                    drifted: false,
                })],
            ],
            ..Default::default()
        }
    }

    #[test]
    fn heat_strip_basics() {
        let svg = heat_strip(&sample_heat());
        well_formed(&svg);
        assert!(svg.contains("<title>age, 2024-05-08: 0.800 (drifted)</title>"));
        assert!(svg.contains("<title>age, 2024-05-01: 0.100</title>"));
        assert!(svg.contains("<title>age, 2024-05-15: no data</title>"));
        // NaN and ragged rows are "no data".
        assert!(svg.contains("<title>income, 2024-05-01: no data</title>"));
        assert!(svg.contains("<title>income, 2024-05-15: no data</title>"));
        // Seven cells and the legend swatch.
        assert_eq!(
            svg.matches("fill=\"url(#heat-nodata)\"").count(),
            1 + 3 + 3 + 1
        );
        // One drifted dot plus the legend's.
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(">no data<") && svg.contains(">drifted<"));
        assert!(svg.contains(">Drift score<"));
        // Long row labels are truncated with the full name in a tooltip.
        assert!(svg.contains("a_very_long_feature_nam…"));
        assert!(svg.contains("<title>a_very_long_feature_name_indeed_yes</title>"));
        well_formed(&heat_strip(&HeatStrip::default()));
    }

    #[test]
    fn heat_colours() {
        assert_eq!(hex(heat_rgb(0.0)), "#fcfdbf");
        assert_eq!(hex(heat_rgb(1.0)), "#51127c");
        assert_eq!(hex(heat_rgb(2.0)), "#51127c");
        assert!(is_light(heat_rgb(0.0)));
        assert!(!is_light(heat_rgb(1.0)));
    }

    fn sample_lineage() -> Lineage {
        let n =
            |id: &str, kind: &str, label: &str, detail: Option<&str>, href: Option<&str>| Node {
                id: id.into(),
                kind: kind.into(),
                label: label.into(),
                detail: detail.map(String::from),
                href: href.map(String::from),
            };
        Lineage {
            id_prefix: "lin".into(),
            title: "Lineage of churn v3".into(),
            nodes: vec![
                n(
                    "raw",
                    "raw_data",
                    "s3://bucket/raw/2024-05",
                    Some("a1b2c3d"),
                    None,
                ),
                n(
                    "pipe",
                    "pipeline",
                    "features.py",
                    None,
                    Some("../pipelines/features.html"),
                ),
                n("ds", "dataset", "churn-train", Some("sha256:9f8e7d"), None),
                n(
                    "commit",
                    "commit",
                    "Tune regularisation",
                    Some("4e5f6a7"),
                    None,
                ),
                n("run", "run", "run-42", None, Some("javascript:alert(1)")),
                n(
                    "v3",
                    "version",
                    "churn v3",
                    None,
                    Some("https://example.com/v3"),
                ),
                n("prod", "alias", "production", None, None),
            ],
            edges: vec![
                ("raw".into(), "pipe".into()),
                ("pipe".into(), "ds".into()),
                ("ds".into(), "run".into()),
                ("commit".into(), "run".into()),
                ("run".into(), "v3".into()),
                ("v3".into(), "prod".into()),
                ("v3".into(), "missing".into()),
                ("v3".into(), "v3".into()),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn lineage_layout_and_links() {
        let svg = lineage_graph(&sample_lineage());
        well_formed(&svg);
        assert!(svg.contains("role=\"group\""));
        assert!(svg.contains("<a href=\"../pipelines/features.html\">"));
        assert!(svg.contains("<a href=\"https://example.com/v3\">"));
        assert!(!svg.contains("javascript"), "javascript: href dropped");
        assert!(
            svg.contains(">run-42<"),
            "node still drawn without its link"
        );
        // Six valid edges, each with an arrow.
        assert_eq!(svg.matches("marker-end=\"url(#lin-arrow)\"").count(), 6);
        // Legend of the kinds present.
        for k in [
            "raw data", "pipeline", "dataset", "commit", "run", "version", "alias",
        ] {
            assert!(svg.contains(&format!(">{k}</text>")), "{k}");
        }
        assert!(!svg.contains(">batch</text>"));
        // Long labels are truncated and kept in full in the tooltip.
        let mut spec = sample_lineage();
        spec.nodes[0].label = "x".repeat(60);
        let svg = lineage_graph(&spec);
        assert!(svg.contains(&format!(">{}<", "x".repeat(20))));
        assert!(svg.contains(&format!(">{}…<", "x".repeat(19))));
        assert!(svg.contains(&format!("raw data: {} (a1b2c3d)", "x".repeat(60))));
    }

    #[test]
    fn lineage_columns_follow_longest_path() {
        let svg = lineage_graph(&sample_lineage());
        let x_of = |label: &str| -> f64 {
            let i = svg.find(&format!(">{label}</text>")).expect("label");
            let start = svg[..i].rfind("<text x=\"").expect("text") + 9;
            let t = &svg[start..];
            t[..t.find('"').unwrap_or(0)].parse().expect("x")
        };
        let order = [
            "s3://bucket/raw/",
            "features.py",
            "churn-train",
            "run-42",
            "churn v3",
            "production",
        ];
        for w in order.windows(2) {
            assert!(x_of(w[0]) < x_of(w[1]), "{} before {}", w[0], w[1]);
        }
        // The commit source is pulled next to the run it feeds.
        assert_eq!(x_of("Tune regularisation"), x_of("churn-train"));
    }

    #[test]
    fn lineage_survives_cycles_and_duplicates() {
        let spec = Lineage {
            nodes: vec![
                Node {
                    id: "a".into(),
                    kind: "run".into(),
                    label: "A".into(),
                    ..Default::default()
                },
                Node {
                    id: "b".into(),
                    kind: "run".into(),
                    label: "B".into(),
                    ..Default::default()
                },
                Node {
                    id: "a".into(),
                    kind: "run".into(),
                    label: "dup".into(),
                    ..Default::default()
                },
            ],
            edges: vec![("a".into(), "b".into()), ("b".into(), "a".into())],
            ..Default::default()
        };
        let svg = lineage_graph(&spec);
        well_formed(&svg);
        assert!(!svg.contains(">dup<"));
        assert!(svg.contains("role=\"img\""));
        well_formed(&lineage_graph(&Lineage::default()));
    }

    #[test]
    fn label_wrapping() {
        assert_eq!(wrap2("short", 20), vec!["short"]);
        assert_eq!(
            wrap2("s3://lake/raw/customers/2024-05-01/part-0000.parquet", 20),
            vec!["s3://lake/raw/", "customers/2024-05-0…"]
        );
        assert_eq!(
            wrap2("Tune L2 regularisation now", 20),
            vec!["Tune L2", "regularisation now"]
        );
        assert_eq!(
            wrap2(&"é".repeat(25), 20),
            vec!["é".repeat(20), "é".repeat(5)]
        );
    }

    #[test]
    fn href_filter() {
        assert_eq!(safe_href("page.html#x"), Some("page.html#x"));
        assert_eq!(safe_href("../a/b.html"), Some("../a/b.html"));
        assert_eq!(safe_href("a:b/c"), None);
        assert_eq!(safe_href("dir/a:b"), Some("dir/a:b"));
        assert_eq!(safe_href("HTTPS://x.org"), Some("HTTPS://x.org"));
        assert_eq!(safe_href(" http://x.org "), Some("http://x.org"));
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href("JavaScript:alert(1)"), None);
        assert_eq!(safe_href("java\tscript:alert(1)"), None);
        assert_eq!(safe_href("\u{1}javascript:alert(1)"), None);
        assert_eq!(safe_href("data:text/html,x"), None);
        assert_eq!(safe_href("vbscript:x"), None);
        assert_eq!(safe_href("//evil.example/x"), None);
        assert_eq!(safe_href("/\\evil.example"), None);
        assert_eq!(safe_href(""), None);
    }

    #[test]
    fn crowded_labels_are_thinned() {
        let shown = shown_labels(100, 60.0, 600.0);
        assert!(shown[99], "last label always shown");
        let count = shown.iter().filter(|&&s| s).count();
        assert!((5..=9).contains(&count), "{count}");
        assert!(shown_labels(3, 10.0, 600.0).iter().all(|&s| s));
        assert!(shown_labels(0, 10.0, 600.0).is_empty());
    }
}
