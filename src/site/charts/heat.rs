//! Heat strips: one row of cells per feature, coloured by a drift score.

use super::*;
use std::fmt::Write as _;

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

/// Colour stops of the heat scale: a light-to-dark sequential ramp (reversed magma), which is
/// ordered by lightness and so readable with any colour-vision deficiency and in greyscale.
pub(super) const HEAT: [(f64, [u8; 3]); 6] = [
    (0.0, [0xfc, 0xfd, 0xbf]),
    (0.2, [0xfe, 0xc2, 0x87]),
    (0.4, [0xfb, 0x87, 0x61]),
    (0.6, [0xe5, 0x59, 0x64]),
    (0.8, [0xb5, 0x36, 0x7a]),
    (1.0, [0x51, 0x12, 0x7c]),
];

pub(super) fn heat_rgb(t: f64) -> [u8; 3] {
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

pub(super) fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// Whether black text or marks would have more contrast on `rgb` than white.
pub(super) fn is_light(rgb: [u8; 3]) -> bool {
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
    let f = HeatFrame::new(spec);
    let (p, mut out) = Head::new("heat", &spec.id_prefix, &spec.title, &spec.desc).open(
        (f.width, f.height),
        16384 + f.nr * f.nc * 120,
        || f.desc(),
    );
    heat_defs(&mut out, &p);
    f.row_labels(&mut out);
    f.cells(&mut out, &p);
    f.col_labels(&mut out);
    f.legend(&mut out, &p);
    out.push_str("</svg>\n");
    out
}

/// The longest row and column labels shown, in characters.
const ROW_CHARS: usize = 24;
const COL_CHARS: usize = 12;
/// The height of a cell, and the top of the grid.
const CELL_H: f64 = 20.0;
const GRID_TOP: f64 = 44.0;

/// The hatching of cells without data and the gradient of the legend's colour scale.
fn heat_defs(out: &mut String, p: &str) {
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
}

/// A heat strip's layout: where the grid, its labels and the legend sit.
struct HeatFrame<'s> {
    spec: &'s HeatStrip,
    /// The number of rows and of columns.
    nr: usize,
    nc: usize,
    /// The left edge of the grid.
    left: f64,
    /// The widest column label.
    col_w: f64,
    cell_w: f64,
    grid_w: f64,
    width: f64,
    bottom: f64,
    col_label_y: f64,
    x_title_y: f64,
    legend_y: f64,
    height: f64,
}

impl<'s> HeatFrame<'s> {
    fn new(spec: &'s HeatStrip) -> HeatFrame<'s> {
        let nr = spec.rows.len();
        let nc = spec.cols.len();
        let label_w = widest(spec.rows.iter().map(String::as_str), ROW_CHARS, 12.0, 40.0);
        let left = 16.0 + label_w + 10.0;
        // Column labels are centred under their cells; the right margin leaves room for the last.
        let col_w = widest(spec.cols.iter().map(String::as_str), COL_CHARS, 11.0, 0.0);
        let right_margin = (col_w / 2.0).max(20.0);
        let avail = WIDTH - right_margin - left;
        let cell_w = if nc == 0 {
            avail
        } else {
            (avail / nc as f64).clamp(4.0, 36.0)
        };
        let grid_w = cell_w * nc as f64;
        let width = (left + grid_w + right_margin).max(WIDTH);
        let bottom = GRID_TOP + CELL_H * nr as f64;
        let col_label_y = bottom + 16.0;
        let x_title_y = col_label_y + 22.0;
        let legend_y = if spec.x_title.is_empty() {
            col_label_y + 16.0
        } else {
            x_title_y + 14.0
        };
        HeatFrame {
            spec,
            nr,
            nc,
            left,
            col_w,
            cell_w,
            grid_w,
            width,
            bottom,
            col_label_y,
            x_title_y,
            legend_y,
            height: legend_y + 46.0,
        }
    }

    /// The cell at row `r`, column `col`, with its score clamped to `[0, 1]`; `None` without
    /// data.
    fn cell(&self, r: usize, col: usize) -> Option<HeatCell> {
        self.spec
            .cells
            .get(r)
            .and_then(|row| row.get(col).copied().flatten())
            .filter(|cl| cl.score.is_finite())
            .map(|cl| HeatCell {
                score: cl.score.clamp(0.0, 1.0),
                drifted: cl.drifted,
            })
    }

    /// The accessible description: the size, the drifted cells and how many have no data.
    fn desc(&self) -> String {
        let spec = self.spec;
        let (nr, nc) = (self.nr, self.nc);
        let mut drifted: Vec<String> = Vec::new();
        let mut missing = 0usize;
        for r in 0..nr {
            for col in 0..nc {
                match self.cell(r, col) {
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
            nonempty(&spec.score_title, "scores"),
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
    }

    /// The row labels, right-aligned left of the grid.
    fn row_labels(&self, out: &mut String) {
        out.push_str("<g font-size=\"12\">\n");
        for (r, name) in self.spec.rows.iter().enumerate() {
            let (t, cut) = truncate(name, ROW_CHARS);
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"central\">{}{}</text>\n",
                c(self.left - 8.0),
                c(GRID_TOP + CELL_H * (r as f64 + 0.5)),
                esc(&t),
                cut_tip(name, cut)
            );
        }
        out.push_str("</g>\n");
    }

    /// The cells: coloured by score with a dot when drifted, hatched without data.
    fn cells(&self, out: &mut String, p: &str) {
        let cell_w = self.cell_w;
        let dot_r = (cell_w.min(CELL_H) * 0.2).clamp(1.5, 3.5);
        out.push_str("<g stroke=\"#ffffff\" stroke-width=\"1\">\n");
        for r in 0..self.nr {
            for col in 0..self.nc {
                let x = self.left + cell_w * col as f64;
                let y = GRID_TOP + CELL_H * r as f64;
                let row_name = &self.spec.rows[r];
                let col_name = &self.spec.cols[col];
                let Some(cl) = self.cell(r, col) else {
                    w!(
                        out,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"url(#{p}-nodata)\"><title>{}</title></rect>\n",
                        c(x),
                        c(y),
                        c(cell_w),
                        c(CELL_H),
                        esc(&format!("{row_name}, {col_name}: no data"))
                    );
                    continue;
                };
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
                    c(CELL_H),
                    hex(rgb),
                    esc(&tip)
                );
                if cl.drifted {
                    let mark = if is_light(rgb) { INK } else { "#ffffff" };
                    w!(
                        out,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{mark}\" stroke=\"none\" pointer-events=\"none\"/>\n",
                        c(x + cell_w / 2.0),
                        c(y + CELL_H / 2.0),
                        c(dot_r)
                    );
                }
            }
        }
        out.push_str("</g>\n");
    }

    /// The column labels (thinned when crowded) with their ticks, and the x axis title.
    fn col_labels(&self, out: &mut String) {
        let (bottom, col_w) = (self.bottom, self.col_w);
        let shown = shown_labels(self.nc, col_w, self.grid_w.max(1.0));
        out.push_str("<g font-size=\"11\">\n");
        for (col, &show) in shown.iter().enumerate() {
            if !show {
                continue;
            }
            let x = self.left + self.cell_w * (col as f64 + 0.5);
            let (t, cut) = truncate(&self.spec.cols[col], COL_CHARS);
            let anchor = if x + col_w / 2.0 > self.width - 4.0 {
                "end"
            } else if x - col_w / 2.0 < 4.0 {
                "start"
            } else {
                "middle"
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
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{MUTED}\">{}{}</text>\n",
                c(x),
                c(self.col_label_y),
                esc(&t),
                cut_tip(&self.spec.cols[col], cut)
            );
        }
        out.push_str("</g>\n");
        if !self.spec.x_title.is_empty() {
            w!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{MUTED}\">{}</text>\n",
                c(self.left + self.grid_w / 2.0),
                c(self.x_title_y),
                esc(&truncate(&self.spec.x_title, 80).0)
            );
        }
    }

    /// The legend: the colour scale, "no data" and "drifted".
    fn legend(&self, out: &mut String, p: &str) {
        let (st, _) = truncate(nonempty(&self.spec.score_title, "Score"), 24);
        let lx = 16.0;
        let ly = self.legend_y;
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
    }
}
