//! Test helpers: fixture registries in temporary folders, git commits, and running the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fixture registry in a temporary folder: `tests/fixtures/_base` with the case's files laid
/// over it. A case may list paths to delete in `_remove`, or start from nothing with `_empty`.
pub fn fixture(case: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    let case_dir = fixtures.join(case);
    assert!(
        case_dir.is_dir(),
        "no fixture folder {}",
        case_dir.display()
    );
    if !case_dir.join("_empty").exists() {
        copy_tree(&fixtures.join("_base"), dir.path());
    }
    copy_tree(&case_dir, dir.path());
    if let Ok(list) = std::fs::read_to_string(dir.path().join("_remove")) {
        for p in list.lines().filter(|l| !l.trim().is_empty()) {
            std::fs::remove_file(dir.path().join(p)).unwrap();
        }
    }
    for marker in ["_remove", "_empty"] {
        let _ = std::fs::remove_file(dir.path().join(marker));
    }
    dir
}

/// The built binary.
pub fn modelgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_modelgate"));
    c.env("NO_COLOR", "1");
    c
}

/// Runs the binary; returns (exit code, stdout, stderr).
pub fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = modelgate().args(args).current_dir(cwd).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A copy of the example registry (registry/, model-cards/, examples/) in a temporary folder,
/// with the demo keys readable by their owner only (ssh-keygen insists; git does not keep modes).
pub fn example_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["registry", "model-cards", "examples", "schemas"] {
        copy_tree(&repo_root().join(d), &dir.path().join(d));
    }
    #[cfg(unix)]
    for who in ["alice", "bob", "carol", "drift-job"] {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.path().join("examples/keys").join(who);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    dir
}

/// Runs the binary and measures its own peak memory, as it reports it with
/// `RUST_LOG=debug` (VmHWM: the forked copy of this test process before exec does not
/// count, unlike getrusage's maxrss); returns (exit code, stdout, stderr, peak RSS in MiB).
pub fn run_measured(args: &[&str], cwd: &Path) -> (i32, String, String, f64) {
    let out = modelgate()
        .args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let kib: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("modelgate: debug: peak RSS "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS reported: {stderr}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        kib / 1024.0,
    )
}

/// A static file server on 127.0.0.1 for downloads (release archives, wheels): `GET path` answers
/// the file's bytes, anything else 404; one request per connection. Stops on drop.
pub struct FileServer {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    hits: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FileServer {
    /// Serves `files` (URL path such as `/a/b.tar.gz`, bytes).
    pub fn start(files: Vec<(String, Vec<u8>)>) -> FileServer {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stop2, hits2) = (stop.clone(), hits.clone());
        let files: std::collections::HashMap<String, Vec<u8>> = files.into_iter().collect();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                hits2.lock().unwrap().push(path.clone());
                let (status, body): (&str, &[u8]) = match files.get(&path) {
                    Some(b) if line.starts_with("GET ") => ("200 OK", b),
                    _ => ("404 Not Found", b"Not Found"),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(body);
            }
        });
        FileServer { addr, stop, hits }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The paths requested so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
    }
}
