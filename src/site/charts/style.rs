//! The charts' style: fonts, colours, severity levels and value formats.

// The font stacks; the charts write them pre-escaped (`FONT_ATTR`, `MONO_ATTR`, checked in tests).
#[cfg(test)]
pub(super) const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
#[cfg(test)]
pub(super) const MONO: &str =
    "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";
/// `FONT` and `MONO` escaped for an attribute (written into every chart and lineage node).
pub(super) const FONT_ATTR: &str = "system-ui, -apple-system, &#39;Segoe UI&#39;, Roboto, &#39;Helvetica Neue&#39;, Arial, sans-serif";
pub(super) const MONO_ATTR: &str =
    "ui-monospace, SFMono-Regular, Menlo, Consolas, &#39;Liberation Mono&#39;, monospace";
pub(super) const INK: &str = "#1f2328";
pub(super) const MUTED: &str = "#57606a";
pub(super) const GRID: &str = "#e6e8eb";
pub(super) const AXIS: &str = "#8c959f";
/// The Okabe–Ito palette, in the order used for series and bars. Orange and vermillion come last
/// because reference lines use them for "warn" and "block".
pub(super) const PALETTE: [&str; 7] = [
    "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#D55E00", "#000000",
];
/// Dash patterns for line series, by series index (cycled).
pub(super) const DASHES: [&str; 4] = ["", "7 4", "2 3", "10 3 2 3"];
/// Canvas width of the line, bar and heat-strip charts in `viewBox` units.
pub(super) const WIDTH: f64 = 720.0;

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
    pub(super) fn stroke(self) -> &'static str {
        match self {
            Level::Info => "#4f7ea8",
            Level::Warn => "#E69F00",
            Level::Block => "#D55E00",
        }
    }
    pub(super) fn dash(self) -> &'static str {
        match self {
            Level::Info => "2 3",
            Level::Warn => "6 4",
            Level::Block => "",
        }
    }
    /// A darker shade of the stroke, with enough contrast for text on white.
    pub(super) fn text(self) -> &'static str {
        match self {
            Level::Info => "#2f5d87",
            Level::Warn => "#8a5a00",
            Level::Block => "#a33a00",
        }
    }
    pub(super) fn band(self) -> (&'static str, &'static str) {
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
