//! `modelgate runtime install|status` with the real pinned onnxruntime wheel (downloaded into
//! .tools/wheels/ by scripts/setup.sh), served from 127.0.0.1: no other network. And the demo
//! run from an empty folder, with ONNX Runtime missing, installed, or broken.

use crate::util::{modelgate, repo_root};
use modelgate::batch::install::{Pin, pin_for, platform};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A static file server on 127.0.0.1: GET of a known path answers 200 with its bytes, anything
/// else 404. Counts the GETs of each path.
struct Mirror {
    port: u16,
    hits: Arc<Mutex<BTreeMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mirror {
    fn serve(files: Vec<(String, Vec<u8>)>) -> Mirror {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let files: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                // Headers, up to the empty line.
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line == "\r\n" || line == "\n" => break,
                        Ok(_) => {}
                    }
                }
                let mut parts = request.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                *h.lock().unwrap().entry(path.to_string()).or_default() += 1;
                let _ = match files.get(path).filter(|_| method == "GET") {
                    Some(body) => conn
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            )
                            .as_bytes(),
                        )
                        .and_then(|_| conn.write_all(body)),
                    None => conn.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
                    ),
                };
                let _ = conn.flush();
            }
        });
        Mirror {
            port,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// This machine's pin and its wheel in .tools/wheels/ (scripts/setup.sh downloads it).
fn wheel() -> (Pin, PathBuf, Vec<u8>) {
    let pin = pin_for(&platform()).unwrap();
    let path = repo_root().join(".tools/wheels").join(pin.wheel_file());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `bash scripts/setup.sh`, which downloads the pinned wheel",
            path.display()
        )
    });
    (pin, path, bytes)
}

/// The path the mirror serves the wheel at.
fn wheel_path(pin: &Pin) -> String {
    format!("/simple/onnxruntime/{}", pin.wheel_file())
}

/// `modelgate` with a fresh per-user data folder and no ORT_DYLIB_PATH.
fn clean(data: &Path) -> std::process::Command {
    let mut c = modelgate();
    c.env_remove("ORT_DYLIB_PATH")
        .env_remove(modelgate::batch::install::URL_ENV)
        .env("XDG_DATA_HOME", data)
        .env("HOME", data);
    c
}

fn output(c: &mut std::process::Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every file and folder under `dir`, relative.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let e = e.unwrap();
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                out.extend(
                    tree(&p)
                        .into_iter()
                        .map(|s| format!("{}/{s}", e.file_name().to_string_lossy())),
                );
            }
        }
    }
    out.sort();
    out
}

#[test]
fn install_from_a_local_mirror_then_status_loads_and_batch_scores() {
    let (pin, _, bytes) = wheel();
    let mirror = Mirror::serve(vec![(wheel_path(&pin), bytes)]);
    let data = tempfile::tempdir().unwrap();
    let (code, out, err) = output(clean(data.path()).args([
        "runtime",
        "install",
        "--from",
        &mirror.url(&wheel_path(&pin)),
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let library = data
        .path()
        .join("modelgate/onnxruntime/1.31.1")
        .join(pin.library_file());
    assert!(library.is_file());
    assert_eq!(
        std::fs::read_to_string(data.path().join("modelgate/ort-dylib-path")).unwrap(),
        format!("{}\n", library.display())
    );
    assert!(out.contains("installed ONNX Runtime 1.31.1"), "{out}");
    assert!(err.contains(&mirror.url(&wheel_path(&pin))), "{err}");
    // Only the library: no wheel, no temporary file, no other member.
    assert_eq!(
        tree(data.path()),
        [
            "modelgate".to_string(),
            "modelgate/onnxruntime".into(),
            "modelgate/onnxruntime/1.31.1".into(),
            format!("modelgate/onnxruntime/1.31.1/{}", pin.library_file()),
            "modelgate/ort-dylib-path".into(),
        ]
    );

    let (code, out, err) =
        output(clean(data.path()).args(["runtime", "status", "--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["loads"], true, "{st}");
    assert_eq!(st["pinned"], true, "{st}");
    assert_eq!(st["version"], "1.31.1", "{st}");
    assert_eq!(st["library"], library.display().to_string(), "{st}");
    assert_eq!(
        st["source"],
        data.path()
            .join("modelgate/ort-dylib-path")
            .display()
            .to_string(),
        "{st}"
    );
    let (code, out, _) = output(clean(data.path()).args(["runtime", "status"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("loads:   yes"), "{out}");

    // batch scores the example model with the installed library.
    let dir = crate::util::example_dir();
    let (code, out, err) = output(
        clean(data.path())
            .args([
                "batch",
                "heart_disease",
                "--input",
                "examples/heart_disease/eval.parquet",
                "--output",
                "scored.parquet",
            ])
            .current_dir(dir.path()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(dir.path().join("scored.parquet").is_file());
    assert_eq!(mirror.hits(&wheel_path(&pin)), 1);
}

#[test]
fn installing_twice_downloads_once() {
    let (pin, _, bytes) = wheel();
    let mirror = Mirror::serve(vec![(wheel_path(&pin), bytes)]);
    let data = tempfile::tempdir().unwrap();
    // The mirror through MODELGATE_ONNXRUNTIME_URL, as the demo and CI use it.
    for round in 0..2 {
        let (code, out, err) = output(
            clean(data.path())
                .env(
                    modelgate::batch::install::URL_ENV,
                    mirror.url(&wheel_path(&pin)),
                )
                .args(["runtime", "install", "--format", "json"]),
        );
        assert_eq!(code, 0, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["already_installed"], round == 1, "{v}");
        assert_eq!(mirror.hits(&wheel_path(&pin)), 1, "round {round}");
    }
    let (code, out, _) = output(clean(data.path()).args(["runtime", "install"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("already installed"), "{out}");
    assert!(out.contains("nothing downloaded"), "{out}");
    // A library that no longer matches its pin is installed again.
    let library = data
        .path()
        .join("modelgate/onnxruntime/1.31.1")
        .join(pin.library_file());
    std::fs::write(&library, b"tampered").unwrap();
    let (code, out, err) = output(clean(data.path()).args([
        "runtime",
        "install",
        "--from",
        &mirror.url(&wheel_path(&pin)),
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(mirror.hits(&wheel_path(&pin)), 2);
    assert_eq!(
        modelgate::batch::install::sha256_file(&library).unwrap(),
        pin.library_sha256
    );
}

#[test]
fn install_from_a_downloaded_wheel_file() {
    let (pin, path, _) = wheel();
    let data = tempfile::tempdir().unwrap();
    let (code, out, err) =
        output(clean(data.path()).args(["runtime", "install", "--from", path.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        data.path()
            .join("modelgate/onnxruntime/1.31.1")
            .join(pin.library_file())
            .is_file()
    );
}

#[test]
fn a_tampered_wheel_is_refused_naming_both_digests_and_leaves_nothing() {
    let (pin, _, mut bytes) = wheel();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    let wrong = modelgate::registry::source::hash_reader(&bytes[..])
        .unwrap()
        .hex();
    let mirror = Mirror::serve(vec![(wheel_path(&pin), bytes)]);
    let data = tempfile::tempdir().unwrap();
    let (code, out, err) = output(clean(data.path()).args([
        "runtime",
        "install",
        "--from",
        &mirror.url(&wheel_path(&pin)),
    ]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&pin.wheel_sha256), "{err}");
    assert!(err.contains(&wrong), "{err}");
    assert!(err.contains("refusing it"), "{err}");
    assert_eq!(tree(data.path()), Vec::<String>::new());
    // status still says how to install it.
    let (code, out, _) = output(clean(data.path()).args(["runtime", "status"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`modelgate runtime install`"), "{out}");
}

#[test]
fn a_wheel_with_hostile_members_writes_nothing_outside() {
    use zip::write::SimpleFileOptions;
    let (pin, _, bytes) = wheel();
    // The real wheel plus `../../evil`, an absolute path and a symlink, in the folder the
    // library goes to and under the library's own name in another folder.
    let root = tempfile::tempdir().unwrap();
    let hostile = root.path().join("hostile.whl");
    std::fs::write(&hostile, &bytes).unwrap();
    {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&hostile)
            .unwrap();
        let mut w = zip::ZipWriter::new_append(f).unwrap();
        let opts = SimpleFileOptions::default();
        for name in [
            "../../evil".to_string(),
            format!("{}/evil-abs", root.path().display()),
            format!("../{}", pin.library_file()),
        ] {
            w.start_file(name, opts).unwrap();
            w.write_all(b"evil").unwrap();
        }
        w.add_symlink("onnxruntime/capi/evil-link", "/etc/passwd", opts)
            .unwrap();
        w.finish().unwrap();
    }
    let data = root.path().join("a/b");
    std::fs::create_dir_all(&data).unwrap();
    let before = tree(root.path());
    let mirror = Mirror::serve(vec![(wheel_path(&pin), std::fs::read(&hostile).unwrap())]);
    for from in [hostile.display().to_string(), mirror.url(&wheel_path(&pin))] {
        let (code, out, err) = output(clean(&data).args(["runtime", "install", "--from", &from]));
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains("refusing it"), "{err}");
        assert_eq!(tree(root.path()), before, "{err}");
    }
}

#[test]
fn a_404_and_a_refused_connection_are_clear_errors() {
    let mirror = Mirror::serve(vec![]);
    let data = tempfile::tempdir().unwrap();
    let url = mirror.url("/missing.whl");
    let (code, out, err) = output(clean(data.path()).args(["runtime", "install", "--from", &url]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("404 Not Found"), "{err}");
    assert_eq!(tree(data.path()), Vec::<String>::new());

    // A port nothing listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/onnxruntime.whl");
    let (code, out, err) = output(clean(data.path()).args(["runtime", "install", "--from", &url]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&url), "{err}");
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(tree(data.path()), Vec::<String>::new());

    // Neither a URL nor a file.
    let (code, _, err) =
        output(clean(data.path()).args(["runtime", "install", "--from", "ftp://127.0.0.1/x.whl"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected an http:// or https:// URL"), "{err}");
}

/// The sections of the demo, in order.
const SECTIONS: &[&str] = &[
    "1. A copy of the example registry",
    "2. What is in it",
    "3. modelgate validate",
    "4. modelgate validate --rev HEAD",
    "5. A promotion by pull request",
    "6. The same promotion with a forged approval",
    "7. Monitoring on main",
    "8. Batch inference with lineage",
    "9. Register a new version",
    "10. Reproduce it",
    "11. Search",
    "12. Retention plan",
    "13. Sharding the scheduled jobs",
    "14. The site",
    "Where to look",
];

fn assert_sections(out: &str) {
    let mut at = 0;
    for s in SECTIONS {
        let i = out[at..]
            .find(&format!("━━ {s}"))
            .unwrap_or_else(|| panic!("no section `{s}` after byte {at}:\n{out}"));
        at += i;
    }
}

/// The binary alone: an empty current folder, a fresh home, ONNX Runtime from ORT_DYLIB_PATH.
#[test]
fn the_demo_runs_from_an_empty_folder() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("demo");
    let (code, out, err) = output(
        clean(home.path())
            .env(
                "ORT_DYLIB_PATH",
                std::env::var("ORT_DYLIB_PATH").expect("the tests need ORT_DYLIB_PATH"),
            )
            .args(["demo", "--out", target.to_str().unwrap()])
            .current_dir(cwd.path()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_sections(&out);
    assert!(out.contains("the example this binary carries"), "{out}");
    assert!(out.contains("scored 800 rows"), "{out}");
    assert!(out.contains("registered diabetes@v3"), "{out}");
    assert!(!out.contains("skipped"), "{out}");
    assert!(target.join("site/index.html").is_file());
    assert_eq!(tree(cwd.path()), Vec::<String>::new());
    // Nothing was installed: ORT_DYLIB_PATH named a library. (ONNX Runtime itself keeps a
    // device id under ~/.cache/Microsoft; that is not modelgate's.)
    assert!(!home.path().join("modelgate").exists());
    assert!(!home.path().join(".local/share/modelgate").exists());
}

/// ONNX Runtime missing: the demo installs it (from the mirror MODELGATE_ONNXRUNTIME_URL
/// names), says so in one line on stderr, and runs every section.
#[test]
fn the_demo_installs_onnx_runtime_when_it_is_missing() {
    let (pin, _, bytes) = wheel();
    let mirror = Mirror::serve(vec![(wheel_path(&pin), bytes)]);
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let target = cwd.path().join("demo");
    let (code, out, err) = output(
        clean(home.path())
            .env(
                modelgate::batch::install::URL_ENV,
                mirror.url(&wheel_path(&pin)),
            )
            .args(["demo", "--out", target.to_str().unwrap()])
            .current_dir(cwd.path()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_sections(&out);
    assert!(!out.contains("skipped"), "{out}");
    assert!(out.contains("scored 800 rows"), "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("installing ONNX Runtime 1.31.1"), "{err}");
    assert!(lines[0].contains(&mirror.url(&wheel_path(&pin))), "{err}");
    assert!(
        lines[0].contains(
            &home
                .path()
                .join("modelgate/onnxruntime/1.31.1")
                .display()
                .to_string()
        ),
        "{err}"
    );
    assert_eq!(mirror.hits(&wheel_path(&pin)), 1);
}

#[test]
fn the_demo_with_no_install_names_the_command_to_run() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let target = cwd.path().join("demo");
    let (code, out, err) = output(
        clean(home.path())
            .args(["demo", "--no-install", "--out", target.to_str().unwrap()])
            .current_dir(cwd.path()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_sections(&out);
    let section = &out[out.find("━━ 8.").unwrap()..out.find("━━ 11.").unwrap()];
    assert_eq!(
        section.matches("run `modelgate runtime install`").count(),
        2,
        "{section}"
    );
    assert!(
        section.contains("skipped: diabetes v3 was not registered"),
        "{section}"
    );
    assert_eq!(tree(home.path()), Vec::<String>::new());
}

/// A bad ORT_DYLIB_PATH (no such file; a file that is not a library) is a runtime problem
/// naming ORT_DYLIB_PATH in the demo, never blamed on a model, and the demo does not install
/// over it.
#[test]
fn a_bad_ort_dylib_path_is_a_runtime_problem_in_the_demo() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let text = cwd.path().join("not-a-library.txt");
    std::fs::write(&text, "hello\n").unwrap();
    for (i, lib) in [
        "/nonexistent/libonnxruntime.so.1.31.1".to_string(),
        text.display().to_string(),
    ]
    .iter()
    .enumerate()
    {
        let target = cwd.path().join(format!("demo{i}"));
        let (code, out, err) = output(
            clean(home.path())
                .env("ORT_DYLIB_PATH", lib)
                .args(["demo", "--out", target.to_str().unwrap()])
                .current_dir(cwd.path()),
        );
        assert_eq!(code, 1, "{out}{err}");
        assert_sections(&out);
        let section = &out[out.find("━━ 8.").unwrap()..out.find("━━ 10.").unwrap()];
        assert!(section.contains(lib.as_str()), "{section}");
        assert!(section.contains("ORT_DYLIB_PATH"), "{section}");
        assert!(section.contains("`modelgate runtime install`"), "{section}");
        assert!(!out.contains("not a usable ONNX model"), "{out}");
        assert!(!out.contains("panicked"), "{out}{err}");
        assert_eq!(tree(home.path()), Vec::<String>::new());
    }
}

/// `--example DIR` still copies a checkout; a folder that is not one is named.
#[test]
fn the_demo_copies_an_example_folder() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let target = cwd.path().join("demo");
    let root = repo_root();
    let (code, out, err) = output(
        clean(home.path())
            .args(["demo", "--no-install", "--example"])
            .arg(&root)
            .args(["--out", target.to_str().unwrap()])
            .current_dir(cwd.path()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("of {}", root.display())), "{out}");
    assert!(target.join("examples/k8s").is_dir());
    let (code, out, err) = output(
        clean(home.path())
            .args(["demo", "--no-install", "--example"])
            .arg(cwd.path())
            .args(["--out", cwd.path().join("demo2").to_str().unwrap()])
            .current_dir(cwd.path()),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("has no registry/ folder"), "{err}");
    assert!(
        err.contains("a checkout of the modelgate repository"),
        "{err}"
    );
}
