//! git, through git2: resolving the two revisions of a pull request, their relation, the
//! commits between them, and the SSH signatures of those commits.
//!
//! Nothing here checks out a tree: registries are read from the object database
//! (`registry::source::GitSource`), which works in a shallow CI clone as long as both commits
//! are present.

use git2::{Oid, Repository};
use std::path::Path;

/// A resolved revision.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rev {
    /// As the user wrote it.
    pub rev: String,
    /// The commit id.
    pub commit: String,
}

/// Why a revision could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// Not a git repository.
    #[error("{path} is not in a git repository: {message}")]
    NotARepo {
        /// The folder.
        path: String,
        /// git's words.
        message: String,
    },
    /// The revision does not resolve to a commit.
    #[error("revision `{rev}` does not exist in this repository ({message})")]
    NoSuchRev {
        /// The revision.
        rev: String,
        /// git's words.
        message: String,
    },
    /// Anything else git reports.
    #[error("git: {0}")]
    Other(#[from] git2::Error),
}

/// Opens the repository that contains `path`.
pub fn open(path: &Path) -> Result<Repository, GitError> {
    Repository::discover(path).map_err(|e| GitError::NotARepo {
        path: path.display().to_string(),
        message: e.message().to_string(),
    })
}

/// The paths (repository-relative, sorted) whose working-tree content differs from HEAD or the
/// index: modified, staged, deleted or new and not ignored. What `check --head HEAD` does not
/// see.
pub fn uncommitted(path: &Path) -> Result<Vec<String>, GitError> {
    let repo = open(path)?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let statuses = repo.statuses(Some(&mut opts))?;
    let mut paths: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Resolves a revision to its commit.
pub fn resolve(repo: &Repository, rev: &str) -> Result<Rev, GitError> {
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| GitError::NoSuchRev {
            rev: rev.to_string(),
            message: e.message().to_string(),
        })?;
    Ok(Rev {
        rev: rev.to_string(),
        commit: commit.id().to_string(),
    })
}

/// Whether `base` is an ancestor of (or equal to) `head`.
pub fn is_ancestor(repo: &Repository, base: &Rev, head: &Rev) -> Result<bool, GitError> {
    let (b, h) = (Oid::from_str(&base.commit)?, Oid::from_str(&head.commit)?);
    Ok(b == h || repo.graph_descendant_of(h, b)?)
}

/// A commit between base and head that changed something under `registry/`.
#[derive(Clone, Debug)]
pub struct RegistryCommit {
    /// Its id.
    pub id: String,
    /// Its summary line.
    pub summary: String,
    /// When it was committed.
    pub time: chrono::DateTime<chrono::Utc>,
    /// The armored signature and the signed bytes, when it is signed.
    pub signature: Option<(String, Vec<u8>)>,
}

/// The commits reachable from head but not from base that touch `registry/`.
pub fn registry_commits(
    repo: &Repository,
    base: &Rev,
    head: &Rev,
) -> Result<Vec<RegistryCommit>, GitError> {
    let mut walk = repo.revwalk()?;
    walk.push(Oid::from_str(&head.commit)?)?;
    walk.hide(Oid::from_str(&base.commit)?)?;
    let mut out = Vec::new();
    for id in walk {
        let id = id?;
        let commit = repo.find_commit(id)?;
        let tree = commit.tree()?;
        let touches = if commit.parent_count() == 0 {
            tree.get_path(Path::new("registry")).is_ok()
        } else {
            let mut any = false;
            for parent in commit.parents() {
                let mut opts = git2::DiffOptions::new();
                opts.pathspec("registry");
                let diff =
                    repo.diff_tree_to_tree(Some(&parent.tree()?), Some(&tree), Some(&mut opts))?;
                any |= diff.deltas().len() > 0;
            }
            any
        };
        if !touches {
            continue;
        }
        let signature = repo
            .extract_signature(&id, None)
            .ok()
            .map(|(sig, data)| (String::from_utf8_lossy(&sig).into_owned(), data.to_vec()));
        out.push(RegistryCommit {
            id: id.to_string(),
            summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                .into_owned(),
            time: chrono::DateTime::from_timestamp(commit.time().seconds(), 0).unwrap_or_default(),
            signature,
        });
    }
    Ok(out)
}
