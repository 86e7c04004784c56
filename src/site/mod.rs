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
use std::borrow::Cow;
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
    (
        "bias_groups.html",
        include_str!("templates/bias_groups.html"),
    ),
    ("sitemap.xml", include_str!("templates/sitemap.xml")),
    ("model_readme.md", include_str!("templates/model_readme.md")),
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
    /// Open drift issues by model (number, URL), when known (`--github-issues`).
    pub drift_issues: BTreeMap<String, Vec<(u64, String)>>,
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

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CachedModel {
    stamp: String,
    /// The model's row; `None` when the cache's row does not read as one (a cache modelgate did
    /// not write): the model is then rendered again.
    #[serde(deserialize_with = "row_or_none")]
    row: Option<context::ModelRow>,
    files: Vec<String>,
}

/// A cached model's row, or `None` when it is not one.
fn row_or_none<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<context::ModelRow>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// 2: page hashes are XXH3-128 (a tenth of a full build's hashing time with SHA-256).
/// 3: index rows say whether the model card is complete (`card`, `card_gaps`).
const CACHE_FORMAT: u32 = 3;

fn sha(bytes: &[u8]) -> String {
    crate::registry::types::Sha256::of(bytes).hex()
}

/// The templates: built-in, replaced or extended by `<root>/templates/*.html`; the built-in
/// templates that are not HTML (`sitemap.xml`, `model_readme.md`) are replaced by name.
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
            let known = TEMPLATES.iter().any(|(n, _)| *n == name);
            if (name.ends_with(".html") || known) && e.path().is_file() {
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
    // A registry's templates come with its pull requests: they must not read the environment
    // of the machine that builds the site (CI secrets live there). tera cannot unregister a
    // built-in function, so `get_env` is replaced by one that always fails.
    t.register_function("get_env", no_get_env);
    let list: Vec<(String, String)> = all.into_iter().collect();
    t.add_raw_templates(list.iter().map(|(n, s)| (n.as_str(), s.as_str())))
        .map_err(|e| template_error(&e, &list, None))?;
    Ok((t, list))
}

/// `get_env` in a template: always an error, never a value from the environment.
fn no_get_env(_: &std::collections::HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    Err(tera::Error::msg(
        "`get_env` is not available in modelgate's templates: a registry template cannot read the environment",
    ))
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

/// Whether `rel` is a plain site-relative path: folder and file names only — no `..`, `.`,
/// root, drive or empty part. Every path a build writes is one; a cache that lists anything
/// else was not written by modelgate and is not trusted.
fn plain_rel(rel: &str) -> bool {
    use std::path::Component;
    !rel.is_empty()
        && !rel.contains('\\')
        && rel.split('/').all(|p| !p.is_empty())
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

impl Cache {
    /// Whether every path the cache names is one a build could have written: plain relative
    /// paths and valid model names.
    fn plausible(&self) -> bool {
        self.files.keys().all(|f| plain_rel(f))
            && self
                .models
                .iter()
                .all(|(n, m)| ModelName::new(n).is_ok() && m.files.iter().all(|f| plain_rel(f)))
    }
}

/// Whether every folder between `out` and `out/rel` is a real folder, not a symbolic link.
fn real_folders(out: &Path, rel: &str) -> bool {
    let mut cur = out.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for p in &parts[..parts.len().saturating_sub(1)] {
        cur.push(p);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            _ => return false,
        }
    }
    true
}

/// Removes `out/rel`, a page an earlier build wrote, and says whether it did. Only a plain
/// relative path is removed, only a regular file, and never through a symbolic link: a stale or
/// hostile build cache cannot delete anything outside `--out`.
fn remove_output(out: &Path, rel: &str) -> bool {
    if !plain_rel(rel) || !real_folders(out, rel) {
        return false;
    }
    let path = out.join(rel);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => std::fs::remove_file(&path).is_ok(),
        _ => false,
    }
}

/// Removes the empty folder `out/rel`, under the same rules as [`remove_output`].
fn remove_output_dir(out: &Path, rel: &str) {
    if !plain_rel(rel) || !real_folders(out, rel) {
        return;
    }
    let path = out.join(rel);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
        let _ = std::fs::remove_dir(&path);
    }
}

/// Whether `out/rel` must be (re)written: its bytes differ from what the cache says is there.
fn stale(out: &Path, rel: &str, hash: &str, old: &BTreeMap<String, String>) -> bool {
    !(old.get(rel).map(String::as_str) == Some(hash) && out.join(rel).is_file())
}

/// Writes a page. Pages are output, not registry data: a plain write (no fsync per file; the
/// build cache is written last, atomically, so an interrupted build is redone, not trusted).
fn write_page(out: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = out.join(rel);
    match std::fs::write(&path, bytes) {
        // The folder is created on the first page written into it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, bytes)
        }
        r => r,
    }
    .with_context(|| format!("writing {}", path.display()))
}

/// One file of this build: written when its bytes changed, its links parsed when it is a page
/// that was written.
struct Out {
    rel: String,
    hash: String,
    written: bool,
    parsed: Option<linkcheck::Parsed>,
}

/// Hashes a file, writes it when it changed, and parses its links when it is a written page:
/// all on the thread that rendered it.
fn emit(out: &Path, old: &BTreeMap<String, String>, rel: String, bytes: &[u8]) -> Result<Out> {
    // The site's own output, compared only with itself: a fast non-cryptographic hash will do.
    let hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes));
    let written = stale(out, &rel, &hash, old);
    if written {
        write_page(out, &rel, bytes)?;
    }
    let parsed = (written && rel.ends_with(".html")).then(|| linkcheck::parse_page(bytes));
    Ok(Out {
        rel,
        hash,
        written,
        parsed,
    })
}

/// What a build wrote and parsed, for the report and the link check.
#[derive(Default)]
struct Tally {
    written: usize,
    unchanged: usize,
    pages: Vec<(String, linkcheck::Parsed)>,
}

impl Tally {
    fn add(&mut self, o: Out, cache: &mut Cache) {
        if o.written {
            self.written += 1;
        } else {
            self.unchanged += 1;
        }
        if let Some(p) = o.parsed {
            self.pages.push((o.rel.clone(), p));
        }
        cache.files.insert(o.rel, o.hash);
    }
}

/// The pages of one model, rendered and written.
struct Rendered {
    name: String,
    stamp: String,
    row: context::ModelRow,
    files: Vec<Out>,
    card: Option<CardPlace>,
}

/// Where a model card landed in its model page: the page, its lines there, and the card.
struct CardPlace {
    page: String,
    lines: std::ops::RangeInclusive<usize>,
    card: context::CardSource,
}

impl CardPlace {
    /// Finds the card's HTML in the rendered page (a template may leave it out).
    fn find(page: &str, html: &str, card: context::CardSource) -> Option<CardPlace> {
        if card.html.trim().is_empty() {
            return None;
        }
        let at = html.find(card.html.as_str())?;
        let first = html[..at].matches('\n').count() + 1;
        let last = first + card.html.matches('\n').count();
        Some(CardPlace {
            page: page.to_string(),
            lines: first..=last,
            card,
        })
    }
}

/// Points broken links written by a model card at the card's file and line instead of the
/// generated page: the n-th broken occurrence of a link in the card's part of the page is the
/// n-th link of the card's Markdown with that destination. A link that cannot be matched keeps
/// the page's place and names the card.
fn to_card_lines(
    broken: Vec<linkcheck::BrokenLink>,
    cards: &[CardPlace],
) -> Vec<linkcheck::BrokenLink> {
    let mut sources: BTreeMap<&str, Vec<markdown::SourceLink>> = BTreeMap::new();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out: Vec<linkcheck::BrokenLink> = broken
        .into_iter()
        .map(|mut b| {
            let page = b.file.to_string_lossy().into_owned();
            let Some(c) = cards
                .iter()
                .find(|c| c.page == page && c.lines.contains(&b.line))
            else {
                return b;
            };
            let links = sources
                .entry(c.page.as_str())
                .or_insert_with(|| markdown::source_links(&c.card.md));
            let dest = linkcheck::normalize(&b.link);
            let n = seen.entry((page.clone(), dest.clone())).or_default();
            let found = links.iter().filter(|l| l.dest == dest).nth(*n);
            *n += 1;
            match found {
                Some(l) => {
                    b.reason = format!("{} (the link is in {page}:{})", b.reason, b.line);
                    b.file = PathBuf::from(&c.card.file);
                    b.line = l.line;
                }
                None => {
                    b.reason = format!("{} (written by the model card {})", b.reason, c.card.file)
                }
            }
            b
        })
        .collect();
    out.sort();
    out
}

/// Renders, writes and parses the pages of every loaded model, in parallel.
fn render_models(input: &Input, ctx: &context::Site<'_>, out: &Path) -> Result<Vec<Rendered>> {
    let Input {
        reg,
        tera,
        sources,
        stamps,
        old,
        ..
    } = input;
    reg.models
        .values()
        .collect::<Vec<_>>()
        .par_iter()
        .map(|m| -> Result<Rendered> {
            let pages = ctx.model_pages(m)?;
            let mut files = Vec::new();
            let mut card_source = pages.card;
            let mut card = None;
            for (rel, template, value) in pages.templated {
                let c = tera::Context::from_value(value)
                    .map_err(|e| anyhow::anyhow!("building the context of {rel}: {e}"))?;
                let html = tera
                    .render(template, &c)
                    .map_err(|e| template_error(&e, sources, Some(template)))?;
                if template == "model.html" {
                    card = card_source
                        .take()
                        .and_then(|s| CardPlace::find(&rel, &html, s));
                }
                files.push(emit(out, &old.files, rel, html.as_bytes())?);
            }
            for (rel, bytes) in pages.other {
                files.push(emit(out, &old.files, rel, &bytes)?);
            }
            Ok(Rendered {
                name: m.name.to_string(),
                stamp: stamps.get(m.name.as_str()).cloned().unwrap_or_default(),
                row: pages.row,
                files,
                card,
            })
        })
        .collect()
}

/// Runs one step of the build and logs its time at debug level (as Zola's `log_time`).
fn step<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    log::debug!("site: {what:<10} {:>7.3} s", t.elapsed().as_secs_f64());
    r
}

/// Builds the site of the registry at `root`: load → contexts → render → write → link check.
pub fn build(root: &Path, opts: &Options) -> Result<Report> {
    let start = Instant::now();
    let out = output_dir(root, opts)?;
    let input = step("load", || Input::load(root, opts, &out))?;
    let ctx = step("contexts", || context::Site::new(&input.reg, root, opts))?;
    let rendered = step("render", || render(&input, &ctx, &out))?;
    let site = step("write", || write(&input, &ctx, rendered, &out, opts))?;
    step("linkcheck", || link_check(&site, &out))?;
    crate::registry::write::write_atomic(&out.join(CACHE_FILE), &serde_json::to_vec(&site.cache)?)?;
    let report = Report {
        pages: site.cache.files.len(),
        written: site.tally.written,
        unchanged: site.tally.unchanged,
        removed: site.removed,
        models_rendered: site.models_rendered,
        links_checked: site.tally.pages.len(),
        seconds: start.elapsed().as_secs_f64(),
        index: out.join("index.html"),
    };
    // Freeing the loaded registry and the parsed pages (a tenth of a second for a thousand
    // models) need not hold up the caller. If no thread can be started, it happens here.
    drop(ctx);
    let _ = std::thread::Builder::new()
        .name("site-free".into())
        .spawn(move || drop((input, site)));
    Ok(report)
}

/// The output folder, absolute and created, after checking the options and that `root` is a
/// registry: nothing is written before these checks pass.
fn output_dir(root: &Path, opts: &Options) -> Result<PathBuf> {
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
    // Not a registry: the same error as every other command, before anything is written.
    FsSource::new(root)?;
    if !root.join(crate::registry::POLICY_PATH).is_file() {
        return Err(crate::registry::LoadError::NoRegistry(root.display().to_string()).into());
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    Ok(out)
}

/// What the build reads: templates, the previous build's cache, the audit log, each model's
/// stamp, and the registry (only the models whose stamp changed).
struct Input {
    tera: tera::Tera,
    sources: Vec<(String, String)>,
    /// The stamp of the inputs every page depends on.
    global: String,
    old: Cache,
    audit_text: String,
    audit_hash: String,
    stamps: BTreeMap<String, String>,
    reg: crate::registry::Registry,
}

impl Input {
    fn load(root: &Path, opts: &Options, out: &Path) -> Result<Input> {
        let (tera, sources) = templates(root)?;
        let global = global_stamp(root, opts, &sources);
        let old: Cache = if opts.force {
            Cache::default()
        } else {
            std::fs::read(out.join(CACHE_FILE))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .filter(|c: &Cache| c.format == CACHE_FORMAT && c.global == global)
                // A cache naming paths no build writes is not ours: build everything again.
                .filter(Cache::plausible)
                .unwrap_or_default()
        };
        let audit_text =
            std::fs::read_to_string(root.join(crate::audit::AUDIT_PATH)).unwrap_or_default();
        let audit_hash = sha(audit_text.as_bytes());
        let models_dir = root.join(crate::registry::MODELS_DIR);
        let mut names: Vec<String> = std::fs::read_dir(&models_dir)
            .with_context(|| format!("reading {}", models_dir.display()))?
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| ModelName::new(n).is_ok())
            .collect();
        names.sort();
        let compute_stamps = || model_stamps(root, &names, &global, &audit_text);
        let load = |changed: &BTreeSet<ModelName>| {
            crate::registry::load_only(Box::new(FsSource::new(root)?), changed)
                .map(|l| l.registry)
                .map_err(anyhow::Error::from)
        };
        // Load only what changed; on a first build that is everything, and the stamps are
        // computed while it loads.
        let (stamps, reg) = if old.models.is_empty() {
            let all: BTreeSet<ModelName> = names
                .iter()
                .filter_map(|n| ModelName::new(n).ok())
                .collect();
            let (stamps, reg) = rayon::join(compute_stamps, || load(&all));
            (stamps, reg?)
        } else {
            let stamps = compute_stamps();
            let changed: BTreeSet<ModelName> = stamps
                .iter()
                // A model whose cached row does not read is rendered again.
                .filter(|(n, s)| {
                    old.models
                        .get(*n)
                        .filter(|c| c.row.is_some())
                        .map(|c| &c.stamp)
                        != Some(*s)
                })
                .filter_map(|(n, _)| ModelName::new(n).ok())
                .collect();
            let reg = load(&changed)?;
            (stamps, reg)
        };
        Ok(Input {
            tera,
            sources,
            global,
            old,
            audit_text,
            audit_hash,
            stamps,
            reg,
        })
    }
}

/// The stamp of the global inputs: anything every page depends on.
fn global_stamp(root: &Path, opts: &Options, sources: &[(String, String)]) -> String {
    let mut g = format!(
        "modelgate {}\nbase_url {:?}\nstamp {}\n",
        env!("CARGO_PKG_VERSION"),
        opts.base_url,
        opts.stamp
    );
    for (n, s) in sources {
        g.push_str(&format!("template {n} {}\n", sha(s.as_bytes())));
    }
    for (n, s) in ASSETS {
        g.push_str(&format!("asset {n} {}\n", sha(s.as_bytes())));
    }
    // The card template decides which cards are complete, on every model page.
    for f in [
        crate::registry::POLICY_PATH,
        crate::signing::allowed_signers::SIGNERS_PATH,
        crate::scaffold::CARD_TEMPLATE_PATH,
    ] {
        let bytes = std::fs::read(root.join(f)).unwrap_or_default();
        g.push_str(&format!("{f} {}\n", sha(&bytes)));
    }
    sha(g.as_bytes())
}

/// Per-model stamps: what each model's pages depend on (its files, its card, its audit
/// entries and the global stamp).
fn model_stamps(
    root: &Path,
    names: &[String],
    global: &str,
    audit_text: &str,
) -> BTreeMap<String, String> {
    #[derive(Deserialize)]
    struct ModelOf<'a> {
        #[serde(borrow)]
        model: Option<Cow<'a, str>>,
    }
    let mut per_model_audit: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for text in audit_text.lines() {
        if let Ok(ModelOf { model: Some(m) }) = serde_json::from_str::<ModelOf>(text) {
            let b = per_model_audit.entry(m.into_owned()).or_default();
            b.extend_from_slice(text.as_bytes());
            b.push(b'\n');
        }
    }
    let models_dir = root.join(crate::registry::MODELS_DIR);
    names
        .par_iter()
        .map(|n| {
            let mut lines = vec![global.to_string()];
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
        .collect()
}

/// What the render step made: the changed models' pages (already written) and the audit page
/// when it changed.
struct Renders {
    models: Vec<Rendered>,
    audit: Option<String>,
}

/// Renders (and writes, and parses the links of) the changed models in parallel; the audit
/// page is independent of them and renders alongside.
fn render(input: &Input, ctx: &context::Site<'_>, out: &Path) -> Result<Renders> {
    let old = &input.old;
    let audit_needed = input.audit_hash != old.audit || !out.join("audit.html").is_file();
    // The pages the audit page may link to: those of unchanged models (from the cache) and
    // those about to be rendered.
    let mut audit_pages: BTreeSet<String> = old
        .models
        .iter()
        .filter(|(n, _)| input.stamps.contains_key(*n))
        .flat_map(|(_, c)| c.files.iter().cloned())
        .collect();
    for (n, m) in &input.reg.models {
        audit_pages.insert(format!("models/{n}/index.html"));
        for v in m.versions.keys() {
            audit_pages.insert(format!("models/{n}/v{v}.html"));
        }
    }
    let (models, audit) = rayon::join(
        || render_models(input, ctx, out),
        || -> Result<Option<String>> {
            if !audit_needed {
                return Ok(None);
            }
            let value = ctx.audit(&input.audit_text, &audit_pages)?;
            render_page(input, "audit.html", &value).map(Some)
        },
    );
    Ok(Renders {
        models: models?,
        audit: audit?,
    })
}

/// Renders one page with a template.
fn render_page(input: &Input, template: &str, value: &impl Serialize) -> Result<String> {
    let c = tera::Context::from_serialize(value)?;
    input
        .tera
        .render(template, &c)
        .map_err(|e| template_error(&e, &input.sources, Some(template)))
}

/// The site as written: its new cache, what was written, and where model cards landed.
struct Written {
    cache: Cache,
    tally: Tally,
    removed: usize,
    models_rendered: usize,
    cards: Vec<CardPlace>,
}

/// Writes what the render step did not: the assets, the index and `models.json`, the audit
/// page and the sitemap; carries unchanged models over from the cache and removes the pages
/// of models and versions that are gone.
fn write(
    input: &Input,
    ctx: &context::Site<'_>,
    rendered: Renders,
    out: &Path,
    opts: &Options,
) -> Result<Written> {
    let old = &input.old;
    let mut w = Written {
        cache: Cache {
            format: CACHE_FORMAT,
            global: input.global.clone(),
            audit: input.audit_hash.clone(),
            ..Cache::default()
        },
        tally: Tally::default(),
        removed: 0,
        models_rendered: rendered.models.len(),
        cards: Vec::new(),
    };
    for (rel, body) in ASSETS {
        w.add(emit(out, &old.files, rel.to_string(), body.as_bytes())?);
    }
    for r in rendered.models {
        w.add_model(r, old, out);
    }
    w.carry_unchanged(input, out);

    // The index and models.json, from every model's row.
    let rows: Vec<context::ModelRow> = w
        .cache
        .models
        .values()
        .filter_map(|c| c.row.clone())
        .collect();
    let index_key = sha(serde_json::to_string(&rows)?.as_bytes());
    w.cache.index = index_key.clone();
    if index_key != old.index || !out.join("index.html").is_file() {
        let (value, json) = ctx.index(&rows)?;
        let html = render_page(input, "index.html", &value)?;
        w.add(emit(out, &old.files, "index.html".into(), html.as_bytes())?);
        w.add(emit(
            out,
            &old.files,
            "models.json".into(),
            json.as_bytes(),
        )?);
    } else {
        w.keep(old, &["index.html", "models.json"]);
    }
    match &rendered.audit {
        Some(html) => w.add(emit(out, &old.files, "audit.html".into(), html.as_bytes())?),
        None => w.keep(old, &["audit.html"]),
    }
    // The sitemap, when the site has a public URL.
    if let Some(base) = &opts.base_url {
        let s = sitemap(input, base, w.cache.files.keys())?;
        w.add(emit(out, &old.files, "sitemap.xml".into(), s.as_bytes())?);
    }
    Ok(w)
}

/// The sitemap of a site published at `base`: every page of `files`.
fn sitemap<'a>(
    input: &Input,
    base: &str,
    files: impl Iterator<Item = &'a String>,
) -> Result<String> {
    #[derive(Serialize)]
    struct Sitemap {
        /// Each page's URL, escaped for XML.
        urls: Vec<String>,
    }
    let base = base.trim_end_matches('/');
    let urls = files
        .filter(|f| f.ends_with(".html"))
        .map(|f| context::escape_xml(&format!("{base}/{f}")))
        .collect();
    render_page(input, "sitemap.xml", &Sitemap { urls })
}

impl Written {
    fn add(&mut self, o: Out) {
        self.tally.add(o, &mut self.cache);
    }

    /// Files left as they were: carried over from the old cache.
    fn keep(&mut self, old: &Cache, files: &[&str]) {
        for f in files {
            if let Some(h) = old.files.get(*f) {
                self.cache.files.insert(f.to_string(), h.clone());
                self.tally.unchanged += 1;
            }
        }
    }

    /// A model rendered this time; the pages of its versions that no longer exist go.
    fn add_model(&mut self, mut r: Rendered, old: &Cache, out: &Path) {
        self.cards.extend(r.card.take());
        let list: Vec<String> = r.files.iter().map(|o| o.rel.clone()).collect();
        for o in r.files {
            self.add(o);
        }
        if let Some(prev) = old.models.get(&r.name) {
            for f in &prev.files {
                if !list.contains(f) && remove_output(out, f) {
                    self.removed += 1;
                }
            }
        }
        self.cache.models.insert(
            r.name,
            CachedModel {
                stamp: r.stamp,
                row: Some(r.row),
                files: list,
            },
        );
    }

    /// Unchanged models, carried over from the cache; the pages of models that are gone are
    /// removed.
    fn carry_unchanged(&mut self, input: &Input, out: &Path) {
        for (name, cm) in &input.old.models {
            if self.cache.models.contains_key(name) {
                continue;
            }
            if input.stamps.contains_key(name) {
                for f in &cm.files {
                    if let Some(h) = input.old.files.get(f) {
                        self.cache.files.insert(f.clone(), h.clone());
                        self.tally.unchanged += 1;
                    }
                }
                self.cache.models.insert(name.clone(), cm.clone());
            } else {
                for f in &cm.files {
                    if remove_output(out, f) {
                        self.removed += 1;
                    }
                }
                remove_output_dir(out, &format!("models/{name}"));
            }
        }
    }
}

/// Checks the links of every page written (all of them on a full build), against the whole
/// site; a page linked into with a fragment that was not rewritten is read back for its
/// anchors. Broken links are an error, and the cache is removed so that the next build renders
/// and checks everything again.
fn link_check(site: &Written, out: &Path) -> Result<()> {
    let files: Vec<String> = site.cache.files.keys().cloned().collect();
    let broken = linkcheck::check_parsed(&files, &site.tally.pages, |t| {
        std::fs::read(out.join(t))
            .ok()
            .map(|b| linkcheck::parse_page(&b))
    })?;
    if broken.is_empty() {
        return Ok(());
    }
    let broken = to_card_lines(broken, &site.cards);
    let mut msg = format!("{} broken links in the site:\n", broken.len());
    for b in broken.iter().take(50) {
        msg.push_str(&format!("  {b}\n"));
    }
    let _ = std::fs::remove_file(out.join(CACHE_FILE));
    bail!(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_row_that_is_not_a_row_is_none_and_a_row_reads_back_unchanged() {
        let cache: Cache = serde_json::from_str(
            r#"{"format":3,"global":"g","audit":"a","index":"i","files":{},
               "models":{"ghost":{"stamp":"x","row":{},"files":[]}}}"#,
        )
        .unwrap();
        assert!(cache.models["ghost"].row.is_none());
        assert!(cache.plausible());

        let row = r#"{"bias":"none","bias_rank":0,"bias_text":"no version","card":"missing","card_gaps":0,"challenger":null,"challenger_url":null,"champion":null,"champion_url":null,"changed":"","description":"d","drift":"none","drift_date":null,"drift_rank":0,"drift_status":"not monitored","drift_text":"not monitored","metric_text":null,"metric_value":null,"metrics":{},"name":"m","owner":"o","primary_metric":"roc_auc","tags":{},"task":"regression","url":"models/m/index.html","versions":0}"#;
        let text = format!(r#"{{"stamp":"s","row":{row},"files":["models/m/index.html"]}}"#);
        let cm: CachedModel = serde_json::from_str(&text).unwrap();
        assert!(cm.row.is_some());
        assert_eq!(serde_json::to_string(&cm).unwrap(), text);
    }
}
