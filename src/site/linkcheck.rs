//! A link checker for the built static site, in the manner of Zola's internal link check.
//!
//! The build parses each page it writes with [`parse_page`], on the thread that rendered it,
//! collecting the links (`href` and `src` of the elements that load or link a resource) and the
//! anchors (`id` on any element, `name` on `<a>`). [`check_parsed`] then checks every relative
//! link of those pages against the set of files in the site and the anchors of the target page;
//! a page that was not parsed (an unchanged page of an incremental rebuild) is read only when a
//! link points into it with a fragment. This is the one checking path: the build and the tests
//! call it alike.
//!
//! The parser is a small HTML tokenizer, not a regular expression. It skips comments, doctype
//! and CDATA sections, and the raw text of `<script>`, `<style>`, `<textarea>` and `<title>`. Text
//! content is never read as markup, so an escaped `&lt;a href="…"&gt;` in `<pre>`/`<code>` is not
//! a link. Attribute values may be double-quoted, single-quoted or unquoted, and character
//! references (`&amp;`, `&#38;`, `&#x26;`, …) are decoded. A real `<a>` element inside `<code>`
//! (as rustdoc emits) is a real link and is checked.
//!
//! Links are `href` on `<a>`, `<area>`, `<link>` and SVG `<image>` (also `xlink:href`), and `src`
//! on `<script>`, `<img>`, `<iframe>`, `<source>`, `<audio>`, `<video>`, `<embed>`, `<track>`
//! and `<input>`. `srcset` is not checked.
//!
//! Link rules. The site must work from `file://`, so every internal link must be relative.
//!
//! - Skipped: links with a scheme (`http:`, `https:`, `mailto:`, `data:`, `tel:`, …),
//!   protocol-relative links (`//host/…`) and empty links.
//! - Reported: absolute paths (`/…`); paths that climb above the root (`../../etc/passwd`);
//!   targets that do not exist; and `#fragment`s with no matching anchor in the target page.
//!   Fragments are only checked in HTML targets. `#top` and an empty fragment are always valid,
//!   as in browsers.
//! - Resolution: relative to the linking file's directory. Query strings are dropped, each
//!   segment is percent-decoded (so `%2e%2e` is `..`), `\` counts as `/`, and a path ending in
//!   `/` or naming a directory means that directory's `index.html`.
//!
//! Speed: a map of every file (with its anchors, for pages) answers the existence and anchor
//! questions of a link in one hash lookup (Fx hash, from `rustc-hash`), without a system call;
//! the pages are checked in parallel on rayon's pool. Output is sorted by file, line and link,
//! so it is deterministic. A check that fails (a panic in a worker or in `load`) is an error,
//! never an empty list of broken links.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as FastMap, FxHashSet as FastSet};
use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

/// A link in the site that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BrokenLink {
    /// The file that contains the link, relative to the site root.
    pub file: PathBuf,
    /// The 1-based line of the link's attribute value.
    pub line: usize,
    /// The link as written, after decoding character references (`&amp;` → `&`).
    pub link: String,
    /// Why the link is broken.
    pub reason: String,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.link,
            self.reason
        )
    }
}

/// The link check could not be completed: a worker or the page loader panicked. Its broken
/// links are unknown, which is not the same as none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailed(pub String);

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the link check failed: {}", self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// The links and anchors of one page, parsed once (on the thread that rendered it), for
/// [`check_parsed`].
#[derive(Debug, Default)]
pub struct Parsed(Page);

/// Parses one page's links and anchors.
pub fn parse_page(html: &[u8]) -> Parsed {
    Parsed(parse(html))
}

impl Parsed {
    /// The links, `(1-based line, link)` in document order, character references decoded.
    pub fn links(&self) -> &[(usize, String)] {
        &self.0.links
    }
}

/// A link as the checker compares it with its source: `%XX` escapes decoded, surrounding
/// whitespace removed.
pub fn normalize(link: &str) -> String {
    percent_decode(link.trim()).into_owned()
}

/// Runs `f`, turning a panic (in it or in a rayon worker it waits for) into [`CheckFailed`].
fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, CheckFailed> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
        let why = e
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a worker panicked".into());
        CheckFailed(why)
    })
}

/// Checks the links of pages parsed with [`parse_page`], against `files` (every file of the
/// site, `/`-separated and relative to its root). A link with a fragment into a page that is
/// not among `pages` gets that page's anchors from `load` (e.g. read from disk); `None` there
/// means no anchors.
///
/// Returns the broken links, sorted by file, line and link, or [`CheckFailed`] when the check
/// could not be completed.
pub fn check_parsed(
    files: &[String],
    pages: &[(String, Parsed)],
    load: impl Fn(&str) -> Option<Parsed> + Sync,
) -> Result<Vec<BrokenLink>, CheckFailed> {
    guarded(|| check(files, pages, load))
}

fn check(
    files: &[String],
    pages: &[(String, Parsed)],
    load: impl Fn(&str) -> Option<Parsed> + Sync,
) -> Vec<BrokenLink> {
    let mut names: Vec<String> = files.to_vec();
    names.sort();
    names.dedup();
    let mut dirs: FastSet<String> = FastSet::default();
    dirs.insert(String::new());
    for f in &names {
        let mut cur = f.as_str();
        while let Some((parent, _)) = cur.rsplit_once('/') {
            if !dirs.insert(parent.to_string()) {
                break;
            }
            cur = parent;
        }
    }
    // One pass over every link, in parallel. A link with a fragment into a page that was not
    // parsed here is kept back until that page's anchors are loaded.
    let first = targets(&names, pages.iter().map(|(p, x)| (p, &x.0)));
    let site = Site {
        files: &first,
        dirs: &dirs,
    };
    type Deferred<'p> = (usize, &'p (usize, String), String);
    let per_file: Vec<(Vec<BrokenLink>, Vec<Deferred<'_>>)> = pages
        .par_iter()
        .enumerate()
        .map(|(k, (rel, x))| {
            let mut out = Vec::new();
            let mut later = Vec::new();
            for l @ (line, link) in &x.0.links {
                match site.check(rel, link) {
                    Verdict::Fine => {}
                    Verdict::Broken(reason) => out.push(BrokenLink {
                        file: PathBuf::from(rel),
                        line: *line,
                        link: link.clone(),
                        reason,
                    }),
                    Verdict::NeedAnchors(t) => later.push((k, l, t)),
                }
            }
            (out, later)
        })
        .collect();
    let mut broken: Vec<BrokenLink> = Vec::new();
    let mut deferred: Vec<Deferred<'_>> = Vec::new();
    for (b, d) in per_file {
        broken.extend(b);
        deferred.extend(d);
    }
    if !deferred.is_empty() {
        let mut more: Vec<&str> = deferred.iter().map(|d| d.2.as_str()).collect();
        more.sort_unstable();
        more.dedup();
        let extra: Vec<(String, Page)> = more
            .into_iter()
            .map(|t| (t.to_string(), load(t).map(|x| x.0).unwrap_or_default()))
            .collect();
        let map = targets(
            &names,
            pages
                .iter()
                .map(|(p, x)| (p, &x.0))
                .chain(extra.iter().map(|(p, x)| (p, x))),
        );
        let site = Site {
            files: &map,
            dirs: &dirs,
        };
        for (k, (line, link), _) in deferred {
            let rel = &pages[k].0;
            if let Verdict::Broken(reason) = site.check(rel, link) {
                broken.push(BrokenLink {
                    file: PathBuf::from(rel),
                    line: *line,
                    link: link.clone(),
                    reason,
                });
            }
        }
    }
    broken.sort();
    broken
}

/// Every file of the site, with the anchors of the pages that have been parsed.
fn targets<'a>(
    files: &'a [String],
    parsed: impl Iterator<Item = (&'a String, &'a Page)>,
) -> FastMap<&'a str, Option<&'a FastSet<String>>> {
    let mut map: FastMap<&str, Option<&FastSet<String>>> =
        files.iter().map(|f| (f.as_str(), None)).collect();
    for (rel, page) in parsed {
        map.insert(rel, Some(&page.anchors));
    }
    map
}

fn is_html(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    lower.ends_with(".html") || lower.ends_with(".htm")
}

/// What is known about the site: its files and directories, and the anchors of its pages.
struct Site<'a> {
    /// Every file, with the anchors of the HTML pages.
    files: &'a FastMap<&'a str, Option<&'a FastSet<String>>>,
    dirs: &'a FastSet<String>,
}

/// The outcome of checking one link.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The link resolves, or is not checked (external).
    Fine,
    /// The link is broken, for this reason.
    Broken(String),
    /// The target page exists and the link has a fragment, but the page's anchors are not known.
    NeedAnchors(String),
}

impl Site<'_> {
    /// Checks one link from the page `from` (relative to the root).
    fn check(&self, from: &str, raw: &str) -> Verdict {
        // Browsers strip surrounding whitespace and drop tabs and newlines inside URLs.
        let trimmed = raw.trim_matches(|c: char| c.is_ascii_whitespace());
        let link: Cow<str> = if trimmed.contains(['\t', '\n', '\r', '\\']) {
            trimmed
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .map(|c| if c == '\\' { '/' } else { c })
                .collect::<String>()
                .into()
        } else {
            trimmed.into()
        };
        if link.is_empty() || link.starts_with("//") || has_scheme(&link) {
            return Verdict::Fine;
        }
        if link.starts_with('/') {
            return Verdict::Broken(
                "absolute path; links must be relative so that the site works from file://".into(),
            );
        }
        let (before_frag, frag) = match link.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (link.as_ref(), None),
        };
        let path = before_frag.split('?').next().unwrap_or("");

        let (target, anchors) = if path.is_empty() {
            (Cow::Borrowed(from), self.files.get(from).copied().flatten())
        } else {
            let mut stack: Vec<Cow<str>> = match from.rsplit_once('/') {
                Some((dir, _)) => dir.split('/').map(Cow::Borrowed).collect(),
                None => Vec::new(),
            };
            let last = path.split('/').count() - 1;
            let mut is_dir = false;
            for (k, seg) in path.split('/').map(percent_decode).enumerate() {
                match seg.as_ref() {
                    "" | "." => is_dir = k == last,
                    ".." => {
                        if stack.pop().is_none() {
                            return Verdict::Broken("points outside the site root".into());
                        }
                        is_dir = k == last;
                    }
                    _ => {
                        stack.push(seg);
                        is_dir = false;
                    }
                }
            }
            let joined = stack.join("/");
            match (is_dir, self.files.get(joined.as_str())) {
                (true, Some(_)) => {
                    return Verdict::Broken(format!("{joined} is a file, not a directory"));
                }
                (false, Some(&a)) => (Cow::Owned(joined), a),
                (_, None) => {
                    if !is_dir && !self.dirs.contains(&joined) {
                        return Verdict::Broken(format!("target not found: {joined}"));
                    }
                    let index = if joined.is_empty() {
                        "index.html".to_string()
                    } else {
                        format!("{joined}/index.html")
                    };
                    match self.files.get(index.as_str()) {
                        Some(&a) => (Cow::Owned(index), a),
                        None => {
                            let shown = if joined.is_empty() { "." } else { &joined };
                            return Verdict::Broken(format!(
                                "directory {shown}/ has no index.html"
                            ));
                        }
                    }
                }
            }
        };

        let frag = frag.unwrap_or("");
        if frag.is_empty() || frag.eq_ignore_ascii_case("top") {
            return Verdict::Fine;
        }
        let Some(anchors) = anchors else {
            // Fragments are checked in HTML pages only.
            return if is_html(&target) {
                Verdict::NeedAnchors(target.into_owned())
            } else {
                Verdict::Fine
            };
        };
        if anchors.contains(frag) || anchors.contains(percent_decode(frag).as_ref()) {
            return Verdict::Fine;
        }
        Verdict::Broken(if target == from {
            format!("anchor #{frag} not found on this page")
        } else {
            format!("anchor #{frag} not found in {target}")
        })
    }
}

/// Whether the link starts with a URL scheme (`letter (letter | digit | + | - | .)* :`).
fn has_scheme(link: &str) -> bool {
    let Some(colon) = link.find(':') else {
        return false;
    };
    let scheme = &link[..colon];
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Decodes `%XX` escapes; invalid escapes are kept and invalid UTF-8 is replaced.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = match (b[i], b.get(i + 1), b.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex_val(h).zip(hex_val(l)),
            _ => None,
        };
        match escaped {
            Some((h, l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// HTML scanning

/// The links and anchors of one page.
#[derive(Debug, Default)]
struct Page {
    /// `(line, link)` in document order, with character references decoded.
    links: Vec<(usize, String)>,
    /// Values of `id` attributes and of `name` on `<a>`.
    anchors: FastSet<String>,
}

/// Counts lines up to increasing byte positions.
struct Lines<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        if pos > self.pos {
            let end = pos.min(self.text.len());
            self.line += memchr::memchr_iter(b'\n', &self.text[self.pos..end]).count();
            self.pos = end;
        }
        self.line
    }
}

/// Finds a short `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|p| from + p)
}

/// Finds the end tag `</name` (ASCII case-insensitive) at or after `from`.
fn find_end_tag(hay: &[u8], name: &[u8], from: usize) -> Option<usize> {
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
fn lower<'b>(name: &[u8], buf: &'b mut [u8; 16]) -> &'b str {
    if name.len() > buf.len() {
        return "";
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..name.len()]).unwrap_or("")
}

/// Attributes that hold links, by element name.
fn link_attr(tag: &str, attr: &str) -> bool {
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
fn parse(html: &[u8]) -> Page {
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
fn parse_attrs(html: &[u8], mut j: usize, tag: &str, page: &mut Page, lines: &mut Lines) -> usize {
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
fn decode_entities(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::path::Path;

    /// A site in memory: its files by site-relative path. Checked through [`check_parsed`],
    /// exactly as the build checks the site it writes.
    #[derive(Default)]
    struct TempSite(RefCell<BTreeMap<String, String>>);

    impl TempSite {
        fn new(_name: &str) -> TempSite {
            TempSite::default()
        }
        fn file(&self, rel: &str, body: &str) -> &Self {
            self.0
                .borrow_mut()
                .insert(rel.to_string(), body.to_string());
            self
        }
        /// Checks the listed pages, as the build checks the pages it wrote: the other pages
        /// are read only for their anchors.
        fn check_only(&self, pages: &[&str]) -> Vec<BrokenLink> {
            let site = self.0.borrow().clone();
            let parse = |rel: &str| {
                site.get(rel)
                    .filter(|_| is_html(rel))
                    .map(|b| parse_page(b.as_bytes()))
            };
            let files: Vec<String> = site.keys().cloned().collect();
            let parsed: Vec<(String, Parsed)> = pages
                .iter()
                .filter_map(|p| Some((p.to_string(), parse(p)?)))
                .collect();
            check_parsed(&files, &parsed, parse).expect("check")
        }
        /// Checks every page.
        fn check(&self) -> Vec<BrokenLink> {
            let pages: Vec<String> = self
                .0
                .borrow()
                .keys()
                .filter(|k| is_html(k))
                .cloned()
                .collect();
            self.check_only(&pages.iter().map(String::as_str).collect::<Vec<_>>())
        }
    }

    fn links(html: &str) -> Vec<(usize, String)> {
        parse(html.as_bytes()).links
    }

    #[test]
    fn missing_file_is_reported() {
        let site = TempSite::new("missing");
        site.file(
            "index.html",
            "<p>\n<a href=\"nope.html\">x</a>\n<a href=\"ok.html\">y</a>",
        )
        .file("ok.html", "ok");
        let broken = site.check();
        assert_eq!(broken.len(), 1, "{broken:?}");
        let b = &broken[0];
        assert_eq!(b.file, PathBuf::from("index.html"));
        assert_eq!(b.line, 2);
        assert_eq!(b.link, "nope.html");
        assert_eq!(b.reason, "target not found: nope.html");
        assert_eq!(
            b.to_string(),
            "index.html:2: nope.html: target not found: nope.html"
        );
    }

    #[test]
    fn anchors_present_and_missing() {
        let site = TempSite::new("anchors");
        site.file(
            "a/page.html",
            "<h2 id=\"intro\">Intro</h2><a name=legacy></a><section id='single'></section>\
             <a href=\"#intro\">1</a><a href=\"#nope\">2</a><a href=\"#\">3</a><a href=\"#top\">4</a>",
        )
        .file(
            "index.html",
            "<a href=\"a/page.html#intro\">ok</a>\n<a href=\"a/page.html#legacy\">ok</a>\n\
             <a href=\"a/page.html#single\">ok</a>\n<a href=\"a/page.html#missing\">bad</a>\n\
             <a href=\"a/page.html?x=1#intro\">ok</a>\n<a href=\"style.css#x\">not html</a>",
        )
        .file("style.css", "body{}");
        let broken = site.check();
        let got: Vec<(String, String)> = broken
            .iter()
            .map(|b| (b.file.display().to_string(), b.reason.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "a/page.html".to_string(),
                    "anchor #nope not found on this page".to_string()
                ),
                (
                    "index.html".to_string(),
                    "anchor #missing not found in a/page.html".to_string()
                ),
            ]
        );
        assert_eq!(broken[1].line, 4);
    }

    #[test]
    fn name_counts_only_on_a() {
        let p = parse(b"<meta name=\"description\"><a name=\"here\"></a><div id=x></div>");
        assert!(p.anchors.contains("here") && p.anchors.contains("x"));
        assert!(!p.anchors.contains("description"));
    }

    #[test]
    fn traversal_and_absolute_paths() {
        let site = TempSite::new("traversal");
        site.file(
            "docs/index.html",
            "<a href=\"../../etc/passwd\">x</a>\n<a href=\"/abs.html\">y</a>\n\
             <a href=\"../index.html\">ok</a>\n<a href=\"%2e%2e/%2E%2E/x\">z</a>\n\
             <a href=\"..\\..\\win\">w</a>",
        )
        .file("index.html", "root")
        .file("abs.html", "exists but absolute");
        let broken = site.check();
        let reasons: Vec<(usize, &str)> =
            broken.iter().map(|b| (b.line, b.reason.as_str())).collect();
        assert_eq!(
            reasons,
            vec![
                (1, "points outside the site root"),
                (
                    2,
                    "absolute path; links must be relative so that the site works from file://"
                ),
                (4, "points outside the site root"),
                (5, "points outside the site root"),
            ]
        );
    }

    #[test]
    fn external_links_are_skipped() {
        let site = TempSite::new("external");
        site.file(
            "index.html",
            "<a href=\"https://example.com/x\">a</a><a href=\"http://x\">b</a>\
             <a href=\"mailto:a@b.c\">c</a><img src=\"data:image/png;base64,AAAA\">\
             <a href=\"//cdn.example.com/x.js\">d</a><a href=\"HTTPS://X\">e</a>\
             <a href=\"tel:+1\">f</a><a href=\"\">g</a><a>h</a>",
        );
        assert!(site.check().is_empty());
    }

    #[test]
    fn directory_links_mean_index_html() {
        let site = TempSite::new("dirs");
        site.file(
            "index.html",
            "<a href=\"dir/\">1</a>\n<a href=\"dir\">2</a>\n<a href=\"dir/#sec\">3</a>\n\
             <a href=\"empty/\">4</a>\n<a href=\"./\">5</a>\n<a href=\"dir/.\">6</a>\n\
             <a href=\"dir/index.html/\">7</a>",
        )
        .file(
            "dir/index.html",
            "<h1 id=\"sec\">x</h1><a href=\"..\">up</a>",
        )
        .file("empty/readme.txt", "no index");
        let broken = site.check();
        let got: Vec<(usize, &str)> = broken.iter().map(|b| (b.line, b.reason.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (4, "directory empty/ has no index.html"),
                (7, "dir/index.html is a file, not a directory"),
            ]
        );
    }

    #[test]
    fn script_pre_and_comments_are_ignored() {
        let html = "<script>var s = '<a href=\"bad1.html\">';</script>\n\
                    <SCRIPT type=module>document.write(\"<img src=bad2.png>\")</Script>\n\
                    <!-- <a href=\"bad3.html\"> -->\n\
                    <pre><code>&lt;a href=\"bad4.html\"&gt;</code></pre>\n\
                    <p>href=\"bad5.html\" as text</p>\n\
                    <style>a[href=\"bad6.html\"]{}</style>\n\
                    <title><a href=\"bad7.html\"></title>\n\
                    <a href=\"good.html\">ok</a>";
        assert_eq!(links(html), vec![(8, "good.html".to_string())]);
        // A script's own src is a link.
        assert_eq!(
            links("<script src=\"app.js\"></script>"),
            vec![(1, "app.js".to_string())]
        );
        // Real links inside <code> are links.
        assert_eq!(
            links("<code><a href=\"x.html\">x</a></code>"),
            vec![(1, "x.html".to_string())]
        );
    }

    #[test]
    fn script_content_not_checked_on_disk() {
        let site = TempSite::new("script");
        site.file(
            "index.html",
            "<script>if (a<b) { x = '<a href=\"missing.html\">'; }</script><pre>&lt;img src=\"gone.png\"&gt;</pre>",
        );
        assert!(site.check().is_empty());
    }

    #[test]
    fn attribute_quoting_and_entities() {
        let html = "<a href='single.html'>1</a><a href=unquoted.html>2</a>\
                    <a class=x href = \"spaced.html\" >3</a><a href=\"q.html?a=1&amp;b=2\">4</a>\
                    <img alt=\"a > b\" src=\"img&#47;x.png\"><a HREF=\"UPPER.html\">5</a>\
                    <a href=\"&#x2e;/hex.html\">6</a><a href=\"a&unknown;b.html\">7</a>\
                    <link rel=stylesheet href=s.css/><a href=x.html/>8</a>";
        let got: Vec<String> = links(html).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            got,
            vec![
                "single.html",
                "unquoted.html",
                "spaced.html",
                "q.html?a=1&b=2",
                "img/x.png",
                "UPPER.html",
                "./hex.html",
                "a&unknown;b.html",
                "s.css/",
                "x.html/",
            ]
        );
        assert_eq!(
            decode_entities("&lt;&gt;&quot;&apos;&#65;&#x42;&"),
            "<>\"'AB&"
        );
        assert_eq!(decode_entities("&#xZZ; &amp"), "&#xZZ; &amp");
    }

    #[test]
    fn entity_and_percent_decoding_on_disk() {
        let site = TempSite::new("decode");
        site.file(
            "index.html",
            "<a href=\"my%20page.html?x=1&amp;y=2#s%C3%A9ction\">1</a>\n\
             <a href=\"my page.html#s&#xe9;ction\">2</a>\n<a href=\"caf%C3%A9/\">3</a>",
        )
        .file("my page.html", "<h2 id=\"séction\">x</h2>")
        .file("café/index.html", "x");
        assert!(site.check().is_empty(), "{:?}", site.check());
    }

    #[test]
    fn line_numbers() {
        let html = "<html>\n<body>\n<a\n  href=\"x.html\">x</a>\n<!-- \n\n -->\n<img src=y.png>";
        assert_eq!(
            links(html),
            vec![(4, "x.html".to_string()), (8, "y.png".to_string())]
        );
    }

    #[test]
    fn malformed_html_does_not_panic() {
        for html in [
            "<a href=\"unterminated",
            "<a href=",
            "<a href",
            "<!-- never closed <a href=x>",
            "<script>never closed <a href=x>",
            "< a href=x>",
            "<a =x href=y.html>",
            "<",
            "<<<>>>",
            "<a href='x'",
            "\u{feff}<a href=\"%\">",
        ] {
            let _ = parse(html.as_bytes());
        }
        assert_eq!(links("<a =x href=y.html>"), vec![(1, "y.html".to_string())]);
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn many_files_in_parallel_are_deterministic() {
        let site = TempSite::new("many");
        for i in 0..200 {
            site.file(
                &format!("p/{i}.html"),
                &format!(
                    "<h1 id=\"h{i}\">{i}</h1><a href=\"{}.html#h{}\">next</a><a href=\"../q/{i}.html\">x</a>",
                    (i + 1) % 200,
                    (i + 1) % 200
                ),
            );
        }
        let a = site.check();
        assert_eq!(a.len(), 200);
        assert!(
            a.iter()
                .all(|b| b.reason.starts_with("target not found: q/"))
        );
        assert_eq!(a, site.check());
        let files: Vec<&PathBuf> = a.iter().map(|b| &b.file).collect();
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted);
    }

    #[test]
    fn checking_some_pages_reads_the_others_only_for_anchors() {
        let site = TempSite::new("files");
        site.file(
            "a.html",
            "<a href=\"b.html#there\">ok</a>\n<a href=\"b.html#gone\">bad</a>\n<a href=\"x.html\">bad</a>",
        )
        .file("b.html", "<h1 id=\"there\">b</h1><a href=\"missing.html\">not listed</a>")
        .file("c.html", "<a href=\"nope.html\">not listed</a>")
        .file("style.css", "");
        let broken = site.check_only(&["a.html"]);
        let got: Vec<(usize, &str)> = broken.iter().map(|b| (b.line, b.reason.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (2, "anchor #gone not found in b.html"),
                (3, "target not found: x.html"),
            ]
        );
        // The same links as a full check finds in a.html.
        let full: Vec<BrokenLink> = site
            .check()
            .into_iter()
            .filter(|b| b.file == Path::new("a.html"))
            .collect();
        assert_eq!(full, broken);
        assert!(site.check_only(&[]).is_empty());
    }

    #[test]
    fn scheme_detection() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("mailto:x"));
        assert!(has_scheme("javascript:void(0)"));
        assert!(!has_scheme("a/b:c"));
        assert!(!has_scheme("1abc:x"));
        assert!(!has_scheme("page.html"));
    }

    #[test]
    fn a_failing_check_reports_its_failure() {
        let files: Vec<String> = ["a.html", "b.html"].map(String::from).to_vec();
        let pages = vec![(
            "a.html".to_string(),
            parse_page(b"<a href=\"b.html#there\">b</a>"),
        )];
        let err = check_parsed(&files, &pages, |t| panic!("cannot read {t}"))
            .expect_err("a check that failed is an error, not \"no broken links\"");
        assert_eq!(err.to_string(), "the link check failed: cannot read b.html");
        // The same check with a loader that works finds the missing anchor.
        let broken =
            check_parsed(&files, &pages, |_| Some(parse_page(b"<p>b</p>"))).expect("check");
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].reason, "anchor #there not found in b.html");
    }
}
