//! Where registry files come from: a folder on disk, or a tree at a git revision.
//!
//! The loader reads through the [`Source`] trait only, so the same code loads the working tree
//! (`validate`) and both sides of a pull request (`check`, via git2, without a checkout).
//! Paths are repository-relative with `/` separators.
//!
//! **Plain files only.** Neither source follows a symbolic link, anywhere on a path: a link, a
//! submodule (git's gitlink) or any other entry that is not a regular file or folder is
//! reported as [`EntryKind::NotPlain`] / [`ReadError::NotPlain`], never read through. A link
//! would let one path's content change while the file the registry names keeps its bytes (and
//! its git tree id), so the rule is the same for a folder on disk and a git revision. A path
//! that climbs out of the repository lexically (`..`, absolute) is [`ReadError::Escapes`].

use crate::registry::types::Sha256;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// What a folder entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// Anything else — a symbolic link, a submodule, a FIFO or device — described in words
    /// ("a symbolic link to ../x"); never followed or read.
    NotPlain(String),
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
    /// The path climbs out of the repository (`..` above the root, or absolute).
    #[error("it leads outside the repository (to {0}); modelgate does not follow it")]
    Escapes(String),
    /// The path, or a folder on it, is not a regular file or folder (a symbolic link, a
    /// submodule, a special file). `at` is the entry that is not plain.
    #[error("{at} is {what}; modelgate reads plain files only")]
    NotPlain {
        /// The repository path of the entry.
        at: String,
        /// What it is, in words.
        what: String,
    },
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

    /// Whether a plain file exists at the path.
    fn is_file(&self, path: &str) -> bool;

    /// The digest of a file ([`Source::sha256`]) or of a folder ([`Sha256::of_tree`] of every
    /// plain file under it): an artifact may be an MLflow model folder. An entry that is not
    /// plain (a link) anywhere under the folder is an error, as for a file.
    fn digest(&self, path: &str) -> Result<Sha256, ReadError> {
        if self.is_file(path) {
            return self.sha256(path);
        }
        let mut files = Vec::new();
        let mut stack = vec![(path.trim_end_matches('/').to_string(), String::new())];
        let mut found_dir = false;
        while let Some((dir, rel)) = stack.pop() {
            let entries = self.list(&dir)?;
            found_dir |= !entries.is_empty();
            for e in entries {
                let full = format!("{dir}/{}", e.name);
                let r = if rel.is_empty() {
                    e.name.clone()
                } else {
                    format!("{rel}/{}", e.name)
                };
                match e.kind {
                    EntryKind::File => files.push((r, self.sha256(&full)?)),
                    EntryKind::Dir => stack.push((full, r)),
                    EntryKind::NotPlain(what) => {
                        return Err(ReadError::NotPlain { at: full, what });
                    }
                }
            }
        }
        if !found_dir {
            // Neither a file nor a folder with files: the file's own error.
            return self.sha256(path);
        }
        let root = path.trim_end_matches('/');
        Sha256::of_tree(&files).map_err(|odd| ReadError::NotPlain {
            at: format!("{root}/{}", odd.0.escape_debug()),
            what: "a file whose name holds a line break, another control character or a backslash, which a folder digest cannot list unambiguously".into(),
        })
    }

    /// A content fingerprint of a folder or a file when the source has one cheaply (git's tree
    /// or blob id): two with the same fingerprint hold the same bytes.
    fn fingerprint(&self, _path: &str) -> Option<String> {
        None
    }

    /// At most `len` bytes of a file from `start` (counted from its end when `from_end`), and
    /// the file's size: a Parquet footer or a CSV header without the data. A folder reads only
    /// those bytes; the default reads the whole file (a git blob is read whole anyway).
    fn read_range(
        &self,
        path: &str,
        start: u64,
        len: u64,
        from_end: bool,
    ) -> Result<(Vec<u8>, u64), ReadError> {
        let all = self.read(path, u64::MAX)?;
        let size = all.len() as u64;
        let from = if from_end {
            size.saturating_sub(start.saturating_add(len))
        } else {
            start.min(size)
        };
        let to = if from_end {
            size.saturating_sub(start)
        } else {
            from.saturating_add(len).min(size)
        };
        Ok((all[from as usize..to as usize].to_vec(), size))
    }
}

/// Where a URI in a registry file points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A repository-relative path (normalized).
    Local(String),
    /// Somewhere modelgate does not read (`s3://…`, `runs:/…`).
    Remote,
}

/// Classifies a URI: a scheme means remote; an absolute path or one that climbs out of the
/// repository is refused.
pub fn locate(uri: &str) -> Result<Location, crate::diag::Code> {
    if uri.contains("://") || uri.starts_with("runs:/") || uri.starts_with("models:/") {
        return Ok(Location::Remote);
    }
    if uri.starts_with('/') || uri.starts_with('\\') || uri.get(1..2) == Some(":") {
        return Err(crate::diag::Code::AbsolutePath);
    }
    normalize(uri)
        .map(Location::Local)
        .map_err(|_| crate::diag::Code::SymlinkEscape)
}

/// Whether a tree entry's name can be one component of a repository path: not empty, not `.`
/// or `..`, no `/`.
fn is_path_component(name: &str) -> bool {
    !matches!(name, "" | "." | "..") && !name.contains('/')
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
    /// Folders (repository-relative) known to be plain folders all the way from the root:
    /// their files need one `lstat` each.
    plain_dirs: std::sync::RwLock<std::collections::HashSet<String>>,
}

/// What a non-plain entry on disk is, in words.
fn describe_fs(full: &Path, ft: std::fs::FileType) -> String {
    if ft.is_symlink() {
        match std::fs::read_link(full) {
            Ok(t) => format!("a symbolic link to {}", t.display()),
            Err(_) => "a symbolic link".into(),
        }
    } else {
        "a special file (not a regular file or folder)".into()
    }
}

impl FsSource {
    /// A source rooted at `root` (made canonical: the root itself may be reached through a
    /// link; nothing below it may).
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

    /// Checks that every component of a relative folder path is a plain folder (cached).
    fn plain_dir(&self, rel: &str) -> Result<(), ReadError> {
        if rel.is_empty() || self.plain_dirs.read().is_ok_and(|s| s.contains(rel)) {
            return Ok(());
        }
        let (parent, _) = rel.rsplit_once('/').unwrap_or(("", rel));
        self.plain_dir(parent)?;
        let full = self.root.join(rel);
        match std::fs::symlink_metadata(&full) {
            Ok(m) if m.is_dir() => {
                if let Ok(mut s) = self.plain_dirs.write() {
                    s.insert(rel.to_string());
                }
                Ok(())
            }
            Ok(m) if m.is_file() => Err(ReadError::NotFound),
            Ok(m) => Err(ReadError::NotPlain {
                at: rel.to_string(),
                what: describe_fs(&full, m.file_type()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ReadError::NotFound),
            Err(e) => Err(ReadError::Other(e.to_string())),
        }
    }

    /// The path of a plain file or folder on disk; links are never followed.
    fn resolve(&self, path: &str) -> Result<PathBuf, ReadError> {
        let rel = normalize(path)?;
        if rel.is_empty() {
            return Ok(self.root.clone());
        }
        let (parent, _) = rel.rsplit_once('/').unwrap_or(("", &rel));
        self.plain_dir(parent)?;
        let full = self.root.join(&rel);
        match std::fs::symlink_metadata(&full) {
            Ok(m) if m.is_file() || m.is_dir() => Ok(full),
            Ok(m) => Err(ReadError::NotPlain {
                at: rel,
                what: describe_fs(&full, m.file_type()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ReadError::NotFound),
            Err(e) => Err(ReadError::Other(e.to_string())),
        }
    }

    /// Opens a plain file for reading, refusing a link that appeared since it was checked.
    fn open(&self, path: &str) -> Result<std::fs::File, ReadError> {
        let real = self.resolve(path)?;
        let f = std::fs::File::open(&real).map_err(|e| ReadError::Other(e.to_string()))?;
        let m = f.metadata().map_err(|e| ReadError::Other(e.to_string()))?;
        if !m.is_file() {
            return Err(ReadError::NotPlain {
                at: normalize(path)?,
                what: "not a regular file".into(),
            });
        }
        Ok(f)
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
            let kind = if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_file() {
                EntryKind::File
            } else {
                EntryKind::NotPlain(describe_fs(&entry.path(), ft))
            };
            out.push(DirEntry { name, kind });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let f = self.open(path)?;
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
        let f = self.open(path)?;
        hash_reader(f).map_err(|e| ReadError::Other(e.to_string()))
    }

    fn is_file(&self, path: &str) -> bool {
        self.resolve(path)
            .is_ok_and(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
    }

    fn read_range(
        &self,
        path: &str,
        start: u64,
        len: u64,
        from_end: bool,
    ) -> Result<(Vec<u8>, u64), ReadError> {
        use std::io::{Seek, SeekFrom};
        let mut f = self.open(path)?;
        let other = |e: std::io::Error| ReadError::Other(e.to_string());
        let size = f.metadata().map_err(other)?.len();
        let (from, to) = if from_end {
            (
                size.saturating_sub(start.saturating_add(len)),
                size.saturating_sub(start),
            )
        } else {
            (start.min(size), start.saturating_add(len).min(size))
        };
        f.seek(SeekFrom::Start(from)).map_err(other)?;
        let mut buf = Vec::with_capacity((to - from) as usize);
        f.take(to - from).read_to_end(&mut buf).map_err(other)?;
        Ok((buf, size))
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
    /// Every path in the tree, with its blob id and file mode (links included).
    entries: BTreeMap<String, (git2::Oid, i32)>,
    /// Submodules (gitlinks): entries that are neither a blob nor a tree.
    gitlinks: BTreeMap<String, git2::Oid>,
    /// Entries refused by their names, with why: a name that is not UTF-8 (shown lossily),
    /// one no repository path has (`..`), one its folder holds twice.
    bad_names: BTreeMap<String, &'static str>,
    /// Every folder in the tree.
    dirs: BTreeMap<String, git2::Oid>,
    description: String,
    commit: git2::Oid,
}

/// Git's file mode of a symbolic link.
const MODE_LINK: i32 = 0o120000;
/// Git's file modes of a regular file, an executable one, and the group-writable file mode that
/// old versions of git wrote.
const MODE_FILE: i32 = 0o100644;
const MODE_EXEC: i32 = 0o100755;
const MODE_GROUP_WRITABLE: i32 = 0o100664;

impl GitSource {
    /// Opens the tree of `rev` (any revision git understands: a sha, a branch, `HEAD~1`).
    pub fn open(repo_path: &Path, rev: &str) -> Result<Self, git2::Error> {
        let repo = git2::Repository::open(repo_path)?;
        let commit = repo.revparse_single(rev)?.peel_to_commit()?;
        let tree = commit.tree()?;
        let mut entries = BTreeMap::new();
        let mut dirs = BTreeMap::new();
        let mut gitlinks = BTreeMap::new();
        let mut bad_names = BTreeMap::new();
        dirs.insert(String::new(), tree.id());
        tree.walk(git2::TreeWalkMode::PreOrder, |prefix, entry| {
            let Ok(name) = entry.name() else {
                // Never invisible: a name that is not UTF-8 is an entry modelgate refuses.
                let lossy = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                bad_names.insert(
                    format!("{prefix}{lossy}"),
                    "an entry whose name is not valid UTF-8",
                );
                return git2::TreeWalkResult::Skip;
            };
            if !is_path_component(name) {
                // A hand-made tree can hold `..`, `.`, an empty name or one with a `/`, which git
                // never writes and libgit2 reads: as a folder, `..` would lead a walk back up
                // (forever) and a copy above where it copies to. An entry modelgate refuses.
                bad_names.insert(
                    format!("{prefix}{name}"),
                    "an entry whose name is `.`, `..`, empty or holds a `/`",
                );
                return git2::TreeWalkResult::Skip;
            }
            let path = format!("{prefix}{name}");
            if dirs.contains_key(&path)
                || entries.contains_key(&path)
                || gitlinks.contains_key(&path)
                || bad_names.contains_key(&path)
            {
                // A hand-made tree can name two entries alike (git never writes that): which
                // one a reader sees is the reader's choice (a checkout's, GitHub's, this walk's),
                // so neither is read.
                dirs.remove(&path);
                entries.remove(&path);
                gitlinks.remove(&path);
                bad_names.insert(path, "an entry whose folder names it twice");
                return git2::TreeWalkResult::Skip;
            }
            match entry.kind() {
                Some(git2::ObjectType::Tree) => {
                    dirs.insert(path, entry.id());
                }
                Some(git2::ObjectType::Blob) => {
                    entries.insert(path, (entry.id(), entry.filemode()));
                }
                _ => {
                    gitlinks.insert(path, entry.id());
                }
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
            gitlinks,
            bad_names,
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

    /// What a non-plain entry of the tree is, in words, or `None` for a blob or a tree.
    fn not_plain(&self, path: &str) -> Option<String> {
        if let Some(what) = self.bad_names.get(path) {
            return Some((*what).into());
        }
        if let Some(oid) = self.gitlinks.get(path) {
            return Some(format!("a submodule (gitlink to commit {oid})"));
        }
        match self.entries.get(path) {
            Some((oid, mode)) if *mode == MODE_LINK => Some(match self.blob(*oid) {
                Ok(t) => format!("a symbolic link to {}", String::from_utf8_lossy(&t)),
                Err(_) => "a symbolic link".into(),
            }),
            Some((_, mode)) if ![MODE_FILE, MODE_EXEC, MODE_GROUP_WRITABLE].contains(mode) => {
                Some(format!("an entry of git mode {mode:o}"))
            }
            _ => None,
        }
    }

    /// The normalized path, after checking that neither it nor a folder on it is a link or a
    /// submodule; links are never followed.
    fn resolve(&self, path: &str) -> Result<String, ReadError> {
        let current = normalize(path)?;
        let mut end = 0;
        while end < current.len() {
            end = current[end..]
                .find('/')
                .map(|i| end + i)
                .unwrap_or(current.len());
            let prefix = &current[..end];
            if let Some(what) = self.not_plain(prefix) {
                return Err(ReadError::NotPlain {
                    at: prefix.to_string(),
                    what,
                });
            }
            end += 1;
        }
        Ok(current)
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
        for (p, _) in self.entries.range(prefix.clone()..) {
            if !p.starts_with(&prefix) {
                break;
            }
            if let Some(name) = child(p) {
                let kind = match self.not_plain(p) {
                    Some(what) => EntryKind::NotPlain(what),
                    None => EntryKind::File,
                };
                out.push(DirEntry { name, kind });
            }
        }
        for (p, _) in self.bad_names.range(prefix.clone()..) {
            if !p.starts_with(&prefix) {
                break;
            }
            if let Some(name) = child(p) {
                let what = self.not_plain(p).unwrap_or_default();
                out.push(DirEntry {
                    name,
                    kind: EntryKind::NotPlain(what),
                });
            }
        }
        for (p, _) in self.gitlinks.range(prefix.clone()..) {
            if !p.starts_with(&prefix) {
                break;
            }
            if let Some(name) = child(p) {
                let what = self.not_plain(p).unwrap_or_default();
                out.push(DirEntry {
                    name,
                    kind: EntryKind::NotPlain(what),
                });
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

    fn fingerprint(&self, path: &str) -> Option<String> {
        let path = self.resolve(path).ok()?;
        self.dirs
            .get(&path)
            .or_else(|| self.entries.get(&path).map(|(oid, _)| oid))
            .map(|oid| oid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit whose hand-made trees hold entries named `..` (git never writes them; libgit2
    /// reads them). Listed as they were folders, `ref/..` would resolve to the root: a folder
    /// digest (`check`, `validate`) would walk `ref/../ref/..` forever, and `serve`'s copy of
    /// reference data likewise. They are entries modelgate refuses: the digest is an error, the
    /// copy finds nothing and writes nothing.
    #[test]
    fn tree_entries_no_path_has_are_not_plain() {
        let outer = tempfile::tempdir().unwrap();
        let repo_dir = outer.path().join("repo");
        let repo = git2::Repository::init(&repo_dir).unwrap();
        let odb = repo.odb().unwrap();
        let blob = odb.write(git2::ObjectType::Blob, b"payload").unwrap();
        let tree = |mode: &str, name: &str, oid: git2::Oid| -> git2::Oid {
            let mut raw = format!("{mode} {name}\0").into_bytes();
            raw.extend(oid.as_bytes());
            odb.write(git2::ObjectType::Tree, &raw).unwrap()
        };
        let v = tree("100644", "evil.parquet", blob);
        let u = tree("40000", "..", v);
        let r = tree("40000", "..", u);
        let root = repo.find_tree(tree("40000", "ref", r)).unwrap();
        let sig = git2::Signature::now("t", "t@localhost").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "crafted", &root, &[])
            .unwrap();
        let src = GitSource::open(&repo_dir, "HEAD").unwrap();
        let listed = src.list("ref").unwrap();
        assert_eq!(listed.len(), 1);
        assert!(
            matches!(&listed[0].kind, EntryKind::NotPlain(w) if w.contains("`..`")),
            "{:?}",
            listed[0].kind
        );
        assert!(matches!(
            src.digest("ref"),
            Err(ReadError::NotPlain { at, .. }) if at == "ref/.."
        ));
        let into = outer.path().join("copy").join("into");
        std::fs::create_dir_all(&into).unwrap();
        assert!(crate::monitor::data::export_from_source("ref/**/*.parquet", &src, &into).is_err());
        assert!(!outer.path().join("copy/evil.parquet").exists());
        assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0);
    }

    /// A hand-made tree holding `aliases.yaml` twice, with two contents (git never writes
    /// that; a checkout, GitHub and libgit2 may each show another one): neither is read.
    #[test]
    fn an_entry_named_twice_is_not_plain() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let mut raw = Vec::new();
        for text in ["champion: 3\n", "champion: 4\n"] {
            let blob = odb.write(git2::ObjectType::Blob, text.as_bytes()).unwrap();
            raw.extend(b"100644 aliases.yaml\0");
            raw.extend(blob.as_bytes());
        }
        let inner = odb.write(git2::ObjectType::Tree, &raw).unwrap();
        let mut root = repo.treebuilder(None).unwrap();
        root.insert("m", inner, 0o040000).unwrap();
        let root = repo.find_tree(root.write().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@localhost").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "twice", &root, &[])
            .unwrap();
        let src = GitSource::open(dir.path(), "HEAD").unwrap();
        assert!(matches!(
            src.read("m/aliases.yaml", 1 << 20),
            Err(ReadError::NotPlain { what, .. }) if what.contains("twice")
        ));
        assert!(!src.is_file("m/aliases.yaml"));
        let listed = src.list("m").unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert!(matches!(&listed[0].kind, EntryKind::NotPlain(w) if w.contains("twice")));
    }

    #[test]
    fn uri_locations() {
        assert_eq!(locate("s3://b/k"), Ok(Location::Remote));
        assert_eq!(locate("runs:/abc/model"), Ok(Location::Remote));
        assert_eq!(
            locate("examples/./a/model.onnx"),
            Ok(Location::Local("examples/a/model.onnx".into()))
        );
        assert_eq!(locate("/etc/passwd"), Err(crate::diag::Code::AbsolutePath));
        assert_eq!(locate("../../x"), Err(crate::diag::Code::SymlinkEscape));
    }

    #[test]
    fn normalize_refuses_escapes() {
        assert_eq!(normalize("a/./b/../c").unwrap(), "a/c");
        assert!(normalize("../x").is_err());
        assert!(normalize("a/../../x").is_err());
        assert!(normalize("/etc/passwd").is_err());
        assert_eq!(normalize("").unwrap(), "");
    }

    /// A folder's digest is `sha256sum`'s listing hashed (the value below is what
    /// `find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`
    /// prints for this folder), the same from a folder on disk and from a git tree; a file's is
    /// its sha256; a link in the folder is refused.
    #[test]
    fn folder_digests_are_sha256sum_listings_in_both_sources() {
        let want = "8ccc22f1052f3ea9630f6926175a8d316d37e59b1703c1c7940b35ab2d4a9d4f";
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("model");
        std::fs::create_dir_all(m.join("sub")).unwrap();
        std::fs::write(m.join("a.txt"), "a\n").unwrap();
        std::fs::write(m.join("B.txt"), "B\n").unwrap();
        std::fs::write(m.join("sub/b.txt"), "b\n").unwrap();
        let fs = FsSource::new(dir.path()).unwrap();
        assert_eq!(fs.digest("model").unwrap().hex(), want);
        assert_eq!(fs.digest("model/a.txt").unwrap(), Sha256::of(b"a\n"));
        assert!(matches!(fs.digest("nothing"), Err(ReadError::NotFound)));
        crate::synth::commit_all(dir.path(), "model").unwrap();
        let git = GitSource::open(dir.path(), "HEAD").unwrap();
        assert_eq!(git.digest("model").unwrap().hex(), want);
        std::os::unix::fs::symlink("a.txt", m.join("sub/link")).unwrap();
        assert!(matches!(
            fs.digest("model"),
            Err(ReadError::NotPlain { .. })
        ));
    }

    /// A name with a line break (or another control character, or a backslash) cannot stand in
    /// a listing unambiguously: the folder digest refuses it, from a folder and from git alike.
    #[test]
    fn folder_digests_refuse_names_a_listing_cannot_hold() {
        for odd in ["a\nb", "tab\there", "back\\slash"] {
            let dir = tempfile::tempdir().unwrap();
            let m = dir.path().join("model");
            std::fs::create_dir_all(&m).unwrap();
            std::fs::write(m.join("ok.txt"), "ok\n").unwrap();
            std::fs::write(m.join(odd), "x\n").unwrap();
            let fs = FsSource::new(dir.path()).unwrap();
            let Err(ReadError::NotPlain { at, what }) = fs.digest("model") else {
                panic!("{odd:?} was listed");
            };
            assert_eq!(at, format!("model/{}", odd.escape_debug()));
            assert!(what.contains("line break"), "{what}");
            crate::synth::commit_all(dir.path(), "model").unwrap();
            let git = GitSource::open(dir.path(), "HEAD").unwrap();
            assert!(matches!(
                git.digest("model"),
                Err(ReadError::NotPlain { .. })
            ));
        }
    }
}
