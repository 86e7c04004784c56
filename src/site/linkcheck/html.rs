//! The HTML tokenizer: a page's links and anchors, with their lines.

use super::*;

/// The links and anchors of one page.
#[derive(Debug, Default)]
pub(super) struct Page {
    /// `(line, link)` in document order, with character references decoded.
    pub(super) links: Vec<(usize, String)>,
    /// Values of `id` attributes and of `name` on `<a>`.
    pub(super) anchors: FastSet<String>,
}

/// Counts lines up to increasing byte positions.
pub(super) struct Lines<'a> {
    pub(super) text: &'a [u8],
    pub(super) pos: usize,
    pub(super) line: usize,
}

impl Lines<'_> {
    pub(super) fn at(&mut self, pos: usize) -> usize {
        if pos > self.pos {
            let end = pos.min(self.text.len());
            self.line += memchr::memchr_iter(b'\n', &self.text[self.pos..end]).count();
            self.pos = end;
        }
        self.line
    }
}

/// Finds a short `needle` in `hay` at or after `from`.
pub(super) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|p| from + p)
}

/// Finds the end tag `</name` (ASCII case-insensitive) at or after `from`.
pub(super) fn find_end_tag(hay: &[u8], name: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find(hay, b"</", i) {
        let start = p + 2;
        let end = start + name.len();
        if end <= hay.len()
            && hay[start..end].eq_ignore_ascii_case(name)
            && hay
                .get(end)
                .is_none_or(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        {
            return Some(p);
        }
        i = p + 2;
    }
    None
}

/// ASCII-lowercases a short name into `buf`; names longer than the buffer (never a name this
/// checker cares about) become empty.
pub(super) fn lower<'b>(name: &[u8], buf: &'b mut [u8; 16]) -> &'b str {
    if name.len() > buf.len() {
        return "";
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..name.len()]).unwrap_or("")
}

/// Attributes that hold links, by element name.
pub(super) fn link_attr(tag: &str, attr: &str) -> bool {
    match attr {
        "href" | "xlink:href" => matches!(tag, "a" | "area" | "link" | "image"),
        "src" => matches!(
            tag,
            "script"
                | "img"
                | "iframe"
                | "source"
                | "audio"
                | "video"
                | "embed"
                | "track"
                | "input"
        ),
        _ => false,
    }
}

/// Scans a page for links and anchors.
pub(super) fn parse(html: &[u8]) -> Page {
    let mut page = Page::default();
    let mut lines = Lines {
        text: html,
        pos: 0,
        line: 1,
    };
    let n = html.len();
    let mut i = 0;
    while let Some(off) = html.get(i..).and_then(|r| memchr::memchr(b'<', r)) {
        i += off;
        let rest = &html[i..];
        if rest.starts_with(b"<!--") {
            match find(html, b"-->", i + 4) {
                Some(e) => i = e + 3,
                None => break,
            }
        } else if rest.starts_with(b"<![CDATA[") {
            match find(html, b"]]>", i + 9) {
                Some(e) => i = e + 3,
                None => break,
            }
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") || rest.starts_with(b"</") {
            match find(html, b">", i + 2) {
                Some(e) => i = e + 1,
                None => break,
            }
        } else if rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
            // Start tag: name, then attributes.
            let mut j = i + 1;
            while j < n && !html[j].is_ascii_whitespace() && html[j] != b'>' && html[j] != b'/' {
                j += 1;
            }
            let mut buf = [0u8; 16];
            let tag = lower(&html[i + 1..j], &mut buf);
            j = parse_attrs(html, j, tag, &mut page, &mut lines);
            i = j;
            if matches!(tag, "script" | "style" | "textarea" | "title" | "xmp") {
                match find_end_tag(html, tag.as_bytes(), i) {
                    Some(e) => i = e,
                    None => break,
                }
            }
        } else {
            i += 1;
        }
    }
    page
}

/// Parses attributes from `j` to the end of the tag; returns the position after `>`.
pub(super) fn parse_attrs(
    html: &[u8],
    mut j: usize,
    tag: &str,
    page: &mut Page,
    lines: &mut Lines,
) -> usize {
    let n = html.len();
    loop {
        while j < n && (html[j].is_ascii_whitespace() || html[j] == b'/') {
            j += 1;
        }
        if j >= n {
            return n;
        }
        if html[j] == b'>' {
            return j + 1;
        }
        let name_start = j;
        while j < n && !html[j].is_ascii_whitespace() && !matches!(html[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        if j == name_start {
            // A stray `=`: skip it.
            j += 1;
            continue;
        }
        // Only `id`, `src`, `href`, `name` and `xlink:href` matter: other names are not even
        // lowercased.
        let mut buf = [0u8; 16];
        let name = match j - name_start {
            2 | 3 | 4 | 10 => lower(&html[name_start..j], &mut buf),
            _ => "",
        };
        while j < n && html[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= n || html[j] != b'=' {
            continue; // Attribute without a value.
        }
        j += 1;
        while j < n && html[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= n {
            return n;
        }
        let (vstart, vend) = if html[j] == b'"' || html[j] == b'\'' {
            let q = html[j];
            let start = j + 1;
            let end = memchr::memchr(q, &html[start..]).map_or(n, |p| start + p);
            j = (end + 1).min(n);
            (start, end)
        } else {
            let start = j;
            while j < n && !html[j].is_ascii_whitespace() && html[j] != b'>' {
                j += 1;
            }
            (start, j)
        };
        let is_link = link_attr(tag, name);
        let is_anchor = name == "id" || (name == "name" && tag == "a");
        if is_link || is_anchor {
            let value = decode_entities(&String::from_utf8_lossy(&html[vstart..vend]));
            if is_link {
                page.links.push((lines.at(vstart), value));
            } else if !value.is_empty() {
                page.anchors.insert(value);
            }
        }
    }
}

/// Decodes HTML character references: the common named ones and numeric ones. Unknown
/// references are kept as written.
pub(super) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let decoded = rest[1..].find(';').and_then(|semi| {
            let body = &rest[1..1 + semi];
            let ch = if let Some(num) = body.strip_prefix('#') {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => num.parse::<u32>().ok(),
                };
                code.map(|c| char::from_u32(c).unwrap_or('\u{FFFD}'))
            } else {
                match body {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "nbsp" => Some('\u{a0}'),
                    "sol" => Some('/'),
                    "num" => Some('#'),
                    "quest" => Some('?'),
                    "equals" => Some('='),
                    "colon" => Some(':'),
                    "period" => Some('.'),
                    "percnt" => Some('%'),
                    "lpar" => Some('('),
                    "rpar" => Some(')'),
                    "Tab" => Some('\t'),
                    "NewLine" => Some('\n'),
                    _ => None,
                }
            };
            ch.map(|c| (c, semi + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
