//! Reading only inside the store: every path is resolved and checked against the folders an
//! import may read, and every folder is read once (a symbolic link loop is an error, never a
//! hang).

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The folders an import may read: `store_root` and `extra` (`--artifacts-root`), resolved.
pub(super) fn roots(store_root: &Path, extra: &[PathBuf]) -> Result<Vec<PathBuf>> {
    std::iter::once(store_root)
        .chain(extra.iter().map(PathBuf::as_path))
        .map(|r| {
            r.canonicalize()
                .with_context(|| format!("resolving {}", r.display()))
        })
        .collect()
}

/// `path` resolved, when it resolves inside `roots`; an error naming it when it resolves
/// outside them or cannot be resolved (a symbolic link loop, a dangling link). A path that does
/// not exist is returned as it is (reading it fails with its own error).
pub(super) fn inside(path: &Path, roots: &[PathBuf]) -> Result<PathBuf> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(path.to_path_buf());
    }
    let real = path.canonicalize().map_err(|e| {
        Unsafe(format!(
            "{} cannot be resolved ({e}): a symbolic link loop or a dangling link in the MLflow store",
            path.display()
        ))
    })?;
    if roots.iter().any(|r| real.starts_with(r)) {
        return Ok(real);
    }
    let allowed: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    Err(Unsafe(format!(
        "{} leads to {}, outside the MLflow store: import reads only inside {} (add a folder with --artifacts-root if the store keeps its artifacts there)",
        path.display(),
        real.display(),
        allowed.join(" and ")
    ))
    .into())
}

/// A path that leads out of the store, or a symbolic link loop: planted, not broken, so never a
/// version skipped with a warning — the whole import is refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Unsafe(String);

/// Every file under `dir` (key: its path below `dir`, `/`-separated), read only inside `roots`:
/// a symbolic link is followed only to a place inside them, and every folder is read once (a
/// link back to a folder already read is a loop, and an error naming it).
pub(super) fn files_under(dir: &Path, roots: &[PathBuf]) -> Result<Vec<(String, PathBuf)>> {
    fn walk(
        d: &Path,
        prefix: &str,
        roots: &[PathBuf],
        seen: &mut std::collections::HashSet<PathBuf>,
        out: &mut Vec<(String, PathBuf)>,
    ) -> Result<()> {
        let rd =
            std::fs::read_dir(d).with_context(|| format!("reading the folder {}", d.display()))?;
        for e in rd {
            let e = e.with_context(|| format!("reading the folder {}", d.display()))?;
            let path = e.path();
            // Two names that are not UTF-8 would read as one; the registry refuses them anyway.
            let Ok(name) = e.file_name().into_string() else {
                return Err(Unsafe(format!(
                    "{}: a file name that is not UTF-8; import reads UTF-8 names only",
                    path.display()
                ))
                .into());
            };
            let key = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let ft = e
                .file_type()
                .with_context(|| format!("reading {}", path.display()))?;
            let is_dir = if ft.is_symlink() {
                inside(&path, roots)?.is_dir()
            } else {
                ft.is_dir()
            };
            if is_dir {
                let real = inside(&path, roots)?;
                if d.canonicalize().is_ok_and(|here| here.starts_with(&real)) {
                    return Err(Unsafe(format!(
                        "{} leads to {}, a folder that holds it: a symbolic link loop in the MLflow store",
                        path.display(),
                        real.display()
                    ))
                    .into());
                }
                if !seen.insert(real.clone()) {
                    return Err(Unsafe(format!(
                        "{} leads to {}, a folder already read: a symbolic link loop in the MLflow store",
                        path.display(),
                        real.display()
                    ))
                    .into());
                }
                walk(&path, &key, roots, seen, out)?;
            } else if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                // A FIFO or a device would hang or flood the reads that follow.
                return Err(Unsafe(format!(
                    "{} is not a regular file (a FIFO, a socket or a device): import reads regular files only",
                    path.display()
                ))
                .into());
            } else {
                out.push((key, path));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut seen = std::collections::HashSet::new();
    seen.insert(inside(dir, roots)?);
    walk(dir, "", roots, &mut seen, &mut out)?;
    out.sort();
    Ok(out)
}

/// The most a store's YAML file (meta.yaml, MLmodel) may hold: a hostile store cannot make
/// import read a huge file into memory.
const MAX_STORE_YAML: u64 = 4 << 20;
/// The most one tag, param, alias or metric file may hold (a metric's history of a million
/// steps is some 40 MB).
pub(super) const MAX_STORE_FILE: u64 = 256 << 20;

/// A YAML file inside `roots`, as a value; an error names the file (and the line, for text that
/// is not YAML). It must be a regular file of at most [`MAX_STORE_YAML`] bytes.
pub(super) fn yaml_file(path: &Path, roots: &[PathBuf]) -> Result<Value> {
    inside(path, roots)?;
    let unreadable = |e: std::io::Error| {
        anyhow::anyhow!(
            "{}: {}",
            path.display(),
            match e.kind() {
                std::io::ErrorKind::NotFound => "missing".to_string(),
                std::io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
                _ => format!("cannot be read ({e})"),
            }
        )
    };
    let md = std::fs::metadata(path).map_err(unreadable)?;
    if !md.is_file() || md.len() > MAX_STORE_YAML {
        bail!(
            "{}: expected a YAML file of at most {MAX_STORE_YAML} bytes, found {}",
            path.display(),
            if md.is_file() {
                format!("{} bytes", md.len())
            } else {
                "no regular file".into()
            }
        );
    }
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(unreadable)?,
            MAX_STORE_YAML,
        ),
        &mut text,
    )
    .map_err(unreadable)?;
    let node = crate::yaml::parse(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}: not YAML: {}",
            path.display(),
            e.span.start.line,
            e.message
        )
    })?;
    crate::yaml::de::from_node::<Value>(&node)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
