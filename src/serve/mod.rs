//! Online inference: the registry at a committed revision, loaded for serving (each model's
//! champion and challenger, artifacts verified before loading, one session pool a version),
//! swapped atomically when the served revision moves, and the HTTP API on it ([`http`]).
//!
//! The pieces it plugs in: the champion/challenger split (`split`), the prediction log the
//! monitoring jobs read (`predlog`) and live drift (`live`).
//!
//! The binary starts the tokio runtime and the listener; everything here returns values.

pub mod http;
pub mod live;
pub mod openapi;
pub mod predlog;
pub mod split;

use crate::batch::Target;
use crate::registry::source::GitSource;
use crate::registry::types::{Alias, ModelName};
use crate::scoring::{Feature, SessionPool};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which models to serve.
#[derive(Clone, Debug)]
pub enum Selection {
    /// Every model with a champion.
    All,
    /// These models.
    Only(Vec<ModelName>),
}

/// How to load a revision.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The git repository that holds the registry.
    pub repo: PathBuf,
    /// The models.
    pub models: Selection,
    /// Sessions per loaded version.
    pub pool_size: usize,
    /// The decision threshold of `prediction`.
    pub threshold: f64,
    /// The working tree of the registry: the default prediction log folders (each model's
    /// monitoring folder) and the reference data of live drift are under it.
    pub root: PathBuf,
    /// The prediction log folder (`<dir>/<model>/`) instead of each model's monitoring folder.
    pub log_dir: Option<PathBuf>,
    /// Rows of the live drift window of a model.
    pub live_window: usize,
}

/// One loaded version: what it is and its sessions.
pub struct LoadedVersion {
    /// Model, version, artifact digest, features.
    pub target: Target,
    /// Its ONNX Runtime sessions.
    pub pool: SessionPool,
    /// Its metric handles, by alias (champion, challenger), looked up on first use: a labelled
    /// lookup takes a lock and hashes the labels, on every request otherwise.
    pub(crate) metrics: [std::sync::OnceLock<http::VersionMetrics>; 2],
}

/// One served model at a revision.
pub struct ServedModel {
    /// The features, in tensor order.
    pub features: Vec<Feature>,
    /// Loaded versions by number.
    pub versions: BTreeMap<u32, Arc<LoadedVersion>>,
    /// Alias → version (champion, challenger).
    pub aliases: BTreeMap<String, u32>,
    /// The champion/challenger split of model.yaml's `serving:` section.
    pub router: split::Router,
    /// The prediction log (kept across swaps while its columns stay the same).
    pub log: Option<Arc<predlog::PredictionLog>>,
    /// The request columns the log holds.
    pub log_columns: Vec<predlog::InputColumn>,
    /// Live drift of the served rows against the reference (kept across swaps while the
    /// reference and the features stay the same).
    pub live: Option<Arc<std::sync::Mutex<live::LiveDrift>>>,
    /// What live drift is computed from (the reference and the features), to reuse it.
    live_key: String,
    /// Why there is no log or no live drift, if so.
    pub notes: Vec<String>,
}

/// The registry at one committed revision, loaded for serving.
pub struct Served {
    /// The commit served.
    pub commit: String,
    /// The revision as asked for.
    pub rev: String,
    /// Models loaded.
    pub models: BTreeMap<String, ServedModel>,
    /// Models that failed to load, with why (shown on /readyz; the others are served).
    pub failed: BTreeMap<String, String>,
    /// The decision threshold.
    pub threshold: f64,
}

/// A served version chosen for a request.
pub struct Chosen {
    /// The loaded version.
    pub version: Arc<LoadedVersion>,
    /// The alias it was reached by (for `@vN`, the alias that names the version).
    pub alias: Option<Alias>,
}

/// Why a model reference does not name a served version (a 404).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotServed(pub String);

impl Served {
    /// The version `model`, `model@alias` or `model@vN` names.
    pub fn choose(&self, reference: &str) -> std::result::Result<Chosen, NotServed> {
        // The one grammar of `model@alias|vN` (batch, lineage and the lifecycle commands).
        let (name, sel) = crate::lifecycle::parse_target(reference)
            .map_err(|e| NotServed(format!("`{reference}`: {e:#}")))?;
        let name = name.as_str();
        let Some(m) = self.models.get(name) else {
            return Err(NotServed(match self.failed.get(name) {
                Some(why) => format!("the model `{name}` failed to load: {why}"),
                None => format!(
                    "the model `{name}` is not served (served: {})",
                    self.models.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            }));
        };
        let aliases = || {
            m.aliases
                .iter()
                .map(|(a, v)| format!("{a} = v{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let version = match sel {
            Err(v) => v,
            Ok(a) => *m.aliases.get(a.as_str()).ok_or_else(|| {
                NotServed(format!(
                    "`{name}` has no {a} at the served revision (aliases: {})",
                    aliases()
                ))
            })?,
        };
        let loaded = m.versions.get(&version).ok_or_else(|| {
            NotServed(format!(
                "version {version} of `{name}` is not served: only the versions an alias names are loaded ({})",
                aliases()
            ))
        })?;
        let alias = match sel {
            Ok(a) => Some(a),
            Err(_) => m
                .aliases
                .iter()
                .find(|(_, v)| **v == version)
                .and_then(|(a, _)| a.parse::<Alias>().ok()),
        };
        Ok(Chosen {
            version: loaded.clone(),
            alias,
        })
    }
}

/// Resolves a revision of the repository to its commit id.
pub fn resolve_commit(repo: &Path, rev: &str) -> Result<String> {
    let r = git2::Repository::open(repo)
        .with_context(|| format!("opening the git repository at {}", repo.display()))?;
    let c = r
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("resolving `{rev}` in {}", repo.display()))?;
    Ok(c.id().to_string())
}

/// Loads the registry at the committed revision `rev` (never uncommitted files), validates it
/// (a revision with errors is refused whole) and loads the aliased versions of the selected
/// models, each artifact verified against its sha256 first. A model that fails to load is
/// listed in [`Served::failed`]; the others are served.
///
/// `previous`, the revision served until now, lends its prediction logs and live drift windows
/// to the models whose log columns and reference are unchanged, so a swap loses no row.
pub fn load(rev: &str, opts: &LoadOptions, previous: Option<&Served>) -> Result<Served> {
    let started = std::time::Instant::now();
    let src = GitSource::open(&opts.repo, rev).with_context(|| {
        format!(
            "reading revision `{rev}` of the git repository at {}",
            opts.repo.display()
        )
    })?;
    let commit = src.commit().to_string();
    let outcome = crate::validate::validate_source(Box::new(src), Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if outcome.report.has_errors() {
        let errors: Vec<String> = outcome
            .report
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .take(5)
            .map(|d| format!("{} {}: {}", d.code.as_str(), d.location(), d.message))
            .collect();
        anyhow::bail!(
            "revision {rev} ({}) does not validate, so it is not served: {}",
            &commit[..12],
            errors.join("; ")
        );
    }
    let reg = outcome.registry;
    crate::batch::runtime::environment()?;
    let names: Vec<ModelName> = match &opts.models {
        Selection::All => reg
            .models
            .iter()
            .filter(|(_, m)| m.aliases.contains_key(&Alias::Champion))
            .map(|(n, _)| n.clone())
            .collect(),
        Selection::Only(v) => v.clone(),
    };
    let mut models = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for name in names {
        let before = previous.and_then(|p| p.models.get(name.as_str()));
        match load_model(&reg, &name, opts, before) {
            Ok(m) => {
                models.insert(name.to_string(), m);
            }
            Err(e) => {
                log::warn!("serve: {name} at {rev} failed to load: {e:#}");
                failed.insert(name.to_string(), format!("{e:#}"));
            }
        }
    }
    log::debug!(
        "serve: loaded {} models ({} failed) at {rev} ({commit}) in {:.3} s",
        models.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Served {
        commit,
        rev: rev.to_string(),
        models,
        failed,
        threshold: opts.threshold,
    })
}

fn load_model(
    reg: &crate::registry::Registry,
    name: &ModelName,
    opts: &LoadOptions,
    before: Option<&ServedModel>,
) -> Result<ServedModel> {
    let m = reg
        .models
        .get(name)
        .with_context(|| format!("there is no model `{name}` in this registry"))?;
    if !m.aliases.contains_key(&Alias::Champion) {
        anyhow::bail!("`{name}` has no champion");
    }
    let spec = m
        .spec
        .as_ref()
        .with_context(|| format!("{}/model.yaml does not parse", m.dir))?;
    let mut versions = BTreeMap::new();
    let mut aliases = BTreeMap::new();
    for (alias, v) in &m.aliases {
        aliases.insert(alias.to_string(), v.value);
        // Every version an alias names can be reached (`name@alias`), so each must stand on
        // the signed approvals its alias demands: a revision merged without `check` (or a
        // hand-edited aliases.yaml) does not put an unapproved version in front of callers.
        let entry = m.versions.get(&v.value).with_context(|| {
            format!(
                "{alias} of `{name}` names v{}, which does not exist",
                v.value
            )
        })?;
        let standing = crate::gates::approvals::standing(reg, m, *alias, entry);
        if standing.status == crate::gates::Status::Block {
            let why: Vec<String> = standing
                .diagnostics
                .iter()
                .map(|d| format!("{} {}: {}", d.code.as_str(), d.location(), d.message))
                .collect();
            anyhow::bail!(
                "v{} holds {alias} without the signed approvals the revision's policy demands, so `{name}` is not served: {}",
                v.value,
                why.join("; ")
            );
        }
        if versions.contains_key(&v.value) {
            continue;
        }
        let r = crate::scoring::resolve(reg, name, &Err(v.value), "serve")?;
        let pool = SessionPool::new(&r.bytes, opts.pool_size, &r.target.features)
            .with_context(|| format!("loading {name} v{}", v.value))?;
        versions.insert(
            v.value,
            Arc::new(LoadedVersion {
                target: r.target,
                pool,
                metrics: Default::default(),
            }),
        );
    }
    let features: Vec<Feature> = spec.features.iter().map(Feature::from_spec).collect();
    let router = split::Router::new(
        name.as_str(),
        spec.serving.as_ref(),
        m.aliases.contains_key(&Alias::Challenger),
    )?;
    let mut notes = Vec::new();
    let model_file = format!("{}/model.yaml", m.dir);
    let log_columns = predlog::input_columns(spec);
    let log_dir = match &opts.log_dir {
        Some(d) => Ok(d.join(name.as_str())),
        None => predlog::default_dir(&opts.root, &model_file, spec),
    };
    let log = match log_dir {
        Ok(dir) => match before.and_then(|b| {
            b.log
                .as_ref()
                .filter(|l| l.dir() == dir && b.log_columns == log_columns)
        }) {
            Some(l) => Some(l.clone()),
            None => Some(Arc::new(predlog::PredictionLog::open(
                name.as_str(),
                log_columns.clone(),
                predlog::LogOptions::new(dir),
            )?)),
        },
        Err(e) => {
            log::warn!("serve: {name}: no prediction log: {e:#}");
            notes.push(format!("no prediction log: {e:#}"));
            None
        }
    };
    // The live window carries over while the reference, as committed, and the features are
    // unchanged.
    let live_key = format!(
        "{:?}|{:?}|{:?}",
        spec.monitoring.as_ref().map(|m| &m.reference),
        spec.monitoring
            .as_ref()
            .and_then(|m| crate::monitor::data::fingerprint_in_source(
                &m.reference,
                reg.source.as_ref()
            )),
        features
            .iter()
            .map(|f| (&f.name, &f.categories))
            .collect::<Vec<_>>()
    );
    let live = match before.filter(|b| b.live_key == live_key && b.live.is_some()) {
        Some(b) => b.live.clone(),
        None => match live::LiveDrift::for_model(reg, m, opts.live_window) {
            Ok(l) => Some(Arc::new(std::sync::Mutex::new(l))),
            Err(e) => {
                log::warn!("serve: {name}: no live drift: {e:#}");
                notes.push(format!("no live drift: {e:#}"));
                None
            }
        },
    };
    Ok(ServedModel {
        features,
        versions,
        aliases,
        router,
        log,
        log_columns,
        live,
        live_key,
        notes,
    })
}
