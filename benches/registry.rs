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

/// Peak resident memory (MiB) of the largest child process waited for so far.
fn children_max_rss_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn run_binary(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_modelgate"))
        .args(args)
        .output()
        .expect("run modelgate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

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
    let rss = children_max_rss_mib();

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
}
