//! Model cards: Markdown to safe HTML.
//!
//! pulldown-cmark renders CommonMark with tables; headings move down one level (the page has
//! its own `<h1>`) and get stable ids; then ammonia removes everything that could run or leak:
//! `<script>`, event handlers, `javascript:` and `data:` links, inline styles, forms, iframes.
//! The card author writes Markdown, and raw HTML in it is kept only as far as it is harmless.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use std::collections::{BTreeSet, HashMap};

/// An id from a heading's text: lowercase letters, digits and `-`.
pub fn slug(text: &str) -> String {
    let mut s = String::new();
    let mut dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
            dash = false;
        } else if !dash && !s.is_empty() {
            s.push('-');
            dash = true;
        }
    }
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() { "section".into() } else { s }
}

fn deeper(l: HeadingLevel) -> HeadingLevel {
    match l {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// The Markdown options of a card.
fn options() -> Options {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_FOOTNOTES);
    opts
}

/// A link or image of a card's Markdown and the 1-based line of the card it is written on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLink {
    /// The destination as the checker compares it ([`super::linkcheck::normalize`]).
    pub dest: String,
    /// The line of the card.
    pub line: usize,
}

/// Every link and image of a card, in document order, with the line it is written on:
/// Markdown links and images, and the `href`/`src` of raw HTML in the card. A broken link of
/// the rendered card is reported at its line of the card, not of the page.
pub fn source_links(md: &str) -> Vec<SourceLink> {
    let line_of = |pos: usize| md[..pos.min(md.len())].matches('\n').count() + 1;
    let mut out = Vec::new();
    for (e, range) in Parser::new_ext(md, options()).into_offset_iter() {
        match e {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                out.push(SourceLink {
                    dest: super::linkcheck::normalize(&dest_url),
                    line: line_of(range.start),
                });
            }
            Event::Html(raw) | Event::InlineHtml(raw) => {
                let first = line_of(range.start);
                for (l, link) in super::linkcheck::parse_page(raw.as_bytes()).links() {
                    out.push(SourceLink {
                        dest: super::linkcheck::normalize(link),
                        line: first + l - 1,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// Renders a card. Headings start at `<h3>` (the card sits in an `<h2>` section of the page);
/// ids are prefixed with `card-` and made unique; `reserved` ids of the page are avoided.
pub fn render(md: &str, reserved: &[&str]) -> String {
    let events: Vec<Event> = Parser::new_ext(md, options()).collect();
    // First pass: heading texts, for ids.
    let mut used: BTreeSet<String> = reserved.iter().map(|s| s.to_string()).collect();
    let mut ids: HashMap<usize, String> = HashMap::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { .. }) = &events[i] {
            let mut text = String::new();
            let mut j = i + 1;
            while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                if let Event::Text(t) | Event::Code(t) = &events[j] {
                    text.push_str(t);
                }
                j += 1;
            }
            let base = format!("card-{}", slug(&text));
            let mut id = base.clone();
            let mut n = 2;
            while used.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
            used.insert(id.clone());
            ids.insert(i, id);
            i = j;
        }
        i += 1;
    }
    let events = events.into_iter().enumerate().map(|(k, e)| match e {
        Event::Start(Tag::Heading {
            level,
            classes,
            attrs,
            ..
        }) => Event::Start(Tag::Heading {
            level: deeper(level),
            id: ids.get(&k).map(|s| CowStr::from(s.clone())),
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(deeper(level))),
        other => other,
    });
    let mut raw = String::new();
    html::push_html(&mut raw, events);
    sanitize(&raw)
}

/// Removes anything unsafe from HTML, keeping ids on headings and plain formatting.
pub fn sanitize(raw: &str) -> String {
    let mut b = ammonia::Builder::default();
    b.add_tag_attributes("h3", &["id"])
        .add_tag_attributes("h4", &["id"])
        .add_tag_attributes("h5", &["id"])
        .add_tag_attributes("h6", &["id"])
        .add_tag_attributes("td", &["style"])
        .add_tag_attributes("th", &["style"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"));
    // Tables from pulldown-cmark align cells with `style="text-align: …"`: keep only that.
    b.attribute_filter(|_el, attr, value| {
        if attr == "style" {
            let v = value.trim();
            let ok = matches!(
                v,
                "text-align: left" | "text-align: center" | "text-align: right"
            );
            return ok.then(|| v.to_string().into());
        }
        Some(value.into())
    });
    b.clean(raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_javascript_links_are_inert() {
        let html = render(
            "# Card\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> <a href=\"data:text/html,<b>\">d</a>\n",
            &[],
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("data:text"), "{html}");
    }

    #[test]
    fn headings_move_down_with_unique_ids() {
        let html = render(
            "# Title\n\n## Intended use\n\n## Intended use\n",
            &["card-title"],
        );
        assert!(
            html.contains("<h3 id=\"card-title-2\">Title</h3>"),
            "{html}"
        );
        assert!(html.contains("<h3 id=\"card-intended-use\">"), "{html}");
        assert!(html.contains("<h3 id=\"card-intended-use-2\">"), "{html}");
    }

    #[test]
    fn links_are_found_at_their_line_of_the_card() {
        let md = "# Card\n\nSee [the data](data%20sheet.html) and\n![chart](img/c.png \"t\").\n\n<p>raw\n<a href=\"raw.html#x\">r</a></p>\n\n[ref]: ref.html\n\nA [reference][ref].\n";
        let got: Vec<(String, usize)> = source_links(md)
            .into_iter()
            .map(|l| (l.dest, l.line))
            .collect();
        assert_eq!(
            got,
            [
                ("data sheet.html".to_string(), 3),
                ("img/c.png".to_string(), 4),
                ("raw.html#x".to_string(), 7),
                ("ref.html".to_string(), 11),
            ]
        );
    }

    #[test]
    fn tables_keep_alignment_only() {
        let html = render("| a | b |\n|:-|-:|\n| 1 | 2 |\n", &[]);
        assert!(html.contains("text-align: right"), "{html}");
        let evil = sanitize("<td style=\"background:url(javascript:x)\">x</td>");
        assert!(!evil.contains("javascript"), "{evil}");
    }
}
