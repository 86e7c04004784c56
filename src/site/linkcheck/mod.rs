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

mod html;
#[cfg(test)]
mod tests;

use html::*;

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
