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

/// Writes formatted text to a `String`. Writing to a `String` cannot fail.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = write!($dst, $($arg)*);
    }};
}

/// Appends pieces (`&str` as is, `c(x)` as a coordinate, `esc(s)` escaped).
macro_rules! put {
    ($out:expr, $($p:expr),* $(,)?) => {{
        $( Put::put($p, &mut *$out); )*
    }};
}

mod axis;
mod bar;
mod format;
mod heat;
mod line;
mod lineage;
mod style;
mod svg;
#[cfg(test)]
mod tests;

pub use axis::*;
pub use bar::*;
pub use format::*;
pub use heat::*;
pub use line::*;
pub use lineage::*;
pub use style::*;
use svg::*;
