//! The registry: a typed model of a registry repository, loaded from a [`Source`].
//!
//! Loading never stops at the first problem. Every file that can be read is read; every file
//! that cannot becomes a diagnostic, and the rest of the registry is still loaded so that one run
//! reports everything. Models load in parallel; parsed YAML trees are dropped as soon as the
//! typed value is built, so memory stays proportional to the typed registry.

pub mod json_schema;
pub mod number;
pub mod policy;
pub mod schema;
pub mod source;
pub mod types;
pub mod version_yaml;
pub mod write;

use crate::audit::{self, AUDIT_PATH};
use crate::diag::{Code, Diagnostic};
use crate::signing::allowed_signers::{AllowedSigners, SIGNERS_PATH};
use crate::yaml::{self, Span, Spanned};
use rayon::prelude::*;
use schema::{ApprovalFile, GovernanceApprovalFile, ModelSpec, Policy, VersionSpec};
use serde::de::DeserializeOwned;
use source::{EntryKind, ReadError, Source};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use types::{Alias, ModelName, Sha256};

/// The largest registry YAML file modelgate reads. Real ones are a few KiB; anything near this
/// is a mistake (a data file committed in the wrong place), and refusing it keeps memory flat.
pub const MAX_YAML_BYTES: u64 = 1024 * 1024;

/// The policy file, whose presence marks a registry repository.
pub const POLICY_PATH: &str = "registry/policy.yaml";

/// Where models live.
pub const MODELS_DIR: &str = "registry/models";

/// Where governance approvals live.
pub const GOVERNANCE_DIR: &str = "registry/governance";

/// Where model cards live.
pub const CARDS_DIR: &str = "model-cards";

/// One version file.
#[derive(Clone, Debug)]
pub struct VersionEntry {
    /// Repository path of the file.
    pub file: String,
    /// The N of `vN.yaml`.
    pub number: u32,
    /// The parsed file.
    pub spec: VersionSpec,
    /// sha256 of the file's bytes (what approvals sign).
    pub digest: Sha256,
}

impl VersionEntry {
    /// Whether the version is archived or deleted (it may then hold no alias).
    pub fn is_retired(&self) -> bool {
        self.spec.archived_at.is_some() || self.spec.deleted_at.is_some()
    }
}

/// A version's lifecycle stage. Stages are derived, never stored: `champion` or `challenger`
/// when that alias points at the version (champion first), else `deleted` when `deleted_at` is
/// set, `archived` when `archived_at` is, else `staging`. Every command that shows a stage
/// (search, list, show, the site) calls this.
pub fn stage(
    champion: Option<u32>,
    challenger: Option<u32>,
    version: u32,
    archived: bool,
    deleted: bool,
) -> &'static str {
    if champion == Some(version) {
        Alias::Champion.as_str()
    } else if challenger == Some(version) {
        Alias::Challenger.as_str()
    } else if deleted {
        "deleted"
    } else if archived {
        "archived"
    } else {
        "staging"
    }
}

impl Model {
    /// The stage of one of this model's versions ([`stage`]).
    pub fn stage_of(&self, v: &VersionEntry) -> &'static str {
        let held = |a| self.aliases.get(&a).map(|x| x.value);
        stage(
            held(Alias::Champion),
            held(Alias::Challenger),
            v.number,
            v.spec.archived_at.is_some(),
            v.spec.deleted_at.is_some(),
        )
    }
}

/// One approval file.
#[derive(Clone, Debug)]
pub struct ApprovalEntry {
    /// Repository path of the file.
    pub file: String,
    /// The parsed file.
    pub approval: ApprovalFile,
}

/// One governance approval file.
#[derive(Clone, Debug)]
pub struct GovernanceApprovalEntry {
    /// Repository path of the file.
    pub file: String,
    /// The parsed file.
    pub approval: GovernanceApprovalFile,
}

/// One model folder.
#[derive(Clone, Debug)]
pub struct Model {
    /// The validated name (the folder name).
    pub name: ModelName,
    /// `registry/models/<name>`.
    pub dir: String,
    /// model.yaml, when it parsed.
    pub spec: Option<ModelSpec>,
    /// aliases.yaml, when present and parsed.
    pub aliases: BTreeMap<Alias, Spanned<u32>>,
    /// Path of aliases.yaml, when present.
    pub aliases_file: Option<String>,
    /// Versions that parsed, by the number in their file name.
    pub versions: BTreeMap<u32, VersionEntry>,
    /// Version numbers whose file exists but did not parse (to avoid follow-on errors).
    pub broken_versions: BTreeSet<u32>,
    /// Approvals that parsed.
    pub approvals: Vec<ApprovalEntry>,
    /// Monitoring result files.
    pub monitoring: Vec<String>,
    /// `model-cards/<name>.md`, when it exists.
    pub card: Option<String>,
    /// The source's fingerprint of the model folder (git's tree id), when it has one.
    pub fingerprint: Option<String>,
    /// What was wrong while loading this model's folder (kept so that a model reused from
    /// another revision brings its diagnostics along).
    pub problems: Vec<Diagnostic>,
}

/// A loaded registry.
pub struct Registry {
    /// Where it was read from.
    pub source: Box<dyn Source>,
    /// policy.yaml, when it parsed.
    pub policy: Option<Policy>,
    /// allowed_signers, when present.
    pub signers: Option<AllowedSigners>,
    /// Governance approvals (`registry/governance/`) that parsed.
    pub governance: Vec<GovernanceApprovalEntry>,
    /// The audit log.
    pub audit: audit::Log,
    /// The audit log's text.
    pub audit_text: String,
    /// Every model with a valid folder name. Shared (`Arc`) so that two revisions of a
    /// registry can hold the same unchanged models once.
    pub models: BTreeMap<ModelName, Arc<Model>>,
    /// How many files were read.
    pub files_read: usize,
}

/// A registry together with what was wrong in it.
pub struct Loaded {
    /// The registry.
    pub registry: Registry,
    /// Problems found while loading.
    pub diagnostics: Vec<Diagnostic>,
}

/// Loading failed before anything could be checked.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No policy file: not a registry.
    #[error("{0} is not a registry repository: {POLICY_PATH} was not found")]
    NoRegistry(String),
    /// The top-level folders could not be read.
    #[error("cannot read {path} in {source_desc}: {error}")]
    Unreadable {
        /// The folder.
        path: String,
        /// The source.
        source_desc: String,
        /// Why.
        error: String,
    },
}

/// What reading one YAML file gave.
enum Read<T> {
    Ok(T, Vec<u8>),
    Missing,
    Failed,
}

/// Reads, decodes and deserializes one YAML file; problems become diagnostics.
fn read_yaml<T: DeserializeOwned>(
    src: &dyn Source,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> Read<T> {
    let bytes = match src.read(path, MAX_YAML_BYTES) {
        Ok(b) => b,
        Err(ReadError::NotFound) => return Read::Missing,
        Err(e) => {
            diags.push(read_error(path, &e));
            return Read::Failed;
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            diags.push(not_utf8(path, &bytes, e));
            return Read::Failed;
        }
    };
    let node = match yaml::parse(text) {
        Ok(n) => n,
        Err(e) => {
            diags.push(Diagnostic::of_yaml_parse(path, e));
            return Read::Failed;
        }
    };
    match yaml::de::from_node_all::<T>(&node) {
        Ok(v) => Read::Ok(v, bytes),
        Err(errors) => {
            diags.extend(
                errors
                    .into_iter()
                    .map(|e| Diagnostic::of_yaml_value(path, e)),
            );
            Read::Failed
        }
    }
}

/// A diagnostic for a file that could not be read.
pub fn read_error(path: &str, e: &ReadError) -> Diagnostic {
    match e {
        ReadError::NotFound => Diagnostic::error(Code::MissingFile, format!("{path} does not exist"))
            .in_file(path),
        ReadError::NotPlain { at, what } => not_plain(at, what),
        ReadError::Escapes(target) => Diagnostic::error(
            Code::SymlinkEscape,
            format!("{path} leads outside the repository (to {target}); it is not followed"),
        )
        .in_file(path)
        .hint("registry files and artifacts must live inside the repository, or be referenced by a URI"),
        ReadError::TooLarge { size, limit } => Diagnostic::error(
            Code::TooLarge,
            format!("{path} is {size} bytes; registry files may have at most {limit} bytes"),
        )
        .in_file(path)
        .hint("keep data out of registry/; reference it from a version file by path and sha256"),
        ReadError::Other(msg) => {
            Diagnostic::error(Code::Io, format!("cannot read {path}: {msg}")).in_file(path)
        }
    }
}

/// A diagnostic for an entry that is not a plain file or folder.
pub fn not_plain(path: &str, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::NotPlainFile,
        format!("{path} is {what}; modelgate reads plain files only and does not follow it"),
    )
    .in_file(path)
    .hint("replace it with the file itself (`git rm` the link and add a regular file); registry files, model cards and every file the registry names must be plain files")
}

fn not_utf8(path: &str, bytes: &[u8], e: std::str::Utf8Error) -> Diagnostic {
    let good = &bytes[..e.valid_up_to()];
    // The prefix is valid UTF-8 by definition of valid_up_to.
    let prefix = std::str::from_utf8(good).unwrap_or_default();
    let line = prefix.matches('\n').count() as u32 + 1;
    let col = prefix.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
    let pos = yaml::Pos {
        line,
        column: col,
        offset: e.valid_up_to(),
    };
    Diagnostic::error(
        Code::NotUtf8,
        format!(
            "{path} is not UTF-8 text: invalid byte 0x{:02x} at line {line}, column {col}",
            bytes[e.valid_up_to()]
        ),
    )
    .in_file(path)
    .at(Span {
        start: pos,
        end: pos,
    })
    .hint("save the file as UTF-8")
}

/// Loads a registry. Fails only when the source is not a registry at all.
pub fn load(src: Box<dyn Source>) -> Result<Loaded, LoadError> {
    load_reusing(src, None)
}

/// Loads a registry, taking every model whose folder has the same fingerprint in `previous`
/// (another revision of the same repository) from there instead of parsing it again: the head
/// of a pull request costs only what it changes.
pub fn load_reusing(
    src: Box<dyn Source>,
    previous: Option<&Registry>,
) -> Result<Loaded, LoadError> {
    load_inner(src, previous, None)
}

/// Loads the registry's policy, signers and audit log, and only the models named in `only`
/// (the site's incremental rebuild loads just the models whose files changed).
pub fn load_only(src: Box<dyn Source>, only: &BTreeSet<ModelName>) -> Result<Loaded, LoadError> {
    load_inner(src, None, Some(only))
}

fn load_inner(
    src: Box<dyn Source>,
    previous: Option<&Registry>,
    only: Option<&BTreeSet<ModelName>>,
) -> Result<Loaded, LoadError> {
    let mut diags = Vec::new();
    let mut files_read = 0usize;
    let policy = match read_yaml::<Policy>(src.as_ref(), POLICY_PATH, &mut diags) {
        Read::Ok(p, _) => Some(p),
        Read::Missing => return Err(LoadError::NoRegistry(src.describe())),
        Read::Failed => None,
    };
    files_read += 1;

    let signers = match src.read(SIGNERS_PATH, MAX_YAML_BYTES) {
        Ok(bytes) => {
            files_read += 1;
            match String::from_utf8(bytes) {
                Ok(text) => {
                    let (signers, errors) = AllowedSigners::parse(&text);
                    for e in errors {
                        diags.push(
                            Diagnostic::error(Code::SignersSyntax, e.message)
                                .in_file(SIGNERS_PATH)
                                .at(Span::of_line(&text, e.line)),
                        );
                    }
                    Some(signers)
                }
                Err(e) => {
                    diags.push(not_utf8(SIGNERS_PATH, e.as_bytes(), e.utf8_error()));
                    None
                }
            }
        }
        Err(ReadError::NotFound) => {
            diags.push(
                Diagnostic::error(Code::MissingFile, format!("{SIGNERS_PATH} does not exist"))
                    .in_file(SIGNERS_PATH)
                    .hint("create it, even empty: approvals are verified against it"),
            );
            None
        }
        Err(e) => {
            diags.push(read_error(SIGNERS_PATH, &e));
            None
        }
    };

    // The audit log can legitimately grow large; it is not YAML and is not size-limited.
    // It is parsed below, alongside the models.
    let audit_text = match src.read(AUDIT_PATH, u64::MAX) {
        Ok(bytes) => {
            files_read += 1;
            match String::from_utf8(bytes) {
                Ok(text) => Some(text),
                Err(e) => {
                    diags.push(not_utf8(AUDIT_PATH, e.as_bytes(), e.utf8_error()));
                    None
                }
            }
        }
        Err(ReadError::NotFound) => {
            diags.push(
                Diagnostic::error(Code::MissingFile, format!("{AUDIT_PATH} does not exist"))
                    .in_file(AUDIT_PATH)
                    .hint("create it empty; modelgate appends to it"),
            );
            None
        }
        Err(e) => {
            diags.push(read_error(AUDIT_PATH, &e));
            None
        }
    };

    let mut governance = Vec::new();
    for f in list_files(src.as_ref(), GOVERNANCE_DIR, &mut diags) {
        let path = format!("{GOVERNANCE_DIR}/{f}");
        if !f.ends_with(".yaml") {
            diags.push(unexpected(
                &path,
                "governance approvals are named <sha256 prefix>-<role>-<principal>.yaml",
            ));
            continue;
        }
        files_read += 1;
        if let Read::Ok(approval, _) =
            read_yaml::<GovernanceApprovalFile>(src.as_ref(), &path, &mut diags)
        {
            governance.push(GovernanceApprovalEntry {
                file: path,
                approval,
            });
        }
    }

    let entries = src.list(MODELS_DIR).map_err(|e| LoadError::Unreadable {
        path: MODELS_DIR.into(),
        source_desc: src.describe(),
        error: e.to_string(),
    })?;
    let mut cards: BTreeSet<String> = BTreeSet::new();
    match src.list(CARDS_DIR) {
        Ok(list) => {
            for e in list {
                match e.kind {
                    EntryKind::File => {
                        cards.insert(e.name);
                    }
                    EntryKind::NotPlain(what) => {
                        diags.push(not_plain(&format!("{CARDS_DIR}/{}", e.name), &what))
                    }
                    EntryKind::Dir => {}
                }
            }
        }
        Err(e) => diags.push(read_error(CARDS_DIR, &e)),
    }

    let mut dirs = Vec::new();
    for e in entries {
        let path = format!("{MODELS_DIR}/{}", e.name);
        if e.name.starts_with('.') {
            continue;
        }
        match e.kind {
            EntryKind::NotPlain(what) => diags.push(not_plain(&path, &what)),
            EntryKind::File => diags.push(
                Diagnostic::warning(
                    Code::UnexpectedFile,
                    format!("{path} is a file; {MODELS_DIR}/ holds one folder per model"),
                )
                .in_file(&path),
            ),
            EntryKind::Dir => match ModelName::new(&e.name) {
                Ok(name) if only.is_some_and(|o| !o.contains(&name)) => {}
                Ok(name) => dirs.push(name),
                Err(err) => diags.push(
                    Diagnostic::error(Code::InvalidModelName, err.to_string())
                        .in_file(&path)
                        .hint("rename the folder (and `name:` in its model.yaml), e.g. `heart_disease`"),
                ),
            },
        }
    }
    if dirs.is_empty() && diags.is_empty() && only.is_none() {
        diags.push(
            Diagnostic::warning(Code::NoModels, "the registry has no models yet")
                .in_file(MODELS_DIR)
                .hint("add one with `modelgate new <model>`"),
        );
    }

    let src_ref = src.as_ref();
    let parse_audit = || {
        let mut audit_diags = Vec::new();
        let log = audit_text
            .as_deref()
            .map(|t| audit::Log::parse(t, &mut audit_diags))
            .unwrap_or_default();
        (log, audit_diags)
    };
    let load_models = || -> Vec<(Arc<Model>, usize)> {
        dirs.into_par_iter()
            .map(|name| {
                let dir = format!("{MODELS_DIR}/{name}");
                let fingerprint = src_ref.fingerprint(&dir);
                let card = cards
                    .contains(&format!("{name}.md"))
                    .then(|| format!("{CARDS_DIR}/{name}.md"));
                let reused = previous
                    .and_then(|p| p.models.get(&name))
                    .filter(|m| fingerprint.is_some() && m.fingerprint == fingerprint);
                match reused {
                    Some(m) if m.card == card => (Arc::clone(m), 0),
                    Some(m) => {
                        let mut m = Model::clone(m);
                        m.card = card;
                        (Arc::new(m), 0)
                    }
                    None => {
                        let (mut model, problems, n) = load_model(src_ref, name, &cards);
                        model.fingerprint = fingerprint;
                        model.problems = problems;
                        (Arc::new(model), n)
                    }
                }
            })
            .collect()
    };
    // The audit log's parse (serial) runs while the models load (in parallel).
    let ((audit, audit_diags), loaded) = rayon::join(parse_audit, load_models);
    diags.extend(audit_diags);
    let audit_text = audit_text.unwrap_or_default();
    let mut models = BTreeMap::new();
    for (model, n) in loaded {
        diags.extend(model.problems.iter().cloned());
        files_read += n;
        models.insert(model.name.clone(), model);
    }

    Ok(Loaded {
        registry: Registry {
            source: src,
            policy,
            signers,
            governance,
            audit,
            audit_text,
            models,
            files_read,
        },
        diagnostics: diags,
    })
}

/// Parses `v12.yaml` into 12 (`None` for any other name).
pub fn version_from_file_name(name: &str) -> Option<u32> {
    let n = name.strip_prefix('v')?.strip_suffix(".yaml")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
        return None;
    }
    n.parse().ok()
}

fn load_model(
    src: &dyn Source,
    name: ModelName,
    cards: &BTreeSet<String>,
) -> (Model, Vec<Diagnostic>, usize) {
    let dir = format!("{MODELS_DIR}/{name}");
    let mut diags = Vec::new();
    let mut files = 0;
    let mut model = Model {
        card: cards
            .contains(&format!("{name}.md"))
            .then(|| format!("{CARDS_DIR}/{name}.md")),
        name,
        dir: dir.clone(),
        spec: None,
        aliases: BTreeMap::new(),
        aliases_file: None,
        versions: BTreeMap::new(),
        broken_versions: BTreeSet::new(),
        approvals: Vec::new(),
        monitoring: Vec::new(),
        fingerprint: None,
        problems: Vec::new(),
    };
    let entries = match src.list(&dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(read_error(&dir, &e));
            return (model, diags, files);
        }
    };
    let mut has_model_yaml = false;
    for e in entries {
        let path = format!("{dir}/{}", e.name);
        if e.name.starts_with('.') {
            continue;
        }
        if let EntryKind::NotPlain(what) = &e.kind {
            diags.push(not_plain(&path, what));
            continue;
        }
        match (e.name.as_str(), &e.kind) {
            ("model.yaml", EntryKind::File) => {
                has_model_yaml = true;
                files += 1;
                if let Read::Ok(spec, _) = read_yaml::<ModelSpec>(src, &path, &mut diags) {
                    model.spec = Some(spec);
                }
            }
            ("aliases.yaml", EntryKind::File) => {
                files += 1;
                model.aliases_file = Some(path.clone());
                if let Read::Ok(aliases, _) =
                    read_yaml::<Option<BTreeMap<Alias, Spanned<u32>>>>(src, &path, &mut diags)
                {
                    model.aliases = aliases.unwrap_or_default();
                }
            }
            ("versions", EntryKind::Dir) => {
                files += load_versions(src, &path, &mut model, &mut diags);
            }
            ("approvals", EntryKind::Dir) => {
                for f in list_files(src, &path, &mut diags) {
                    let fpath = format!("{path}/{f}");
                    if !f.ends_with(".yaml") {
                        diags.push(unexpected(&fpath, "approval files are named v<N>-<alias>-<role>-<principal>.yaml"));
                        continue;
                    }
                    files += 1;
                    if let Read::Ok(approval, _) = read_yaml::<ApprovalFile>(src, &fpath, &mut diags) {
                        model.approvals.push(ApprovalEntry {
                            file: fpath,
                            approval,
                        });
                    }
                }
            }
            ("monitoring", EntryKind::Dir) => {
                for f in list_files(src, &path, &mut diags) {
                    model.monitoring.push(format!("{path}/{f}"));
                }
            }
            _ => diags.push(unexpected(
                &path,
                "a model folder holds model.yaml, aliases.yaml, versions/, approvals/ and monitoring/",
            )),
        }
    }
    if !has_model_yaml {
        diags.push(
            Diagnostic::error(
                Code::MissingFile,
                format!("{dir}/model.yaml does not exist"),
            )
            .in_file(format!("{dir}/model.yaml"))
            .hint(format!(
                "every model needs one: `modelgate new {}` writes a template",
                model.name
            )),
        );
    }
    (model, diags, files)
}

fn unexpected(path: &str, hint: &str) -> Diagnostic {
    Diagnostic::warning(
        Code::UnexpectedFile,
        format!("{path} is not a registry file and is ignored"),
    )
    .in_file(path)
    .hint(hint)
}

/// The regular files of a folder; anything that is not a plain file is reported.
fn list_files(src: &dyn Source, dir: &str, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    list_files_and_links(src, dir, diags, &mut Vec::new())
}

/// [`list_files`], also giving the names of the entries that are not plain files.
fn list_files_and_links(
    src: &dyn Source,
    dir: &str,
    diags: &mut Vec<Diagnostic>,
    not_plain_names: &mut Vec<String>,
) -> Vec<String> {
    match src.list(dir) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| !e.name.starts_with('.'))
            .filter_map(|e| match e.kind {
                EntryKind::File => Some(e.name),
                EntryKind::NotPlain(what) => {
                    diags.push(not_plain(&format!("{dir}/{}", e.name), &what));
                    not_plain_names.push(e.name);
                    None
                }
                EntryKind::Dir => {
                    diags.push(unexpected(
                        &format!("{dir}/{}", e.name),
                        "no sub-folders here",
                    ));
                    None
                }
            })
            .collect(),
        Err(e) => {
            diags.push(read_error(dir, &e));
            Vec::new()
        }
    }
}

fn load_versions(
    src: &dyn Source,
    dir: &str,
    model: &mut Model,
    diags: &mut Vec<Diagnostic>,
) -> usize {
    let mut files = 0;
    let mut links = Vec::new();
    let listed = list_files_and_links(src, dir, diags, &mut links);
    // A version file that is a link is reported (MG046) and counts as present but unreadable,
    // so that it is neither "removed" nor silently absent.
    model
        .broken_versions
        .extend(links.iter().filter_map(|n| version_from_file_name(n)));
    for f in listed {
        let path = format!("{dir}/{f}");
        let Some(number) = version_from_file_name(&f) else {
            diags.push(unexpected(
                &path,
                "version files are named v<N>.yaml, e.g. v3.yaml",
            ));
            continue;
        };
        files += 1;
        match read_yaml::<VersionSpec>(src, &path, diags) {
            Read::Ok(spec, bytes) => {
                model.versions.insert(
                    number,
                    VersionEntry {
                        file: path,
                        number,
                        spec,
                        digest: Sha256::of(&bytes),
                    },
                );
            }
            _ => {
                model.broken_versions.insert(number);
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_file_names() {
        assert_eq!(version_from_file_name("v3.yaml"), Some(3));
        assert_eq!(version_from_file_name("v12.yaml"), Some(12));
        assert_eq!(version_from_file_name("v03.yaml"), None);
        assert_eq!(version_from_file_name("v.yaml"), None);
        assert_eq!(version_from_file_name("3.yaml"), None);
        assert_eq!(version_from_file_name("v3.yml"), None);
    }
}
