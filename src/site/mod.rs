//! The static site: `modelgate site build`.
//!
//! Pages are rendered with tera from templates embedded in the binary (a registry's
//! `templates/<name>` replaces the built-in template of that name), model cards with
//! pulldown-cmark and sanitised with ammonia, charts and lineage graphs drawn as SVG at build
//! time ([`charts`]). Every link is relative, so the site works from `file://`, from a
//! sub-path on GitHub Pages and from any static host; after building, every internal link and
//! anchor is checked ([`linkcheck`]).
//!
//! **Incremental.** A build remembers, in `<out>/.modelgate-site.json`, a stamp of each model's
//! inputs (the size and modification time of every file of its folder and of its card, the
//! text of its audit entries, and the global inputs: policy, signers, templates, options) and
//! the sha256 of every page it wrote. A rebuild loads and renders only the models whose stamp
//! changed, rewrites only the files whose bytes changed, and re-renders the index and the
//! audit page only when what they show changed. `--force` renders everything.
//!
//! **Deterministic.** The same registry gives the same bytes: no build time unless `--stamp`,
//! maps iterate sorted, numbers are formatted with fixed rules.

pub mod charts;
pub mod context;
pub mod linkcheck;
pub mod markdown;

use crate::registry::source::FsSource;
use crate::registry::types::ModelName;
use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Built-in templates: name and text.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("index.html", include_str!("templates/index.html")),
    ("model.html", include_str!("templates/model.html")),
    ("version.html", include_str!("templates/version.html")),
    ("audit.html", include_str!("templates/audit.html")),
];

/// Static assets written as they are.
pub const ASSETS: &[(&str, &str)] = &[
    ("assets/style.css", include_str!("assets/style.css")),
    ("assets/site.js", include_str!("assets/site.js")),
];

/// Where a registry keeps its template overrides.
pub const TEMPLATES_DIR: &str = "templates";

/// The build cache file, inside the output folder.
pub const CACHE_FILE: &str = ".modelgate-site.json";

/// How to build.
#[derive(Clone, Debug)]
pub struct Options {
    /// Output folder.
    pub out: PathBuf,
    /// Public URL of the site, for canonical links and the sitemap.
    pub base_url: Option<String>,
    /// Write the build time into pages.
    pub stamp: bool,
    /// Render everything.
    pub force: bool,
}

/// What a build did.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Pages and files the site has.
    pub pages: usize,
    /// Files written this time.
    pub written: usize,
    /// Files rendered with the same bytes as before (left alone).
    pub unchanged: usize,
    /// Files removed (models that are gone).
    pub removed: usize,
    /// Models rendered this time.
    pub models_rendered: usize,
    /// Links checked.
    pub links_checked: usize,
    /// Seconds taken.
    pub seconds: f64,
    /// The index page.
    pub index: PathBuf,
}

/// The build cache.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Cache {
    format: u32,
    global: String,
    audit: String,
    index: String,
    models: BTreeMap<String, CachedModel>,
    /// sha256 of every file written, by site-relative path.
    files: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct CachedModel {
    stamp: String,
    row: serde_json::Value,
    files: Vec<String>,
}

const CACHE_FORMAT: u32 = 1;

fn sha(bytes: &[u8]) -> String {
    crate::registry::types::Sha256::of(bytes).hex()
}

/// The templates: built-in, replaced or extended by `<root>/templates/*.html`.
pub fn templates(root: &Path) -> Result<(tera::Tera, Vec<(String, String)>)> {
    let mut all: BTreeMap<String, String> = TEMPLATES
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let dir = root.join(TEMPLATES_DIR);
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut names = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".html") && e.path().is_file() {
                names.push(name);
            }
        }
        names.sort();
        for name in names {
            let text = std::fs::read_to_string(dir.join(&name))
                .with_context(|| format!("reading {TEMPLATES_DIR}/{name}"))?;
            all.insert(name, text);
        }
    }
    let mut t = tera::Tera::default();
    t.autoescape_on(vec![".html"]);
    let list: Vec<(String, String)> = all.into_iter().collect();
    t.add_raw_templates(list.iter().map(|(n, s)| (n.as_str(), s.as_str())))
        .map_err(|e| template_error(&e, &list, None))?;
    Ok((t, list))
}

/// A template error in words: the template, the line when it can be found, and tera's cause.
fn template_error(
    e: &tera::Error,
    sources: &[(String, String)],
    rendering: Option<&str>,
) -> anyhow::Error {
    use std::error::Error as _;
    let mut chain = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        chain.push(c.to_string());
        cur = c.source();
    }
    let text = chain.join(": ");
    // "Variable `m.nme` not found in context while rendering 'model.html'"
    let var = text
        .split("Variable `")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .map(str::to_string);
    let mut name = text
        .split("rendering '")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .map(str::to_string)
        .or_else(|| rendering.map(str::to_string));
    if name.is_none() {
        name = text
            .split("Failed to parse '")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .map(str::to_string);
    }
    let line = match (&var, &name) {
        (Some(v), Some(n)) => sources.iter().find(|(s, _)| s == n).and_then(|(_, src)| {
            let needle = format!("{} ", v.split('.').next().unwrap_or(v));
            src.lines()
                .position(|l| l.contains(v.as_str()))
                .or_else(|| {
                    src.lines().position(|l| {
                        (l.contains("{{") || l.contains("{%")) && l.contains(needle.as_str())
                    })
                })
                .map(|i| i + 1)
        }),
        _ => None,
    };
    let origin = |n: &str| {
        if TEMPLATES
            .iter()
            .any(|(b, src)| *b == n && sources.iter().any(|(x, s)| x == n && s == src))
        {
            format!("built-in template {n}")
        } else {
            format!("{TEMPLATES_DIR}/{n}")
        }
    };
    match (name, line, var) {
        (Some(n), Some(l), Some(v)) => anyhow::anyhow!(
            "{}:{l}: the template uses `{v}`, which the page does not have ({text})",
            origin(&n)
        ),
        (Some(n), _, _) => anyhow::anyhow!("{}: {text}", origin(&n)),
        _ => anyhow::anyhow!("template error: {text}"),
    }
}

/// Stats every file under `dir` (recursively), sorted, as `path size mtime_ns` lines.
fn stat_tree(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(meta) = e.metadata() else { continue };
        let r = format!("{rel}/{name}");
        if meta.is_dir() {
            stat_tree(&e.path(), &r, out);
        } else {
            out.push(format!("{r} {} {}", meta.len(), mtime_ns(&meta)));
        }
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn file_stamp(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => format!("{} {}", m.len(), mtime_ns(&m)),
        Err(_) => "-".into(),
    }
}

/// Writes `bytes` to `out/rel` when they differ from what the cache says is there.
fn put(
    out: &Path,
    rel: &str,
    bytes: &[u8],
    old: &BTreeMap<String, String>,
) -> Result<(String, bool)> {
    let h = sha(bytes);
    let path = out.join(rel);
    let same = old.get(rel) == Some(&h) && path.is_file();
    if !same {
        crate::registry::write::write_atomic(&path, bytes)?;
    }
    Ok((h, !same))
}

/// Builds the site of the registry at `root`.
pub fn build(root: &Path, opts: &Options) -> Result<Report> {
    let start = Instant::now();
    let out = if opts.out.is_absolute() {
        opts.out.clone()
    } else {
        std::env::current_dir()?.join(&opts.out)
    };
    if out.exists() && !out.is_dir() {
        bail!("--out {} exists and is not a folder", opts.out.display());
    }
    if let Some(u) = &opts.base_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            bail!("--base-url `{u}` must start with https:// or http://");
        }
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let (tera, sources) = templates(root)?;

    // Global inputs: anything every page depends on.
    let mut g = format!(
        "modelgate {}\nbase_url {:?}\nstamp {}\n",
        env!("CARGO_PKG_VERSION"),
        opts.base_url,
        opts.stamp
    );
    for (n, s) in &sources {
        g.push_str(&format!("template {n} {}\n", sha(s.as_bytes())));
    }
    for (n, s) in ASSETS {
        g.push_str(&format!("asset {n} {}\n", sha(s.as_bytes())));
    }
    for f in [
        crate::registry::POLICY_PATH,
        crate::signing::allowed_signers::SIGNERS_PATH,
    ] {
        let bytes = std::fs::read(root.join(f)).unwrap_or_default();
        g.push_str(&format!("{f} {}\n", sha(&bytes)));
    }
    let global = sha(g.as_bytes());

    let cache_path = out.join(CACHE_FILE);
    let old: Cache = if opts.force {
        Cache::default()
    } else {
        std::fs::read(&cache_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|c: &Cache| c.format == CACHE_FORMAT && c.global == global)
            .unwrap_or_default()
    };

    // The audit log, per model.
    let audit_text =
        std::fs::read_to_string(root.join(crate::audit::AUDIT_PATH)).unwrap_or_default();
    let audit_hash = sha(audit_text.as_bytes());
    let mut per_model_audit: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    {
        let mut diags = Vec::new();
        let log = crate::audit::Log::parse(&audit_text, &mut diags);
        for (line, text) in log.lines.iter().zip(audit_text.lines()) {
            if let Some(m) = line.entry.as_ref().and_then(|e| e.model.clone()) {
                let b = per_model_audit.entry(m).or_default();
                b.extend_from_slice(text.as_bytes());
                b.push(b'\n');
            }
        }
    }

    // Per-model stamps.
    let models_dir = root.join(crate::registry::MODELS_DIR);
    let mut names: Vec<String> = std::fs::read_dir(&models_dir)
        .with_context(|| format!("reading {}", models_dir.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| ModelName::new(n).is_ok())
        .collect();
    names.sort();
    let stamps: BTreeMap<String, String> = names
        .par_iter()
        .map(|n| {
            let mut lines = vec![global.clone()];
            stat_tree(&models_dir.join(n), n, &mut lines);
            lines.push(format!(
                "card {}",
                file_stamp(
                    &root
                        .join(crate::registry::CARDS_DIR)
                        .join(format!("{n}.md"))
                )
            ));
            lines.push(sha(per_model_audit
                .get(n)
                .map(|v| v.as_slice())
                .unwrap_or(b"")));
            (n.clone(), sha(lines.join("\n").as_bytes()))
        })
        .collect();
    let changed: BTreeSet<ModelName> = stamps
        .iter()
        .filter(|(n, s)| old.models.get(*n).map(|c| &c.stamp) != Some(*s))
        .filter_map(|(n, _)| ModelName::new(n).ok())
        .collect();

    // Load only what changed (everything on a first build).
    let reg = crate::registry::load_only(Box::new(FsSource::new(root)?), &changed)?.registry;
    let ctx = context::Site::new(&reg, root, opts)?;

    // Render changed models in parallel.
    struct Rendered {
        name: String,
        stamp: String,
        row: serde_json::Value,
        files: Vec<(String, Vec<u8>)>,
    }
    let rendered: Vec<Rendered> = reg
        .models
        .values()
        .collect::<Vec<_>>()
        .par_iter()
        .map(|m| -> Result<Rendered> {
            let pages = ctx.model_pages(m)?;
            let mut files = Vec::new();
            for (rel, template, value) in pages.html {
                let c = tera::Context::from_value(value)
                    .map_err(|e| anyhow::anyhow!("building the context of {rel}: {e}"))?;
                let html = tera
                    .render(template, &c)
                    .map_err(|e| template_error(&e, &sources, Some(template)))?;
                files.push((rel, html.into_bytes()));
            }
            files.extend(pages.other);
            Ok(Rendered {
                name: m.name.to_string(),
                stamp: stamps.get(m.name.as_str()).cloned().unwrap_or_default(),
                row: pages.row,
                files,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut new_cache = Cache {
        format: CACHE_FORMAT,
        global: global.clone(),
        audit: audit_hash.clone(),
        index: String::new(),
        models: BTreeMap::new(),
        files: BTreeMap::new(),
    };
    let (mut written, mut unchanged, mut removed) = (0usize, 0usize, 0usize);
    let mut carried = 0usize;
    let mut rewritten: Vec<String> = Vec::new();
    let mut write = |rel: &str, bytes: &[u8], cache: &mut Cache| -> Result<()> {
        let (h, w) = put(&out, rel, bytes, &old.files)?;
        if w {
            written += 1;
            rewritten.push(rel.to_string());
        } else {
            unchanged += 1;
        }
        cache.files.insert(rel.to_string(), h);
        Ok(())
    };
    for (rel, body) in ASSETS {
        write(rel, body.as_bytes(), &mut new_cache)?;
    }
    let models_rendered = rendered.len();
    for r in rendered {
        let mut list = Vec::new();
        for (rel, bytes) in &r.files {
            write(rel, bytes, &mut new_cache)?;
            list.push(rel.clone());
        }
        // Pages of versions that no longer exist.
        if let Some(prev) = old.models.get(&r.name) {
            for f in &prev.files {
                if !list.contains(f) {
                    let _ = std::fs::remove_file(out.join(f));
                    removed += 1;
                }
            }
        }
        new_cache.models.insert(
            r.name.clone(),
            CachedModel {
                stamp: r.stamp,
                row: r.row,
                files: list,
            },
        );
    }
    // Unchanged models: carried over from the cache.
    for (name, cm) in &old.models {
        if new_cache.models.contains_key(name) {
            continue;
        }
        if stamps.contains_key(name) {
            for f in &cm.files {
                if let Some(h) = old.files.get(f) {
                    new_cache.files.insert(f.clone(), h.clone());
                }
            }
            new_cache.models.insert(name.clone(), cm.clone());
        } else {
            // A model that is gone: remove its pages.
            for f in &cm.files {
                if std::fs::remove_file(out.join(f)).is_ok() {
                    removed += 1;
                }
            }
            let _ = std::fs::remove_dir(out.join("models").join(name));
        }
    }

    // The index and models.json, from every model's row.
    let rows: Vec<serde_json::Value> = new_cache.models.values().map(|c| c.row.clone()).collect();
    let index_key = sha(serde_json::to_string(&rows)?.as_bytes());
    new_cache.index = index_key.clone();
    let index_files: Vec<(String, Vec<u8>)> =
        if index_key != old.index || !out.join("index.html").is_file() {
            let (value, json) = ctx.index(&rows)?;
            let c = tera::Context::from_value(value)?;
            let html = tera
                .render("index.html", &c)
                .map_err(|e| template_error(&e, &sources, Some("index.html")))?;
            vec![
                ("index.html".to_string(), html.into_bytes()),
                ("models.json".to_string(), json.into_bytes()),
            ]
        } else {
            Vec::new()
        };
    for f in ["index.html", "models.json"] {
        if index_files.is_empty() {
            if let Some(h) = old.files.get(f) {
                new_cache.files.insert(f.into(), h.clone());
                carried += 1;
            }
        }
    }
    for (rel, bytes) in &index_files {
        write(rel, bytes, &mut new_cache)?;
    }

    // The audit page.
    if audit_hash != old.audit || !out.join("audit.html").is_file() {
        let pages: BTreeSet<String> = new_cache.files.keys().cloned().collect();
        let value = ctx.audit(&audit_text, &pages)?;
        let c = tera::Context::from_value(value)?;
        let html = tera
            .render("audit.html", &c)
            .map_err(|e| template_error(&e, &sources, Some("audit.html")))?;
        write("audit.html", html.as_bytes(), &mut new_cache)?;
    } else if let Some(h) = old.files.get("audit.html") {
        new_cache.files.insert("audit.html".into(), h.clone());
        carried += 1;
    }

    // The sitemap, when the site has a public URL.
    if let Some(base) = &opts.base_url {
        let base = base.trim_end_matches('/');
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for f in new_cache.files.keys().filter(|f| f.ends_with(".html")) {
            s.push_str(&format!(
                "  <url><loc>{}</loc></url>\n",
                context::escape_xml(&format!("{base}/{f}"))
            ));
        }
        s.push_str("</urlset>\n");
        write("sitemap.xml", s.as_bytes(), &mut new_cache)?;
    }

    // Check links: every page on a full build, the rewritten ones on a rebuild.
    let full = old.models.is_empty();
    let broken = if full {
        linkcheck::check_site(&out)?
    } else {
        let html: Vec<PathBuf> = rewritten
            .iter()
            .filter(|f| f.ends_with(".html"))
            .map(PathBuf::from)
            .collect();
        linkcheck::check_files(&out, &html)?
    };
    let links_checked = if full {
        new_cache.files.len()
    } else {
        rewritten.len()
    };
    if !broken.is_empty() {
        let mut msg = format!("{} broken links in the site:\n", broken.len());
        for b in broken.iter().take(50) {
            msg.push_str(&format!("  {b}\n"));
        }
        // Keep no cache: the next build starts over.
        let _ = std::fs::remove_file(&cache_path);
        bail!(msg);
    }
    crate::registry::write::write_atomic(&cache_path, &serde_json::to_vec(&new_cache)?)?;
    let unchanged = unchanged + carried;
    Ok(Report {
        pages: new_cache.files.len(),
        written,
        unchanged,
        removed,
        models_rendered,
        links_checked,
        seconds: start.elapsed().as_secs_f64(),
        index: out.join("index.html"),
    })
}
