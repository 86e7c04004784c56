//! Writing SVG text: escaping, fixed-precision numbers and coordinates, text widths.

use std::fmt;
use std::fmt::Write as _;

/// Escapes text for XML content and attribute values. Tabs and newlines become spaces, and
/// characters that XML 1.0 forbids are dropped.
/// Escapes text for XML and HTML text and attributes (tabs and newlines become spaces, other
/// control characters are dropped).
pub fn escape(s: &str) -> String {
    esc(s).to_string()
}

/// Text escaped for XML, written straight into the output (no intermediate string).
pub(super) fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

pub(super) struct Esc<'a>(&'a str);

impl Esc<'_> {
    /// Hands the escaped text to `push` in pieces.
    pub(super) fn pieces(&self, mut push: impl FnMut(&str) -> fmt::Result) -> fmt::Result {
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
pub(super) fn sanitize_id(p: &str) -> String {
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
pub(super) fn fixed(x: f64, d: usize) -> String {
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
pub(super) fn c(x: f64) -> Coord {
    Coord(x)
}

pub(super) struct Coord(f64);

impl Coord {
    /// Writes the coordinate into a small buffer; `None` outside the integer fast path.
    pub(super) fn digits(&self, buf: &mut [u8; 24]) -> Option<usize> {
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
pub(super) trait Put {
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

/// Estimated width of `s` in a sans-serif font of `size` px.
pub(super) fn text_w(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * 0.6 * size
}

/// Truncates to at most `max` characters, ending with `…` when cut.
pub(super) fn truncate(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        (s.to_string(), false)
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        (t, true)
    }
}

/// The width of the widest of `labels`, each truncated to `chars` characters, at font `size`;
/// at least `floor`.
pub(super) fn widest<'a>(
    labels: impl IntoIterator<Item = &'a str>,
    chars: usize,
    size: f64,
    floor: f64,
) -> f64 {
    labels
        .into_iter()
        .map(|l| text_w(&truncate(l, chars).0, size))
        .fold(floor, f64::max)
}

/// `s`, or `fallback` when `s` is empty.
pub(super) fn nonempty<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    if s.is_empty() { fallback } else { s }
}

/// The tooltip of a truncated label: its full text, when it was `cut`.
pub(super) fn cut_tip(full: &str, cut: bool) -> String {
    if cut {
        format!("<title>{}</title>", esc(full))
    } else {
        String::new()
    }
}
