//! The static site: snapshots of the example's pages, determinism, incremental rebuilds,
//! template overrides and their errors, the link checker, hostile model cards, and the built
//! site opened from file:// in headless Chromium (scripts/browser_check.py).

use crate::util::{example_dir, repo_root, run};
use std::collections::BTreeMap;
use std::path::Path;

fn build(root: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = out.display().to_string();
    let mut args = vec!["site", "build", "--out", out.as_str()];
    args.extend(extra);
    run(&args, root)
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(d: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                if rel != ".modelgate-site.json" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn text(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f)).unwrap()
}

/// "built N pages (W written, U unchanged)" → (N, W).
fn counts(out: &str) -> (usize, usize) {
    let n = out
        .split("built ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let w = out
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    (n, w)
}

#[test]
fn example_site_pages_snapshot_and_are_deterministic() {
    let dir = example_dir();
    let out = tempfile::tempdir().unwrap();
    let (code, o, e) = build(dir.path(), out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    let site = out.path();
    for f in [
        "index.html",
        "audit.html",
        "models.json",
        "models/heart_disease/index.html",
        "models/heart_disease/v4.html",
        "models/heart_disease/README.md",
        "assets/style.css",
        "assets/site.js",
    ] {
        assert!(site.join(f).is_file(), "{f} missing");
    }
    insta::assert_snapshot!("site_index", text(site, "index.html"));
    insta::assert_snapshot!(
        "site_heart_disease",
        text(site, "models/heart_disease/index.html")
    );
    insta::assert_snapshot!(
        "site_heart_disease_v4",
        text(site, "models/heart_disease/v4.html")
    );
    insta::assert_snapshot!(
        "site_heart_disease_readme",
        text(site, "models/heart_disease/README.md")
    );

    // Facts on the pages.
    let card = text(site, "models/heart_disease/index.html");
    assert_eq!(card.matches("<h1").count(), 1);
    assert!(card.contains("✓ verified"), "approvals verified");
    assert!(card.contains("Model card for Model Reporting") || card.contains("id=\"card-"));
    let v4 = text(site, "models/heart_disease/v4.html");
    assert!(v4.contains("Lineage of heart_disease v4"));
    assert!(v4.contains("role=\"img\"") || v4.contains("role=\"group\""));
    let audit = text(site, "audit.html");
    assert!(
        audit.contains("The hash chain verifies"),
        "chain status shown"
    );
    let models: serde_json::Value = serde_json::from_str(&text(site, "models.json")).unwrap();
    assert_eq!(models["models"].as_array().unwrap().len(), 3);
    let readme = text(site, "models/heart_disease/README.md");
    assert!(
        readme.starts_with("---\n") && readme.contains("model-index:"),
        "{readme}"
    );
    // Relative links only: the site works from file:// and under a sub-path.
    for (f, bytes) in files(site) {
        if f.ends_with(".html") {
            let t = String::from_utf8(bytes).unwrap();
            assert!(!t.contains("href=\"/"), "{f} has an absolute link");
            assert!(!t.contains("src=\"/"), "{f} has an absolute src");
        }
    }

    // The same registry gives the same bytes, in a fresh folder or with --force.
    let out2 = tempfile::tempdir().unwrap();
    let (code, o, e) = build(dir.path(), out2.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    assert_eq!(files(site), files(out2.path()));
    let (code, o, e) = build(dir.path(), site, &["--force"]);
    assert_eq!(code, 0, "{o}{e}");
    assert_eq!(files(site), files(out2.path()));
    // --base-url adds canonical links and a sitemap; links stay relative.
    let (code, o, e) = build(
        dir.path(),
        out2.path(),
        &["--base-url", "https://acme.github.io/registry/"],
    );
    assert_eq!(code, 0, "{o}{e}");
    let sitemap = text(out2.path(), "sitemap.xml");
    // Rendered from the sitemap.xml template: every page, sorted, one line each.
    assert!(sitemap.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n  <url><loc>https://acme.github.io/registry/audit.html</loc></url>\n  <url><loc>https://acme.github.io/registry/index.html</loc></url>\n"
    ), "{sitemap}");
    assert!(sitemap.ends_with("</loc></url>\n</urlset>\n"), "{sitemap}");
    assert!(
        sitemap
            .contains("<loc>https://acme.github.io/registry/models/heart_disease/index.html</loc>")
    );
    let index = text(out2.path(), "index.html");
    let canonical = index
        .lines()
        .find(|l| l.contains("rel=\"canonical\""))
        .unwrap();
    assert_eq!(
        canonical.replace("&#x2F;", "/"),
        "<link rel=\"canonical\" href=\"https://acme.github.io/registry/index.html\">"
    );
}

#[test]
fn a_rebuild_after_one_card_changes_rewrites_only_its_pages() {
    let dir = example_dir();
    let out = tempfile::tempdir().unwrap();
    let (code, o, e) = build(dir.path(), out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    let (pages, written) = counts(&o);
    assert_eq!(pages, written);
    let before = files(out.path());
    // Nothing changed: nothing written.
    let (code, o, _) = build(dir.path(), out.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(counts(&o), (pages, 0), "{o}");
    // One card changes: its model page and README change, nothing else.
    let card = dir.path().join("model-cards/diabetes.md");
    let mut t = std::fs::read_to_string(&card).unwrap();
    t.push_str("\n## Update\n\nRetrained data pipeline documented.\n");
    std::fs::write(&card, t).unwrap();
    let (code, o, e) = build(dir.path(), out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    assert_eq!(counts(&o), (pages, 2), "{o}");
    let after = files(out.path());
    let changed: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        ["models/diabetes/README.md", "models/diabetes/index.html"]
    );
    assert!(
        text(out.path(), "models/diabetes/index.html")
            .contains("Retrained data pipeline documented.")
    );
    // A removed model's pages are removed, and the index follows.
    std::fs::remove_dir_all(dir.path().join("registry/models/readmission")).unwrap();
    std::fs::remove_file(dir.path().join("model-cards/readmission.md")).unwrap();
    let (code, o, e) = build(dir.path(), out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    assert!(!out.path().join("models/readmission/index.html").exists());
    assert!(!text(out.path(), "index.html").contains("readmission/index.html"));
}

#[test]
fn hostile_cards_and_strings_render_inert() {
    let dir = example_dir();
    let root = dir.path();
    std::fs::write(
        root.join("model-cards/diabetes.md"),
        "# Card\n\n<script>alert('card')</script>\n\n[click](javascript:alert(1))\n\n<img src=\"https://example.invalid/x.png\" onerror=\"alert(2)\">\n\n<a href=\"data:text/html;base64,PHNjcmlwdD4=\">d</a>\n\n<iframe src=\"https://evil.example\"></iframe>\n",
    )
    .unwrap();
    let yaml = root.join("registry/models/diabetes/model.yaml");
    let t = std::fs::read_to_string(&yaml).unwrap().replace(
        "description: Onset of type 2 diabetes within 5 years (synthetic example data).",
        "description: \"</script><script>alert('desc')</script><img src=x onerror=alert(3)>\"",
    );
    std::fs::write(&yaml, t).unwrap();
    // A folder that is not a valid model name is never turned into a path.
    std::fs::create_dir_all(root.join("registry/models/..evil")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, o, e) = build(root, out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    for (f, bytes) in files(out.path()) {
        let t = String::from_utf8_lossy(&bytes);
        if !(f.ends_with(".html")) {
            continue;
        }
        // Escaped text such as `&lt;img … onerror=…&gt;` is harmless; live markup is not.
        for bad in [
            "<script>alert",
            "<img src=x",
            "javascript:",
            "onerror=\"alert",
            "<iframe",
            "data:text/html",
        ] {
            assert!(!t.contains(bad), "{f} contains `{bad}`");
        }
    }
    // The search index embedded in the page cannot close its <script> element.
    let index = text(out.path(), "index.html");
    assert!(
        index.contains("\\u003c/script\\u003e"),
        "escaped in the JSON index"
    );
    assert!(index.contains("&lt;&#x2F;script&gt;") || index.contains("&lt;/script&gt;"));
    assert!(!out.path().join("models/..evil").exists());
}

#[test]
fn template_overrides_and_their_errors() {
    let dir = example_dir();
    let root = dir.path();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    let base = std::fs::read_to_string(repo_root().join("src/site/templates/base.html")).unwrap();
    std::fs::write(
        root.join("templates/base.html"),
        base.replace("<footer>", "<footer><p>ACME model governance</p>"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, o, e) = build(root, out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    assert!(text(out.path(), "models/diabetes/index.html").contains("ACME model governance"));

    // A template that uses a variable the page does not have: the template, the line, the name.
    let model = std::fs::read_to_string(repo_root().join("src/site/templates/model.html")).unwrap();
    std::fs::write(
        root.join("templates/model.html"),
        model.replacen(
            "<h1>{{ m.name }}</h1>",
            "<h1>{{ m.name }}</h1>\n<p>{{ m.nmae }}</p>",
            1,
        ),
    )
    .unwrap();
    let (code, _, e) = build(root, out.path(), &["--force"]);
    assert_eq!(code, 2);
    let line = model
        .lines()
        .position(|l| l.contains("<h1>{{ m.name }}</h1>"))
        .unwrap()
        + 2;
    assert!(e.contains(&format!("templates/model.html:{line}")), "{e}");
    assert!(e.contains("m.nmae"), "{e}");

    // A broken internal link is an error, like Zola's link checker.
    std::fs::write(
        root.join("templates/model.html"),
        model.replacen(
            "<h1>{{ m.name }}</h1>",
            "<h1>{{ m.name }}</h1><a href=\"v999.html#nowhere\">x</a>",
            1,
        ),
    )
    .unwrap();
    let (code, _, e) = build(root, out.path(), &["--force"]);
    assert_eq!(code, 2);
    assert!(e.contains("broken links"), "{e}");
    assert!(e.contains("v999.html"), "{e}");
}

/// A registry's template override that reads the environment (a CI secret, HOME) with tera's
/// `get_env` fails the build with a clear error, and nothing from the environment is written.
#[test]
fn a_template_override_cannot_read_the_environment() {
    let dir = example_dir();
    let root = dir.path();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    let index = std::fs::read_to_string(repo_root().join("src/site/templates/index.html")).unwrap();
    let out = tempfile::tempdir().unwrap();
    for call in [
        r#"{{ get_env(name="HOME") }}"#,
        r#"{{ get_env(name="MODELGATE_TEST_SECRET", default="none") }}"#,
    ] {
        std::fs::write(
            root.join("templates/index.html"),
            index.replacen(
                "{% block main %}",
                &format!("{{% block main %}}<p>{call}</p>"),
                1,
            ),
        )
        .unwrap();
        let o = crate::util::modelgate()
            .args(["site", "build", "--force", "--out"])
            .arg(out.path())
            .current_dir(root)
            .env("MODELGATE_TEST_SECRET", "s3cr3t-token-value")
            .env("HOME", "/home/secret-home-dir")
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{call}: {e}");
        assert!(e.contains("templates/index.html"), "{e}");
        assert!(e.contains("`get_env` is not available"), "{e}");
        for (f, bytes) in files(out.path()) {
            let t = String::from_utf8_lossy(&bytes);
            assert!(!t.contains("s3cr3t-token-value"), "{f}");
            assert!(!t.contains("secret-home-dir"), "{f}");
        }
    }
}

/// A hostile or stale build cache in --out that lists paths outside it (`../x`, absolute
/// paths, a path through a symbolic link, a model name with `..`) deletes nothing outside
/// --out, and a symbolic link inside --out is never followed or removed.
#[test]
fn a_planted_build_cache_never_deletes_outside_out() {
    let dir = example_dir();
    let root = dir.path();
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("site");
    let (code, o, e) = build(root, &out, &[]);
    assert_eq!(code, 0, "{o}{e}");
    // What the attacker wants deleted: files beside --out, anywhere, and behind a link.
    let outside = base.path().join("outside");
    std::fs::create_dir_all(outside.join("models/ghost")).unwrap();
    let victims = [
        base.path().join("victim.html"),
        outside.join("abs.html"),
        outside.join("behind-link.html"),
        outside.join("target.html"),
    ];
    for v in &victims {
        std::fs::write(v, "keep me").unwrap();
    }
    std::os::unix::fs::symlink(&outside, out.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("target.html"), out.join("sym.html")).unwrap();
    let cache_path = out.join(".modelgate-site.json");
    let clean: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache_path).unwrap()).unwrap();
    let plant = |files: Vec<String>, name: &str| {
        let mut c = clean.clone();
        c["models"][name] = serde_json::json!({"stamp": "x", "row": {}, "files": files});
        std::fs::write(&cache_path, serde_json::to_vec(&c).unwrap()).unwrap();
    };

    // Paths no build writes: the whole cache is distrusted (a full rebuild), nothing deleted.
    plant(
        vec![
            "../victim.html".into(),
            outside.join("abs.html").display().to_string(),
            "models/../../victim.html".into(),
        ],
        "ghost",
    );
    let (code, o, e) = build(root, &out, &[]);
    assert_eq!(code, 0, "{o}{e}");
    plant(vec![], "../outside/models/ghost");
    let (code, o, e) = build(root, &out, &[]);
    assert_eq!(code, 0, "{o}{e}");
    assert!(outside.join("models/ghost").is_dir());

    // Plain paths through a symbolic link, or naming one: not followed, not removed.
    plant(
        vec!["link/behind-link.html".into(), "sym.html".into()],
        "ghost",
    );
    let (code, o, e) = build(root, &out, &[]);
    assert_eq!(code, 0, "{o}{e}");
    for v in &victims {
        assert_eq!(
            std::fs::read_to_string(v).unwrap(),
            "keep me",
            "{} was touched",
            v.display()
        );
    }
    assert!(out.join("sym.html").is_symlink());
    assert!(out.join("link").is_symlink());
    // A page of a model that is really gone is still removed.
    std::fs::write(out.join("models/ghost.html"), "old").unwrap();
    plant(vec!["models/ghost.html".into()], "ghost");
    let (code, o, e) = build(root, &out, &[]);
    assert_eq!(code, 0, "{o}{e}");
    assert!(!out.join("models/ghost.html").exists());
}

#[test]
fn a_folder_that_is_not_a_registry_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    // Found from the current folder: none above it holds a registry.
    let (code, _, e) = build(dir.path(), &out, &[]);
    assert_eq!(code, 2);
    assert!(e.contains("no registry found"), "{e}");
    // Named with --root: the same error as every other command.
    let root = dir.path().display().to_string();
    let o = out.display().to_string();
    let (code, _, e) = run(&["--root", &root, "site", "build", "--out", &o], dir.path());
    assert_eq!(code, 2);
    assert!(
        e.contains("is not a registry repository: registry/policy.yaml was not found"),
        "{e}"
    );
    assert!(!out.exists(), "--out was created");
}

#[test]
fn the_site_works_in_headless_chromium_from_file_urls() {
    let dir = example_dir();
    let root = dir.path();
    // A drift history, so every chart is drawn.
    for d in ["2024-06-09", "2024-06-16", "2024-06-23", "2024-06-30"] {
        let (code, o, e) = run(
            &[
                "drift",
                "--all",
                "--date",
                d,
                "--fail-on",
                "never",
                "--actor",
                "ci@example.com",
            ],
            root,
        );
        assert_eq!(code, 0, "{o}{e}");
    }
    let out = tempfile::tempdir().unwrap();
    let (code, o, e) = build(root, out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    let shots = repo_root().join("target/test-artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("site-heart_disease.png");
    let python = repo_root().join(".tools/venv/bin/python");
    let res = std::process::Command::new(&python)
        .arg(repo_root().join("scripts/browser_check.py"))
        .arg(out.path())
        .args([
            "--screenshot",
            shot.to_str().unwrap(),
            "--model",
            "heart_disease",
        ])
        .output()
        .expect("running scripts/browser_check.py (bash scripts/setup.sh installs it)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(res.status.success(), "{report}");
    assert!(report.contains("checks passed"), "{report}");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "a real screenshot"
    );
}

/// A broken relative link in a model card fails the build at the card's file and line, not at
/// the generated page; a broken link of a template still points at the page.
#[test]
fn a_broken_link_in_a_card_is_reported_at_the_cards_line() {
    let dir = example_dir();
    let root = dir.path();
    let card = root.join("model-cards/diabetes.md");
    let mut t = std::fs::read_to_string(&card).unwrap();
    t.push_str("\n## Links\n\nThe [data sheet](datasheet.html) and [v2](v2.html).\n\n<p>Raw: <a href=\"v2.html#nowhere\">v2</a></p>\n");
    std::fs::write(&card, &t).unwrap();
    let line_of = |needle: &str| t.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let out = tempfile::tempdir().unwrap();
    let (code, o, e) = build(root, out.path(), &[]);
    assert_eq!(code, 2, "{o}{e}");
    assert!(e.contains("2 broken links"), "{e}");
    let sheet = line_of("datasheet.html");
    let raw = line_of("#nowhere");
    assert!(
        e.contains(&format!(
            "model-cards/diabetes.md:{sheet}: datasheet.html: target not found"
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "model-cards/diabetes.md:{raw}: v2.html#nowhere: anchor #nowhere not found"
        )),
        "{e}"
    );
    // The page is named as where the link ended up, never as the place to fix.
    for l in e.lines().filter(|l| l.contains(".html:")) {
        assert!(
            l.trim_start().starts_with("model-cards/diabetes.md:"),
            "{l}"
        );
        assert!(
            l.contains("(the link is in models/diabetes/index.html:"),
            "{l}"
        );
    }
    // The card fixed: the build passes.
    std::fs::write(
        &card,
        t.replace("datasheet.html", "v2.html")
            .replace("#nowhere", ""),
    )
    .unwrap();
    let (code, o, e) = build(root, out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
}

/// An incomplete model card (here: the template filled with the model's name only) is never
/// published as if it were the card: the model page lists what is missing, as
/// `gates::card::gaps` finds it, the index and models.json mark it, the README says so, and a
/// registry template that asks for more makes a complete card incomplete on the next build.
#[test]
fn an_incomplete_card_is_shown_with_what_it_lacks() {
    use modelgate::gates::card::{Template, gaps};
    let dir = example_dir();
    let root = dir.path();
    let card = modelgate::scaffold::fill(modelgate::scaffold::MODEL_CARD, &[("model", "diabetes")]);
    std::fs::write(root.join("model-cards/diabetes.md"), &card).unwrap();
    let want = gaps(&card, &Template::builtin());
    assert!(!want.is_empty());
    let out = tempfile::tempdir().unwrap();
    let (code, o, e) = build(root, out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");

    // tera escapes `/` and `"`; read the text back.
    let page = text(out.path(), "models/diabetes/index.html")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'");
    assert!(page.contains("The model card is incomplete"), "banner");
    assert!(page.contains("id=\"card-gaps\""), "the list of gaps");
    assert!(page.contains(&format!(
        "{} parts of the template are not written",
        want.len()
    )));
    for g in &want {
        let at = format!("<code>model-cards/diabetes.md:{}</code>: ", g.line);
        let shown = page
            .split(&at)
            .nth(1)
            .and_then(|s| s.split("</li>").next())
            .unwrap_or_else(|| panic!("{at} not listed"));
        assert_eq!(shown, g.message);
    }
    let index = text(out.path(), "index.html");
    let row = index.split("id=\"m-diabetes\"").nth(1).unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(
        row.contains("card incomplete") && row.contains("index.html#card-gaps"),
        "{row}"
    );
    let models: serde_json::Value = serde_json::from_str(&text(out.path(), "models.json")).unwrap();
    let by = |n: &str| {
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by("diabetes")["card"], "incomplete");
    assert_eq!(by("diabetes")["card_gaps"], want.len());
    assert_eq!(by("heart_disease")["card"], "complete");
    let readme = text(out.path(), "models/diabetes/README.md");
    assert!(
        readme.contains("**The model card is incomplete**"),
        "{readme}"
    );
    // A complete card carries no notice.
    let heart = text(out.path(), "models/heart_disease/index.html");
    assert!(!heart.contains("card-gaps") && heart.contains("status-pass\">complete"));

    // The registry's own template asks for a section no card has: an incremental build
    // re-renders every model page and marks them all.
    std::fs::write(
        root.join("model-cards/TEMPLATE.md"),
        "# {{model}}\n\n## Purpose\nWhy the model exists.\n",
    )
    .unwrap();
    let (code, o, e) = build(root, out.path(), &[]);
    assert_eq!(code, 0, "{o}{e}");
    let heart = text(out.path(), "models/heart_disease/index.html");
    assert!(
        heart.contains("the section `## Purpose` is missing"),
        "rebuilt with the registry's template"
    );
    let index = text(out.path(), "index.html");
    assert_eq!(index.matches("card incomplete</span>").count(), 3);
}
