//! `import mlflow` on MLflow 3 stores (tests/data/mlflow, scripts/make_mlflow_fixture.py):
//! incremental re-import, broken and remote sources, `mlflow-artifacts:` through
//! `--artifacts-root`, what the other commands do with a model that is not ONNX, and hostile
//! stores (copies of the fixtures, changed) where nothing MLflow recorded is passed over
//! without a warning naming it.

use crate::lifecycle::{empty_registry, snapshot};
use crate::util::{copy_tree, repo_root, run};
use std::path::Path;

/// The file store's heart_disease experiment and its runs (ids are fixed by the generator).
const HEART_EXP: &str = "mlruns/665102750116335424";
const HEART_V1_MODEL: &str = "mlruns/665102750116335424/models/m-1c9c06e7196c4699b0070d60ec68b2b4";
const HEART_V2_RUN: &str = "mlruns/665102750116335424/cdf8128edae44c8a98999daeb0e575f3";
/// The run of heart_disease v1 (a logged model), in both backends.
const HEART_V1_RUN_ID: &str = "43036c36c82146af9b487c3d86a902a1";

/// A copy of the file store, to change.
fn filestore_copy() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(
        &repo_root().join("tests/data/mlflow/filestore"),
        copy.path(),
    );
    copy
}

/// A copy of the SQLite store, changed by `sql`; its database file.
fn sqlite_copy(sql: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join("tests/data/mlflow/sqlite"), copy.path());
    let db = copy.path().join("mlflow.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    // MLflow's foreign keys, which SQLite enforces only when asked, are what is broken here.
    conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    (copy, db)
}

/// Imports `store` into new registries: with `--strict` it is refused, every line of
/// `expected` named in the error, and nothing is written; without, it is imported and each line
/// of `expected` is a warning (one line holding all of its parts). The imported registry and
/// what the import printed.
fn warned(store: &Path, expected: &[&[&str]]) -> (tempfile::TempDir, String) {
    let reg = empty_registry();
    let before = snapshot(reg.path());
    let (code, out, err) = import(reg.path(), store, &["--strict"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("(--strict)"), "{err}");
    for parts in expected {
        assert!(
            err.lines().any(|l| parts.iter().all(|p| l.contains(p))),
            "expected a problem with {parts:?} in\n{err}"
        );
    }
    assert_eq!(snapshot(reg.path()), before, "--strict wrote something");
    let (code, out, err) = import(reg.path(), store, &[]);
    assert_eq!(code, 0, "{out}{err}");
    for parts in expected {
        assert!(
            out.lines()
                .any(|l| l.starts_with("warning: ") && parts.iter().all(|p| l.contains(p))),
            "expected a warning with {parts:?} in\n{out}"
        );
    }
    let (code, o, e) = run(&["validate"], reg.path());
    assert_eq!(code, 0, "{o}{e}");
    (reg, out)
}

fn import(reg: &Path, mlruns: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "import",
        "mlflow",
        mlruns.to_str().unwrap(),
        "--copy-artifacts",
        "artifacts",
        "--alias-map",
        "prod=champion,staging=challenger",
        "--actor",
        "ops@example.com",
    ];
    args.extend_from_slice(extra);
    run(&args, reg)
}

/// Re-importing a store that grew adds only the new version and the alias MLflow moved (with
/// their audit entries); a version that changed in MLflow since is reported, not overwritten;
/// an unchanged store writes nothing at all.
#[test]
fn reimport_adds_only_what_is_new() {
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    let reg = empty_registry();
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 0, "{out}{err}");

    // Nothing changed in MLflow: nothing is written.
    let before = snapshot(reg.path());
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("imported 0 models, 0 versions")
            && out.contains("(9 already imported and unchanged, 0 alias moves"),
        "{out}"
    );
    assert_eq!(snapshot(reg.path()), before);

    // MLflow grew: heart_disease v4 (registered from v2's run folder), `prod` moved to it, and
    // v1's run logged a later roc_auc.
    let models = mlruns.join("models/heart_disease");
    std::fs::create_dir_all(models.join("version-4/tags")).unwrap();
    let v2 = std::fs::read_to_string(models.join("version-2/meta.yaml")).unwrap();
    std::fs::write(
        models.join("version-4/meta.yaml"),
        v2.replace("version: 2", "version: 4")
            .replace("creation_timestamp: ", "creation_timestamp: 1")
            .replace("description: ", "description: Again, "),
    )
    .unwrap();
    std::fs::write(models.join("aliases/prod"), "4").unwrap();
    let run_id = "43036c36c82146af9b487c3d86a902a1";
    let metric = copy
        .path()
        .join(HEART_EXP)
        .join(run_id)
        .join("metrics/roc_auc");
    let mut t = std::fs::read_to_string(&metric).unwrap();
    t.push_str("1737999999000 0.97 9\n");
    std::fs::write(&metric, t).unwrap();

    let v1_before = before["registry/models/heart_disease/versions/v1.yaml"].clone();
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported 1 model, 1 version"), "{out}");
    assert!(
        out.contains("heart_disease champion: v2 → v4 (moved in MLflow)"),
        "{out}"
    );
    assert!(
        out.contains("warning: heart_disease v1 changed in MLflow since it was imported (metrics); registry/models/heart_disease/versions/v1.yaml was not overwritten"),
        "{out}"
    );
    let after = snapshot(reg.path());
    let changed: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        [
            "artifacts/heart_disease/v4/MLmodel",
            "artifacts/heart_disease/v4/conda.yaml",
            "artifacts/heart_disease/v4/model.pkl",
            "artifacts/heart_disease/v4/python_env.yaml",
            "artifacts/heart_disease/v4/requirements.txt",
            "registry/audit.jsonl",
            "registry/models/heart_disease/aliases.yaml",
            "registry/models/heart_disease/versions/v4.yaml",
        ],
    );
    assert_eq!(
        after["registry/models/heart_disease/versions/v1.yaml"],
        v1_before
    );
    let audit = String::from_utf8(after["registry/audit.jsonl"].clone()).unwrap();
    let new: Vec<&str> = audit.lines().skip(16).collect();
    assert_eq!(new.len(), 2, "{audit}");
    assert!(new[0].contains("\"action\":\"register\"") && new[0].contains("\"version\":4"));
    assert!(
        new[1].contains("\"action\":\"promote\"")
            && new[1].contains("\"from\":2")
            && new[1].contains("\"to\":4"),
        "{}",
        new[1]
    );
    assert_eq!(
        String::from_utf8(after["registry/models/heart_disease/aliases.yaml"].clone()).unwrap(),
        "# yaml-language-server: $schema=../../../schemas/aliases.schema.json\nchampion: 4\n"
    );
    let (code, out, err) = run(&["validate"], reg.path());
    assert_eq!(code, 0, "{out}{err}");

    // A version of the same number that did not come from MLflow is never compared or touched.
    let v2 = reg
        .path()
        .join("registry/models/credit_xgb/versions/v2.yaml");
    let text = std::fs::read_to_string(&v2)
        .unwrap()
        .replace("imported_from: mlflow", "imported_from: elsewhere");
    std::fs::write(&v2, &text).unwrap();
    let before = snapshot(reg.path());
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("warning: credit_xgb v2: registry/models/credit_xgb/versions/v2.yaml exists and was not imported from MLflow; it is left as it is"),
        "{out}"
    );
    assert_eq!(snapshot(reg.path()), before);
}

/// A version whose artifact is gone and a logged model that is not in the store are skipped
/// with a warning naming them; `--strict` refuses them.
#[test]
fn missing_artifacts_and_logged_models_are_skipped_by_name() {
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    std::fs::remove_dir_all(copy.path().join(HEART_V2_RUN).join("artifacts/model")).unwrap();
    std::fs::remove_dir_all(copy.path().join(HEART_V1_MODEL)).unwrap();
    let reg = empty_registry();
    let before = snapshot(reg.path());
    let (code, out, err) = import(reg.path(), &mlruns, &["--strict"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(snapshot(reg.path()), before);
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("warning: heart_disease v1: its logged model m-1c9c06e7196c4699b0070d60ec68b2b4 (`models:/m-1c9c06e7196c4699b0070d60ec68b2b4`) is not in the store"),
        "{out}"
    );
    assert!(
        out.contains("warning: heart_disease v2: its artifact `file:///tmp/modelgate-mlflow-fixture/filestore/mlruns/665102750116335424/cdf8128edae44c8a98999daeb0e575f3/artifacts/model` is gone"),
        "{out}"
    );
    // heart_disease has no version left to import; the others are imported.
    assert!(out.contains("imported 3 models, 7 versions"), "{out}");
    assert!(!reg.path().join("registry/models/heart_disease").exists());
}

/// `mlflow-artifacts:` sources (a tracking server's proxied artifacts) are read under
/// `--artifacts-root`, and only there; a remote URI is skipped with what to do.
#[test]
fn mlflow_artifacts_sources_need_an_artifacts_root() {
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    let served = tempfile::tempdir().unwrap();
    // The server's --artifacts-destination holds <experiment>/<run>/artifacts/...
    let rel = "665102750116335424/cdf8128edae44c8a98999daeb0e575f3/artifacts/model";
    copy_tree(
        &copy.path().join(HEART_V2_RUN).join("artifacts/model"),
        &served.path().join(rel),
    );
    std::fs::remove_dir_all(copy.path().join(HEART_V2_RUN).join("artifacts/model")).unwrap();
    let meta = mlruns.join("models/heart_disease/version-2/meta.yaml");
    let text: String = std::fs::read_to_string(&meta)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("source: ") || l.starts_with("storage_location: ") {
                format!(
                    "{}: mlflow-artifacts:/{rel}\n",
                    l.split(':').next().unwrap()
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&meta, text).unwrap();
    // A remote version elsewhere: skipped, saying what to do.
    let churn = mlruns.join("models/churn_model/version-1/meta.yaml");
    let text: String = std::fs::read_to_string(&churn)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("source: ") || l.starts_with("storage_location: ") {
                format!(
                    "{}: s3://bucket/churn/model\n",
                    l.split(':').next().unwrap()
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&churn, text).unwrap();

    let reg = empty_registry();
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("warning: heart_disease v2: its artifact `mlflow-artifacts:/{rel}` is served by an MLflow tracking server: give the folder it serves")),
        "{out}"
    );
    assert!(
        out.contains("warning: churn_model v1: its artifact `s3://bucket/churn/model` is remote"),
        "{out}"
    );
    let reg = empty_registry();
    let (code, out, err) = import(
        reg.path(),
        &mlruns,
        &["--artifacts-root", served.path().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("heart_disease v2 → heart_disease v2: sklearn"),
        "{out}"
    );
    let v2 = std::fs::read_to_string(
        reg.path()
            .join("registry/models/heart_disease/versions/v2.yaml"),
    )
    .unwrap();
    assert!(
        v2.contains("artifact: {uri: artifacts/heart_disease/v2, sha256: "),
        "{v2}"
    );
    // The same folder in the store gives the same digest.
    let plain = empty_registry();
    let (code, out, err) = import(
        plain.path(),
        &repo_root().join("tests/data/mlflow/filestore/mlruns"),
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let want = std::fs::read_to_string(
        plain
            .path()
            .join("registry/models/heart_disease/versions/v2.yaml"),
    )
    .unwrap();
    let sha = |t: &str| t.split("sha256: ").nth(1).unwrap()[..64].to_string();
    assert_eq!(sha(&v2), sha(&want));
}

/// A scikit-learn or XGBoost version is validated (its folder digest too), shown and searched
/// like any other; `batch` refuses it, saying how to convert it to ONNX.
#[test]
fn other_formats_are_governed_but_never_run() {
    let reg = empty_registry();
    let (code, out, err) = import(
        reg.path(),
        &repo_root().join("tests/data/mlflow/filestore/mlruns"),
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let root = reg.path();
    let (code, out, err) = run(
        &[
            "search",
            "tags.mlflow_flavors LIKE '%xgboost%'",
            "--format",
            "json",
        ],
        root,
    );
    assert_eq!(code, 0, "{out}{err}");
    let hits: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 2, "{out}");
    let (code, out, err) = run(&["lineage", "heart_disease@v1", "--format", "json"], root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("s3://data/heart_disease/train-2025-02.npz"),
        "{out}"
    );
    let (code, out, err) = run(
        &[
            "batch",
            "credit_xgb@champion",
            "--input",
            "in.parquet",
            "--output",
            "out.parquet",
        ],
        root,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("is a xgboost model, and `batch` runs ONNX models only")
            && err.contains("onnxmltools"),
        "{err}"
    );
    assert!(!root.join("out.parquet").exists());
    // register (with or without --evaluate) runs the model: ONNX only, and it says how.
    let before = snapshot(root);
    let (code, out, err) = run(
        &[
            "register",
            "heart_disease",
            "--artifact",
            "artifacts/heart_disease/v1/model.pkl",
            "--evaluate",
            "eval.parquet",
            "--label",
            "label",
        ],
        root,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("is not a usable ONNX model") && err.contains("skl2onnx"),
        "{err}"
    );
    assert_eq!(snapshot(root), before);
    // reproduce: the pins from requirements.txt, the dataset without a sha256, the folder digest.
    let (code, out, err) = run(&["reproduce", "heart_disease@v1"], root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("python -m pip install mlflow==3.17.2 numpy==2.4.6 scikit-learn==1.7.2"),
        "{out}"
    );
    assert!(
        out.contains("no sha256 recorded: the data cannot be verified"),
        "{out}"
    );
    assert!(out.contains("<new sklearn model folder>"), "{out}");
    // The site shows every format.
    let site = tempfile::tempdir().unwrap();
    let (code, out, err) = run(
        &["site", "build", "--out", site.path().to_str().unwrap()],
        root,
    );
    assert_eq!(code, 0, "{out}{err}");
    let page = std::fs::read_to_string(site.path().join("models/credit_xgb/v1.html")).unwrap();
    assert!(
        page.contains("artifacts&#x2F;credit_xgb&#x2F;v1")
            && page.contains("xgboost (an MLflow model folder; modelgate does not run it)"),
        "{page}"
    );
    // A changed byte in a model folder is a digest mismatch.
    let (code, out, err) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(
        root.join("artifacts/heart_disease/v1/requirements.txt"),
        "numpy==1.0\n",
    )
    .unwrap();
    let (code, out, err) = run(&["validate"], root);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("MG014"), "{out}");
}

/// A hostile file store: alias numbers beyond u32 (which a cast would have wrapped onto v2 and
/// v3), an MLmodel file of 5 MiB (never read into memory whole) and a file name with a line
/// break in a model folder (which a folder digest cannot list). None panics or maps an alias
/// to the wrong version; each is said with the file it is in.
#[test]
fn a_hostile_store_is_refused_by_name_never_misread() {
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    let churn = mlruns.join("models/churn_model");
    std::fs::remove_dir_all(churn.join("aliases")).unwrap();
    let meta = std::fs::read_to_string(churn.join("meta.yaml")).unwrap();
    std::fs::write(
        churn.join("meta.yaml"),
        meta.replace("challenger: '3'", "challenger: 4294967299")
            .replace("champion: '2'", "champion: 4294967298"),
    )
    .unwrap();
    let reg = empty_registry();
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let aliases = reg.path().join("registry/models/churn_model/aliases.yaml");
    let text = std::fs::read_to_string(&aliases).unwrap_or_default();
    assert!(
        !text.contains("champion") && !text.contains("challenger"),
        "{text}"
    );

    // A 5 MiB MLmodel: refused with its name and the limit.
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    let mlmodel = copy.path().join(HEART_V1_MODEL).join("artifacts/MLmodel");
    let mut big = std::fs::read_to_string(&mlmodel).unwrap();
    big.push_str(&format!("# {}\n", "x".repeat(5 << 20)));
    std::fs::write(&mlmodel, big).unwrap();
    let reg = empty_registry();
    let (_, out, err) = import(reg.path(), &mlruns, &["--strict"]);
    assert!(
        format!("{out}{err}").contains("MLmodel: expected a YAML file of at most 4194304 bytes"),
        "{out}{err}"
    );

    // A line break in a file name of a model folder: refused by name, the folder not recorded.
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    let folder = copy.path().join(HEART_V1_MODEL).join("artifacts");
    std::fs::write(folder.join("notes\n.txt"), "x").unwrap();
    let reg = empty_registry();
    let (_, out, err) = import(reg.path(), &mlruns, &["--strict"]);
    assert!(format!("{out}{err}").contains("line break"), "{out}{err}");

    // A FIFO in a model folder (which would hang every read) and a name that is not UTF-8
    // (two of which would read as one): the import is refused, naming the file.
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    let folder = copy.path().join(HEART_V1_MODEL).join("artifacts");
    let ok = std::process::Command::new("mkfifo")
        .arg(folder.join("pipe"))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let reg = empty_registry();
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("pipe is not a regular file"), "{out}{err}");
    std::fs::remove_file(folder.join("pipe")).unwrap();
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(
        folder.join(std::ffi::OsStr::from_bytes(b"notes-\xff.txt")),
        "x",
    )
    .unwrap();
    let (code, out, err) = import(reg.path(), &mlruns, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("not UTF-8"), "{out}{err}");
}

/// A logged model's `meta.yaml` that is a symbolic link out of the store refuses the import,
/// naming it, as every other path out of the store does; never a silent skip.
#[test]
fn a_logged_model_meta_linked_out_of_the_store_is_refused() {
    let copy = filestore_copy();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("meta.yaml"),
        "model_id: m-1c9c06e7196c4699b0070d60ec68b2b4\nartifact_location: /etc\n",
    )
    .unwrap();
    let meta = copy.path().join(HEART_V1_MODEL).join("meta.yaml");
    std::fs::remove_file(&meta).unwrap();
    std::os::unix::fs::symlink(outside.path().join("meta.yaml"), &meta).unwrap();
    let reg = empty_registry();
    let before = snapshot(reg.path());
    let (code, out, err) = import(reg.path(), &copy.path().join("mlruns"), &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!("{HEART_V1_MODEL}/meta.yaml leads to"))
            && err.contains("outside the MLflow store"),
        "{err}"
    );
    assert_eq!(snapshot(reg.path()), before);
}

/// Every `meta.yaml` of a file store (experiment, run, logged model, dataset, input, registered
/// model, version) that is not YAML, not a mapping, or missing, is a warning naming it — and
/// the line, for YAML that does not parse — and what was expected; only that thing is passed
/// over (the versions that need it say why), and `--strict` refuses.
#[test]
fn a_meta_yaml_that_does_not_read_is_a_named_warning() {
    let exp = HEART_EXP;
    let run1 = format!("{exp}/{HEART_V1_RUN_ID}");
    let input = format!("{run1}/inputs/df7f94b304e35b7d60dc4178a9072cc4");
    let dataset = format!("{exp}/datasets/cad945eb4f257a1f6c1b37c75b3d8c32");
    let version2 = "mlruns/models/heart_disease/version-2";
    let churn = "mlruns/models/churn_model";
    // (the folder whose meta.yaml is broken, what it holds, what the warnings say)
    type Case<'a> = (&'a str, Option<&'a str>, &'a [&'a [&'a str]]);
    let cases: [Case; 9] = [
        (
            HEART_V1_MODEL,
            Some("model_id: [m-1c9c\nartifact_location: x\n"),
            &[&[
                HEART_V1_MODEL,
                "/meta.yaml:2: not YAML",
                "expected a logged model's meta.yaml",
                "logged model m-1c9c06e7196c4699b0070d60ec68b2b4 is skipped",
            ]],
        ),
        (
            HEART_V1_MODEL,
            Some("just some text\n"),
            &[&[
                HEART_V1_MODEL,
                "/meta.yaml: not a mapping of fields",
                "expected a logged model's meta.yaml",
            ]],
        ),
        (
            HEART_V1_MODEL,
            Some("artifact_location: x\n"),
            &[&[HEART_V1_MODEL, "/meta.yaml: no `model_id`"]],
        ),
        (
            &run1,
            None,
            &[
                &[
                    &run1,
                    "/meta.yaml: missing, expected a run's meta.yaml",
                    "run 43036c36c82146af9b487c3d86a902a1 is skipped",
                ],
                &["heart_disease v1: its run 43036c36c82146af9b487c3d86a902a1 is not in the store"],
            ],
        ),
        (
            exp,
            Some("name: [heart\n"),
            &[
                &[
                    exp,
                    "/meta.yaml:",
                    "not YAML",
                    "expected an experiment's meta.yaml",
                    "its runs and logged models are skipped",
                ],
                &["heart_disease v2: its run cdf8128edae44c8a98999daeb0e575f3 is not in the store"],
            ],
        ),
        (
            &dataset,
            Some("{"),
            &[
                &[
                    &dataset,
                    "/meta.yaml:",
                    "not YAML",
                    "dataset cad945eb4f257a1f6c1b37c75b3d8c32 is skipped",
                ],
                &[
                    &input,
                    "/meta.yaml: dataset `cad945eb4f257a1f6c1b37c75b3d8c32` is not in the experiment's datasets/",
                    "the input is skipped",
                ],
            ],
        ),
        (
            &dataset,
            Some("name: heart_disease-train\ndigest: 52be33bc\n"),
            &[&[
                &dataset,
                "/meta.yaml: no `name`, `digest` or `source`",
                "dataset cad945eb4f257a1f6c1b37c75b3d8c32 is skipped",
            ]],
        ),
        (
            version2,
            None,
            &[
                &[
                    "heart_disease v2: ",
                    version2,
                    "/meta.yaml: missing, expected a model version's meta.yaml",
                    "skipped",
                ],
                &[
                    "heart_disease alias `prod` points at v2, which is not imported (see its warning); the alias is skipped",
                ],
            ],
        ),
        (
            churn,
            Some("name: churn_model\n\tdescription: tab\n"),
            &[&[
                churn,
                "/meta.yaml:",
                "not YAML",
                "registered model churn_model is skipped",
            ]],
        ),
    ];
    for (dir, text, expected) in cases {
        let copy = filestore_copy();
        let meta = copy.path().join(dir).join("meta.yaml");
        match text {
            Some(t) => std::fs::write(&meta, t).unwrap(),
            None => std::fs::remove_file(&meta).unwrap(),
        }
        warned(&copy.path().join("mlruns"), expected);
    }
}

/// churn_model v3's run (ONNX, no logged model): its metrics and params are its own.
const CHURN_V3_RUN: &str = "mlruns/719715685956562960/632524ccf327477da496acfedbc8dbe5";

/// A metric line that is not `<timestamp> <value> <step>` is a warning naming the file and
/// line; the metric's other lines still give its latest value, and `--strict` refuses.
#[test]
fn a_metric_line_that_does_not_read_is_named_by_line() {
    let copy = filestore_copy();
    let run3 = copy.path().join(CHURN_V3_RUN);
    let roc = run3.join("metrics/roc_auc");
    let mut text = std::fs::read_to_string(&roc).unwrap();
    text.push_str("1737190990000 0.9x 3\n1737191000000 0.95 three\n");
    std::fs::write(&roc, text).unwrap();
    std::fs::write(run3.join("metrics/accuracy"), "").unwrap();
    let (reg, _) = warned(
        &copy.path().join("mlruns"),
        &[
            &[
                &format!(
                    "{CHURN_V3_RUN}/metrics/roc_auc:4: `1737190990000 0.9x 3`, expected `<timestamp> <value> <step>`"
                ),
                "the line is skipped",
            ],
            &[&format!(
                "{CHURN_V3_RUN}/metrics/roc_auc:5: `1737191000000 0.95 three`"
            )],
            &[
                &format!("{CHURN_V3_RUN}/metrics/accuracy: empty"),
                "metric `accuracy` is skipped",
            ],
        ],
    );
    let v3 = std::fs::read_to_string(
        reg.path()
            .join("registry/models/churn_model/versions/v3.yaml"),
    )
    .unwrap();
    assert!(
        v3.contains("metrics: {log_loss: 0.41, roc_auc: 0.88}"),
        "{v3}"
    );
}

/// A param that is an empty folder (MLflow writes a file per param; a folder only for keys
/// with `/`), and an alias file that holds no version number, are warnings naming them.
#[test]
fn a_param_folder_and_a_bad_alias_file_are_named() {
    let copy = filestore_copy();
    let run3 = copy.path().join(CHURN_V3_RUN);
    std::fs::remove_file(run3.join("params/max_depth")).unwrap();
    std::fs::create_dir(run3.join("params/max_depth")).unwrap();
    let mlruns = copy.path().join("mlruns");
    std::fs::write(mlruns.join("models/credit_xgb/aliases/staging"), "two\n").unwrap();
    let (reg, _) = warned(
        &mlruns,
        &[
            &[&format!(
                "{CHURN_V3_RUN}/params/max_depth: an empty folder, expected a file holding the value of param `max_depth`; it is skipped"
            )],
            &[
                "mlruns/models/credit_xgb/aliases/staging: holds `two`, expected a version number; alias `staging` is skipped",
            ],
        ],
    );
    let v3 = std::fs::read_to_string(
        reg.path()
            .join("registry/models/churn_model/versions/v3.yaml"),
    )
    .unwrap();
    assert!(
        v3.contains("hyperparameters: {learning_rate: 0.03, n_estimators: 300}"),
        "{v3}"
    );
    assert_eq!(
        std::fs::read_to_string(reg.path().join("registry/models/credit_xgb/aliases.yaml"))
            .unwrap(),
        "# yaml-language-server: $schema=../../../schemas/aliases.schema.json\nchampion: 1\n"
    );
}

/// A version without its creation time — no `creation_timestamp` in the file store, a NULL
/// `creation_time` in SQLite — is skipped with a warning naming the file (or table and row),
/// in both backends, and so is the alias that points at it.
#[test]
fn a_version_without_its_creation_time_is_named_in_both_backends() {
    let copy = filestore_copy();
    let meta = copy
        .path()
        .join("mlruns/models/heart_disease/version-2/meta.yaml");
    let text: String = std::fs::read_to_string(&meta)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("creation_timestamp:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&meta, text).unwrap();
    let alias =
        ["heart_disease alias `prod` points at v2, which is not imported (see its warning)"];
    warned(
        &copy.path().join("mlruns"),
        &[
            &[
                "heart_disease v2: ",
                "mlruns/models/heart_disease/version-2/meta.yaml: no `creation_timestamp`, expected a model version's meta.yaml",
                "; skipped",
            ],
            &alias,
        ],
    );
    let (_copy, db) = sqlite_copy(
        "UPDATE model_versions SET creation_time = NULL WHERE name = 'heart_disease' AND version = 2;",
    );
    warned(
        &db,
        &[
            &[
                "heart_disease v2: ",
                "mlflow.db: table `model_versions`, row `heart_disease` v2: `creation_time` is NULL, expected the time MLflow registered it",
                "; skipped",
            ],
            &alias,
        ],
    );
}

/// An MLflow alias that points at a version MLflow does not have is a warning naming it, in
/// both backends; the model's other aliases are imported.
#[test]
fn an_alias_at_a_missing_version_is_named_in_both_backends() {
    let copy = filestore_copy();
    let mlruns = copy.path().join("mlruns");
    std::fs::write(mlruns.join("models/churn_model/aliases/challenger"), "9").unwrap();
    let (_copy, db) = sqlite_copy(
        "UPDATE registered_model_aliases SET version = 9 WHERE name = 'churn_model' AND alias = 'challenger';",
    );
    for store in [mlruns.as_path(), db.as_path()] {
        let (reg, _) = warned(
            store,
            &[&[
                "churn_model alias `challenger` points at v9, which MLflow does not have (a deleted or missing version); the alias is skipped",
            ]],
        );
        assert_eq!(
            std::fs::read_to_string(reg.path().join("registry/models/churn_model/aliases.yaml"))
                .unwrap(),
            "# yaml-language-server: $schema=../../../schemas/aliases.schema.json\nchampion: 2\n"
        );
    }
}

/// A run's dataset input whose dataset is gone is a warning naming it, in both backends; the
/// version is imported without the dataset.
#[test]
fn an_input_whose_dataset_is_gone_is_named_in_both_backends() {
    let copy = filestore_copy();
    std::fs::remove_dir_all(
        copy.path()
            .join(HEART_EXP)
            .join("datasets/cad945eb4f257a1f6c1b37c75b3d8c32"),
    )
    .unwrap();
    let (_copy, db) = sqlite_copy(&format!(
        "DELETE FROM datasets WHERE dataset_uuid IN \
         (SELECT source_id FROM inputs WHERE destination_id = '{HEART_V1_RUN_ID}');"
    ));
    let file_store = format!(
        "{HEART_EXP}/{HEART_V1_RUN_ID}/inputs/df7f94b304e35b7d60dc4178a9072cc4/meta.yaml: dataset `cad945eb4f257a1f6c1b37c75b3d8c32` is not in the experiment's datasets/"
    );
    let sqlite = format!(
        "mlflow.db: table `inputs`, row dataset `55ce34220e494b7fae5fca9c867853e6` of run `{HEART_V1_RUN_ID}`: the dataset is not in `datasets`, expected the dataset the run used; it is skipped"
    );
    for (store, expected) in [
        (copy.path().join("mlruns"), &file_store),
        (db.clone(), &sqlite),
    ] {
        let (reg, _) = warned(&store, &[&[expected.as_str()]]);
        let v1 = std::fs::read_to_string(
            reg.path()
                .join("registry/models/heart_disease/versions/v1.yaml"),
        )
        .unwrap();
        assert!(!v1.contains("dataset:"), "{v1}");
    }
}

/// SQLite does not enforce MLflow's foreign keys: rows whose owner is gone (a version's tag, a
/// run's param, a metric, a version of a model that is not registered) are warnings naming the
/// table and row; so is a registered model of another MLflow workspace (names are unique within
/// a workspace only), whose version is never mixed with the `default` one's; the rest is
/// imported.
#[test]
fn sqlite_rows_that_point_at_nothing_are_named() {
    let (_copy, db) = sqlite_copy(
        "INSERT INTO model_version_tags (key, value, name, version) VALUES ('team', 'risk', 'churn_model', 7);
         INSERT INTO params (key, value, run_uuid) VALUES ('lr', '0.1', 'ffffffffffffffffffffffffffffffff');
         INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('auc', 0.5, 0, 0, 0, 'ffffffffffffffffffffffffffffffff');
         INSERT INTO model_versions (name, version, creation_time, source) VALUES ('ghost', 1, 0, '/x');
         INSERT INTO registered_models (name, workspace) VALUES ('churn_model', 'team-b');
         INSERT INTO model_versions (name, version, creation_time, source, workspace) VALUES ('churn_model', 1, 0, '/x', 'team-b');",
    );
    let (reg, out) = warned(
        &db,
        &[
            &[
                "table `model_version_tags`, row `team` of `churn_model` v7: the version is not in `model_versions`; it is skipped",
            ],
            &[
                "table `params`, row `lr` of run `ffffffffffffffffffffffffffffffff`: the run is not in the store; it is skipped",
            ],
            &[
                "table `latest_metrics`, row `auc` of run `ffffffffffffffffffffffffffffffff`: the run is not in `runs`; it is skipped",
            ],
            &[
                "table `model_versions`, row `ghost` v1: the model is not in `registered_models`; it is skipped",
            ],
            &[
                "table `registered_models`, row `churn_model` (workspace `team-b`): import reads MLflow's `default` workspace only; it is skipped",
            ],
        ],
    );
    assert!(out.contains("imported 4 models, 9 versions"), "{out}");
    let v1 = std::fs::read_to_string(
        reg.path()
            .join("registry/models/churn_model/versions/v1.yaml"),
    )
    .unwrap();
    assert!(
        v1.contains("run_id: bd04e2c4f860483bb119d986796993df"),
        "{v1}"
    );
}

/// A version deleted in MLflow (its stage `Deleted_Internal`, as MLflow marks it) is skipped
/// with a warning naming it, in both backends; `--strict` refuses.
#[test]
fn a_deleted_version_is_named_in_both_backends() {
    let copy = filestore_copy();
    let meta = copy
        .path()
        .join("mlruns/models/churn_model/version-1/meta.yaml");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("current_stage: None", "current_stage: Deleted_Internal");
    std::fs::write(&meta, text).unwrap();
    let (_copy, db) = sqlite_copy(
        "UPDATE model_versions SET current_stage = 'Deleted_Internal' WHERE name = 'churn_model' AND version = 1;",
    );
    for store in [copy.path().join("mlruns"), db] {
        let (reg, out) = warned(&store, &[&["churn_model v1: deleted in MLflow; skipped"]]);
        assert!(out.contains("imported 4 models, 8 versions"), "{out}");
        assert!(
            !reg.path()
                .join("registry/models/churn_model/versions/v1.yaml")
                .exists()
        );
    }
}

/// A run whose `meta.yaml` (file store) or row (SQLite) does not say where its artifacts are is
/// a warning naming it, and the version registered from it says its run is not in the store.
#[test]
fn a_run_without_its_artifact_uri_is_named_in_both_backends() {
    let copy = filestore_copy();
    let meta = copy.path().join(HEART_V2_RUN).join("meta.yaml");
    let text: String = std::fs::read_to_string(&meta)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("artifact_uri:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&meta, text).unwrap();
    let (_copy, db) = sqlite_copy(
        "UPDATE runs SET artifact_uri = NULL WHERE run_uuid = 'cdf8128edae44c8a98999daeb0e575f3';",
    );
    let version = "heart_disease v2: its run cdf8128edae44c8a98999daeb0e575f3 is not in the store";
    warned(
        &copy.path().join("mlruns"),
        &[
            &[&format!(
                "{HEART_V2_RUN}/meta.yaml: no `artifact_uri`, expected where the run's artifacts are; run cdf8128edae44c8a98999daeb0e575f3 is skipped"
            )],
            &[version],
        ],
    );
    warned(
        &db,
        &[
            &[
                "mlflow.db: table `runs`, row `cdf8128edae44c8a98999daeb0e575f3`: `artifact_uri` is NULL, expected where the run's artifacts are; it is skipped",
            ],
            &[version],
        ],
    );
}

/// The README's MLflow commands, as a new user types them: `./mlruns` in the repository, and
/// a SQLite store by its file name or MLflow's relative URI (`sqlite:///mlflow.db`) from its
/// own folder — both import every version and validate.
#[test]
fn the_readme_commands_work_on_both_backends() {
    let reg = empty_registry();
    copy_tree(
        &repo_root().join("tests/data/mlflow/filestore/mlruns"),
        &reg.path().join("mlruns"),
    );
    let (code, out, err) = run(
        &[
            "import",
            "mlflow",
            "./mlruns",
            "--copy-artifacts",
            "artifacts",
            "--alias-map",
            "prod=champion,staging=challenger",
            "--actor",
            "ops@example.com",
        ],
        reg.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported 4 models, 9 versions"), "{out}");
    let (code, o, e) = run(&["validate"], reg.path());
    assert_eq!(code, 0, "{o}{e}");
    for store in ["mlflow.db", "sqlite:///mlflow.db"] {
        let (copy, _) = sqlite_copy("");
        let reg = empty_registry();
        let (code, out, err) = run(
            &[
                "import",
                "mlflow",
                store,
                "--root",
                reg.path().to_str().unwrap(),
                "--copy-artifacts",
                "artifacts",
                "--alias-map",
                "prod=champion,staging=challenger",
                "--actor",
                "ops@example.com",
            ],
            copy.path(),
        );
        assert_eq!(code, 0, "{store}: {out}{err}");
        assert!(
            out.contains("imported 4 models, 9 versions"),
            "{store}: {out}"
        );
        let (code, o, e) = run(&["validate"], reg.path());
        assert_eq!(code, 0, "{o}{e}");
    }
}

/// Incremental re-import, in both backends: a version whose source or whose run's metric
/// changed in MLflow after import is reported by name, what changed, and never overwritten; an
/// alias MLflow moved is moved with its one audit entry; and no other byte of the registry
/// changes. Importing again changes nothing more.
#[test]
fn reimport_reports_changed_versions_and_moves_only_the_alias() {
    // The file store, changed: heart_disease v2 now points at credit_xgb v2's model folder,
    // churn_model v3's run logged a later roc_auc, and `challenger` moved from v3 to v1.
    let files = filestore_copy();
    let mlruns = files.path().join("mlruns");
    let field = |meta: &Path, key: &str| -> String {
        std::fs::read_to_string(meta)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")).map(str::to_string))
            .unwrap()
    };
    let xgb2 = mlruns.join("models/credit_xgb/version-2/meta.yaml");
    let source = field(&xgb2, "source");
    let heart2 = mlruns.join("models/heart_disease/version-2/meta.yaml");
    let text: String = std::fs::read_to_string(&heart2)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("source: ") || l.starts_with("storage_location: ") {
                format!("{}: {source}\n", l.split(':').next().unwrap())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let roc = files.path().join(CHURN_V3_RUN).join("metrics/roc_auc");
    let metric = std::fs::read_to_string(&roc).unwrap() + "1737199999000 0.99 9\n";
    let change_files = move || {
        std::fs::write(&heart2, &text).unwrap();
        std::fs::write(&roc, &metric).unwrap();
        std::fs::write(mlruns.join("models/churn_model/aliases/challenger"), "1").unwrap();
    };
    // The same changes in SQLite.
    let (sqlite, db) = sqlite_copy("");
    let change_db = {
        let db = db.clone();
        move || {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute_batch(
                "UPDATE model_versions SET
                   source = (SELECT source FROM model_versions WHERE name = 'credit_xgb' AND version = 2),
                   storage_location = (SELECT storage_location FROM model_versions WHERE name = 'credit_xgb' AND version = 2)
                 WHERE name = 'heart_disease' AND version = 2;
                 UPDATE latest_metrics SET value = 0.99, step = 9
                 WHERE run_uuid = '632524ccf327477da496acfedbc8dbe5' AND key = 'roc_auc';
                 UPDATE registered_model_aliases SET version = 1
                 WHERE name = 'churn_model' AND alias = 'challenger';",
            )
            .unwrap();
        }
    };
    /// A store, and how to change it in MLflow after the first import.
    type Changed<'a> = (&'a Path, Box<dyn FnOnce()>);
    let stores: [Changed; 2] = [
        (&files.path().join("mlruns"), Box::new(change_files)),
        (&db, Box::new(change_db)),
    ];
    for (store, change) in stores {
        let reg = empty_registry();
        let (code, out, err) = import(reg.path(), store, &[]);
        assert_eq!(code, 0, "{out}{err}");
        let before = snapshot(reg.path());
        change();
        let (code, out, err) = import(reg.path(), store, &[]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.lines().any(|l| l.starts_with(
                "warning: heart_disease v2 changed in MLflow since it was imported (artifact sha256 "
            ) && l.ends_with(
                ", format sklearn → xgboost); registry/models/heart_disease/versions/v2.yaml was not overwritten (register the change as a new version)"
            )),
            "{out}"
        );
        assert!(
            out.contains("warning: churn_model v3 changed in MLflow since it was imported (metrics); registry/models/churn_model/versions/v3.yaml was not overwritten"),
            "{out}"
        );
        assert!(
            out.contains("churn_model challenger: v3 → v1 (moved in MLflow)")
                && out.contains("imported 1 model, 0 versions")
                && out.contains("1 alias move"),
            "{out}"
        );
        let after = snapshot(reg.path());
        let changed: Vec<&String> = after
            .keys()
            .chain(before.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            changed,
            [
                "registry/audit.jsonl",
                "registry/models/churn_model/aliases.yaml"
            ],
            "{}",
            store.display()
        );
        assert_eq!(
            String::from_utf8(after["registry/models/churn_model/aliases.yaml"].clone()).unwrap(),
            "# yaml-language-server: $schema=../../../schemas/aliases.schema.json\nchampion: 2\nchallenger: 1\n"
        );
        let old = String::from_utf8(before["registry/audit.jsonl"].clone()).unwrap();
        let new = String::from_utf8(after["registry/audit.jsonl"].clone()).unwrap();
        let added = new
            .strip_prefix(old.as_str())
            .expect("the audit log only grows");
        let added: Vec<&str> = added.lines().collect();
        assert_eq!(added.len(), 1, "{added:?}");
        for want in [
            "\"action\":\"promote\"",
            "\"model\":\"churn_model\"",
            "\"version\":1",
            "\"alias\":\"challenger\"",
            "\"from\":3",
            "\"to\":1",
            "\"mlflow_alias\":\"challenger\"",
        ] {
            assert!(added[0].contains(want), "{want} in {}", added[0]);
        }
        let (code, o, e) = run(&["validate"], reg.path());
        assert_eq!(code, 0, "{o}{e}");
        // Again: the changed versions are reported again, and nothing is written.
        let (code, out, err) = import(reg.path(), store, &[]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("imported 0 models, 0 versions"), "{out}");
        assert!(out.contains("heart_disease v2 changed in MLflow"), "{out}");
        assert_eq!(snapshot(reg.path()), after);
    }
    drop(sqlite);
}

/// What a version's MLflow record holds that a modelgate version cannot record — a metric
/// whose latest value is NaN (both backends), a `requirements.txt` that is not text — is a
/// warning naming it; the version is imported without it, and `--strict` refuses.
#[test]
fn what_a_version_cannot_record_is_named_in_both_backends() {
    let copy = filestore_copy();
    let roc = copy.path().join(CHURN_V3_RUN).join("metrics/roc_auc");
    let text = std::fs::read_to_string(&roc).unwrap() + "1737199999000 nan 9\n";
    std::fs::write(&roc, text).unwrap();
    let requirements = copy
        .path()
        .join(HEART_V2_RUN)
        .join("artifacts/model/requirements.txt");
    std::fs::write(&requirements, b"scikit-learn==1.7.2\n\xff\xfe\n").unwrap();
    let nan = "churn_model v3: the latest value of metric `roc_auc` is NaN, expected a number modelgate can record; the version is imported without it";
    let (reg, _) = warned(
        &copy.path().join("mlruns"),
        &[
            &[nan],
            &[
                "heart_disease v2: ",
                &format!("{HEART_V2_RUN}/artifacts/model/requirements.txt: cannot be read"),
                "expected pip requirements (the package pins); the version is imported without them",
            ],
        ],
    );
    let v3 = std::fs::read_to_string(
        reg.path()
            .join("registry/models/churn_model/versions/v3.yaml"),
    )
    .unwrap();
    assert!(
        v3.contains("metrics: {accuracy: 0.83, log_loss: 0.41}"),
        "{v3}"
    );
    let (_copy, db) = sqlite_copy(
        "UPDATE latest_metrics SET is_nan = 1 WHERE run_uuid = '632524ccf327477da496acfedbc8dbe5' AND key = 'roc_auc';",
    );
    warned(&db, &[&[nan]]);
}
