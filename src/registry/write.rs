//! Writing to the registry: every file through a temporary file and a rename, and a group of
//! files all or none, so that no command ever leaves a half-written registry behind.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes new files under `root`, all or none: nothing is written if any of them exists, each
/// file goes through a temporary file and a rename, and if a later file fails the earlier ones
/// are removed again.
pub fn write_new_files(root: &Path, files: &[(String, String)]) -> Result<Vec<PathBuf>> {
    let existing: Vec<String> = files
        .iter()
        .filter(|(p, _)| root.join(p).symlink_metadata().is_ok())
        .map(|(p, _)| p.clone())
        .collect();
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite what is already there: {}",
            existing.join(", ")
        );
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (rel, content) in files {
        let path = root.join(rel);
        if let Err(e) = write_atomic(&path, content.as_bytes()) {
            for p in written.iter().rev() {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
        written.push(path);
    }
    Ok(written)
}

/// Writes one file through a temporary file in the same folder and a rename, so a reader sees
/// the old content or the new, never half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// Writes (creating or replacing) a group of files under `root`, all or none: every new
/// content is first written to a temporary file beside its target; only when all are written and
/// on disk are they renamed into place, and if a rename fails the files already replaced are
/// restored. The group is flushed to disk once, not file by file (see [`flush`]): an import of a
/// thousand versions writes thousands of files.
pub fn write_changes(root: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::new();
    for (rel, content) in files {
        let path = root.join(rel);
        let dir = path
            .parent()
            .with_context(|| format!("{} has no parent folder", path.display()))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        tmp.write_all(content)
            .with_context(|| format!("writing {}", path.display()))?;
        let original = std::fs::read(&path).ok();
        staged.push((path, tmp, original));
    }
    let temporaries: Vec<&std::fs::File> = staged.iter().map(|(_, t, _)| t.as_file()).collect();
    flush(root, &temporaries).context("flushing the new files to disk")?;
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut done: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    for (path, tmp, original) in staged {
        if let Err(e) = tmp.persist(&path) {
            for (p, orig) in done.iter().rev() {
                let _ = match orig {
                    Some(bytes) => write_atomic(p, bytes),
                    None => std::fs::remove_file(p).map_err(Into::into),
                };
            }
            return Err(e.error).with_context(|| format!("renaming into {}", path.display()));
        }
        if let Some(dir) = path.parent().filter(|d| !folders.iter().any(|f| f == d)) {
            folders.push(dir.to_path_buf());
        }
        done.push((path, original));
    }
    flush_renames(root, &folders).context("flushing the renamed files to disk")
}

/// Makes the written contents of `files` durable. On Linux one `syncfs` of the file system that
/// holds `root` does it for all of them at once (one journal commit and one disk-cache flush,
/// where a `fsync` per file costs one each: 4.5 ms a file on this kind of disk); elsewhere each
/// file is synced.
fn flush(root: &Path, files: &[&std::fs::File]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let _ = files;
        rustix::fs::syncfs(std::fs::File::open(root)?)?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = root;
        for f in files {
            f.sync_all()?;
        }
    }
    Ok(())
}

/// Makes the renames into `folders` durable: the folder entries are on disk, not only the files'
/// contents.
fn flush_renames(root: &Path, folders: &[PathBuf]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let _ = folders;
        rustix::fs::syncfs(std::fs::File::open(root)?)?;
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        let _ = root;
        for dir in folders {
            std::fs::File::open(dir)?.sync_all()?;
        }
    }
    #[cfg(not(unix))]
    {
        // Windows: a rename is made durable by the file system's own journal; folders cannot be
        // opened for syncing.
        let _ = (root, folders);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_are_all_or_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), "keep").unwrap();
        let files = vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ];
        assert!(write_new_files(dir.path(), &files).is_err());
        assert!(!dir.path().join("a").exists());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b")).unwrap(),
            "keep"
        );
    }

    #[test]
    fn changes_replace_and_create() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "old").unwrap();
        write_changes(
            dir.path(),
            &[
                ("a".into(), b"new".to_vec()),
                ("sub/b".into(), b"b".to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sub/b")).unwrap(),
            "b"
        );
    }
}
