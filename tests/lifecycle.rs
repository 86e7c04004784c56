//! register, reproduce, retire and import on real registries: the example (with ONNX Runtime
//! and git) and MLflow stores made by the pinned `mlflow` package (tests/data/mlflow,
//! scripts/make_mlflow_fixture.py).

use crate::util::{example_dir, repo_root, run};
use modelgate::synth::commit_all;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir` with its bytes: to prove a failed command wrote nothing.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(d: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.insert(
                    p.strip_prefix(base).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn registered_example() -> (tempfile::TempDir, String) {
    let dir = example_dir();
    let head = commit_all(dir.path(), "base").unwrap().to_string();
    (dir, head)
}

const REGISTER: &[&str] = &[
    "register",
    "diabetes",
    "--artifact",
    "examples/diabetes/v2/model.onnx",
    "--evaluate",
    "examples/diabetes/eval.parquet",
    "--label",
    "label",
    "--dataset",
    "examples/diabetes/reference.parquet",
    "--snapshot",
    "feature_snapshot_20240405",
    "--raw-data",
    "lab_results_v1 (2024-01-01 to 2024-04-04)",
    "--pipeline",
    "ETL_job_20240405",
    "--seed",
    "7",
    "--run-id",
    "run_test",
    "--python",
    "3.11.7",
    "--param",
    "n_estimators=40",
    "--param",
    "learning_rate=0.1",
    "--tag",
    "framework=xgboost, onnx",
    "--actor",
    "alice@example.com",
    "--at",
    "2024-07-01T09:00:00Z",
];

#[test]
fn register_hashes_evaluates_and_records_everything() {
    let (dir, head) = registered_example();
    let root = dir.path();
    let req = root.join("requirements.txt");
    std::fs::write(&req, "# pins\nxgboost==2.1.4\nonnx==1.19.1\nnumpy>=2\n").unwrap();
    let mut args = REGISTER.to_vec();
    args.extend(["--requirements", "requirements.txt"]);
    let (code, out, err) = run(&args, root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("registered diabetes@v3"), "{out}");
    let text =
        std::fs::read_to_string(root.join("registry/models/diabetes/versions/v3.yaml")).unwrap();
    // The same artifact as v2, on the same evaluation data: the same ROC-AUC as v2 records.
    let (code, json, _) = run(&["search", "name = 'diabetes'", "--format", "json"], root);
    assert_eq!(code, 0);
    let hits: Value = serde_json::from_str(&json).unwrap();
    let auc = |v: u64| {
        hits.as_array()
            .unwrap()
            .iter()
            .find(|h| h["version"] == v)
            .unwrap()["metrics"]["roc_auc"]
            .as_f64()
            .unwrap()
    };
    assert!((auc(3) - auc(2)).abs() < 1e-4, "{} vs {}", auc(3), auc(2));
    for needle in [
        &format!("git_commit: {head}") as &str,
        "random_seed: 7",
        "run_id: run_test",
        "sha256: b0b29aa3ff9477bf4cdba6eb70ac88322c0bf8b1429380cbee0c6b5a0c60ca16",
        "rows: 2000",
        "raw_data: lab_results_v1 (2024-01-01 to 2024-04-04)",
        "pipeline: ETL_job_20240405",
        "sha256: 98371e6e6d3a8e971930c487318ad503c3e311d6ac720686c7b4baf70c179367",
        "xgboost: \"2.1.4\"",
        "python: \"3.11.7\"",
        "n_estimators: 40",
        "framework: \"xgboost, onnx\"",
        "  sex:\n    demographic_parity: ",
        "  age_group:\n    demographic_parity: ",
        // The rates of each group; `validate` below checks them against the differences.
        "    groups:\n      F: {count: ",
        "\n      M: {count: ",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
    assert!(
        !text.contains("numpy"),
        "unpinned requirements are not recorded"
    );
    let audit = std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap();
    let last: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "register");
    assert_eq!(last["version"], 3);
    assert_eq!(last["details"]["git_commit"], head.as_str());
    let (code, out, err) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}{err}");
    // lineage shows the raw data and the pipeline the site's caption promises
    let (code, out, err) = run(&["lineage", "diabetes@v3"], root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("raw data lab_results_v1 (2024-01-01 to 2024-04-04)"),
        "{out}"
    );
    assert!(out.contains("pipeline ETL_job_20240405"), "{out}");

    // reproduce: the recipe, with the dataset verified.
    let (code, out, _) = run(&["reproduce", "diabetes@v3", "--format", "json"], root);
    assert_eq!(code, 0, "{out}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["git_commit"], head.as_str());
    assert_eq!(r["random_seed"], 7);
    assert_eq!(r["run_id"], "run_test");
    assert_eq!(r["dataset_check"], "verified");
    assert_eq!(r["packages"]["xgboost"], "2.1.4");
    assert!(
        r["steps"][0].as_str().unwrap() == format!("git checkout {head}"),
        "{r}"
    );
    let (code, text, _) = run(&["reproduce", "diabetes@v3"], root);
    assert_eq!(code, 0);
    assert!(text.contains("the local file matches its sha256"), "{text}");
    // A changed dataset is caught: exit 1.
    let mut bytes = std::fs::read(root.join("examples/diabetes/reference.parquet")).unwrap();
    bytes.push(0);
    std::fs::write(root.join("examples/diabetes/reference.parquet"), bytes).unwrap();
    let (code, text, _) = run(&["reproduce", "diabetes@v3"], root);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("MISMATCH"), "{text}");
}

#[test]
fn register_bad_inputs_write_nothing() {
    let (dir, _) = registered_example();
    let root = dir.path();
    std::fs::write(root.join("notes.txt"), "not a model").unwrap();
    let before = snapshot(root);
    let with = |artifact: &str| {
        let mut a: Vec<&str> = vec![
            "register",
            "diabetes",
            "--artifact",
            artifact,
            "--actor",
            "alice@example.com",
        ];
        a.extend(["--metrics", "roc_auc=0.9"]);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with("examples/diabetes/v9/model.onnx"), "cannot be read"),
        (with("notes.txt"), "not a usable ONNX model"),
        (
            with("examples/heart_disease/v3/model.onnx"),
            "takes 12 features, but registry/models/diabetes/model.yaml lists 8",
        ),
        (
            vec![
                "register".into(),
                "no_such_model".into(),
                "--artifact".into(),
                "examples/diabetes/v2/model.onnx".into(),
                "--actor".into(),
                "a@b".into(),
            ],
            "there is no model `no_such_model`",
        ),
        (
            {
                let mut v = with("examples/diabetes/v2/model.onnx");
                v.extend(["--metrics".into(), "f1=abc".into()]);
                v
            },
            "`abc` is not a number",
        ),
    ];
    for (args, expected) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&a, root);
        assert_eq!(code, 2, "{a:?}: {out}{err}");
        assert!(
            err.contains(expected),
            "{a:?}: expected `{expected}` in: {err}"
        );
        assert_eq!(snapshot(root), before, "{a:?} wrote something");
    }
    // Uncommitted changes in the code repository: refused unless --allow-dirty.
    std::fs::write(
        root.join("model-cards/diabetes.md"),
        "# changed, not committed\n",
    )
    .unwrap();
    let before = snapshot(root);
    let args = with("examples/diabetes/v2/model.onnx");
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run(&a, root);
    assert_eq!(code, 2);
    assert!(err.contains("uncommitted changes"), "{err}");
    assert_eq!(snapshot(root), before);
    let mut a2 = a.clone();
    a2.push("--allow-dirty");
    let (code, out, err) = run(&a2, root);
    assert_eq!(code, 0, "{out}{err}");
    let text =
        std::fs::read_to_string(root.join("registry/models/diabetes/versions/v3.yaml")).unwrap();
    assert!(text.contains("dirty: true"), "{text}");
}

#[test]
fn retire_plans_from_the_audit_log_and_applies_atomically() {
    let (dir, _) = registered_example();
    let root = dir.path();
    let before = snapshot(root);
    // Before the log's first entry: an error.
    let (code, _, err) = run(&["retire", "--today", "2023-12-31"], root);
    assert_eq!(code, 2);
    assert!(
        err.contains("before the audit log's first entry (2024-01-10)"),
        "{err}"
    );
    // Early on, nothing is due; the dates come from the log, not from file times.
    // heart_disease v2 stopped being champion on 2024-03-22: 89 days, under 90.
    let (code, out, _) = run(
        &["retire", "--today", "2024-06-19", "--format", "json"],
        root,
    );
    assert_eq!(code, 0);
    let p: Value = serde_json::from_str(&out).unwrap();
    let steps = p["steps"].as_array().unwrap();
    assert!(steps.is_empty(), "{p}");
    let (code, out, _) = run(
        &["retire", "--today", "2024-06-20", "--format", "json"],
        root,
    );
    assert_eq!(code, 0);
    let p: Value = serde_json::from_str(&out).unwrap();
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{p}");
    assert_eq!(steps[0]["model"], "heart_disease");
    assert_eq!(steps[0]["version"], 2);
    assert_eq!(steps[0]["action"], "archive");
    assert_eq!(steps[0]["since"], "2024-03-22");
    assert_eq!(steps[0]["days"], 90);
    assert_eq!(snapshot(root), before, "a plan writes nothing");

    // Years later: archive and delete, former champions kept for champion_history_days.
    let (code, out, _) = run(
        &["retire", "--today", "2025-03-01", "--format", "json"],
        root,
    );
    assert_eq!(code, 0);
    let p: Value = serde_json::from_str(&out).unwrap();
    assert!(
        p["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["action"] == "archive"),
        "{p}"
    );
    let (code, out, err) = run(
        &[
            "retire",
            "--today",
            "2026-11-26",
            "--apply",
            "--actor",
            "ops@example.com",
        ],
        root,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("delete  heart_disease v1"), "{out}");
    assert!(out.contains("artifacts were kept on disk"), "{out}");
    assert!(root.join("examples/heart_disease/v1/model.onnx").is_file());
    let v1 = std::fs::read_to_string(root.join("registry/models/heart_disease/versions/v1.yaml"))
        .unwrap();
    assert!(v1.contains("deleted_at: 2026-11-26T00:00:00Z"), "{v1}");
    let audit = std::fs::read_to_string(root.join("registry/audit.jsonl")).unwrap();
    assert!(audit.contains("\"action\":\"delete\""), "{audit}");
    assert!(audit.contains("\"action\":\"archive\",\"model\":\"diabetes\",\"version\":1"));
    let (code, out, err) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}{err}");
    // The pull request that retires passes the gate: every archive has its audit entry.
    let base = {
        let repo = git2::Repository::open(root).unwrap();
        repo.head()
            .unwrap()
            .peel_to_commit()
            .unwrap()
            .id()
            .to_string()
    };
    commit_all(root, "retire").unwrap();
    let (code, out, err) = run(&["check", "--base", &base, "--head", "HEAD"], root);
    assert_eq!(code, 0, "{out}{err}");
    // Applying again changes nothing; deleting artifacts now removes the files.
    let (code, out, _) = run(&["retire", "--today", "2026-11-26", "--apply"], root);
    assert_eq!(code, 0);
    assert!(out.contains("0 to archive, 0 to delete"), "{out}");
}

#[test]
fn retire_deletes_artifacts_only_when_asked() {
    let (dir, _) = registered_example();
    let root = dir.path();
    let (code, out, err) = run(
        &[
            "retire",
            "--today",
            "2026-11-26",
            "--apply",
            "--delete-artifacts",
            "--actor",
            "ops@example.com",
        ],
        root,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("deleted examples/heart_disease/v1/model.onnx"),
        "{out}"
    );
    assert!(!root.join("examples/heart_disease/v1/model.onnx").exists());
    // Artifacts of live versions stay.
    assert!(root.join("examples/heart_disease/v3/model.onnx").is_file());
    assert!(root.join("examples/heart_disease/v4/model.onnx").is_file());
    let (code, out, err) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}{err}");
}

pub(crate) fn empty_registry() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["init"], dir.path());
    assert_eq!(code, 0, "{out}{err}");
    dir
}

fn store(name: &str) -> String {
    repo_root()
        .join("tests/data/mlflow")
        .join(name)
        .display()
        .to_string()
}

/// MLflow alias names of the fixture (`prod`, `staging`) mapped to modelgate's.
const ALIAS_MAP: &str = "prod=champion,staging=challenger";

/// Both backends of the real MLflow 3 store give the same registry: every version (ONNX run
/// artifacts, scikit-learn and XGBoost logged models and run artifacts), run id, latest metric,
/// param, tag, dataset, environment pin and alias. The one difference is MLflow's own: a logged
/// model's `MLmodel` records the absolute place of its store (`artifact_path`), so those two
/// folders — and their digests — differ by that line only.
#[test]
fn import_mlflow_file_store_and_sqlite_agree() {
    let a = empty_registry();
    let b = empty_registry();
    for (dir, s) in [
        (a.path(), store("filestore/mlruns")),
        (b.path(), store("sqlite/mlflow.db")),
    ] {
        let (code, out, err) = run(
            &[
                "import",
                "mlflow",
                &s,
                "--copy-artifacts",
                "artifacts",
                "--alias-map",
                ALIAS_MAP,
                "--actor",
                "ops@example.com",
            ],
            dir,
        );
        assert_eq!(code, 0, "{s}: {out}{err}");
        assert!(out.contains("imported 4 models, 9 versions"), "{out}");
        // heart_disease v3's run was deleted after registering: skipped, with a warning.
        assert!(
            out.contains("warning: heart_disease v3: its run 73e78f3ae86b41ffbec0e2cc9c22934f is deleted in MLflow"),
            "{out}"
        );
        let (code, out, err) = run(&["validate"], dir);
        assert_eq!(code, 0, "{s}: {out}{err}");
    }
    let (sa, sb) = (snapshot(a.path()), snapshot(b.path()));
    let models: Vec<&String> = sa
        .keys()
        .filter(|k| k.starts_with("registry/models/") || k.starts_with("artifacts/"))
        .collect();
    // 9 version files, 4 model.yaml, 4 aliases.yaml, 5 ONNX files, 4 model folders of 5 files,
    // and init's .gitkeep.
    assert_eq!(models.len(), 9 + 4 + 4 + 5 + 4 * 5 + 1, "{models:?}");
    let logged = [
        "artifacts/heart_disease/v1/MLmodel",
        "artifacts/credit_xgb/v1/MLmodel",
        "registry/models/heart_disease/versions/v1.yaml",
        "registry/models/credit_xgb/versions/v1.yaml",
    ];
    let without = |t: &[u8]| -> String {
        String::from_utf8(t.to_vec())
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("artifact_path: ") && !l.starts_with("artifact: "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for k in models {
        if logged.contains(&k.as_str()) {
            assert_ne!(sa.get(k), sb.get(k), "{k}");
            assert_eq!(without(&sa[k]), without(&sb[k]), "{k}");
        } else {
            assert_eq!(sa.get(k), sb.get(k), "{k} differs between the two backends");
        }
    }
    let v3 = String::from_utf8(sa["registry/models/churn_model/versions/v3.yaml"].clone()).unwrap();
    // Latest metric = highest step (0.88 at step 2), not the last line written (0.87 at step 1).
    assert!(v3.contains("roc_auc: 0.88"), "{v3}");
    assert!(
        v3.contains("git_commit: 5266752c58c2390ebcf2b46231ebf5863d1f7f2c"),
        "{v3}"
    );
    assert!(v3.contains("n_estimators: 300"), "{v3}");
    assert!(
        v3.contains("run_id: 632524ccf327477da496acfedbc8dbe5"),
        "{v3}"
    );
    assert!(v3.contains("validation_status: pending"), "{v3}");
    assert!(v3.contains("format: onnx}"), "{v3}");
    // A scikit-learn logged model (`models:/m-<id>`): its folder, format, pins, dataset, id.
    let h1 =
        String::from_utf8(sa["registry/models/heart_disease/versions/v1.yaml"].clone()).unwrap();
    for want in [
        "artifact: {uri: artifacts/heart_disease/v1, sha256: ",
        ", format: sklearn}",
        "run_id: 43036c36c82146af9b487c3d86a902a1",
        "experiment: heart",
        "random_seed: 7",
        "dataset: {uri: \"s3://data/heart_disease/train-2025-02.npz\", snapshot: heart_disease-train}",
        "environment: {python: \"3.11.7\", packages: {mlflow: \"3.17.2\", numpy: \"2.4.6\", scikit-learn: \"1.7.2\"}}",
        "hyperparameters: {C: 0.5, max_iter: 200, random_state: 7}",
        // Logged out of step order (0, 2, 1): the value at step 2; and val_f1, logged to the
        // logged model only (by an evaluation run, steps 1 then 0): the value at step 1.
        "metrics: {accuracy: 0.76, roc_auc: 0.84, val_f1: 0.65}",
        "mlflow_model_id: m-1c9c06e7196c4699b0070d60ec68b2b4",
        "mlflow_dataset_digest: 52be33bc",
        "validation_status: approved",
    ] {
        assert!(h1.contains(want), "expected `{want}` in\n{h1}");
    }
    // The run-artifact styles, and XGBoost.
    let h2 =
        String::from_utf8(sa["registry/models/heart_disease/versions/v2.yaml"].clone()).unwrap();
    assert!(h2.contains(", format: sklearn}"), "{h2}");
    assert!(!h2.contains("mlflow_model_id"), "{h2}");
    for v in [1, 2] {
        let c = String::from_utf8(
            sa[&format!("registry/models/credit_xgb/versions/v{v}.yaml")].clone(),
        )
        .unwrap();
        assert!(c.contains(", format: xgboost}"), "{c}");
        assert_eq!(c.contains("val_f1: 0.68"), v == 1, "{c}");
        assert!(c.contains("xgboost: \"2.1.4\""), "{c}");
    }
    assert!(sa.contains_key("artifacts/credit_xgb/v1/model.ubj"));
    assert!(sa.contains_key("artifacts/heart_disease/v2/model.pkl"));
    let text = |k: &str| String::from_utf8(sa[k].clone()).unwrap();
    assert_eq!(
        text("registry/models/churn_model/aliases.yaml"),
        "# yaml-language-server: $schema=../../../schemas/aliases.schema.json\nchampion: 2\nchallenger: 3\n"
    );
    // `prod` and `staging` through --alias-map; `candidate` is mapped to nothing.
    assert_eq!(
        text("registry/models/heart_disease/aliases.yaml"),
        "# yaml-language-server: $schema=../../../schemas/aliases.schema.json\nchampion: 2\n"
    );
    assert_eq!(
        text("registry/models/credit_xgb/aliases.yaml"),
        "# yaml-language-server: $schema=../../../schemas/aliases.schema.json\nchampion: 1\nchallenger: 2\n"
    );
    // MLflow's `Fraud-Detector` becomes `fraud_detector`.
    assert!(sa.contains_key("registry/models/fraud_detector/model.yaml"));
    let audit = text("registry/audit.jsonl");
    assert_eq!(audit.lines().count(), 9 + 7, "{audit}");
    assert!(audit.contains("\"mlflow_alias\":\"prod\""), "{audit}");
}

/// `--strict` refuses the stores that are imported with a warning otherwise, and writes nothing.
#[test]
fn import_mlflow_strict_refuses_what_is_skipped() {
    let dir = empty_registry();
    let before = snapshot(dir.path());
    let (code, out, err) = run(
        &[
            "import",
            "mlflow",
            &store("filestore/mlruns"),
            "--strict",
            "--actor",
            "x@y",
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("(--strict)"), "{err}");
    assert!(
        err.contains(
            "heart_disease v3: its run 73e78f3ae86b41ffbec0e2cc9c22934f is deleted in MLflow"
        ),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
    // An --alias-map to a name modelgate does not have is refused before anything is read.
    let (code, _, err) = run(
        &[
            "import",
            "mlflow",
            &store("filestore/mlruns"),
            "--alias-map",
            "prod=production",
            "--actor",
            "x@y",
        ],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("`production` is not a modelgate alias (champion, challenger)"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

/// A new registry with the MLflow store at `mlruns` imported into it (which must succeed).
fn imported(mlruns: &Path) -> tempfile::TempDir {
    let reg = empty_registry();
    let (code, out, err) = run(
        &[
            "import",
            "mlflow",
            mlruns.to_str().unwrap(),
            "--actor",
            "ops@example.com",
        ],
        reg.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    reg
}

/// MLflow keeps every param and tag as text: a param `TRUE`, `0x1F` or `.inf` stays that text
/// after `import mlflow`, never the boolean, integer or float YAML would read in it unquoted.
#[test]
fn import_mlflow_keeps_params_that_look_like_yaml_values_as_text() {
    use modelgate::yaml::{Resolved, parse};
    let copy = tempfile::tempdir().unwrap();
    crate::util::copy_tree(
        &repo_root().join("tests/data/mlflow/filestore"),
        copy.path(),
    );
    let run_dir = copy
        .path()
        .join("mlruns/719715685956562960/632524ccf327477da496acfedbc8dbe5");
    let hostile = [
        ("early_stopping", "TRUE"),
        ("tree_method", "0x1F"),
        ("gamma", ".inf"),
        ("nthread", "~"),
        ("objective", "- x"),
        ("verbose", "yes"),
        ("note", " padded: #1 "),
    ];
    for (k, v) in hostile {
        std::fs::write(run_dir.join("params").join(k), v).unwrap();
    }
    std::fs::write(run_dir.join("tags/reviewed"), "True").unwrap();
    let dir = imported(&copy.path().join("mlruns"));
    let (code, out, err) = run(&["validate"], dir.path());
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(
        dir.path()
            .join("registry/models/churn_model/versions/v3.yaml"),
    )
    .unwrap();
    assert!(text.contains("early_stopping: \"TRUE\""), "{text}");
    let node = parse(&text).unwrap();
    let params = node.get("hyperparameters").unwrap();
    for (k, v) in hostile {
        assert_eq!(
            params.get(k).unwrap().resolve(),
            Some(Resolved::Str(v)),
            "param {k}: {text}"
        );
    }
    // The numbers MLflow gave stay numbers.
    assert_eq!(
        params.get("n_estimators").unwrap().resolve(),
        Some(Resolved::Int(300))
    );
    assert_eq!(
        node.get("tags").unwrap().get("reviewed").unwrap().resolve(),
        Some(Resolved::Str("True"))
    );
}

/// A deleted run, a run that is gone, a metric name modelgate cannot use: the bad version is
/// skipped with a warning naming it, the good one is imported; `--strict` refuses the store and
/// writes nothing.
#[test]
fn import_mlflow_bad_versions_are_skipped_with_a_warning() {
    for (s, expected) in [
        ("bad-deleted-run/mlruns", "is deleted in MLflow"),
        ("bad-missing-run/mlruns", "is not in the store"),
        ("bad-metric-space/mlruns", "named `val auc`"),
    ] {
        let dir = empty_registry();
        let before = snapshot(dir.path());
        let (code, out, err) = run(
            &["import", "mlflow", &store(s), "--strict", "--actor", "x@y"],
            dir.path(),
        );
        assert_eq!(code, 2, "{s}: {out}{err}");
        assert!(
            err.contains("churn_model v2: ") && err.contains(expected),
            "{s}: expected `{expected}` in {err}"
        );
        assert_eq!(snapshot(dir.path()), before, "{s} wrote something");
        let (code, out, err) = run(
            &["import", "mlflow", &store(s), "--actor", "x@y"],
            dir.path(),
        );
        assert_eq!(code, 0, "{s}: {out}{err}");
        assert!(out.contains("imported 1 model, 1 version"), "{s}: {out}");
        assert!(
            out.contains("warning: churn_model v2: ") && out.contains(expected),
            "{s}: {out}"
        );
        assert!(
            dir.path()
                .join("registry/models/churn_model/versions/v1.yaml")
                .is_file()
        );
        assert!(
            !dir.path()
                .join("registry/models/churn_model/versions/v2.yaml")
                .exists()
        );
    }
    let dir = empty_registry();
    let (code, out, err) = run(
        &[
            "import",
            "mlflow",
            &store("no-such-store"),
            "--actor",
            "x@y",
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no such file or folder"), "{err}");
}

#[test]
fn search_index_is_a_cache_that_follows_every_change() {
    let dir = example_dir();
    let root = dir.path();
    // Files older than the racy window, as in any real checkout.
    let st = std::process::Command::new("find")
        .args([
            ".",
            "-type",
            "f",
            "-exec",
            "touch",
            "-d",
            "2024-01-01",
            "{}",
            "+",
        ])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(st.success());
    let q = [
        "search",
        "metrics.roc_auc > 0.5",
        "--order-by",
        "metrics.roc_auc DESC",
        "--format",
        "json",
    ];
    let (code, first, err) = run(&q, root);
    assert_eq!(code, 0, "{err}");
    assert!(root.join(".modelgate/search-index.json").is_file());
    // From the index: the same answer.
    let (_, second, _) = run(&q, root);
    assert_eq!(first, second);
    let hits: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(hits[0]["name"], "heart_disease");
    assert_eq!(hits[0]["version"], 4);
    // A changed version file is parsed again: its new metric is found.
    let f = root.join("registry/models/diabetes/versions/v1.yaml");
    let t = std::fs::read_to_string(&f).unwrap();
    let start = t.find("roc_auc: ").unwrap() + "roc_auc: ".len();
    let end = start + t[start..].find([',', '}']).unwrap();
    std::fs::write(&f, format!("{}0.99{}", &t[..start], &t[end..])).unwrap();
    let (_, third, _) = run(&q, root);
    let hits: Value = serde_json::from_str(&third).unwrap();
    assert_eq!(hits[0]["name"], "diabetes", "{third}");
    assert_eq!(hits[0]["version"], 1);
    // A removed model disappears; an alias moved by hand is seen.
    std::fs::remove_dir_all(root.join("registry/models/readmission")).unwrap();
    std::fs::write(
        root.join("registry/models/heart_disease/aliases.yaml"),
        "champion: 4\n",
    )
    .unwrap();
    let (_, fourth, _) = run(&q, root);
    let hits: Value = serde_json::from_str(&fourth).unwrap();
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .all(|h| h["name"] != "readmission")
    );
    let v4 = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "heart_disease" && h["version"] == 4)
        .unwrap();
    assert_eq!(v4["stage"], "champion");
    // A corrupt index is ignored and rewritten.
    std::fs::write(root.join(".modelgate/search-index.json"), "{not json").unwrap();
    let (code, fifth, _) = run(&q, root);
    assert_eq!(code, 0);
    assert_eq!(fourth, fifth);
}

/// Runs the binary, killing it after `secs` seconds: a hang is a failure, not a stuck test.
fn run_bounded(args: &[&str], cwd: &Path, secs: u64) -> (i32, String, String) {
    let mut child = crate::util::modelgate()
        .args(args)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed().as_secs() > secs {
            child.kill().unwrap();
            panic!("modelgate {args:?} hung for {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An MLflow file store with planted symbolic links — loops, and links to files and folders
/// outside it — is refused by name, quickly, and nothing outside it is read into the registry;
/// `--artifacts-root` is what allows artifacts outside the store.
#[test]
fn import_mlflow_refuses_link_loops_and_links_out_of_the_store() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "TOP-SECRET-VALUE").unwrap();
    let run_rel = "mlruns/719715685956562960/632524ccf327477da496acfedbc8dbe5";
    let onnx = repo_root()
        .join("tests/data/mlflow/filestore")
        .join(run_rel)
        .join("artifacts/model/model.onnx");
    std::fs::create_dir_all(outside.path().join("model")).unwrap();
    std::fs::copy(&onnx, outside.path().join("model/model.onnx")).unwrap();
    type Plant = fn(&Path, &Path);
    let cases: [(&str, Plant, &str, &str); 5] = [
        (
            "a folder link back to its own run",
            |run, _| symlink(run, run.join("params/loop")).unwrap(),
            "params/loop",
            "symbolic link loop",
        ),
        (
            "a link to itself",
            |run, _| symlink(run.join("tags/self"), run.join("tags/self")).unwrap(),
            "tags/self",
            "symbolic link loop",
        ),
        (
            "a param that is a link to a file outside",
            |run, out| symlink(out.join("secret.txt"), run.join("params/secret")).unwrap(),
            "params/secret",
            "outside the MLflow store",
        ),
        (
            "an experiment folder linked outside",
            |run, out| {
                let exp = run.parent().unwrap().parent().unwrap().join("666");
                std::fs::create_dir_all(out.join("exp")).unwrap();
                std::fs::write(out.join("exp/meta.yaml"), "name: stolen\n").unwrap();
                symlink(out.join("exp"), exp).unwrap();
            },
            "mlruns/666 leads to",
            "outside the MLflow store",
        ),
        (
            "an artifact folder linked outside",
            |run, out| {
                std::fs::remove_dir_all(run.join("artifacts/model")).unwrap();
                symlink(out.join("model"), run.join("artifacts/model")).unwrap();
            },
            "artifacts/model",
            "outside the MLflow store",
        ),
    ];
    for (what, plant, named, expected) in cases {
        let copy = tempfile::tempdir().unwrap();
        crate::util::copy_tree(
            &repo_root().join("tests/data/mlflow/filestore"),
            copy.path(),
        );
        let store = copy.path().join("mlruns");
        plant(&copy.path().join(run_rel), outside.path());
        let dir = empty_registry();
        let before = snapshot(dir.path());
        let (code, out, err) = run_bounded(
            &[
                "import",
                "mlflow",
                store.to_str().unwrap(),
                "--actor",
                "x@y",
            ],
            dir.path(),
            60,
        );
        assert_eq!(code, 2, "{what}: {out}{err}");
        assert!(err.contains(named), "{what}: expected `{named}` in {err}");
        assert!(
            err.contains(expected),
            "{what}: expected `{expected}` in {err}"
        );
        assert!(
            !out.contains("TOP-SECRET") && !err.contains("TOP-SECRET"),
            "{what}"
        );
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{what}: something was written"
        );
    }

    // The artifact folder outside, allowed with --artifacts-root: imported.
    let copy = tempfile::tempdir().unwrap();
    crate::util::copy_tree(
        &repo_root().join("tests/data/mlflow/filestore"),
        copy.path(),
    );
    let run = copy.path().join(run_rel);
    std::fs::remove_dir_all(run.join("artifacts/model")).unwrap();
    symlink(outside.path().join("model"), run.join("artifacts/model")).unwrap();
    let dir = empty_registry();
    let store = copy.path().join("mlruns");
    let (code, out, err) = run_bounded(
        &[
            "import",
            "mlflow",
            store.to_str().unwrap(),
            "--artifacts-root",
            outside.path().to_str().unwrap(),
            "--actor",
            "x@y",
        ],
        dir.path(),
        60,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported 4 models, 9 versions"), "{out}");
}

/// Every float token of a YAML text (`key: 0.123`, in flow maps too).
fn floats(text: &str) -> Vec<(String, f64)> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}')
        .filter(|t| t.contains('.') && !t.contains('"'))
        .filter_map(|t| Some((t.to_string(), t.parse::<f64>().ok()?)))
        .collect()
}

/// One rule for every number modelgate stores: 6 significant digits (registry::number), by
/// `register --evaluate` (metrics, bias differences and group rates) and `import mlflow`; the
/// numbers still satisfy `validate` (MG045 compares the rounded differences with the rounded
/// rates).
#[test]
fn stored_numbers_are_rounded_to_six_significant_digits() {
    use modelgate::registry::number::stored;
    let (dir, _) = registered_example();
    let root = dir.path();
    let (code, out, err) = run(REGISTER, root);
    assert_eq!(code, 0, "{out}{err}");
    let text =
        std::fs::read_to_string(root.join("registry/models/diabetes/versions/v3.yaml")).unwrap();
    let numbers = floats(&text);
    assert!(numbers.len() > 20, "{numbers:?}\n{text}");
    for (token, x) in &numbers {
        assert_eq!(stored(*x), *x, "`{token}` is not rounded in\n{text}");
        let digits = token.trim_start_matches(['-', '0', '.']).replace('.', "");
        assert!(digits.len() <= 6, "`{token}` has more than 6 digits");
    }
    assert!(text.contains("brier: "), "{text}");
    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}");

    // import mlflow: the latest metric value, rounded the same way.
    let copy = tempfile::tempdir().unwrap();
    crate::util::copy_tree(
        &repo_root().join("tests/data/mlflow/filestore"),
        copy.path(),
    );
    let mut edited = 0;
    let mut stack = vec![copy.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.ends_with("metrics/roc_auc") {
                let mut t = std::fs::read_to_string(&p).unwrap();
                t.push_str("1737019999000 0.912345678901 99\n");
                std::fs::write(&p, t).unwrap();
                edited += 1;
            }
        }
    }
    assert!(edited > 0);
    let reg = imported(&copy.path().join("mlruns"));
    let v3 = std::fs::read_to_string(
        reg.path()
            .join("registry/models/churn_model/versions/v3.yaml"),
    )
    .unwrap();
    assert!(v3.contains("roc_auc: 0.912346"), "{v3}");
    assert!(!v3.contains("0.912345678901"), "{v3}");
}
