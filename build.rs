//! Embeds the example the demo runs on (`modelgate demo`) into the binary, so that the demo
//! works from any folder: writes `$OUT_DIR/demo_bundle.rs`, a list of (relative path,
//! `include_bytes!`) entries of the files under registry/, model-cards/ and examples/ (without
//! examples/k8s and examples/fixtures, which the demo does not use; no dotfiles, no links).
//!
//! A build from a package without these folders (`cargo package` excludes them) gets an empty
//! list, and the demo then asks for `--example DIR`.

use std::path::{Path, PathBuf};

/// The folders of the example, relative to the crate root.
const DIRS: &[&str] = &["registry", "model-cards", "examples"];

/// Parts of them the demo does not need.
const SKIP: &[&str] = &["examples/k8s", "examples/fixtures"];

fn walk(root: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("build.rs: reading {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("build.rs: reading {}: {e}", dir.display()));
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = format!("{rel}/{name}");
        if SKIP.contains(&path.as_str()) {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, out);
        } else if meta.is_file() {
            out.push((path, entry.path()));
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("demo_bundle.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    if DIRS.iter().all(|d| root.join(d).is_dir()) {
        for d in DIRS {
            // A folder: Cargo rescans everything under it, so added files count too.
            println!("cargo:rerun-if-changed={}", root.join(d).display());
            walk(&root, d, &mut files);
        }
    }
    files.sort();
    let mut src = String::from(
        "/// The example of the demo: (path relative to the example's root, content).\n\
         pub static DEMO_BUNDLE: &[(&str, &[u8])] = &[\n",
    );
    for (rel, path) in &files {
        let abs = path
            .to_str()
            .unwrap_or_else(|| panic!("build.rs: {} is not UTF-8", path.display()));
        src.push_str(&format!("    ({rel:?}, include_bytes!({abs:?})),\n"));
    }
    src.push_str("];\n");
    std::fs::write(&out, src)
        .unwrap_or_else(|e| panic!("build.rs: writing {}: {e}", out.display()));
}
