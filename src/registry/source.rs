//! Where registry files come from: a folder on disk, or a tree at a git revision.
//!
//! The loader reads through the [`Source`] trait only, so the same code loads the working tree
//! (`validate`) and both sides of a pull request (`check`, via git2, without a checkout).
//! Paths are repository-relative with `/` separators. Neither source follows a link or a path
//! out of the repository: such a path is reported as [`ReadError::Escapes`].

use crate::registry::types::Sha256;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// What a folder entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a link to one inside the repository).
    File,
    /// A folder (or a link to one inside the repository).
    Dir,
    /// A link whose target is outside the repository; never followed.
    Escapes(String),
}

/// One entry of a folder listing.
#[derive(Clone, Debug)]
pub struct DirEntry {
    /// The file name.
    pub name: String,
    /// Its kind.
    pub kind: EntryKind,
}

/// Why a path could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Nothing there.
    #[error("no such file")]
    NotFound,
    /// The path, or a link on it, leads outside the repository.
    #[error("it leads outside the repository (to {0}); modelgate does not follow it")]
    Escapes(String),
    /// Larger than the caller's limit.
    #[error("it is {size} bytes, more than the {limit} bytes a registry file may have")]
    TooLarge {
        /// Actual size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A read-only view of a repository's files.
pub trait Source: Send + Sync {
    /// A description for messages: the folder, or the revision and commit.
    fn describe(&self) -> String;

    /// The entries of a folder, sorted by name; an empty list when it does not exist.
    fn list(&self, dir: &str) -> Result<Vec<DirEntry>, ReadError>;

    /// The bytes of a file, refusing files larger than `limit`.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError>;

    /// The sha256 of a file, streamed: large artifacts are never read whole into memory.
    fn sha256(&self, path: &str) -> Result<Sha256, ReadError>;

    /// Whether a file exists (following links inside the repository).
    fn is_file(&self, path: &str) -> bool;

    /// A content fingerprint of a folder when the source has one cheaply (git's tree id):
    /// two folders with the same fingerprint hold the same files.
    fn fingerprint(&self, _dir: &str) -> Option<String> {
        None
    }
}

/// Normalizes a repository-relative path lexically: no absolute paths, no `..` above the root.
pub fn normalize(path: &str) -> Result<String, ReadError> {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(ReadError::Escapes(path.to_string()));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ReadError::Escapes(path.to_string()));
            }
        }
    }
    Ok(parts.join("/"))
}

/// A registry in a folder on disk.
pub struct FsSource {
    root: PathBuf,
    /// Folders (repository-relative) known to contain no link on their way from the root:
    /// their files need one `lstat` rather than a full `canonicalize`.
    plain_dirs: std::sync::RwLock<std::collections::HashSet<String>>,
}

impl FsSource {
    /// A source rooted at `root` (made canonical, so that link targets can be compared).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Ok(FsSource {
            root: root.canonicalize()?,
            plain_dirs: Default::default(),
        })
    }

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether a relative folder path has no symbolic link on it (cached).
    fn is_plain_dir(&self, rel: &str) -> bool {
        if rel.is_empty() {
            return true;
        }
        if self.plain_dirs.read().is_ok_and(|s| s.contains(rel)) {
            return true;
        }
        let (parent, _) = rel.rsplit_once('/').unwrap_or(("", rel));
        let plain = self.is_plain_dir(parent)
            && std::fs::symlink_metadata(self.root.join(rel)).is_ok_and(|m| m.is_dir());
        if plain {
            if let Ok(mut s) = self.plain_dirs.write() {
                s.insert(rel.to_string());
            }
        }
        plain
    }

    /// The real path of a repository path, after checking that it stays inside the root.
    fn resolve(&self, path: &str) -> Result<PathBuf, ReadError> {
        let rel = normalize(path)?;
        let full = self.root.join(&rel);
        // Fast path: a regular file or folder in a folder with no link on its way.
        let (parent, _) = rel.rsplit_once('/').unwrap_or(("", &rel));
        if self.is_plain_dir(parent) {
            match std::fs::symlink_metadata(&full) {
                Ok(m) if !m.file_type().is_symlink() => return Ok(full),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ReadError::NotFound);
                }
                _ => {}
            }
        }
        match full.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Ok(real),
            Ok(real) => Err(ReadError::Escapes(real.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling link is reported as escaping if it points outside, else missing.
                match std::fs::read_link(&full) {
                    Ok(target) if target.is_absolute() || !self.inside_lexically(&rel, &target) => {
                        Err(ReadError::Escapes(target.display().to_string()))
                    }
                    _ => Err(ReadError::NotFound),
                }
            }
            Err(e) => Err(ReadError::Other(e.to_string())),
        }
    }

    fn inside_lexically(&self, rel: &str, target: &Path) -> bool {
        let parent = Path::new(rel).parent().unwrap_or(Path::new(""));
        normalize(&parent.join(target).to_string_lossy()).is_ok()
    }
}

impl Source for FsSource {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self, dir: &str) -> Result<Vec<DirEntry>, ReadError> {
        let real = match self.resolve(dir) {
            Ok(p) => p,
            Err(ReadError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let rd = match std::fs::read_dir(&real) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ReadError::Other(e.to_string())),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| ReadError::Other(e.to_string()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let ft = entry
                .file_type()
                .map_err(|e| ReadError::Other(e.to_string()))?;
            let kind = if ft.is_symlink() {
                let rel = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                match self.resolve(&rel) {
                    Ok(p) if p.is_dir() => EntryKind::Dir,
                    Ok(_) => EntryKind::File,
                    Err(ReadError::Escapes(t)) => EntryKind::Escapes(t),
                    Err(_) => continue,
                }
            } else if ft.is_dir() {
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            out.push(DirEntry { name, kind });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let real = self.resolve(path)?;
        let f = std::fs::File::open(&real).map_err(|e| ReadError::Other(e.to_string()))?;
        let size = f
            .metadata()
            .map_err(|e| ReadError::Other(e.to_string()))?
            .len();
        if size > limit {
            return Err(ReadError::TooLarge { size, limit });
        }
        let mut buf = Vec::with_capacity(size as usize);
        f.take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| ReadError::Other(e.to_string()))?;
        Ok(buf)
    }

    fn sha256(&self, path: &str) -> Result<Sha256, ReadError> {
        let real = self.resolve(path)?;
        let f = std::fs::File::open(&real).map_err(|e| ReadError::Other(e.to_string()))?;
        hash_reader(f).map_err(|e| ReadError::Other(e.to_string()))
    }

    fn is_file(&self, path: &str) -> bool {
        self.resolve(path).map(|p| p.is_file()).unwrap_or(false)
    }
}

/// The sha256 of everything a reader yields, in 64 KiB chunks.
pub fn hash_reader(mut r: impl Read) -> std::io::Result<Sha256> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Sha256(h.finalize().into()))
}

/// A registry at a git revision, read from the object database without a checkout.
pub struct GitSource {
    /// Where the repository is, to open more handles.
    path: std::path::PathBuf,
    /// Open handles, one per thread at work: libgit2 handles must not be shared between threads,
    /// and a single locked one would make parallel loading serial.
    pool: Mutex<Vec<git2::Repository>>,
    /// Every path in the tree, with its blob id and file mode.
    entries: BTreeMap<String, (git2::Oid, i32)>,
    /// Every folder in the tree.
    dirs: BTreeMap<String, git2::Oid>,
    description: String,
    commit: git2::Oid,
}

/// Git's file mode of a symbolic link.
const MODE_LINK: i32 = 0o120000;

impl GitSource {
    /// Opens the tree of `rev` (any revision git understands: a sha, a branch, `HEAD~1`).
    pub fn open(repo_path: &Path, rev: &str) -> Result<Self, git2::Error> {
        let repo = git2::Repository::open(repo_path)?;
        let commit = repo.revparse_single(rev)?.peel_to_commit()?;
        let tree = commit.tree()?;
        let mut entries = BTreeMap::new();
        let mut dirs = BTreeMap::new();
        dirs.insert(String::new(), tree.id());
        tree.walk(git2::TreeWalkMode::PreOrder, |prefix, entry| {
            let name = entry.name().unwrap_or_default();
            let path = format!("{prefix}{name}");
            match entry.kind() {
                Some(git2::ObjectType::Tree) => {
                    dirs.insert(path, entry.id());
                }
                Some(git2::ObjectType::Blob) => {
                    entries.insert(path, (entry.id(), entry.filemode()));
                }
                _ => {}
            }
            git2::TreeWalkResult::Ok
        })?;
        let short = commit.id().to_string()[..12].to_string();
        let commit_id = commit.id();
        drop(tree);
        drop(commit);
        Ok(GitSource {
            path: repo_path.to_path_buf(),
            pool: Mutex::new(vec![repo]),
            entries,
            dirs,
            description: format!("{rev} ({short})"),
            commit: commit_id,
        })
    }

    /// The commit the tree belongs to.
    pub fn commit(&self) -> git2::Oid {
        self.commit
    }

    /// Runs `f` with a repository handle of this thread's own (from the pool, or opened).
    fn with_repo<T>(
        &self,
        f: impl FnOnce(&git2::Repository) -> Result<T, ReadError>,
    ) -> Result<T, ReadError> {
        let pooled = self.pool.lock().ok().and_then(|mut p| p.pop());
        let repo = match pooled {
            Some(r) => r,
            None => git2::Repository::open(&self.path)
                .map_err(|e| ReadError::Other(e.message().to_string()))?,
        };
        let result = f(&repo);
        if let Ok(mut p) = self.pool.lock() {
            p.push(repo);
        }
        result
    }

    fn blob(&self, oid: git2::Oid) -> Result<Vec<u8>, ReadError> {
        self.with_repo(|repo| {
            let blob = repo
                .find_blob(oid)
                .map_err(|e| ReadError::Other(e.message().to_string()))?;
            Ok(blob.content().to_vec())
        })
    }

    fn blob_size(&self, oid: git2::Oid) -> Result<u64, ReadError> {
        self.with_repo(|repo| {
            let odb = repo
                .odb()
                .map_err(|e| ReadError::Other(e.message().to_string()))?;
            let (size, _) = odb
                .read_header(oid)
                .map_err(|e| ReadError::Other(e.message().to_string()))?;
            Ok(size as u64)
        })
    }

    /// Follows links (up to a few hops) to the path of a regular blob or folder.
    fn resolve(&self, path: &str) -> Result<String, ReadError> {
        let mut current = normalize(path)?;
        for _ in 0..8 {
            // A link may sit on any component of the path.
            let mut prefix = String::new();
            let mut redirected = None;
            let parts: Vec<&str> = current.split('/').collect();
            for (i, part) in parts.iter().enumerate() {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                if let Some((oid, mode)) = self.entries.get(&prefix) {
                    if *mode == MODE_LINK {
                        let target = String::from_utf8_lossy(&self.blob(*oid)?).into_owned();
                        let parent = Path::new(&prefix).parent().unwrap_or(Path::new(""));
                        let joined = parent.join(&target);
                        let resolved = if Path::new(&target).is_absolute() {
                            return Err(ReadError::Escapes(target));
                        } else {
                            normalize(&joined.to_string_lossy())
                                .map_err(|_| ReadError::Escapes(target.clone()))?
                        };
                        let rest = parts[i + 1..].join("/");
                        redirected = Some(if rest.is_empty() {
                            resolved
                        } else {
                            format!("{resolved}/{rest}")
                        });
                        break;
                    }
                }
            }
            match redirected {
                Some(next) => current = next,
                None => return Ok(current),
            }
        }
        Err(ReadError::Other(format!(
            "too many levels of links at {path}"
        )))
    }
}

impl Source for GitSource {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn list(&self, dir: &str) -> Result<Vec<DirEntry>, ReadError> {
        let dir = match self.resolve(dir) {
            Ok(d) => d,
            Err(ReadError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut out = Vec::new();
        let child = |p: &str| -> Option<String> {
            let rest = p.strip_prefix(&prefix)?;
            (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_string())
        };
        for (d, _) in self.dirs.range(prefix.clone()..) {
            if !d.starts_with(&prefix) {
                break;
            }
            if let Some(name) = child(d) {
                out.push(DirEntry {
                    name,
                    kind: EntryKind::Dir,
                });
            }
        }
        for (p, (_, mode)) in self.entries.range(prefix.clone()..) {
            if !p.starts_with(&prefix) {
                break;
            }
            if let Some(name) = child(p) {
                let kind = if *mode == MODE_LINK {
                    match self.resolve(p) {
                        Ok(target) if self.dirs.contains_key(&target) => EntryKind::Dir,
                        Ok(_) => EntryKind::File,
                        Err(ReadError::Escapes(t)) => EntryKind::Escapes(t),
                        Err(_) => continue,
                    }
                } else {
                    EntryKind::File
                };
                out.push(DirEntry { name, kind });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let path = self.resolve(path)?;
        let (oid, _) = *self.entries.get(&path).ok_or(ReadError::NotFound)?;
        let size = self.blob_size(oid)?;
        if size > limit {
            return Err(ReadError::TooLarge { size, limit });
        }
        self.blob(oid)
    }

    fn sha256(&self, path: &str) -> Result<Sha256, ReadError> {
        let path = self.resolve(path)?;
        let (oid, _) = *self.entries.get(&path).ok_or(ReadError::NotFound)?;
        self.with_repo(|repo| {
            let odb = repo
                .odb()
                .map_err(|e| ReadError::Other(e.message().to_string()))?;
            // A streaming reader works for loose objects; packed ones are read whole by libgit2.
            match odb.reader(oid) {
                Ok((reader, _, _)) => {
                    hash_reader(reader).map_err(|e| ReadError::Other(e.to_string()))
                }
                Err(_) => {
                    let blob = repo
                        .find_blob(oid)
                        .map_err(|e| ReadError::Other(e.message().to_string()))?;
                    Ok(Sha256::of(blob.content()))
                }
            }
        })
    }

    fn is_file(&self, path: &str) -> bool {
        self.resolve(path)
            .map(|p| self.entries.contains_key(&p))
            .unwrap_or(false)
    }

    fn fingerprint(&self, dir: &str) -> Option<String> {
        let dir = self.resolve(dir).ok()?;
        self.dirs.get(&dir).map(|oid| oid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_escapes() {
        assert_eq!(normalize("a/./b/../c").unwrap(), "a/c");
        assert!(normalize("../x").is_err());
        assert!(normalize("a/../../x").is_err());
        assert!(normalize("/etc/passwd").is_err());
        assert_eq!(normalize("").unwrap(), "");
    }
}
