//! Pieces every chart shares: the root `<svg>` element, markers and the legend.

use super::*;
use std::fmt::Write as _;

/// What opens a chart: its kind (the class `mg-chart-<kind>`), the caller's id prefix, title and
/// description, and its role (`img`, or `group` when the chart holds links).
pub(super) struct Head<'a> {
    kind: &'a str,
    id_prefix: &'a str,
    title: &'a str,
    desc: &'a str,
    role: &'a str,
}

impl<'a> Head<'a> {
    /// A chart that is one image.
    pub(super) fn new(kind: &'a str, id_prefix: &'a str, title: &'a str, desc: &'a str) -> Self {
        Head {
            kind,
            id_prefix,
            title,
            desc,
            role: "img",
        }
    }

    /// The same with another role.
    pub(super) fn role(self, role: &'a str) -> Self {
        Head { role, ..self }
    }

    /// Opens the root `<svg>` element of `size` (width, height), with the title and the
    /// description (the caller's, else `generated()`), into a new output of `capacity`. Returns
    /// the prefix of the chart's ids (sanitized) and the output.
    pub(super) fn open(
        &self,
        (w, h): (f64, f64),
        capacity: usize,
        generated: impl FnOnce() -> String,
    ) -> (String, String) {
        let p = sanitize_id(self.id_prefix);
        let desc = if self.desc.is_empty() {
            generated()
        } else {
            self.desc.to_string()
        };
        let (class, role, title) = (self.kind, self.role, self.title);
        let mut out = String::with_capacity(capacity);
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
        w!(out, "<desc id=\"{p}-desc\">{}</desc>\n", esc(&desc));
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
        (p, out)
    }
}

/// A marker shape centred on `(x, y)`.
pub(super) fn marker(out: &mut String, shape: usize, x: f64, y: f64, fill: &str, tip: &str) {
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
pub(super) fn legend(
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
