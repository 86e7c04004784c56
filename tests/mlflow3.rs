//! `import mlflow` on MLflow 3 stores (tests/data/mlflow, scripts/make_mlflow_fixture.py):
//! incremental re-import, broken and remote sources, `mlflow-artifacts:` through
//! `--artifacts-root`, and what the other commands do with a model that is not ONNX.

use crate::lifecycle::{empty_registry, snapshot};
use crate::util::{copy_tree, repo_root, run};
use std::path::Path;

/// The file store's heart_disease experiment and its runs (ids are fixed by the generator).
const HEART_EXP: &str = "mlruns/665102750116335424";
const HEART_V1_MODEL: &str = "mlruns/665102750116335424/models/m-1c9c06e7196c4699b0070d60ec68b2b4";
const HEART_V2_RUN: &str = "mlruns/665102750116335424/cdf8128edae44c8a98999daeb0e575f3";

/// A copy of the file store, to change.
fn filestore_copy() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(
        &repo_root().join("tests/data/mlflow/filestore"),
        copy.path(),
    );
    copy
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
