//! `modelgate serve` over real HTTP on 127.0.0.1: a real git repository of the example registry,
//! the real binary, ONNX Runtime; every endpoint, every bad request, online = batch bit for bit,
//! a hot swap under concurrent load with zero failures, and a revision that fails validation.

use crate::check::{HD, approve_all, approve_version, edit, example_repo, promote_v4};
use crate::util::{modelgate, run};
use modelgate::synth::commit_all;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running `modelgate serve`; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Server {
        let mut child = modelgate()
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--sessions", "2"])
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = match serde_json::from_str::<Value>(&line) {
            // --format json: one document
            Ok(v) => v["listening"]
                .as_str()
                .and_then(|u| u.strip_prefix("http://"))
                .map(str::to_string),
            Err(_) => line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("http://"))
                .map(str::to_string),
        };
        let Some(addr) = addr else {
            let mut err = String::new();
            use std::io::Read;
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("the server did not start: {line}{err}");
        };
        Server {
            url: format!("http://{addr}"),
            child,
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let r = client().get(format!("{}{path}", self.url)).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    fn predict(&self, model: &str, body: &Value) -> (u16, Value) {
        self.predict_raw(model, body.to_string().into_bytes(), None)
    }

    fn predict_raw(&self, model: &str, body: Vec<u8>, token: Option<&str>) -> (u16, Value) {
        let mut r = client()
            .post(format!("{}/v1/models/{model}/predict", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {status} {text}")),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()
        .unwrap()
}

/// A heart_disease row as JSON.
fn row() -> Value {
    json!({
        "age": 63, "resting_bp": 145, "cholesterol": 233, "max_heart_rate": 150,
        "st_depression": 2.3, "bmi": 27.1, "glucose": 101, "num_vessels": 0,
        "exercise_minutes": 30, "sex": "M", "chest_pain": "typical", "smoker": "no"
    })
}

fn with(mut r: Value, key: &str, v: Value) -> Value {
    r[key] = v;
    r
}

fn error(v: &Value) -> (&str, Option<&str>) {
    (
        v["error"]["code"].as_str().unwrap_or_else(|| panic!("{v}")),
        v["error"]["column"].as_str(),
    )
}

#[test]
fn every_endpoint_and_every_bad_request() {
    let (dir, _) = example_repo();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let s = Server::start(
        dir.path(),
        &[
            "--token-file",
            token.to_str().unwrap(),
            "--max-body-bytes",
            "4096",
            "--max-rows",
            "10",
        ],
    );
    let tok = Some("s3cret");
    let body = |v: &Value| v.to_string().into_bytes();

    // Probes, metrics and the description need no token.
    assert_eq!(s.get("/healthz").0, 200);
    let (code, ready) = s.get("/readyz");
    assert_eq!(code, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(
        ready["models"],
        json!(["diabetes", "heart_disease", "readmission"])
    );
    let (code, doc) = s.get("/openapi.json");
    assert_eq!(code, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/models/{model}/predict"]["post"].is_object());

    // The served models and their aliases.
    let r = client()
        .get(format!("{}/v1/models", s.url))
        .bearer_auth("s3cret")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let models: Value = r.json().unwrap();
    let hd = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "heart_disease")
        .unwrap();
    assert_eq!(hd["aliases"], json!({"champion": 3, "challenger": 4}));

    // One row, the champion by default.
    let (code, v) = s.predict_raw("heart_disease", body(&json!({"row": row()})), tok);
    assert_eq!(code, 200, "{v}");
    let p = &v["predictions"][0];
    assert_eq!(
        (&p["model"], &p["version"], &p["alias"]),
        (&json!("heart_disease"), &json!(3), &json!("champion"))
    );
    let score = p["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{v}");
    assert_eq!(p["prediction"], json!(i32::from(score >= 0.5)));
    assert_eq!(p["prediction_id"].as_str().unwrap().len(), 32);
    // A batch, the challenger and a version by number; the same row scores the same.
    let (code, v) = s.predict_raw(
        "heart_disease@challenger",
        body(&json!({"rows": [row(), with(row(), "age", json!(40))]})),
        tok,
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["predictions"].as_array().unwrap().len(), 2);
    assert_eq!(v["predictions"][0]["version"], 4);
    let (code, v4) = s.predict_raw("heart_disease@v4", body(&json!({"row": row()})), tok);
    assert_eq!(code, 200, "{v4}");
    assert_eq!(v4["predictions"][0]["alias"], "challenger");
    assert_eq!(v4["predictions"][0]["score"], v["predictions"][0]["score"]);

    // Every bad request: a JSON error with the code and the column, never a 500.
    // (model, body, status, code, column)
    type Case<'a> = (&'a str, Vec<u8>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "nope",
            body(&json!({"row": row()})),
            404,
            "unknown_model",
            None,
        ),
        (
            "heart_disease@v1",
            body(&json!({"row": row()})),
            404,
            "unknown_model",
            None,
        ),
        (
            "heart_disease@staging",
            body(&json!({"row": row()})),
            404,
            "unknown_model",
            None,
        ),
        (
            "heart_disease",
            body(&json!({"row": {"age": 63}})),
            422,
            "missing_feature",
            Some("resting_bp"),
        ),
        (
            "heart_disease",
            body(&json!({"row": with(row(), "sex", json!("X"))})),
            422,
            "unseen_category",
            Some("sex"),
        ),
        (
            "heart_disease",
            body(&json!({"row": with(row(), "age", json!("sixty"))})),
            422,
            "wrong_type",
            Some("age"),
        ),
        (
            "heart_disease",
            body(&json!({"row": with(row(), "chest_pain", json!(null))})),
            422,
            "null_category",
            Some("chest_pain"),
        ),
        (
            "heart_disease",
            b"{not json".to_vec(),
            400,
            "invalid_json",
            None,
        ),
        (
            "heart_disease",
            body(&json!({"rows": []})),
            400,
            "no_rows",
            None,
        ),
        (
            "heart_disease",
            body(&json!({"row": row(), "rows": [row()]})),
            400,
            "invalid_json",
            None,
        ),
        (
            "heart_disease",
            body(&json!({"rowz": [row()]})),
            400,
            "invalid_json",
            None,
        ),
        (
            "heart_disease",
            body(&json!({"rows": vec![row(); 11]})),
            413,
            "too_many_rows",
            None,
        ),
        (
            "heart_disease",
            vec![b' '; 5000],
            413,
            "body_too_large",
            None,
        ),
    ];
    for (model, b, status, code, column) in cases {
        let (st, v) = s.predict_raw(model, b, tok);
        assert_eq!((st, error(&v)), (status, (code, column)), "{model}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    // A body over the limit without a length (chunked) is refused too. The server answers 413
    // and closes before reading the rest, so the client may fail to finish sending and never
    // see the answer (a race of the socket, not of the server): the first answer seen must be 413,
    // and one must be seen within a few tries.
    let mut refused = None;
    for _ in 0..10 {
        let r = client()
            .post(format!("{}/v1/models/heart_disease/predict", s.url))
            .bearer_auth("s3cret")
            .body(reqwest::blocking::Body::new(std::io::Cursor::new(
                vec![b' '; 10_000],
            )))
            .send();
        if let Ok(r) = r {
            refused = Some(r.status().as_u16());
            break;
        }
    }
    assert_eq!(refused, Some(413));
    // No token, a wrong one.
    for t in [None, Some("wrong")] {
        let (st, v) = s.predict_raw("heart_disease", body(&json!({"row": row()})), t);
        assert_eq!((st, error(&v).0), (401, "unauthorized"), "{v}");
    }
    let r = client().get(format!("{}/v1/models", s.url)).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // Metrics: requests and latency by model, version and alias; errors by code.
    let (code, m) = s.get("/metrics");
    assert_eq!(code, 200);
    for needle in [
        r#"modelgate_serve_requests_total{alias="champion",model="heart_disease",version="3"} 1"#,
        r#"modelgate_serve_requests_total{alias="challenger",model="heart_disease",version="4"} 2"#,
        r#"modelgate_serve_rows_total{alias="challenger",model="heart_disease",version="4"} 3"#,
        r#"modelgate_serve_request_duration_seconds_bucket{alias="champion",model="heart_disease",version="3""#,
        r#"modelgate_serve_errors_total{code="unseen_category",model="heart_disease"} 1"#,
        r#"modelgate_serve_errors_total{code="unknown_model",model="_unknown"} 1"#,
        "modelgate_serve_models_loaded 3",
    ] {
        assert!(m.contains(needle), "{needle} not in\n{m}");
    }
}

/// The same rows score bit for bit the same through `batch` and through HTTP, with the same
/// prediction ids (the shared scoring core).
#[test]
fn online_scores_equal_batch_bit_for_bit() {
    use polars::prelude::*;
    let (dir, _) = example_repo();
    let input = dir
        .path()
        .join("examples/heart_disease/inference/2024-06-03.parquet");
    let out = dir.path().join("scored.parquet");
    let (code, o, e) = run(
        &[
            "batch",
            "heart_disease",
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{o}{e}");
    let read = |p: &Path| {
        LazyFrame::scan_parquet(PlRefPath::from(p.to_str().unwrap()), Default::default())
            .unwrap()
            .limit(100)
            .collect()
            .unwrap()
    };
    let df = read(&input);
    let scored = read(&out);
    let features = [
        "age",
        "resting_bp",
        "cholesterol",
        "max_heart_rate",
        "st_depression",
        "bmi",
        "glucose",
        "num_vessels",
        "exercise_minutes",
        "sex",
        "chest_pain",
        "smoker",
    ];
    let mut rows = vec![serde_json::Map::new(); df.height()];
    for f in features {
        let s = df.column(f).unwrap().as_materialized_series().clone();
        for (i, r) in rows.iter_mut().enumerate() {
            let v = match s.get(i).unwrap() {
                AnyValue::Null => Value::Null,
                AnyValue::Float64(x) => json!(x),
                AnyValue::String(x) => json!(x),
                other => panic!("{f}: {other:?}"),
            };
            r.insert(f.to_string(), v);
        }
    }
    let s = Server::start(
        dir.path(),
        &["--models", "heart_disease", "--max-rows", "1000"],
    );
    let (code, v) = s.predict("heart_disease", &json!({ "rows": rows }));
    assert_eq!(code, 200, "{v}");
    let scores = scored.column("score").unwrap().f64().unwrap().clone();
    let ids = scored
        .column("prediction_id")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    for (i, p) in v["predictions"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            p["score"].as_f64().unwrap().to_bits(),
            scores.get(i).unwrap().to_bits(),
            "row {i}"
        );
        assert_eq!(p["prediction_id"].as_str(), ids.get(i), "row {i}");
    }
    assert_eq!(v["predictions"].as_array().unwrap().len(), 100);
}

/// Promotions reach a running server: several clients keep scoring while v4 is promoted to
/// champion; not one request fails, and both versions answer. A revision that fails
/// validation is then not served: the old one stays, and /readyz says why.
#[test]
fn hot_swap_under_load_has_zero_failures_and_a_bad_revision_is_not_served() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let (dir, _) = example_repo();
    let s = Server::start(
        dir.path(),
        &[
            "--models",
            "heart_disease",
            "--watch",
            "HEAD",
            "--poll-interval",
            "0.2",
        ],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(std::collections::BTreeMap::<u64, u64>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, seen, failures, url) =
                (stop.clone(), seen.clone(), failures.clone(), s.url.clone());
            std::thread::spawn(move || {
                let c = client();
                while !stop.load(Ordering::Relaxed) {
                    let r = c
                        .post(format!("{url}/v1/models/heart_disease/predict"))
                        .json(&json!({"row": row()}))
                        .send();
                    match r {
                        Ok(r) if r.status().is_success() => {
                            let v: Value = r.json().unwrap();
                            let version = v["predictions"][0]["version"].as_u64().unwrap();
                            *seen.lock().unwrap().entry(version).or_default() += 1;
                        }
                        Ok(r) => failures.lock().unwrap().push(format!(
                            "{} {}",
                            r.status(),
                            r.text().unwrap_or_default()
                        )),
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    promote_v4(dir.path());
    approve_all(dir.path());
    let promoted = commit_all(dir.path(), "promote v4").unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.lock().unwrap().contains_key(&4) {
        assert!(Instant::now() < deadline, "v4 never served");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let seen = seen.lock().unwrap();
    assert!(seen[&3] > 0 && seen[&4] > 0, "{seen:?}");
    let (_, ready) = s.get("/readyz");
    let ready: Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["revision"], promoted);

    // An alias naming a version that does not exist: the revision does not validate.
    edit(dir.path(), &format!("{HD}/aliases.yaml"), |t| {
        t.replace("champion: 4", "champion: 99")
    });
    let bad = commit_all(dir.path(), "bad alias").unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = loop {
        let (code, ready) = s.get("/readyz");
        assert_eq!(code, 200);
        let ready: Value = serde_json::from_str(&ready).unwrap();
        if ready["refused_revision"]["commit"] == bad {
            break ready;
        }
        assert!(
            Instant::now() < deadline,
            "the bad revision was never judged: {ready}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ready["revision"], promoted, "{ready}");
    assert!(
        ready["refused_revision"]["error"]
            .as_str()
            .unwrap()
            .contains("does not validate"),
        "{ready}"
    );
    let (code, v) = s.predict("heart_disease", &json!({"row": row()}));
    assert_eq!((code, &v["predictions"][0]["version"]), (200, &json!(4)));
    let (_, m) = s.get("/metrics");
    assert!(m.contains("modelgate_serve_swap_failures_total 1"), "{m}");
    assert!(m.contains("modelgate_serve_swaps_total 1"), "{m}");
}

/// A revision that validates but was merged without `check` (or with aliases.yaml edited by
/// hand): half of heart_disease's traffic goes to a challenger v5 that nobody approved. Every
/// version an alias names can be reached, so the model is not served (listed on /readyz with
/// the approvals missing), the others are; once v5's signed approval is committed, it is.
#[test]
fn a_version_without_its_approvals_is_not_served() {
    let (dir, _) = example_repo();
    let p = dir.path();
    let v4 = std::fs::read_to_string(p.join(HD).join("versions/v4.yaml")).unwrap();
    std::fs::write(
        p.join(HD).join("versions/v5.yaml"),
        v4.replace("version: 4", "version: 5"),
    )
    .unwrap();
    edit(p, &format!("{HD}/aliases.yaml"), |t| {
        t.replace("challenger: 4", "challenger: 5")
    });
    edit(p, &format!("{HD}/model.yaml"), |t| {
        format!("{t}serving:\n  split: {{champion: 50, challenger: 50}}\n")
    });
    commit_all(p, "v5 behind half the traffic, merged without check").unwrap();
    let (code, out, _) = run(&["validate", "--no-digests"], p);
    assert_eq!(code, 0, "the revision validates: {out}");
    let s = Server::start(p, &[]);
    let (code, ready) = s.get("/readyz");
    assert_eq!(code, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(
        ready["models"],
        json!(["diabetes", "readmission"]),
        "{ready}"
    );
    let why = ready["failed"]["heart_disease"].as_str().unwrap();
    assert!(
        why.contains("v5 holds challenger without the signed approvals")
            && why.contains("MG037")
            && why.contains("data_scientist"),
        "{why}"
    );
    let (code, v) = s.predict("heart_disease@challenger", &json!({"row": row()}));
    assert_eq!((code, error(&v).0), (404, "unknown_model"), "{v}");
    drop(s);

    approve_version(
        p,
        "heart_disease",
        "5",
        "challenger",
        "data_scientist",
        "examples/keys/alice",
        "2024-06-03T10:00:00Z",
    );
    commit_all(p, "v5's approval").unwrap();
    let s = Server::start(p, &[]);
    let (code, v) = s.predict("heart_disease@challenger", &json!({"row": row()}));
    assert_eq!(
        (code, &v["predictions"][0]["version"]),
        (200, &json!(5)),
        "{v}"
    );
}

/// Hostile numbers over HTTP: a finite number beyond the 32-bit floats the model takes is a 422
/// naming the column (the cast would have made it infinite), never a 500 or a score of
/// garbage; a huge batch of them, an id field that is an object, a sticky key of every JSON
/// type are answered too, and the server stays up.
#[test]
fn hostile_numbers_are_refused_naming_the_column() {
    let (dir, _) = example_repo();
    let s = Server::start(dir.path(), &["--models", "heart_disease"]);
    for big in [json!(1e300), json!(-1e39), json!(18446744073709551615u64)] {
        let (code, v) = s.predict(
            "heart_disease",
            &json!({"row": with(row(), "age", big.clone())}),
        );
        if big.as_u64().is_some() {
            // 1.8e19 fits a 32-bit float: scored.
            assert_eq!(code, 200, "{v}");
            continue;
        }
        assert_eq!(
            (code, error(&v)),
            (422, ("out_of_range", Some("age"))),
            "{v}"
        );
        assert!(
            v["error"]["message"].as_str().unwrap().contains("32-bit"),
            "{v}"
        );
    }
    let rows: Vec<Value> = (0..1000)
        .map(|i| with(row(), "cholesterol", json!(f64::MAX / f64::from(i + 1))))
        .collect();
    let (code, v) = s.predict("heart_disease", &json!({"rows": rows}));
    assert_eq!(
        (code, error(&v)),
        (422, ("out_of_range", Some("cholesterol"))),
        "{v}"
    );
    let (code, v) = s.predict(
        "heart_disease",
        &json!({"row": with(row(), "id", json!({"a": [1, {"b": null}]})), "id_fields": ["id"]}),
    );
    assert_eq!(code, 200, "{v}");
    let (code, _) = s.get("/healthz");
    assert_eq!(code, 200);
    // A timeout beyond what a duration holds is a clear error, not a panic.
    for flag in ["--timeout", "--poll-interval"] {
        let (code, out, err) = run(&["serve", flag, "1e300"], dir.path());
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains(&format!("{flag} 1000000"))
                && err.contains("is out of range")
                && !err.contains("panicked"),
            "{err}"
        );
    }
}

/// A model whose artifact ONNX Runtime cannot load is listed on /readyz; the others are served.
#[test]
fn a_model_that_fails_to_load_does_not_take_the_others_down() {
    let (dir, _) = example_repo();
    let artifact = "examples/diabetes/v2/model.onnx";
    std::fs::write(dir.path().join(artifact), b"not an onnx model").unwrap();
    let sha = modelgate::registry::types::Sha256::of(b"not an onnx model").hex();
    edit(
        dir.path(),
        "registry/models/diabetes/versions/v2.yaml",
        |t| {
            t.replace(
                "98371e6e6d3a8e971930c487318ad503c3e311d6ac720686c7b4baf70c179367",
                &sha,
            )
        },
    );
    // Approved again as it is now: what fails is ONNX Runtime, not the approvals.
    for (role, who) in [
        ("data_scientist", "alice"),
        ("compliance", "carol"),
        ("business", "bob"),
    ] {
        let key = format!("examples/keys/{who}");
        approve_version(
            dir.path(),
            "diabetes",
            "2",
            "champion",
            role,
            &key,
            "2024-06-03T10:00:00Z",
        );
    }
    commit_all(dir.path(), "broken artifact").unwrap();
    let s = Server::start(dir.path(), &[]);
    let (code, ready) = s.get("/readyz");
    assert_eq!(code, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["models"], json!(["heart_disease", "readmission"]));
    assert!(
        ready["failed"]["diabetes"]
            .as_str()
            .unwrap()
            .contains("not a model ONNX Runtime can load"),
        "{ready}"
    );
    let (code, v) = s.predict("diabetes", &json!({"row": {}}));
    assert_eq!((code, error(&v).0), (404, "unknown_model"));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("failed to load")
    );
    let (code, _) = s.predict("heart_disease", &json!({"row": row()}));
    assert_eq!(code, 200);
}

/// Only committed files are served: an uncommitted edit of an artifact is never read, and a
/// committed artifact that does not match its digest is refused before loading.
#[test]
fn only_committed_verified_artifacts_are_served() {
    let (dir, _) = example_repo();
    std::fs::write(
        dir.path().join("examples/diabetes/v2/model.onnx"),
        b"tampered",
    )
    .unwrap();
    let s = Server::start(dir.path(), &["--models", "diabetes"]);
    let (code, _) = s.get("/readyz");
    assert_eq!(code, 200, "the committed artifact is served");
    drop(s);
    commit_all(dir.path(), "tampered").unwrap();
    let out = modelgate()
        .args(["serve", "--listen", "127.0.0.1:0", "--models", "diabetes"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not validate"), "{err}");
}

/// Live drift measures served rows against the reference data as committed, as artifacts are
/// read: the working tree's copy (here bytes that are not Parquet at all) is never read. Across
/// hot swaps the window carries over while the committed reference stays, and starts anew
/// against a reference committed anew under the same name.
#[test]
fn live_drift_reads_the_committed_reference() {
    use polars::prelude::*;
    let (dir, _) = example_repo();
    let reference = dir.path().join("examples/heart_disease/reference.parquet");
    let mut smaller = LazyFrame::scan_parquet(
        PlRefPath::from(reference.to_str().unwrap()),
        Default::default(),
    )
    .unwrap()
    .slice(0, 200)
    .collect()
    .unwrap();
    let committed = std::fs::read(&reference).unwrap();
    std::fs::write(&reference, b"not parquet").unwrap();
    let s = Server::start(
        dir.path(),
        &[
            "--models",
            "heart_disease",
            "--live-window",
            "50",
            "--watch",
            "HEAD",
            "--poll-interval",
            "0.2",
        ],
    );
    let window = |expect_commit: &str| -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = client().get(format!("{}/v1/models", s.url)).send().unwrap();
            let v: Value = r.json().unwrap();
            if expect_commit.is_empty() || v["revision"] == expect_commit {
                assert_eq!(v["models"][0]["notes"], json!([]), "{v}");
                return v["models"][0]["drift"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "{expect_commit} never served: {v} {}",
                s.get("/readyz").1
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let (code, v) = s.predict("heart_disease", &json!({"row": row()}));
    assert_eq!(code, 200, "{v}");
    assert_eq!(window("")["rows"], 1);

    // A revision that leaves the reference as it was: the window carries over.
    std::fs::write(&reference, committed).unwrap();
    edit(dir.path(), "model-cards/heart_disease.md", |t| {
        format!("{t}\nA note.\n")
    });
    let kept = commit_all(dir.path(), "a note in the card")
        .unwrap()
        .to_string();
    assert_eq!(window(&kept)["rows"], 1);

    // A reference no version records (so it may change without voiding approvals), then that
    // file committed anew under its name: each time new bins and a new window.
    let live = dir.path().join("examples/heart_disease/live");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::copy(&reference, live.join("reference.parquet")).unwrap();
    edit(dir.path(), &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "reference: examples/heart_disease/reference.parquet",
            "reference: examples/heart_disease/live/*.parquet",
        )
    });
    let moved = commit_all(dir.path(), "live drift against its own file")
        .unwrap()
        .to_string();
    assert_eq!(window(&moved)["rows"], 0);
    let (code, v) = s.predict("heart_disease", &json!({"row": row()}));
    assert_eq!(code, 200, "{v}");
    assert_eq!(window("")["rows"], 1);
    let mut f = std::fs::File::create(live.join("reference.parquet")).unwrap();
    ParquetWriter::new(&mut f).finish(&mut smaller).unwrap();
    let anew = commit_all(dir.path(), "a new reference")
        .unwrap()
        .to_string();
    assert_eq!(window(&anew)["rows"], 0);
}

/// SIGTERM: the server stops accepting, answers what is in flight and exits 0.
#[cfg(unix)]
#[test]
fn sigterm_shuts_down_gracefully() {
    let (dir, _) = example_repo();
    let mut s = Server::start(
        dir.path(),
        &["--models", "heart_disease", "--format", "json"],
    );
    let (code, _) = s.predict("heart_disease", &json!({"row": row()}));
    assert_eq!(code, 200);
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
}

/// Stops a server with SIGTERM and waits: the prediction logs are flushed before it exits.
#[cfg(unix)]
fn stop(mut s: Server) {
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            assert_eq!(st.code(), Some(0));
            return;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The rows of every Parquet file of a folder.
fn log_rows(dir: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    let mut frames = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "parquet") {
            frames.push(
                LazyFrame::scan_parquet(PlRefPath::from(p.to_str().unwrap()), Default::default())
                    .unwrap(),
            );
        }
    }
    assert!(!frames.is_empty(), "no log file in {}", dir.display());
    concat(frames, Default::default())
        .unwrap()
        .collect()
        .unwrap()
}

/// model.yaml's split: 70% champion, 30% challenger, sticky by the `patient` field, with the
/// challenger in shadow. Over real HTTP: the proportions hold, one patient always gets one
/// version, the split in force is on /v1/models, and shadow predictions are logged (apart)
/// but never returned.
#[cfg(unix)]
#[test]
fn ab_split_is_proportional_and_sticky_and_shadow_is_logged_not_returned() {
    let (dir, _) = example_repo();
    edit(dir.path(), &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "policy: {}",
            "policy: {}\nserving:\n  split: {champion: 70, challenger: 30}\n  sticky: {field: patient}\n  shadow: true",
        )
    });
    commit_all(dir.path(), "split").unwrap();
    let logs = tempfile::tempdir().unwrap();
    let s = Server::start(
        dir.path(),
        &[
            "--models",
            "heart_disease",
            "--log-dir",
            logs.path().to_str().unwrap(),
        ],
    );
    let r = client().get(format!("{}/v1/models", s.url)).send().unwrap();
    let v: Value = r.json().unwrap();
    assert_eq!(
        v["models"][0]["split"],
        json!({"champion": 70, "challenger": 30, "sticky": {"field": "patient"}, "shadow": true}),
        "{v}"
    );
    let patients: Vec<String> = (0..1000).map(|i| format!("patient-{i}")).collect();
    let ask = |ps: &[String]| -> Vec<(String, u64)> {
        let rows: Vec<Value> = ps
            .iter()
            .map(|p| with(row(), "patient", json!(p)))
            .collect();
        let (code, v) = s.predict("heart_disease", &json!({ "rows": rows }));
        assert_eq!(code, 200, "{v}");
        v["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["alias"].as_str().unwrap().to_string(),
                    p["version"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let first: Vec<(String, u64)> = patients.chunks(250).flat_map(ask).collect();
    let champion = first.iter().filter(|(a, _)| a == "champion").count();
    assert!(
        (640..=760).contains(&champion),
        "{champion} of 1000 to the champion, expected about 700"
    );
    for (a, v) in &first {
        assert_eq!(
            u64::from(a == "champion") * 3 + u64::from(a == "challenger") * 4,
            *v
        );
    }
    // Sticky: the same patients, in another order and one at a time, get the same versions.
    let mut again: Vec<(String, u64)> = patients[..50]
        .iter()
        .map(|p| ask(std::slice::from_ref(p))[0].clone())
        .collect();
    again.extend(
        ask(&patients[50..250].iter().rev().cloned().collect::<Vec<_>>())
            .into_iter()
            .rev(),
    );
    assert_eq!(again, first[..250].to_vec());
    // Explicit aliases bypass the split.
    let (_, v) = s.predict(
        "heart_disease@challenger",
        &json!({"row": with(row(), "patient", json!("patient-0"))}),
    );
    assert_eq!(v["predictions"][0]["version"], 4);
    stop(s);

    // Every answered row is logged once as served; every champion row once more in shadow.
    let served = log_rows(&logs.path().join("heart_disease"));
    let shadow = log_rows(&logs.path().join("heart_disease/shadow"));
    assert_eq!(served.height(), 1000 + 50 + 200 + 1);
    let champion_rows = champion + first[..250].iter().filter(|(a, _)| a == "champion").count();
    assert_eq!(shadow.height(), champion_rows);
    let versions = shadow.column("version").unwrap().u32().unwrap().clone();
    assert!(versions.iter().all(|v| v == Some(4)));
    let flags = shadow.column("shadow").unwrap().bool().unwrap().clone();
    assert!(flags.iter().all(|f| f == Some(true)));
}

/// A served prediction is traced back with `lineage <prediction-id>` (no --in: the server wrote
/// it into the model's monitoring folder), the scheduled drift job reads the served log, and
/// the live drift share is on /metrics and /v1/models.
#[cfg(unix)]
#[test]
fn served_predictions_reach_lineage_the_drift_job_and_live_drift() {
    use polars::prelude::*;
    let (dir, _) = example_repo();
    edit(dir.path(), &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "current: examples/heart_disease/inference/*.parquet",
            "current: examples/heart_disease/served/*.parquet",
        )
    });
    commit_all(dir.path(), "the drift job reads the served log").unwrap();
    let s = Server::start(
        dir.path(),
        &["--models", "heart_disease", "--live-window", "500"],
    );
    // The reference's own rows: no drift.
    let reference = LazyFrame::scan_parquet(
        PlRefPath::from(
            dir.path()
                .join("examples/heart_disease/reference.parquet")
                .to_str()
                .unwrap(),
        ),
        Default::default(),
    )
    .unwrap()
    .limit(300)
    .collect()
    .unwrap();
    let mut rows = vec![serde_json::Map::new(); reference.height()];
    for c in reference.columns() {
        let s = c.as_materialized_series();
        for (i, r) in rows.iter_mut().enumerate() {
            let v = match s.get(i).unwrap() {
                AnyValue::Null => Value::Null,
                AnyValue::Float64(x) => json!(x),
                AnyValue::Int64(x) => json!(x),
                AnyValue::Int32(x) => json!(x),
                AnyValue::String(x) => json!(x),
                _ => continue,
            };
            r.insert(c.name().to_string(), v);
        }
    }
    let mut ids = Vec::new();
    for chunk in rows.chunks(100) {
        let (code, v) = s.predict("heart_disease", &json!({ "rows": chunk }));
        assert_eq!(code, 200, "{v}");
        ids.extend(
            v["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["prediction_id"].as_str().unwrap().to_string()),
        );
    }
    let r = client().get(format!("{}/v1/models", s.url)).send().unwrap();
    let v: Value = r.json().unwrap();
    assert_eq!(v["models"][0]["drift"]["rows"], 300, "{v}");
    let live = v["models"][0]["drift"]["drift_share"].as_f64().unwrap();
    let (_, m) = s.get("/metrics");
    assert!(
        m.contains(&format!(
            "modelgate_serve_drift_share{{model=\"heart_disease\"}} {live}\n"
        )),
        "{live} {m}"
    );
    assert!(
        m.contains(r#"modelgate_serve_log_rows{model="heart_disease",state="accepted"} 300"#),
        "{m}"
    );
    stop(s);

    let (code, out, err) = run(&["lineage", &ids[7]], dir.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&ids[7]), "{out}");
    assert!(out.contains("model heart_disease v3"), "{out}");
    let (code, out, err) = run(
        &[
            "drift",
            "--model",
            "heart_disease",
            "--dry-run",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["data"]["rows"]["current"], 300, "{out}");
    // The live share is the drift job's share on the same rows.
    let job = v[0]["data"]["drift_share"].as_f64().unwrap();
    assert!(
        (job - live).abs() < 1e-9,
        "live {live}, drift job {job}: {out}"
    );
}

/// Sticky by a header: every request carrying one value reaches one version, whatever its rows.
#[test]
fn a_sticky_header_keeps_a_caller_on_one_version() {
    let (dir, _) = example_repo();
    edit(dir.path(), &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "policy: {}",
            "policy: {}\nserving:\n  split: {champion: 50, challenger: 50}\n  sticky: {header: X-Patient-Id}",
        )
    });
    commit_all(dir.path(), "split by header").unwrap();
    let logs = tempfile::tempdir().unwrap();
    let s = Server::start(
        dir.path(),
        &[
            "--models",
            "heart_disease",
            "--log-dir",
            logs.path().to_str().unwrap(),
        ],
    );
    let ask = |patient: &str, rows: usize| -> Vec<u64> {
        let r = client()
            .post(format!("{}/v1/models/heart_disease/predict", s.url))
            .header("x-patient-id", patient)
            .json(&json!({"rows": vec![row(); rows]}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().unwrap();
        v["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["version"].as_u64().unwrap())
            .collect()
    };
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..40 {
        let p = format!("p-{i}");
        let first = ask(&p, 3);
        assert!(first.iter().all(|v| *v == first[0]), "{first:?}");
        assert_eq!(ask(&p, 1), vec![first[0]], "{p}");
        seen.insert(first[0]);
    }
    assert_eq!(
        seen,
        [3, 4].into_iter().collect(),
        "both versions answer someone"
    );
}

/// The concurrency limit counts the requests of the whole process, whichever worker thread
/// runs them: with two requests held open (their bodies half sent) at
/// `--concurrency 2`, every other request is answered 503 `overloaded` at once, never queued;
/// once the held requests finish, requests pass again.
#[test]
fn requests_over_the_concurrency_limit_are_shed_at_once() {
    use std::io::{Read, Write};
    let (dir, _) = example_repo();
    let s = Server::start(
        dir.path(),
        &[
            "--models",
            "heart_disease",
            "--concurrency",
            "2",
            "--workers",
            "2",
            "--timeout",
            "60",
        ],
    );
    let addr = s.url.strip_prefix("http://").unwrap().to_string();
    let body = json!({"row": row()}).to_string();
    let (head, tail) = body.split_at(10);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            c,
            "POST /v1/models/heart_disease/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
            body.len()
        )
        .unwrap();
        c.flush().unwrap();
        held.push(c);
    }
    // The held requests reach the server (and take the two permits) shortly.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, v) = s.predict("heart_disease", &json!({"row": row()}));
        if code == 503 {
            assert_eq!(error(&v).0, "overloaded", "{v}");
            break;
        }
        assert_eq!(code, 200, "{v}");
        assert!(
            Instant::now() < deadline,
            "never shed with two requests held"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Fresh connections are all shed, at once.
    for _ in 0..16 {
        let started = Instant::now();
        let (code, v) = s.predict("heart_disease", &json!({"row": row()}));
        assert_eq!((code, error(&v).0), (503, "overloaded"), "{v}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "queued, not shed"
        );
    }
    for mut c in held {
        c.write_all(tail.as_bytes()).unwrap();
        c.flush().unwrap();
        let mut answer = [0u8; 12];
        c.read_exact(&mut answer).unwrap();
        assert_eq!(
            &answer,
            b"HTTP/1.1 200",
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    let (code, v) = s.predict("heart_disease", &json!({"row": row()}));
    assert_eq!(code, 200, "{v}");
}
