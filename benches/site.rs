//! `cargo bench --bench site`: the static site of a synthetic registry of 1,000 models × 20
//! versions with model cards — a full build, a rebuild with nothing changed, a rebuild after one
//! model card changed — and Hugo rendering the same 1,000 card Markdown files as plain pages,
//! in the same run (`scripts/bench-site` installs Debian's hugo). Under `cargo test` the same
//! code runs on a small registry as a smoke test.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn build(root: &Path, out: &Path, force: bool) -> modelgate::site::Report {
    modelgate::site::build(
        root,
        &modelgate::site::Options {
            out: out.to_path_buf(),
            base_url: None,
            stamp: false,
            force,
            drift_issues: Default::default(),
        },
    )
    .unwrap()
}

/// A Hugo site holding the same card Markdown files as plain pages, with a minimal layout.
fn hugo_site(root: &Path, dir: &Path) {
    std::fs::create_dir_all(dir.join("content/models")).unwrap();
    std::fs::create_dir_all(dir.join("layouts/_default")).unwrap();
    std::fs::write(
        dir.join("hugo.toml"),
        "baseURL = 'https://example.org/'\nlanguageCode = 'en'\ntitle = 'cards'\ndisableKinds = ['taxonomy', 'term', 'RSS', 'sitemap', 'robotsTXT']\n",
    )
    .unwrap();
    let page = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ .Title }}</title></head><body><main>{{ .Content }}</main></body></html>\n";
    std::fs::write(dir.join("layouts/_default/single.html"), page).unwrap();
    std::fs::write(
        dir.join("layouts/_default/list.html"),
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ .Title }}</title></head><body><ul>{{ range .Pages }}<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}</ul></body></html>\n",
    )
    .unwrap();
    for e in std::fs::read_dir(root.join("model-cards"))
        .unwrap()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(m) = name.strip_suffix(".md") else {
            continue;
        };
        let body = std::fs::read_to_string(e.path()).unwrap();
        std::fs::write(
            dir.join("content/models").join(&name),
            format!("---\ntitle: \"{m}\"\n---\n\n{body}"),
        )
        .unwrap();
    }
}

// The allocator the binary uses, so the library rows compare with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (models, versions, runs) = if full { (1000, 20, 5) } else { (12, 3, 1) };
    // MODELGATE_BENCH_DIR=/dev/shm measures the tools rather than this machine's disk.
    let base = std::env::var_os("MODELGATE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(&base).unwrap();
    let root = dir.path().join("registry-repo");
    modelgate::synth::write(&root, models, versions).unwrap();

    // Full builds, each into a fresh folder.
    let mut full_times = Vec::new();
    let mut pages = 0;
    for i in 0..runs {
        let out = dir.path().join(format!("site-{i}"));
        let t = Instant::now();
        let r = build(&root, &out, false);
        full_times.push(t.elapsed());
        pages = r.pages;
        assert_eq!(r.written, r.pages);
    }
    let out = dir.path().join("site-0");
    // Nothing changed.
    let mut noop = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let r = build(&root, &out, false);
        noop.push(t.elapsed());
        assert_eq!(r.written, 0);
    }
    // One card changed.
    let mut one = Vec::new();
    let mut written = 0;
    let card = root.join("model-cards/model_0007.md");
    for i in 0..runs {
        let mut t = std::fs::read_to_string(&card).unwrap();
        t.push_str(&format!("\nEdit {i}.\n"));
        std::fs::write(&card, t).unwrap();
        let t = Instant::now();
        let r = build(&root, &out, false);
        one.push(t.elapsed());
        written = r.written;
        assert_eq!(r.models_rendered, 1);
    }
    // The binary, full build.
    let bin = env!("CARGO_BIN_EXE_modelgate");
    let mut bin_full = Vec::new();
    for i in 0..runs {
        let o = dir.path().join(format!("bin-site-{i}"));
        let t = Instant::now();
        let s = Command::new(bin)
            .args([
                "--root",
                root.to_str().unwrap(),
                "site",
                "build",
                "--out",
                o.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        bin_full.push(t.elapsed());
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    }
    // Hugo, on the same card Markdown files.
    let hugo = Command::new("hugo")
        .arg("version")
        .output()
        .ok()
        .filter(|o| o.status.success());
    let hugo_row = match hugo {
        Some(v) => {
            let hdir = dir.path().join("hugo");
            hugo_site(&root, &hdir);
            let mut times = Vec::new();
            for i in 0..runs {
                let o = dir.path().join(format!("hugo-out-{i}"));
                let t = Instant::now();
                let s = Command::new("hugo")
                    .args([
                        "--quiet",
                        "--source",
                        hdir.to_str().unwrap(),
                        "--destination",
                        o.to_str().unwrap(),
                    ])
                    .output()
                    .unwrap();
                times.push(t.elapsed());
                assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
            }
            Some((
                String::from_utf8_lossy(&v.stdout)
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
                median(times),
            ))
        }
        None => None,
    };
    println!(
        "\nmodelgate site build, synthetic registry of {models} models × {versions} versions with cards: {pages} files, {runs} runs each, output under {}",
        base.display()
    );
    println!("| measurement                                   | median     |");
    println!("|-----------------------------------------------|------------|");
    for (name, d) in [
        ("full build, library", median(full_times)),
        ("full build, binary", median(bin_full)),
        ("rebuild, nothing changed", median(noop)),
        ("rebuild after one model card changed", median(one)),
    ] {
        println!("| {name:<45} | {:>7.1} ms |", d.as_secs_f64() * 1e3);
    }
    println!("(the rebuild after one card wrote {written} files)");
    match hugo_row {
        Some((v, d)) => println!(
            "| Hugo ({v}), the {models} card .md files as plain pages | {:>7.1} ms |",
            d.as_secs_f64() * 1e3
        ),
        None => println!("hugo: not installed (scripts/bench-site installs Debian's hugo)"),
    }
}
