//! Registry benchmark: validate a synthetic registry of 1,000 models × 20 versions from a folder
//! and from a git revision, in process and as the binary (with its peak memory).
//!
//! `cargo bench --bench registry` runs the full size and prints a table. Under `cargo test` the
//! same code runs on a small registry as a smoke test, so the benchmark cannot rot.

use modelgate::registry::source::{FsSource, GitSource, Source};
use modelgate::validate::{Options, validate_source};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    let min = *samples.iter().min().unwrap();
    (median(samples), min)
}

fn validate(src: Box<dyn Source>, expect_models: usize) {
    let o = validate_source(src, Options::default()).expect("a registry");
    assert_eq!(o.registry.models.len(), expect_models);
    assert!(!o.report.has_errors(), "synthetic registry must be clean");
}

static PEAK_KIB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The largest peak RSS (MiB) the binary reported so far (VmHWM via RUST_LOG=debug: only
/// the program itself, not the copy of this process it was forked from).
fn max_rss_mib() -> f64 {
    PEAK_KIB.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
}

fn run_binary(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_modelgate"))
        .args(args)
        .env("RUST_LOG", "debug")
        .output()
        .expect("run modelgate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(kib) = stderr
        .lines()
        .find_map(|l| l.strip_prefix("modelgate: debug: peak RSS "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse::<u64>().ok())
    {
        PEAK_KIB.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
    }
}

// The allocator the binary uses, so the library rows compare with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (models, versions, runs) = if full { (1000, 20, 7) } else { (20, 5, 1) };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("registry-repo");
    let t = Instant::now();
    modelgate::synth::write(&root, models, versions).unwrap();
    modelgate::synth::commit_all(&root, "synthetic").unwrap();
    let setup = t.elapsed();
    let r: &Path = &root;
    let rs = r.to_str().unwrap();

    let fs = time(runs, || {
        validate(Box::new(FsSource::new(r).unwrap()), models as usize)
    });
    let git = time(runs, || {
        validate(
            Box::new(GitSource::open(r, "HEAD").unwrap()),
            models as usize,
        )
    });
    let bin_fs = time(runs, || {
        run_binary(&["--root", rs, "validate", "--format", "json"])
    });
    let bin_git = time(runs, || {
        run_binary(&[
            "--root", rs, "validate", "--rev", "HEAD", "--format", "json",
        ])
    });
    let rss = max_rss_mib();
    // search over every version with a three-clause filter (loading included).
    let filter = "metrics.roc_auc > 0.55 AND params.max_depth = 4 AND (tags.team = 'synthetic' OR name LIKE 'model_00%')";
    let expr = modelgate::lifecycle::search::parse(filter).unwrap();
    // Through the search index (.modelgate/search-index.json), as the command does: the first
    // run builds it, the median is a warm one.
    let search_lib = time(runs, || {
        let index = modelgate::lifecycle::index::load(r).unwrap();
        let hits =
            modelgate::lifecycle::search::search_hits(index.hits(), expr.as_ref(), &[], usize::MAX);
        assert!(!hits.is_empty());
    });
    let search_bin = time(runs, || {
        run_binary(&[
            "--root",
            rs,
            "search",
            filter,
            "--format",
            "json",
            "--max-results",
            "100000",
        ])
    });
    let check_rows = bench_check(&root, models, runs);
    let check_rows: Vec<(&str, (Duration, Duration))> = [
        ("search, 3 clauses, library", search_lib),
        ("search, 3 clauses, binary", search_bin),
    ]
    .into_iter()
    .chain(check_rows)
    .collect();

    println!(
        "\nmodelgate validate, synthetic registry of {models} models × {versions} versions \
         ({} files; generated and committed in {:.1} s), {runs} runs each",
        models * (versions + 3) + 3,
        setup.as_secs_f64()
    );
    println!("| measurement                         | median    | min       |");
    println!("|-------------------------------------|-----------|-----------|");
    for (name, (med, min)) in [
        ("library, working tree", fs),
        ("library, git revision HEAD", git),
        ("binary, working tree", bin_fs),
        ("binary, --rev HEAD", bin_git),
    ] {
        println!(
            "| {name:<35} | {:>7.1} ms | {:>7.1} ms |",
            med.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3
        );
    }
    println!("| binary peak RSS (max over runs)     | {rss:>6.1} MiB |           |");
    for (name, (med, min)) in check_rows {
        println!(
            "| {name:<35} | {:>7.1} ms | {:>7.1} ms |",
            med.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3
        );
    }
}

/// A pull request that promotes 10 models, each with three approvals signed with real
/// ed25519 keys (made by ssh-keygen): `check` of it, in process and as the binary.
fn bench_check(root: &Path, models: u32, runs: usize) -> Vec<(&'static str, (Duration, Duration))> {
    use modelgate::lifecycle::{approve, promote};
    use modelgate::registry::types::{Alias, ModelName, Timestamp};
    let keys = root.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let mut signers = String::new();
    for who in ["alice", "bob", "carol"] {
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", who, "-f"])
            .arg(keys.join(who))
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
        let public = std::fs::read_to_string(keys.join(format!("{who}.pub"))).unwrap();
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        signers.push_str(&format!("{who}@example.com {}\n", public.join(" ")));
    }
    std::fs::write(root.join("registry/allowed_signers"), signers).unwrap();
    let base = modelgate::synth::commit_all(root, "real signers")
        .unwrap()
        .to_string();
    let load = || {
        modelgate::registry::load(Box::new(FsSource::new(root).unwrap()))
            .unwrap()
            .registry
    };
    let at: Timestamp = "2024-06-03T10:00:00Z".parse().unwrap();
    let promoted = 10.min(models);
    for i in 0..promoted {
        let name = ModelName::new(&format!("model_{i:04}")).unwrap();
        let reg = load();
        let challenger = reg.models[&name].aliases[&Alias::Challenger].value;
        for (role, who) in [
            ("data_scientist", "alice"),
            ("compliance", "carol"),
            ("business", "bob"),
        ] {
            let key = approve::read_key(&keys.join(who)).unwrap();
            let reg = load();
            let plan = approve::plan(
                &reg,
                &name,
                challenger,
                Alias::Champion,
                role,
                &key,
                None,
                &at,
            )
            .unwrap();
            modelgate::registry::write::write_changes(root, &plan.files).unwrap();
        }
        let reg = load();
        let plan = promote::plan(
            &reg,
            &name,
            challenger,
            Alias::Champion,
            "alice@example.com",
            &at,
        )
        .unwrap();
        modelgate::registry::write::write_changes(root, &plan.files).unwrap();
    }
    modelgate::synth::commit_all(root, "promote 10 models").unwrap();
    let opts = modelgate::check::Options::default();
    let lib = time(runs, || {
        let o = modelgate::check::check(root, &base, "HEAD", &opts).unwrap();
        assert_eq!(
            o.promotions.iter().filter(|p| p.to.is_some()).count(),
            promoted as usize
        );
        assert_ne!(
            o.verdict(),
            modelgate::check::Verdict::Block,
            "{}",
            modelgate::check::report::text(&o, false)
        );
    });
    let rs = root.to_str().unwrap();
    let bin = time(runs, || {
        run_binary(&["--root", rs, "check", "--base", &base, "--format", "json"])
    });
    vec![
        ("check, 10 promotions, library", lib),
        ("check, 10 promotions, binary", bin),
    ]
}
