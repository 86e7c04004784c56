//! `drift`, `bias`, `evaluate` and `profile` as a user runs them: the JSON contracts, the
//! registry job, the bad-input cases, and mergeable profiles.

use crate::util::{example_dir, repo_root, run};
use serde_json::Value;
use std::path::Path;

const REF: &str = "examples/heart_disease/reference.parquet";
const WEEK4: &str = "examples/heart_disease/inference/2024-06-24.parquet";

fn json(args: &[&str], cwd: &Path) -> (i32, Value, String) {
    let (code, out, err) = run(args, cwd);
    let v = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, v, err)
}

#[test]
fn drift_json_contract_on_the_example() {
    let root = repo_root();
    let (code, v, err) = json(
        &[
            "drift",
            "--reference",
            REF,
            "--current",
            WEEK4,
            "--columns",
            "age,glucose,sex,chest_pain",
            "--format",
            "json",
        ],
        &root,
    );
    assert_eq!(code, 1, "alert or worse fails by default: {err}");
    assert_eq!(v["rows"]["reference"], 2000);
    assert_eq!(v["rows"]["current"], 800);
    let cols = v["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 4);
    let age = &cols[0];
    for key in [
        "column",
        "kind",
        "method",
        "threshold",
        "score",
        "drifted",
        "nulls",
        "statistics",
    ] {
        assert!(age.get(key).is_some(), "missing {key}: {age:#}");
    }
    assert_eq!(age["kind"], "numerical");
    assert_eq!(
        age["method"], "wasserstein",
        "more than 1000 reference rows"
    );
    for key in ["ks", "wasserstein", "wasserstein_normed", "psi"] {
        assert!(age["statistics"].get(key).is_some(), "{key}");
    }
    assert!(
        age["statistics"].get("chi_square").is_none(),
        "categorical statistics are absent"
    );
    let sex = &cols[2];
    assert_eq!(sex["kind"], "categorical");
    assert_eq!(sex["method"], "jensenshannon");
    assert!(sex["statistics"]["chi_square"]["dof"].as_u64() == Some(1));
    assert!(sex["statistics"].get("ks").is_none());
    assert_eq!(v["severity"], "retrain");
    assert_eq!(v["dataset_drift"], true);
    // The first week did not drift.
    let (code, v, _) = json(
        &[
            "drift",
            "--reference",
            REF,
            "--current",
            "examples/heart_disease/inference/2024-06-03.parquet",
            "--format",
            "json",
            "--columns",
            "age,glucose,sex",
        ],
        &root,
    );
    assert_eq!(code, 0);
    assert_eq!(v["severity"], "none");
}

#[test]
fn corrections_and_minimum_effect() {
    let root = repo_root();
    let args = [
        "drift",
        "--reference",
        REF,
        "--current",
        WEEK4,
        "--method",
        "ks",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--columns",
        "age,resting_bp,cholesterol,max_heart_rate,bmi,glucose,sex,smoker",
    ];
    let (_, plain, _) = json(&args, &root);
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(extra);
        json(&a, &root).1
    };
    let bonf = with(&["--correction", "bonferroni"]);
    let n = plain["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["method"] == "ks")
        .count() as f64;
    for (p, b) in plain["columns"]
        .as_array()
        .unwrap()
        .iter()
        .zip(bonf["columns"].as_array().unwrap())
    {
        if p["method"] == "ks" {
            let expected = (p["score"].as_f64().unwrap() * n).min(1.0);
            assert!((b["score"].as_f64().unwrap() - expected).abs() < 1e-15);
        }
    }
    let bh = with(&["--correction", "bh"]);
    assert_eq!(
        bh["columns"].as_array().unwrap().len(),
        plain["columns"].as_array().unwrap().len()
    );
    // A minimum effect larger than any KS D: nothing counts as drifted.
    let big = with(&["--min-effect", "0.9"]);
    assert!(
        big["columns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["drifted"] == false)
    );
}

#[test]
fn registry_drift_writes_the_monitoring_file_and_audit_entry() {
    let dir = example_dir();
    let root = dir.path();
    let (code, out, err) = run(
        &[
            "drift",
            "--model",
            "heart_disease",
            "--actor",
            "ci@example.com",
            "--sign-key",
            "examples/keys/drift-job",
        ],
        root,
    );
    assert_eq!(code, 1, "the example drifts: {out}{err}");
    let file = root.join("registry/models/heart_disease/monitoring/2024-06-30.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    // The result is signed by the drift job's key, verifiable with ssh-keygen.
    let verified = std::process::Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-f",
            "registry/allowed_signers",
            "-I",
            "drift-job@example.com",
            "-n",
            "modelgate-monitoring",
            "-s",
        ])
        .arg(file.with_extension("yaml.sig"))
        .current_dir(root)
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(text.contains("version: 3"), "{text}");
    assert!(
        text.contains("severity: alert"),
        "half the columns drift: {text}"
    );
    assert!(text.contains("prediction: {column: score"), "{text}");
    assert!(text.contains("sha256: "), "{text}");
    let audit = std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap();
    let last: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "drift");
    assert_eq!(last["details"]["severity"], "alert");
    assert_eq!(last["actor"], "ci@example.com");
    // The registry still validates, chain included.
    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}");
    // --dry-run writes nothing.
    let before = std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap();
    let (_, out, _) = run(&["drift", "--all", "--dry-run"], root);
    assert!(out.contains("dry run"), "{out}");
    assert_eq!(
        std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap(),
        before
    );
}

#[test]
fn a_failing_model_writes_nothing() {
    let dir = example_dir();
    let root = dir.path();
    std::fs::remove_file(root.join("examples/readmission/reference.parquet")).unwrap();
    let before = std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap();
    let (code, _, err) = run(&["drift", "--all"], root);
    assert_eq!(code, 2);
    assert!(err.contains("readmission: reference data"), "{err}");
    assert!(
        !root
            .join("registry/models/heart_disease/monitoring")
            .exists()
    );
    assert_eq!(
        std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap(),
        before
    );
}

#[test]
fn shards_split_the_models() {
    let dir = example_dir();
    let mut seen = Vec::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let (_, v, _) = json(
            &[
                "drift",
                "--all",
                "--shard",
                &shard,
                "--dry-run",
                "--format",
                "json",
            ],
            dir.path(),
        );
        for r in v.as_array().unwrap() {
            seen.push(r["model"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    assert_eq!(seen, ["diabetes", "heart_disease", "readmission"]);
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    dir.join(name).to_string_lossy().into_owned()
}

#[test]
fn bad_input_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let r = write(p, "r.csv", "x,c\n1,a\n2,b\n3,a\n4,b\n");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--current".into(), write(p, "missing.csv", "y,c\n1,a\n")],
            "has no column `x`",
        ),
        (
            vec![
                "--current".into(),
                write(p, "strings.csv", "x,c\none,a\ntwo,b\n"),
            ],
            "`x` is numerical in the reference",
        ),
        (
            vec!["--current".into(), write(p, "empty.csv", "x,c\n")],
            "the current data has no rows",
        ),
        (
            vec!["--current".into(), write(p, "nulls.csv", "x,c\n,a\n,b\n")],
            "has no usable values in the current data",
        ),
        (
            vec![
                "--current".into(),
                p.join("nothing-*.csv").to_string_lossy().into_owned(),
            ],
            "matches no file",
        ),
        (
            vec![
                "--current".into(),
                r.clone(),
                "--threshold".into(),
                "1.5".into(),
            ],
            "out of range",
        ),
    ];
    for (extra, expected) in cases {
        let mut args: Vec<String> = vec!["drift".into(), "--reference".into(), r.clone()];
        args.extend(extra);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&a, p);
        assert_eq!(code, 2, "{a:?}: {out}{err}");
        assert!(err.contains(expected), "{a:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn nan_and_infinity_are_counted_and_excluded() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let r = write(p, "r.csv", "x\n1.0\n2.0\n3.0\nNaN\n");
    let c = write(p, "c.csv", "x\n1.0\ninf\n-inf\n2.0\n\n");
    let (code, v, err) = json(
        &[
            "drift",
            "--reference",
            &r,
            "--current",
            &c,
            "--format",
            "json",
        ],
        p,
    );
    assert!(code == 0 || code == 1, "{err}");
    let x = &v["columns"][0];
    assert_eq!(x["non_finite"]["reference"], 1);
    assert_eq!(x["non_finite"]["current"], 2);
    assert_eq!(x["nulls"]["current"], 1);
}

#[test]
fn evaluate_and_bias_on_the_example() {
    let root = repo_root();
    let (code, v, err) = json(
        &[
            "evaluate",
            "--data",
            "examples/heart_disease/inference/2024-06-03.parquet",
            "--format",
            "json",
        ],
        &root,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["rows"], 800);
    for m in [
        "roc_auc",
        "precision",
        "recall",
        "f1",
        "accuracy",
        "log_loss",
        "brier",
    ] {
        assert!(v["metrics"][m].is_number(), "{m}: {v:#}");
    }
    let (code, v, err) = json(
        &[
            "bias",
            "--data",
            "examples/heart_disease/inference/2024-06-03.parquet",
            "--sensitive",
            "sex,race",
            "--intersectional",
            "--format",
            "json",
        ],
        &root,
    );
    let blocked = v["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["verdict"] == "block");
    assert_eq!(code, if blocked { 1 } else { 0 }, "{err}");
    assert_eq!(v["threshold"], 0.5);
    let attrs = v["attributes"].as_array().unwrap();
    assert_eq!(attrs.len(), 3, "sex, race and sex×race");
    for key in [
        "attribute",
        "groups",
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equal_opportunity_difference",
        "equalized_odds_difference",
        "predictive_parity_difference",
        "disparity",
        "verdict",
    ] {
        assert!(attrs[0].get(key).is_some(), "{key}");
    }
    for key in [
        "group",
        "count",
        "selection_rate",
        "tpr",
        "fpr",
        "precision",
    ] {
        assert!(attrs[0]["groups"][0].get(key).is_some(), "{key}");
    }
    // The registry form takes the protected attributes from model.yaml.
    let (code, out, err) = run(&["bias", "--model", "heart_disease"], &root);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("age_group: disparity"), "{out}");
}

#[test]
fn single_class_labels_say_auc_is_undefined() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "e.csv", "label,score\n1,0.9\n1,0.4\n1,0.7\n");
    let (code, v, _) = json(&["evaluate", "--data", &p, "--format", "json"], d.path());
    assert_eq!(code, 0);
    assert!(v["metrics"].get("roc_auc").is_none(), "{v:#}");
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("roc_auc is undefined")
    );
    let (_, out, _) = run(&["evaluate", "--data", &p], d.path());
    assert!(
        !out.contains("NaN") && out.contains("roc_auc is undefined"),
        "{out}"
    );
    for args in [
        vec!["evaluate", "--data", &p, "--threshold", "0"],
        vec![
            "bias",
            "--data",
            &p,
            "--threshold",
            "1",
            "--sensitive",
            "label",
        ],
    ] {
        let (code, _, err) = run(&args, d.path());
        assert_eq!(code, 2);
        assert!(err.contains("out of range"), "{err}");
    }
}

#[test]
fn profiles_of_seven_parts_equal_one() {
    let root = repo_root();
    let d = tempfile::tempdir().unwrap();
    // Split the four inference weeks (3,200 rows) into 7 CSV parts via the CSV the test writes.
    let (_, v, _) = json(
        &[
            "drift",
            "--reference",
            REF,
            "--current",
            "examples/heart_disease/inference/*.parquet",
            "--columns",
            "age,sex",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        &root,
    );
    assert_eq!(v["rows"]["current"], 3200);
    let one = d.path().join("one.json");
    let (code, _, err) = run(
        &[
            "profile",
            "--reference",
            REF,
            "--current",
            "examples/heart_disease/inference/*.parquet",
            "--columns",
            "age,sex,glucose,chest_pain",
            "--out",
            one.to_str().unwrap(),
        ],
        &root,
    );
    assert_eq!(code, 0, "{err}");
    // Seven parts: the four weekly files, the second and third split again in halves by CSV.
    let mut parts = Vec::new();
    let weeks = ["2024-06-03", "2024-06-10", "2024-06-17", "2024-06-24"];
    for (i, w) in weeks.iter().enumerate() {
        let out = d.path().join(format!("w{i}.json"));
        let (code, _, err) = run(
            &[
                "profile",
                "--reference",
                REF,
                "--current",
                &format!("examples/heart_disease/inference/{w}.parquet"),
                "--columns",
                "age,sex,glucose,chest_pain",
                "--out",
                out.to_str().unwrap(),
            ],
            &root,
        );
        assert_eq!(code, 0, "{err}");
        parts.push(out);
    }
    let merged_4 = merge(&root, &parts);
    let whole = merge(&root, std::slice::from_ref(&one));
    assert_eq!(merged_4, whole);
    // Profiles of the same data in 7 pieces of any size, made by the library directly.
    let reference = modelgate::monitor::data::read(
        REF,
        &root,
        &modelgate::monitor::data::Request {
            columns: vec!["age".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let current = modelgate::monitor::data::read(
        "examples/heart_disease/inference/*.parquet",
        &root,
        &modelgate::monitor::data::Request {
            columns: vec!["age".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let r = modelgate::monitor::data::column(&reference.frame, "age", None).unwrap();
    let c = modelgate::monitor::data::column(&current.frame, "age", None).unwrap();
    let rows = |n: u64| modelgate::monitor::drift::Rows {
        reference: 2000,
        current: n,
    };
    let all = modelgate::monitor::profile::build(&[(r.clone(), c.clone())], rows(3200)).unwrap();
    let modelgate::monitor::data::Values::Numerical { sorted, .. } = &c.values else {
        panic!()
    };
    let pieces: Vec<_> = sorted
        .chunks(sorted.len() / 7 + 1)
        .map(|chunk| {
            let part = modelgate::monitor::data::ColumnData {
                name: "age".into(),
                values: modelgate::monitor::data::Values::Numerical {
                    sorted: chunk.to_vec(),
                    non_finite: 0,
                },
                nulls: 0,
            };
            modelgate::monitor::profile::build(&[(r.clone(), part)], rows(chunk.len() as u64))
                .unwrap()
        })
        .collect();
    assert_eq!(pieces.len(), 7);
    let merged = modelgate::monitor::profile::merge(&pieces).unwrap();
    let sev = (0.1, 0.25, 0.5);
    assert_eq!(
        modelgate::monitor::profile::report(&merged, None, None, sev).unwrap(),
        modelgate::monitor::profile::report(&all, None, None, sev).unwrap()
    );
}

fn merge(root: &Path, parts: &[std::path::PathBuf]) -> Value {
    let mut args: Vec<String> = vec![
        "drift".into(),
        "--format".into(),
        "json".into(),
        "--fail-on".into(),
        "never".into(),
        "--profiles".into(),
    ];
    args.extend(parts.iter().map(|p| p.to_string_lossy().into_owned()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, v, err) = json(&a, root);
    assert_eq!(code, 0, "{err}");
    v
}

/// `--stream` reads current CSV data row by row into the reference's bins: the same numbers as
/// an in-memory profile, in memory that does not grow with the data.
#[test]
fn streaming_a_large_csv_in_bounded_memory() {
    use std::io::Write;
    let root = repo_root();
    let d = tempfile::tempdir().unwrap();
    let big = d.path().join("current.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        writeln!(w, "age,sex,glucose").unwrap();
        for i in 0..1_000_000u64 {
            let sex = if i % 3 == 0 { "F" } else { "M" };
            writeln!(
                w,
                "{},{sex},{}",
                30 + (i * 7919) % 50,
                80 + (i * 104_729) % 90
            )
            .unwrap();
        }
    }
    let (code, out, err, rss) = crate::util::run_measured(
        &[
            "drift",
            "--reference",
            REF,
            "--current",
            big.to_str().unwrap(),
            "--columns",
            "age,sex,glucose",
            "--stream",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        &root,
    );
    assert_eq!(code, 0, "{err}");
    let streamed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(streamed["rows"]["current"], 1_000_000);
    assert!(
        streamed["columns"][0]["statistics"].get("ks").is_none(),
        "no KS from bins"
    );
    // 1,000,000 rows read whole would take far more than the profile does.
    assert!(rss < 150.0, "peak RSS {rss:.0} MiB");
    // The same numbers as the in-memory profile of the same data.
    let p = d.path().join("p.json");
    let (code, _, err) = run(
        &[
            "profile",
            "--reference",
            REF,
            "--current",
            big.to_str().unwrap(),
            "--columns",
            "age,sex,glucose",
            "--out",
            p.to_str().unwrap(),
        ],
        &root,
    );
    assert_eq!(code, 0, "{err}");
    let from_profile = merge(&root, &[p]);
    assert_eq!(streamed, from_profile);
    // Parquet is refused with what to do instead.
    let (code, _, err) = run(
        &["drift", "--reference", REF, "--current", WEEK4, "--stream"],
        &root,
    );
    assert_eq!(code, 2);
    assert!(err.contains("--stream reads CSV"), "{err}");
}

/// Plain-file drift by default: identifier columns are skipped with a note, the label is
/// compared apart (concept drift, outside the drift share), and a current file without the
/// label skips that with a note instead of failing.
#[test]
fn plain_drift_skips_identifiers_and_compares_the_label_apart() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let rows = |n: usize, shift: f64, with_label: bool| {
        let mut s = String::from(if with_label {
            "customer_id,row_key,x,c,label\n"
        } else {
            "customer_id,row_key,x,c\n"
        });
        for i in 0..n {
            s.push_str(&format!(
                "{},k{},{},{}",
                1000 + i,
                i * 7 + n,
                (i % 10) as f64 + shift,
                ["a", "b"][i % 2]
            ));
            if with_label {
                s.push_str(&format!(",{}", i % 3 == 0));
            }
            s.push('\n');
        }
        s
    };
    let r = write(p, "r.csv", &rows(60, 0.0, true));
    let c = write(p, "c.csv", &rows(40, 0.0, true));
    let (code, v, err) = json(
        &[
            "drift",
            "--reference",
            &r,
            "--current",
            &c,
            "--format",
            "json",
        ],
        p,
    );
    assert_eq!(code, 0, "{err}");
    let cols: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["column"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["x", "c"], "{v:#}");
    assert_eq!(v["label"]["column"], "label");
    assert_eq!(v["label"]["kind"], "categorical");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("`customer_id`, `row_key`") && notes.contains("--columns"),
        "{notes}"
    );
    // Text: the label on its own line, the note after the table.
    let (_, out, _) = run(&["drift", "--reference", &r, "--current", &c], p);
    assert!(
        out.contains("label `label` (concept drift, not in the drift share)"),
        "{out}"
    );
    assert!(
        out.contains("note: skipped `customer_id`, `row_key`"),
        "{out}"
    );
    // Named in --columns, an identifier is compared.
    let (_, v, _) = json(
        &[
            "drift",
            "--reference",
            &r,
            "--current",
            &c,
            "--columns",
            "customer_id,x",
            "--format",
            "json",
        ],
        p,
    );
    assert_eq!(v["columns"].as_array().unwrap().len(), 2, "{v:#}");
    // A current file without the label: concept drift is skipped with a note.
    let unlabelled = write(p, "u.csv", &rows(40, 0.0, false));
    let (code, v, err) = json(
        &[
            "drift",
            "--reference",
            &r,
            "--current",
            &unlabelled,
            "--format",
            "json",
        ],
        p,
    );
    assert_eq!(code, 0, "{err}");
    assert!(v["label"].is_null());
    assert!(
        v["notes"]
            .to_string()
            .contains("concept drift not computed: the current data has no label column `label`"),
        "{v:#}"
    );
    // --label names another label column.
    let (code, v, err) = json(
        &[
            "drift",
            "--reference",
            &r,
            "--current",
            &c,
            "--label",
            "c",
            "--format",
            "json",
        ],
        p,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["label"]["column"], "c");
    assert!(
        v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["column"] != "c")
    );
    assert!(
        v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["column"] == "label")
    );
}

/// The drift job says why prediction drift is missing (a reference without scores), writes its
/// numbers rounded to 6 significant digits, and `bias --model` reads the scored log.
#[test]
fn registry_drift_notes_and_stored_precision() {
    use polars::prelude::*;
    let dir = example_dir();
    let root = dir.path();
    let reference = root.join("examples/heart_disease/reference.parquet");
    let mut df = ParquetReader::new(std::fs::File::open(&reference).unwrap())
        .finish()
        .unwrap()
        .drop("score")
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&reference).unwrap())
        .finish(&mut df)
        .unwrap();
    let (code, out, err) = run(
        &[
            "drift",
            "--model",
            "heart_disease",
            "--actor",
            "ci@example.com",
        ],
        root,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("note: prediction drift not computed: the reference data examples/heart_disease/reference.parquet has no score column `score` (the default score column; set `monitoring.score` to name another)"),
        "{out}"
    );
    let text = std::fs::read_to_string(
        root.join("registry/models/heart_disease/monitoring/2024-06-30.yaml"),
    )
    .unwrap();
    assert!(!text.contains("prediction:"), "{text}");
    // Every number after `score: `, `drift_share: `, `current: ` and `drop: `.
    let mut numbers = Vec::new();
    for key in ["score: ", "drift_share: ", "current: ", "drop: "] {
        for (i, _) in text.match_indices(key) {
            let rest = &text[i + key.len()..];
            let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
            if let Ok(x) = rest[..end].trim().parse::<f64>() {
                numbers.push(x);
            }
        }
    }
    assert!(numbers.len() > 10, "{text}");
    for x in numbers {
        assert_eq!(modelgate::registry::number::stored(x), x, "{x} in\n{text}");
    }
    // bias --model reads `monitoring.predictions` when it is set: a file without scores there
    // is named, with the key it came from.
    let model = root.join("registry/models/heart_disease/model.yaml");
    let original = std::fs::read_to_string(&model).unwrap();
    let with = |predictions: &str| {
        original.replace(
            "  timestamp: scored_at",
            &format!("  predictions: {predictions}\n  timestamp: scored_at"),
        )
    };
    std::fs::write(&model, with("examples/heart_disease/reference.parquet")).unwrap();
    let (code, _, err) = run(&["bias", "--model", "heart_disease"], root);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has no column `score`"), "{err}");
    assert!(err.contains("`monitoring.predictions`"), "{err}");
    std::fs::write(
        &model,
        with("examples/heart_disease/inference/2024-06-03.parquet"),
    )
    .unwrap();
    let (code, out, err) = run(
        &["bias", "--model", "heart_disease", "--format", "json"],
        root,
    );
    assert!(code == 0 || code == 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["attributes"][0]["groups"][0]["count"].as_u64().unwrap()
            + v["attributes"][0]["groups"][1]["count"].as_u64().unwrap(),
        800
    );
}

/// `validate` checks the reference data of `monitoring:` against the features (MG053) from the
/// Parquet footer or the CSV header, the same from the folder and from a git revision.
#[test]
fn validate_checks_reference_columns_against_the_features() {
    let dir = example_dir();
    let root = dir.path();
    let model = root.join("registry/models/heart_disease/model.yaml");
    let original = std::fs::read_to_string(&model).unwrap();
    let (code, out, _) = run(&["validate", "--format", "json"], root);
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("MG053"),
        "the example's features are all there: {out}"
    );
    std::fs::write(
        &model,
        original
            .replace(
                "  - {name: bmi, type: numerical}",
                "  - {name: bmi, type: numerical}\n  - {name: weight_kg, type: numerical}",
            )
            .replace(
                "  - {name: num_vessels, type: numerical}",
                "  - {name: num_vessels, type: categorical, categories: [\"0\", \"1\"]}",
            )
            .replace(
                "  - {name: sex, type: categorical, categories: [F, M]}",
                "  - {name: sex, type: numerical}",
            ),
    )
    .unwrap();
    let found = |args: &[&str]| -> Vec<String> {
        let (_, out, err) = run(args, root);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
        v.as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "MG053")
            .map(|d| {
                assert_eq!(d["severity"], "warning");
                assert_eq!(d["file"], "registry/models/heart_disease/model.yaml");
                assert_eq!(d["line"], 23, "at `reference:`");
                d["message"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let from_folder = found(&["validate", "--format", "json"]);
    assert_eq!(from_folder.len(), 3, "{from_folder:#?}");
    assert!(
        from_folder[0].contains("has no column `weight_kg`"),
        "{from_folder:#?}"
    );
    assert!(
        from_folder
            .iter()
            .any(|m| m.contains("`num_vessels` as f64")),
        "{from_folder:#?}"
    );
    assert!(
        from_folder.iter().any(|m| m.contains("`sex` as str")),
        "{from_folder:#?}"
    );
    modelgate::synth::commit_all(root, "features").unwrap();
    assert_eq!(
        found(&["validate", "--rev", "HEAD", "--format", "json"]),
        from_folder
    );
    // A CSV reference: its header is read, so a missing column is found, types are not judged.
    std::fs::write(root.join("ref.csv"), "age,sex\n50,F\n").unwrap();
    let text = std::fs::read_to_string(&model).unwrap().replace(
        "reference: examples/heart_disease/reference.parquet",
        "reference: ref.csv",
    );
    std::fs::write(&model, text).unwrap();
    let csv = found(&["validate", "--format", "json"]);
    assert!(
        csv.iter()
            .any(|m| m.contains("ref.csv has no column `bmi`")),
        "{csv:#?}"
    );
    assert!(!csv.iter().any(|m| m.contains("`sex` as")), "{csv:#?}");
    // Absent or a URI: skipped (the drift job names a missing file).
    let text = std::fs::read_to_string(&model)
        .unwrap()
        .replace("reference: ref.csv", "reference: s3://bucket/ref.parquet");
    std::fs::write(&model, text).unwrap();
    assert!(found(&["validate", "--format", "json"]).is_empty());
}
