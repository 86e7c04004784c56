//! Batch inference with the real example models and ONNX Runtime (the library from the pinned
//! onnxruntime wheel that scripts/setup.sh installs).

use crate::util::{example_dir, repo_root, run};
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn read(path: &Path) -> DataFrame {
    LazyFrame::scan_parquet(PlRefPath::from(path.to_str().unwrap()), Default::default())
        .unwrap()
        .collect()
        .unwrap()
}

fn f64s(df: &DataFrame, col: &str) -> Vec<f64> {
    df.column(col)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

fn strings(df: &DataFrame, col: &str) -> Vec<String> {
    df.column(col)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

/// Every example version scores the evaluation data exactly as onnxruntime's Python API did
/// (examples/fixtures/onnx_scores.json, made by scripts/gen_example.py), to 1e-6.
#[test]
fn scores_equal_onnxruntime_python() {
    let root = repo_root();
    let fixtures: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("examples/fixtures/onnx_scores.json")).unwrap(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for e in fixtures["entries"].as_array().unwrap() {
        let target = format!("{}@v{}", e["model"].as_str().unwrap(), e["version"]);
        let output = out
            .path()
            .join(format!("{}.parquet", target.replace('@', "-")));
        let (code, o, err) = run(
            &[
                "batch",
                &target,
                "--input",
                e["data"].as_str().unwrap(),
                "--output",
                output.to_str().unwrap(),
                "--batch-size",
                "37",
            ],
            &root,
        );
        assert_eq!(code, 0, "{target}: {o}{err}");
        let scores = f64s(&read(&output), "score");
        for (i, expected) in e["scores"].as_array().unwrap().iter().enumerate() {
            let x = expected.as_f64().unwrap();
            assert!(
                (scores[i] - x).abs() <= 1e-6,
                "{target} row {i}: {} vs {x}",
                scores[i]
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 7);
}

#[test]
fn outputs_carry_lineage_and_a_manifest() {
    let root = repo_root();
    let out = tempfile::tempdir().unwrap();
    let output = out.path().join("scored.parquet");
    let (code, o, err) = run(
        &[
            "batch",
            "heart_disease",
            "--input",
            "examples/heart_disease/inference/2024-06-03.parquet",
            "--output",
            output.to_str().unwrap(),
            "--id-column",
            "id",
            "--scored-at",
            "2024-07-01T00:00:00Z",
        ],
        &root,
    );
    assert_eq!(code, 0, "{o}{err}");
    let df = read(&output);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "score",
            "prediction",
            "prediction_id",
            "model",
            "version",
            "artifact_sha256",
            "scored_at"
        ]
    );
    assert_eq!(df.height(), 800);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("scored.parquet.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["rows"], 800);
    assert_eq!(manifest["target"]["version"], 3, "the champion");
    assert_eq!(manifest["inputs"][0]["rows"], 800);
    assert_eq!(manifest["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    // The same rows give the same prediction ids (stable), and lineage finds them.
    let id = strings(&df, "prediction_id")[0].clone();
    let (code, text, err) = run(&["lineage", &id, "--in", output.to_str().unwrap()], &root);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("model heart_disease v3 (champion now, champion when it scored)"),
        "{text}"
    );
    assert!(text.contains("→ code commit"), "{text}");
    assert!(
        text.contains("→ dataset examples/heart_disease/reference.parquet"),
        "{text}"
    );
    let (code, json, _) = run(&["lineage", "heart_disease@v4", "--format", "json"], &root);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["stage"], "challenger");
    assert_eq!(v["training"]["random_seed"], 404);
}

#[test]
fn four_shards_give_exactly_the_rows_of_one_run() {
    let root = repo_root();
    let out = tempfile::tempdir().unwrap();
    let score = |shard: Option<&str>, name: &str| -> BTreeMap<String, f64> {
        let output = out.path().join(name);
        let mut args = vec![
            "batch",
            "heart_disease",
            "--input",
            "examples/heart_disease/inference/*.parquet",
            "--output",
            output.to_str().unwrap(),
            "--id-column",
            "id",
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let (code, o, err) = run(&args, &root);
        assert_eq!(code, 0, "{o}{err}");
        let df = read(&output);
        strings(&df, "prediction_id")
            .into_iter()
            .zip(f64s(&df, "score"))
            .collect()
    };
    let all = score(None, "all.parquet");
    assert_eq!(all.len(), 3200);
    let mut union = BTreeMap::new();
    for i in 0..4 {
        let part = score(Some(&format!("{i}/4")), &format!("s{i}.parquet"));
        assert!(!part.is_empty());
        for (k, v) in part {
            assert!(union.insert(k, v).is_none(), "a row in two shards");
        }
    }
    assert_eq!(union, all);
}

#[test]
fn a_tampered_artifact_is_refused() {
    let dir = example_dir();
    let art = dir.path().join("examples/heart_disease/v3/model.onnx");
    let mut bytes = std::fs::read(&art).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x01;
    std::fs::write(&art, bytes).unwrap();
    let output = dir.path().join("out.parquet");
    let (code, _, err) = run(
        &[
            "batch",
            "heart_disease",
            "--input",
            "examples/heart_disease/inference/2024-06-03.parquet",
            "--output",
            output.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("refusing to score with it"), "{err}");
    assert!(!output.exists(), "nothing is scored");
}

#[test]
fn bad_input_names_the_column_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    // heart_disease@v3 with an unknown category in row 2.
    let src = read(&root.join("examples/heart_disease/eval.parquet")).head(Some(3));
    let mut df = src.clone();
    let sex: Vec<&str> = vec!["F", "X", "M"];
    df.with_column(Column::new("sex".into(), sex)).unwrap();
    let input = dir.path().join("in.parquet");
    ParquetWriter::new(std::fs::File::create(&input).unwrap())
        .finish(&mut df)
        .unwrap();
    let out = dir.path().join("o.parquet");
    let (code, _, err) = run(
        &[
            "batch",
            "heart_disease",
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        &root,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("feature `sex` has the category `X` at row 2"),
        "{err}"
    );
    // A missing feature column.
    let mut df = src.drop("bmi").unwrap();
    ParquetWriter::new(std::fs::File::create(&input).unwrap())
        .finish(&mut df)
        .unwrap();
    let (code, _, err) = run(
        &[
            "batch",
            "heart_disease",
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        &root,
    );
    assert_eq!(code, 2);
    assert!(err.contains("no column `bmi`"), "{err}");
    // It names the file and the columns the file has (drift's message: one builder).
    assert!(
        err.contains("(a feature of the model) (it has: ") && err.contains("glucose"),
        "{err}"
    );
    assert!(err.contains(input.to_str().unwrap()), "{err}");
}

#[test]
fn a_missing_onnx_runtime_says_how_to_install_it() {
    let root = repo_root();
    let out = tempfile::tempdir().unwrap();
    let output = out.path().join("o.parquet");
    let o = crate::util::modelgate()
        .args([
            "batch",
            "heart_disease",
            "--input",
            "examples/heart_disease/eval.parquet",
            "--output",
            output.to_str().unwrap(),
        ])
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .current_dir(&root)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`modelgate runtime install`"), "{err}");
    assert!(!err.contains("setup.sh"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_inference_log_feeds_the_drift_job() {
    let dir = example_dir();
    let root = dir.path();
    // The scored log apart from the inputs (as `new` writes model.yaml), and read by the drift
    // job: `current` names the log.
    let model = root.join("registry/models/diabetes/model.yaml");
    let original = std::fs::read_to_string(&model).unwrap();
    std::fs::write(
        &model,
        original.replace(
            "current: examples/diabetes/inference/*.parquet",
            "current: data/diabetes/predictions/*.parquet\n  predictions: data/diabetes/predictions/*.parquet",
        ),
    )
    .unwrap();
    let out = root.join("o.parquet");
    let (code, o, err) = run(
        &[
            "batch",
            "diabetes",
            "--input",
            "examples/diabetes/eval.parquet",
            "--output",
            out.to_str().unwrap(),
            "--log",
            "--scored-at",
            "2024-07-08T00:00:00Z",
        ],
        root,
    );
    assert_eq!(code, 0, "{o}{err}");
    assert!(o.contains("appended to the inference log"), "{o}");
    let log = root.join("data/diabetes/predictions/scored-2024-07-08T000000-v2.parquet");
    assert!(log.is_file());
    // The drift job now takes its window from the newest rows: the ones just scored.
    let (_, o, err) = run(
        &[
            "drift",
            "--model",
            "diabetes",
            "--dry-run",
            "--fail-on",
            "never",
        ],
        root,
    );
    assert!(o.contains("2024-07-08"), "{o}{err}");
    assert!(o.contains("prediction drift (score)"), "{o}{err}");
}

/// `batch --log` into the folder the drift job reads, beside the inputs it scored: the drift
/// job refuses to count the rows twice and writes nothing; `predictions:` keeps them apart.
#[test]
fn scored_logs_mixed_with_inputs_are_not_counted_twice() {
    let dir = example_dir();
    let root = dir.path();
    let inference = root.join("examples/diabetes/inference");
    // Raw inputs (a week without scores) alone in the folder of `monitoring.current`, then
    // scored with the log in the same folder.
    let week = read(&inference.join("2024-06-24.parquet"));
    std::fs::remove_dir_all(&inference).unwrap();
    std::fs::create_dir_all(&inference).unwrap();
    let mut raw = week.drop_many(["score"]);
    ParquetWriter::new(std::fs::File::create(inference.join("2024-07-08.parquet")).unwrap())
        .finish(&mut raw)
        .unwrap();
    let batch = |root: &Path| {
        run(
            &[
                "batch",
                "diabetes",
                "--input",
                "examples/diabetes/inference/2024-07-08.parquet",
                "--output",
                "o.parquet",
                "--log",
                "--scored-at",
                "2024-07-08T00:00:00Z",
            ],
            root,
        )
    };
    let (code, o, err) = batch(root);
    assert_eq!(code, 0, "{o}{err}");
    assert!(
        inference
            .join("scored-2024-07-08T000000-v2.parquet")
            .is_file()
    );
    let before = std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap();
    let (code, o, err) = run(
        &["drift", "--model", "diabetes", "--date", "2024-07-08"],
        root,
    );
    assert_eq!(code, 2, "{o}{err}");
    assert!(err.contains("counted twice"), "{err}");
    assert!(
        err.contains("examples/diabetes/inference/scored-2024-07-08T000000-v2.parquet"),
        "{err}"
    );
    assert!(err.contains("monitoring.predictions"), "{err}");
    assert_eq!(
        std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap(),
        before,
        "nothing is written"
    );
    // With `predictions:` the log goes to its own folder, and the inputs are read once.
    std::fs::remove_file(inference.join("scored-2024-07-08T000000-v2.parquet")).unwrap();
    let model = root.join("registry/models/diabetes/model.yaml");
    let text = std::fs::read_to_string(&model).unwrap().replace(
        "current: examples/diabetes/inference/*.parquet",
        "current: examples/diabetes/inference/*.parquet\n  predictions: data/diabetes/predictions/*.parquet",
    );
    std::fs::write(&model, text).unwrap();
    let (code, o, err) = batch(root);
    assert_eq!(code, 0, "{o}{err}");
    assert!(
        root.join("data/diabetes/predictions/scored-2024-07-08T000000-v2.parquet")
            .is_file()
    );
    let (code, o, err) = run(
        &[
            "drift",
            "--model",
            "diabetes",
            "--dry-run",
            "--fail-on",
            "never",
            "--format",
            "json",
        ],
        root,
    );
    assert_eq!(code, 0, "{o}{err}");
    let v: serde_json::Value = serde_json::from_str(&o).unwrap();
    let inputs: Vec<&str> = v[0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert!(!inputs.iter().any(|f| f.contains("scored-")), "{inputs:?}");
    assert_eq!(
        v[0]["data"]["rows"]["current"],
        raw.height(),
        "each row once"
    );
    // Unscored inputs: prediction drift is not computed, and the report says so.
    assert!(v[0]["prediction"].is_null());
    let notes = v[0]["notes"].to_string();
    assert!(
        notes.contains(
            "prediction drift not computed: the current data has no score column `score`"
        ),
        "{notes}"
    );
}

/// 2,000,000 rows × 12 features run batch by batch: peak memory stays far below what loading
/// the input whole would take.
#[test]
fn two_million_rows_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2_000_000usize;
    let mut cols = Vec::new();
    for j in 0..12 {
        let v: Vec<f64> = (0..n)
            .map(|i| ((i * (j + 7)) % 1000) as f64 / 10.0)
            .collect();
        cols.push(Column::new(format!("f{j}").into(), v));
    }
    let mut df = DataFrame::new(n, cols).unwrap();
    let input = dir.path().join("big.parquet");
    ParquetWriter::new(std::fs::File::create(&input).unwrap())
        .with_row_group_size(Some(100_000))
        .finish(&mut df)
        .unwrap();
    drop(df);
    let output = dir.path().join("o.parquet");
    let features: Vec<String> = (0..12).map(|j| format!("f{j}")).collect();
    let model = repo_root().join("examples/heart_disease/v4/model.onnx");
    let (code, o, err, rss) = crate::util::run_measured(
        &[
            "batch",
            "--onnx",
            model.to_str().unwrap(),
            "--features",
            &features.join(","),
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{o}{err}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("o.parquet.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["rows"], 2_000_000);
    // The input alone is 192 MB of float64; the run must not hold it.
    assert!(rss < 400.0, "peak RSS {rss:.0} MiB");
}

/// The ONNX Runtime library of the environment, as the test run was given it.
fn real_ort() -> String {
    std::env::var("ORT_DYLIB_PATH").expect("the tests need ORT_DYLIB_PATH (scripts/test sets it)")
}

/// A repository being worked on cannot choose the ONNX Runtime library: a planted
/// `.tools/ort-dylib-path` (here naming a library that would load) is never read, in the
/// folder or above it. Only ORT_DYLIB_PATH and modelgate's own data folder count.
#[test]
fn onnx_runtime_is_never_found_from_the_working_tree() {
    let dir = example_dir();
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".tools")).unwrap();
    std::fs::write(dir.path().join(".tools/ort-dylib-path"), real_ort()).unwrap();
    let sub = dir.path().join("examples");
    for cwd in [dir.path(), sub.as_path()] {
        let o = crate::util::modelgate()
            .args([
                "batch",
                "heart_disease",
                "--input",
                "examples/heart_disease/eval.parquet",
                "--output",
            ])
            .arg(dir.path().join("o.parquet"))
            .args(["--root"])
            .arg(dir.path())
            .env_remove("ORT_DYLIB_PATH")
            .env("XDG_DATA_HOME", data.path())
            .env("HOME", data.path())
            .current_dir(cwd)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("the ONNX Runtime library was not found"),
            "{err}"
        );
        assert!(
            err.contains(
                &data
                    .path()
                    .join("modelgate/ort-dylib-path")
                    .display()
                    .to_string()
            ),
            "{err}"
        );
        assert!(!dir.path().join("o.parquet").exists());
    }
    // modelgate's own data folder (what `modelgate runtime install` writes) is used.
    std::fs::create_dir_all(data.path().join("modelgate")).unwrap();
    std::fs::write(data.path().join("modelgate/ort-dylib-path"), real_ort()).unwrap();
    let o = crate::util::modelgate()
        .args([
            "batch",
            "heart_disease",
            "--input",
            "examples/heart_disease/eval.parquet",
            "--output",
            "o.parquet",
        ])
        .env_remove("ORT_DYLIB_PATH")
        .env("XDG_DATA_HOME", data.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A bad ORT_DYLIB_PATH is a problem with the ONNX Runtime library, named with its path — not
/// with the model being scored or registered.
#[test]
fn a_bad_ort_dylib_path_is_not_blamed_on_the_model() {
    let dir = example_dir();
    let not_a_library = dir.path().join("examples/heart_disease/eval.parquet");
    let text = dir.path().join("libonnxruntime.so.1.31.1.txt");
    std::fs::write(&text, "not a library\n").unwrap();
    for lib in [
        "/nonexistent/libonnxruntime.so".to_string(),
        not_a_library.display().to_string(),
        text.display().to_string(),
    ] {
        for args in [
            &[
                "batch",
                "heart_disease",
                "--input",
                "examples/heart_disease/eval.parquet",
                "--output",
                "o.parquet",
            ][..],
            &[
                "register",
                "diabetes",
                "--artifact",
                "examples/diabetes/v2/model.onnx",
                "--actor",
                "alice@example.com",
            ][..],
        ] {
            let o = crate::util::modelgate()
                .args(args)
                .env("ORT_DYLIB_PATH", &lib)
                .current_dir(dir.path())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(err.contains("ONNX Runtime library"), "{err}");
            assert!(err.contains(&lib), "{err}");
            assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
            assert!(err.contains("`modelgate runtime install`"), "{err}");
            assert!(!err.contains("not a usable ONNX model"), "{err}");
            assert!(!err.contains("model.onnx"), "{err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

/// `batch --log` writes the inference log only inside the registry repository: a
/// `monitoring.current` folder outside it (absolute, with `..`, or through a symbolic link to
/// a folder outside), or a log file that is a symbolic link, is refused before anything is
/// scored, and nothing is written outside.
#[test]
fn batch_log_outside_the_repository_is_refused() {
    let dir = example_dir();
    let root = dir.path();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
    let model = root.join("registry/models/diabetes/model.yaml");
    let original = std::fs::read_to_string(&model).unwrap();
    let abs = format!("{}/inference/*.parquet", outside.path().display());
    let log_args = [
        "batch",
        "diabetes",
        "--input",
        "examples/diabetes/eval.parquet",
        "--output",
        "o.parquet",
        "--log",
        "--scored-at",
        "2024-07-08T00:00:00Z",
    ];
    for current in [
        "../outside/*.parquet",
        "examples/../../outside/*.parquet",
        abs.as_str(),
        "linked/inference/*.parquet",
    ] {
        std::fs::write(
            &model,
            original.replace(
                "current: examples/diabetes/inference/*.parquet",
                &format!("current: \"{current}\""),
            ),
        )
        .unwrap();
        let (code, o, err) = run(&log_args, root);
        assert_eq!(code, 2, "{current}: {o}{err}");
        assert!(
            err.contains("only inside the registry repository"),
            "{current}: {err}"
        );
        assert!(err.contains("registry/models/diabetes/model.yaml"), "{err}");
        assert!(!root.join("o.parquet").exists());
        assert_eq!(
            std::fs::read_dir(outside.path()).unwrap().count(),
            0,
            "{current}: something was written outside"
        );
    }
    assert!(!root.parent().unwrap().join("outside").exists());
    // The log file itself a symbolic link to a file outside: never written through.
    std::fs::write(&model, &original).unwrap();
    let target = outside.path().join("victim.parquet");
    std::fs::write(&target, "keep me").unwrap();
    let inference = root.join("examples/diabetes/inference");
    std::fs::create_dir_all(&inference).unwrap();
    std::os::unix::fs::symlink(
        &target,
        inference.join("scored-2024-07-08T000000-v2.parquet"),
    )
    .unwrap();
    let (code, o, err) = run(&log_args, root);
    assert_eq!(code, 2, "{o}{err}");
    assert!(err.contains("is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}

/// No path of the machine modelgate was built on is compiled into it (`env!` or `option_env!`
/// of a path): nothing is looked up in a build tree that may belong to someone else. The one
/// use of OUT_DIR is `include!` of the demo's bundle that build.rs generates: its bytes are
/// compiled in, no path is kept.
#[test]
fn no_build_machine_path_is_compiled_in() {
    fn walk(d: &Path, found: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, found);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    let bundle =
                        line.trim() == "include!(concat!(env!(\"OUT_DIR\"), \"/demo_bundle.rs\"));";
                    if line.contains("option_env!(")
                        || line.contains("env!(\"CARGO_MANIFEST_DIR\")")
                        || (line.contains("env!(\"OUT_DIR\")") && !bundle)
                    {
                        found.push(format!("{}:{}: {line}", p.display(), i + 1));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(&repo_root().join("src"), &mut found);
    assert!(found.is_empty(), "{found:#?}");
}

/// A model that answers one row of probabilities whatever it is given
/// (`tests/data/batch/one_score.onnx`, from `scripts/make_one_score_fixture.py`): the scoring
/// core (which `serve` scores through) refuses its answer instead of pairing rows with the
/// scores of others, and the session goes back to the pool.
#[test]
fn a_model_answering_fewer_scores_than_rows_is_an_error() {
    let bytes = std::fs::read(repo_root().join("tests/data/batch/one_score.onnx")).unwrap();
    let features: Vec<modelgate::scoring::Feature> = ["a", "b"]
        .iter()
        .map(|n| modelgate::scoring::Feature {
            name: n.to_string(),
            categories: None,
        })
        .collect();
    let pool = modelgate::scoring::SessionPool::new(&bytes, 1, &features).unwrap();
    let one = pool.score(vec![1.0, 2.0], 1, 2).unwrap();
    assert_eq!(one.len(), 1);
    let err = pool.score(vec![1.0; 6], 3, 2).unwrap_err().to_string();
    assert!(err.contains("returned 1 scores for 3 rows"), "{err}");
    // The one session is free again.
    assert_eq!(pool.score(vec![1.0, 2.0], 1, 2).unwrap().len(), 1);
}
