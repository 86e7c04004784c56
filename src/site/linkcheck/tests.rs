//! Tests of the link checker.

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

/// Each broken link's line and reason.
fn lines_and_reasons(broken: &[BrokenLink]) -> Vec<(usize, &str)> {
    broken.iter().map(|b| (b.line, b.reason.as_str())).collect()
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
    assert_eq!(
        lines_and_reasons(&broken),
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
    assert_eq!(
        lines_and_reasons(&broken),
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
    assert_eq!(
        lines_and_reasons(&broken),
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
    let broken = check_parsed(&files, &pages, |_| Some(parse_page(b"<p>b</p>"))).expect("check");
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].reason, "anchor #there not found in b.html");
}
