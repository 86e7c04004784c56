//! `cargo bench --bench import`: `modelgate import mlflow` of a synthetic MLflow file store of
//! 100 registered models × 10 versions (each with its run: params, metric histories, tags), into
//! an empty registry, as the binary, twice: with ONNX run artifacts, and the MLflow 3 way — every
//! version a logged model (`models:/m-<id>`) holding a scikit-learn model folder (the MLmodel,
//! requirements and environment files of the committed fixture, hashed as a folder). The stores
//! are written under a temporary folder at bench time, never committed. Under `cargo test` the
//! same code runs on 3 × 2 as a smoke test.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The files of a scikit-learn logged model, from the committed fixture (heart_disease v1).
fn sklearn_model() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/data/mlflow/filestore/mlruns/665102750116335424/models/m-1c9c06e7196c4699b0070d60ec68b2b4/artifacts",
    );
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(files.iter().any(|(n, _)| n == "MLmodel"), "{files:?}");
    files
}

/// What each version's model is.
enum Artifact<'a> {
    /// An ONNX file in the run's artifacts/model/.
    Onnx(&'a [u8]),
    /// A logged model (`models:/m-<id>`) with these files.
    Logged(&'a [(String, Vec<u8>)]),
}

/// Writes an MLflow file store in the layout MLflow 3 writes (see tests/data/mlflow).
fn store(dir: &Path, models: u32, versions: u32, artifact: &Artifact) {
    let mlruns = dir.join("mlruns");
    let exp = mlruns.join("1");
    std::fs::create_dir_all(&exp).unwrap();
    std::fs::write(
        exp.join("meta.yaml"),
        format!(
            "artifact_location: file://{}\ncreation_time: 1736935200000\nexperiment_id: '1'\nlast_update_time: 1736935200000\nlifecycle_stage: active\nname: synthetic\n",
            exp.display()
        ),
    )
    .unwrap();
    let mut n = 0u64;
    for m in 0..models {
        let name = format!("Model-{m:03}");
        let mdir = mlruns.join("models").join(&name);
        std::fs::create_dir_all(mdir.join("aliases")).unwrap();
        std::fs::write(
            mdir.join("meta.yaml"),
            format!("creation_timestamp: 1736935200000\ndescription: Synthetic model {m}.\nlast_updated_timestamp: 1736935200000\nname: {name}\n"),
        )
        .unwrap();
        std::fs::write(
            mdir.join("aliases/champion"),
            format!("{}", (versions - 1).max(1)),
        )
        .unwrap();
        std::fs::write(mdir.join("aliases/challenger"), format!("{versions}")).unwrap();
        for v in 1..=versions {
            n += 1;
            let run_id = format!("{n:032x}");
            let run = exp.join(&run_id);
            for d in ["params", "metrics", "tags", "artifacts/model"] {
                std::fs::create_dir_all(run.join(d)).unwrap();
            }
            std::fs::write(
                run.join("meta.yaml"),
                format!(
                    "artifact_uri: file://{}/artifacts\nend_time: 1736935500000\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: {run_id}\nrun_name: run-{n}\nstart_time: 1736935200000\nstatus: 3\nuser_id: bench\n",
                    run.display()
                ),
            )
            .unwrap();
            for (k, val) in [
                ("n_estimators", format!("{}", 50 + v)),
                ("max_depth", "4".into()),
                ("learning_rate", "0.1".into()),
            ] {
                std::fs::write(run.join("params").join(k), val).unwrap();
            }
            for k in ["roc_auc", "precision", "recall"] {
                let mut t = String::new();
                for step in 0..3 {
                    t.push_str(&format!(
                        "{} {} {step}\n",
                        1736935200000u64 + step * 60_000,
                        0.7 + 0.01 * (step as f64) + 0.001 * f64::from(v)
                    ));
                }
                std::fs::write(run.join("metrics").join(k), t).unwrap();
            }
            std::fs::write(run.join("tags/mlflow.user"), "bench").unwrap();
            std::fs::write(run.join("tags/team"), "synthetic").unwrap();
            let source = match artifact {
                Artifact::Onnx(onnx) => {
                    std::fs::write(run.join("artifacts/model/model.onnx"), onnx).unwrap();
                    format!("file://{}/artifacts/model", run.display())
                }
                Artifact::Logged(files) => {
                    let id = format!("m-{n:032x}");
                    let lm = exp.join("models").join(&id);
                    std::fs::create_dir_all(lm.join("artifacts")).unwrap();
                    std::fs::write(
                        lm.join("meta.yaml"),
                        format!(
                            "artifact_location: file://{}/artifacts\ncreation_timestamp: 1736935200000\nexperiment_id: '1'\nmodel_id: {id}\nname: model\nsource_run_id: {run_id}\nstatus: 2\n",
                            lm.display()
                        ),
                    )
                    .unwrap();
                    for (f, bytes) in *files {
                        std::fs::write(lm.join("artifacts").join(f), bytes).unwrap();
                    }
                    format!("models:/{id}")
                }
            };
            let vdir = mdir.join(format!("version-{v}"));
            std::fs::create_dir_all(&vdir).unwrap();
            std::fs::write(
                vdir.join("meta.yaml"),
                format!(
                    "creation_timestamp: {}\ncurrent_stage: None\ndescription: ''\nlast_updated_timestamp: 1736935200000\nname: {name}\nrun_id: {run_id}\nsource: {source}\nstatus: READY\nversion: {v}\n",
                    1736935200000u64 + u64::from(v) * 3_600_000,
                ),
            )
            .unwrap();
        }
    }
}

/// Imports the store under `dir` into `runs` new registries; the times, sorted.
fn measure(dir: &Path, models: u32, versions: u32, runs: usize) -> Vec<std::time::Duration> {
    let bin = env!("CARGO_BIN_EXE_modelgate");
    let mut times = Vec::new();
    for i in 0..runs {
        let reg = dir.join(format!("registry-{i}"));
        let s = Command::new(bin)
            .args(["init", reg.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(s.status.success());
        let t = Instant::now();
        let s = Command::new(bin)
            .current_dir(&reg)
            .args([
                "import",
                "mlflow",
                dir.join("mlruns").to_str().unwrap(),
                "--copy-artifacts",
                "artifacts",
                "--actor",
                "bench@example.com",
            ])
            .output()
            .unwrap();
        times.push(t.elapsed());
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
        let out = String::from_utf8_lossy(&s.stdout);
        assert!(
            out.contains(&format!(
                "imported {models} models, {} versions",
                models * versions
            )),
            "{out}"
        );
        let s = Command::new(bin)
            .current_dir(&reg)
            .args(["validate"])
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stdout));
    }
    times.sort();
    times
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (models, versions, runs) = if full { (100, 10, 3) } else { (3, 2, 1) };
    let root_dir = env!("CARGO_MANIFEST_DIR");
    let onnx = std::fs::read(Path::new(root_dir).join(
        "tests/data/mlflow/filestore/mlruns/719715685956562960/bd04e2c4f860483bb119d986796993df/artifacts/model/model.onnx",
    ))
    .unwrap();
    let sklearn = sklearn_model();
    println!(
        "\nmodelgate import mlflow: file store of {models} models × {versions} versions, into an empty registry, {runs} runs"
    );
    println!("| {:<41} | median     | min        |", "measurement");
    println!("|{}|------------|------------|", "-".repeat(43));
    for (what, artifact) in [
        ("ONNX run artifacts", Artifact::Onnx(&onnx)),
        ("scikit-learn logged models", Artifact::Logged(&sklearn)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), models, versions, &artifact);
        let times = measure(dir.path(), models, versions, runs);
        println!(
            "| import mlflow, {what:<26} | {:>7.1} ms | {:>7.1} ms |",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3
        );
    }
}
