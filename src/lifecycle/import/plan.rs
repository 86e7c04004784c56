//! Planning an import: new versions, alias moves, versions that changed in MLflow (reported,
//! never overwritten), and what is skipped with a warning.

use super::artifact::{Found, artifact_in, digest_of, local_path};
use super::confine::Unsafe;
use super::{LoggedModel, MlVersion, Run, Store};
use crate::audit::{Action, NewEntry};
use crate::lifecycle::{Files, append_audit};
use crate::registry::Registry;
use crate::registry::schema::ArtifactFormat;
use crate::registry::types::{Alias, ModelName, Sha256, Timestamp};
use crate::registry::version_yaml::{self, FileRef, NewVersion, Training};
use crate::yaml::write::string as yaml_str;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A modelgate name for an MLflow model name: lowercase, `_` for anything else.
pub fn normalize_name(name: &str) -> Result<ModelName> {
    let mut s = String::new();
    for c in name.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            s.push(c);
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    let s = s.trim_matches('_').to_string();
    let s = if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("m_{s}")
    } else {
        s
    };
    ModelName::new(&s).map_err(|e| {
        anyhow::anyhow!("MLflow model `{name}` has no usable modelgate name (tried `{s}`): {e}")
    })
}

/// A metric or param name modelgate can use: letters, digits, `_`, `.`, `-`.
fn usable_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

/// MLflow alias → modelgate alias: `champion` and `challenger` are themselves, and
/// `--alias-map prod=champion,staging=challenger` adds (or replaces) the others.
pub fn alias_map(pairs: &[String]) -> Result<BTreeMap<String, Alias>> {
    let mut map: BTreeMap<String, Alias> = BTreeMap::new();
    for a in [Alias::Champion, Alias::Challenger] {
        map.insert(a.to_string(), a);
    }
    for p in pairs.iter().flat_map(|p| p.split(',')) {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let Some((from, to)) = p.split_once('=') else {
            bail!("--alias-map `{p}`: expected `<mlflow alias>=<champion|challenger>`");
        };
        let to: Alias = to.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "--alias-map `{p}`: `{}` is not a modelgate alias (champion, challenger)",
                to.trim()
            )
        })?;
        map.insert(from.trim().to_string(), to);
    }
    Ok(map)
}

/// What to import and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only these MLflow models (all when empty).
    pub only: Vec<String>,
    /// Who imports.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// Copy the artifacts into this repository folder (see [`plan`]).
    pub copy_to: Option<String>,
    /// MLflow alias → modelgate alias ([`alias_map`]).
    pub aliases: BTreeMap<String, Alias>,
    /// Skipped things (a deleted run, a version whose artifact is gone) are errors.
    pub strict: bool,
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_utc(
        chrono::DateTime::from_timestamp_millis(ms).unwrap_or_else(chrono::Utc::now),
    )
}

/// The plan of an import.
pub struct Plan {
    /// Files to write.
    pub files: Files,
    /// One line per model and version, for the user.
    pub summary: Vec<String>,
    /// What was skipped and why (a deleted run, a version whose artifact is gone), and versions
    /// that changed in MLflow since they were imported (never overwritten).
    pub warnings: Vec<String>,
    /// Models imported (new, or with new versions or alias moves).
    pub models: usize,
    /// Versions imported.
    pub versions: usize,
    /// Versions already imported and unchanged.
    pub unchanged: usize,
    /// Alias moves (new aliases included).
    pub alias_moves: usize,
}

/// One version, as MLflow knows it, ready to be written.
struct Prepared {
    run_id: String,
    format: ArtifactFormat,
    sha: String,
    found: Found,
    metrics: BTreeMap<String, f64>,
}

/// The logged model a version was registered from (`models:/m-<id>`, or its `model_id`).
fn logged_model_of<'s>(v: &MlVersion, store: &'s Store) -> Option<&'s LoggedModel> {
    v.source
        .strip_prefix("models:/")
        .map(|id| id.trim_end_matches('/'))
        .or(v.model_id.as_deref())
        .and_then(|id| store.logged_models.get(id))
}

/// A version's run and artifact, or why it cannot be imported.
fn prepare<'s>(v: &MlVersion, store: &'s Store) -> Result<(Prepared, &'s Run)> {
    let run_id = v
        .run_id
        .clone()
        .or_else(|| logged_model_of(v, store).and_then(|lm| lm.source_run_id.clone()))
        .ok_or_else(|| anyhow::anyhow!("the version names no run"))?;
    let run = store.runs.get(&run_id).ok_or_else(|| {
        anyhow::anyhow!(
            "its run {run_id} is not in the store (deleted permanently, or the store is incomplete)"
        )
    })?;
    if run.lifecycle == "deleted" {
        bail!(
            "its run {run_id} is deleted in MLflow; restore it (`mlflow runs restore --run-id {run_id}`) or delete the version"
        );
    }
    let lm = logged_model_of(v, store);
    let lm_keys = lm
        .into_iter()
        .flat_map(|m| m.metrics.keys().chain(m.params.keys()));
    for k in run.metrics.keys().chain(run.params.keys()).chain(lm_keys) {
        if !usable_key(k) {
            bail!(
                "run {run_id} has a metric or param named `{k}`; modelgate names are letters, digits, `_`, `.`, `-` (rename it in MLflow, e.g. `{}`)",
                k.replace(' ', "_")
            );
        }
    }
    let path = local_path(&v.source, store, Some(run))
        .or_else(|e| {
            // The copy MLflow made when registering, when the source itself is gone.
            v.storage_location
                .as_deref()
                .filter(|l| *l != v.source)
                .map_or(Err(e.clone()), |l| local_path(l, store, Some(run)))
                .map_err(|_| e)
        })
        .map_err(|e| anyhow::anyhow!(e))?;
    let found = artifact_in(&path, &store.roots)?;
    let sha = digest_of(&found)?.hex();
    // The run's metrics, and the logged model's own for names the run does not have.
    let mut all = run.metrics.clone();
    if let Some(lm) = lm {
        for (k, x) in &lm.metrics {
            all.entry(k.clone()).or_insert(*x);
        }
    }
    let metrics: BTreeMap<String, f64> = all
        .iter()
        .filter(|(_, x)| x.is_finite())
        .map(|(k, x)| (k.clone(), crate::registry::number::stored(*x)))
        .collect();
    Ok((
        Prepared {
            run_id,
            format: found.format,
            sha,
            found,
            metrics,
        },
        run,
    ))
}

/// How an imported version differs from what MLflow holds now (empty: it does not).
fn changes(e: &crate::registry::VersionEntry, p: &Prepared) -> Vec<String> {
    let mut out = Vec::new();
    let spec = &e.spec;
    if spec.artifact.sha256.value.hex() != p.sha {
        out.push(format!(
            "artifact sha256 {}… → {}…",
            &spec.artifact.sha256.value.hex()[..12],
            &p.sha[..12]
        ));
    }
    if spec.artifact.format != p.format {
        out.push(format!("format {} → {}", spec.artifact.format, p.format));
    }
    let run = spec.training.as_ref().and_then(|t| t.run_id.clone());
    if run.as_deref() != Some(p.run_id.as_str()) {
        out.push(format!(
            "run {} → {}",
            run.as_deref().unwrap_or("none"),
            p.run_id
        ));
    }
    let had: BTreeMap<&String, f64> = spec.metrics.iter().map(|(k, v)| (k, v.value)).collect();
    let now: BTreeMap<&String, f64> = p.metrics.iter().map(|(k, v)| (k, *v)).collect();
    if had != now {
        out.push("metrics".into());
    }
    out
}

/// Plans importing `store` into `reg`.
///
/// New versions are written; versions the registry already has are compared with MLflow and
/// left as they are (a version that changed in MLflow is reported, never overwritten); aliases
/// that MLflow moved are moved, each with its audit entry. Deleted and broken things (a deleted
/// run, a version whose artifact is gone) are skipped with a warning naming them, or refused
/// with `strict`.
///
/// With `copy_to` (a repository-relative folder), each artifact is copied to
/// `<copy_to>/<model>/v<N>/` — the ONNX file, or the whole MLflow model folder — and recorded by
/// that path; otherwise MLflow's URI is recorded (`file://` for a local path).
pub fn plan(reg: &Registry, store: &Store, opts: &Options) -> Result<Plan> {
    let actor = opts.actor.as_str();
    let at = &opts.at;
    if let Some(c) = &opts.copy_to {
        if c.starts_with('/') || c.split('/').any(|p| p == "..") || c.is_empty() {
            bail!(
                "--copy-artifacts `{c}` must be a folder inside the repository, written relative to its root"
            );
        }
    }
    for o in &opts.only {
        if !store.models.iter().any(|m| &m.name == o) {
            bail!(
                "the store has no registered model `{o}` (it has: {})",
                store
                    .models
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let mut files: Files = Vec::new();
    let mut summary = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut seen: BTreeMap<ModelName, String> = BTreeMap::new();
    let mut audit: Vec<NewEntry> = Vec::new();
    let (mut n_versions, mut n_models, mut n_unchanged, mut n_moves) = (0, 0, 0, 0);
    for m in store
        .models
        .iter()
        .filter(|m| opts.only.is_empty() || opts.only.contains(&m.name))
    {
        let name = match normalize_name(&m.name) {
            Ok(n) => n,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if let Some(other) = seen.insert(name.clone(), m.name.clone()) {
            problems.push(format!(
                "MLflow models `{other}` and `{}` both become `{name}`; import them one at a time with --model and rename one",
                m.name
            ));
            continue;
        }
        let existing = reg.models.get(&name);
        let dir = format!("{}/{name}", crate::registry::MODELS_DIR);
        let live: Vec<&MlVersion> = m.versions.iter().filter(|v| !v.deleted).collect();
        if live.is_empty() {
            summary.push(format!("{} → {name}: no versions, skipped", m.name));
            continue;
        }
        let mut n_features: Option<usize> = None;
        let mut imported: Vec<u32> = Vec::new();
        let mut first_run: Option<&Run> = None;
        for v in &live {
            let what = format!("{} v{}", m.name, v.version);
            let had = existing.and_then(|e| e.versions.get(&v.version));
            if had.is_none() && existing.is_some_and(|e| e.broken_versions.contains(&v.version)) {
                problems.push(format!(
                    "{what}: {dir}/versions/v{}.yaml exists but does not load; fix it (`modelgate validate`) before importing again",
                    v.version
                ));
                continue;
            }
            let (p, run) = match prepare(v, store) {
                Ok(x) => x,
                Err(e) if e.downcast_ref::<Unsafe>().is_some() => {
                    problems.push(format!("{what}: {e}"));
                    continue;
                }
                Err(e) if had.is_some() => {
                    warnings.push(format!(
                        "{what}: imported before, but no longer readable in MLflow ({e}); {dir}/versions/v{}.yaml is left as it is",
                        v.version
                    ));
                    continue;
                }
                Err(e) => {
                    skipped.push(format!("{what}: {e}; skipped"));
                    continue;
                }
            };
            if let Some(e) = had {
                if e.spec.tags.get("imported_from").map(String::as_str) != Some("mlflow") {
                    warnings.push(format!(
                        "{what}: {} exists and was not imported from MLflow; it is left as it is",
                        e.file
                    ));
                    continue;
                }
                let diff = changes(e, &p);
                if diff.is_empty() {
                    n_unchanged += 1;
                } else {
                    warnings.push(format!(
                        "{what} changed in MLflow since it was imported ({}); {} was not overwritten (register the change as a new version)",
                        diff.join(", "),
                        e.file
                    ));
                }
                continue;
            }
            first_run.get_or_insert(run);
            if p.format == ArtifactFormat::Onnx && n_features.is_none() && existing.is_none() {
                let bytes = std::fs::read(&p.found.path)
                    .with_context(|| format!("reading {}", p.found.path.display()))?;
                // A missing ONNX Runtime is not the model's fault: it stops the import.
                crate::batch::runtime::environment()?;
                match crate::batch::runtime::Scorer::new(&bytes, 1) {
                    Ok(sc) => n_features = Some(sc.n_features.unwrap_or(0)),
                    Err(e) => {
                        skipped.push(format!(
                            "{what}: {} is not a usable ONNX model: {e}; skipped",
                            p.found.path.display()
                        ));
                        continue;
                    }
                }
            }
            let uri = match &opts.copy_to {
                Some(c) => {
                    let base = format!("{}/{name}/v{}", c.trim_end_matches('/'), v.version);
                    let mut clash = None;
                    let mut copies = Vec::new();
                    for (k, path) in &p.found.files {
                        let rel = format!("{base}/{k}");
                        if reg.source.read(&rel, 1).is_ok() {
                            clash = Some(rel.clone());
                        }
                        let bytes = std::fs::read(path)
                            .with_context(|| format!("reading {}", path.display()))?;
                        copies.push((rel, bytes));
                    }
                    if let Some(rel) = clash {
                        problems.push(format!(
                            "{what}: {rel} already exists; import never overwrites"
                        ));
                        continue;
                    }
                    files.extend(copies);
                    if p.found.is_dir {
                        base
                    } else {
                        format!("{base}/{}", p.found.files[0].0)
                    }
                }
                None => {
                    let abs = p
                        .found
                        .path
                        .canonicalize()
                        .unwrap_or_else(|_| p.found.path.clone());
                    format!("file://{}", abs.display())
                }
            };
            let created = ts(v.created_ms);
            let by = v
                .user
                .clone()
                .filter(|u| !u.is_empty())
                .or_else(|| run.tags.get("mlflow.user").cloned())
                .or_else(|| run.user.clone())
                .unwrap_or_else(|| actor.to_string());
            let git_commit = run
                .tags
                .get("mlflow.source.git.commit")
                .filter(|c| c.len() == 40 && c.chars().all(|x| x.is_ascii_hexdigit()))
                .map(|c| c.to_ascii_lowercase());
            let mut params = run.params.clone();
            if let Some(lm) = logged_model_of(v, store) {
                for (k, x) in &lm.params {
                    params.entry(k.clone()).or_insert_with(|| x.clone());
                }
            }
            let seed = ["random_seed", "seed", "random_state"]
                .iter()
                .find_map(|k| params.get(*k).and_then(|v| v.parse::<u64>().ok()));
            let mut tags: BTreeMap<String, String> = run
                .tags
                .iter()
                .filter(|(k, _)| !k.starts_with("mlflow."))
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect();
            tags.extend(v.tags.iter().map(|(k, x)| (k.clone(), x.clone())));
            if let Some(d) = &v.description {
                tags.insert("description".into(), d.clone());
            }
            if let Some(rn) = &run.name {
                tags.insert("mlflow_run_name".into(), rn.clone());
            }
            let logged_model = v.model_id.clone().or_else(|| {
                v.source
                    .strip_prefix("models:/")
                    .map(|id| id.trim_end_matches('/').to_string())
            });
            if let Some(id) = &logged_model {
                tags.insert("mlflow_model_id".into(), id.clone());
            }
            if !p.found.flavors.is_empty() {
                tags.insert("mlflow_flavors".into(), p.found.flavors.join(","));
            }
            // The training dataset: the first `training` input (else the first input), by name.
            let mut inputs = run.inputs.clone();
            inputs.sort_by(|a, b| {
                (
                    a.context.as_deref() != Some("training"),
                    &a.name,
                    &a.digest,
                    &a.source,
                )
                    .cmp(&(
                        b.context.as_deref() != Some("training"),
                        &b.name,
                        &b.digest,
                        &b.source,
                    ))
            });
            let dataset = inputs.first().filter(|d| !d.source.is_empty()).map(|d| {
                tags.insert("mlflow_dataset".into(), d.name.clone());
                tags.insert("mlflow_dataset_digest".into(), d.digest.clone());
                version_yaml::Dataset {
                    file: FileRef {
                        uri: d.source.clone(),
                        sha256: String::new(),
                    },
                    snapshot: (!d.name.is_empty()).then(|| d.name.clone()),
                    rows: None,
                }
            });
            tags.insert("imported_from".into(), "mlflow".into());
            let n_metrics = p.metrics.len();
            let y = version_yaml::render(&NewVersion {
                file: Some(format!("{dir}/versions/v{}.yaml", v.version)),
                comment: Some(format!(
                    "Imported from MLflow: {} version {}.",
                    m.name, v.version
                )),
                version: v.version,
                created_at: created.raw,
                created_by: by,
                artifact: FileRef {
                    uri,
                    sha256: p.sha.clone(),
                },
                artifact_format: p.format,
                explainer: None,
                training: Training {
                    run_id: Some(p.run_id.clone()),
                    experiment: run.experiment.clone(),
                    git_commit,
                    random_seed: seed,
                    dataset,
                    environment: p.found.env.clone(),
                    ..Default::default()
                },
                hyperparameters: params
                    .iter()
                    .map(|(k, x)| (k.clone(), crate::lifecycle::register::param_value(x)))
                    .collect(),
                metrics: p.metrics.clone(),
                bias: BTreeMap::new(),
                tags,
            })
            .with_context(|| what.clone())?;
            let mut d = serde_json::Map::new();
            d.insert("source".into(), "mlflow".into());
            d.insert("mlflow_model".into(), m.name.clone().into());
            d.insert("run_id".into(), p.run_id.clone().into());
            if let Some(id) = &logged_model {
                d.insert("mlflow_model_id".into(), id.clone().into());
            }
            d.insert("artifact_sha256".into(), p.sha.clone().into());
            d.insert(
                "version_sha256".into(),
                Sha256::of(y.as_bytes()).hex().into(),
            );
            audit.push(
                NewEntry::new(Action::Register, actor, at)
                    .version(name.as_str(), v.version)
                    .details(Value::Object(d)),
            );
            files.push((
                format!("{dir}/versions/v{}.yaml", v.version),
                y.into_bytes(),
            ));
            summary.push(format!(
                "{what} → {name} v{}: {}, run {}, {n_metrics} metrics, {} params, sha256 {}…",
                v.version,
                p.format,
                p.run_id,
                params.len(),
                &p.sha[..12]
            ));
            n_versions += 1;
            imported.push(v.version);
        }
        // Aliases: MLflow's, mapped; only to versions the registry has or gets now.
        let mut wanted: BTreeMap<Alias, (u32, String)> = BTreeMap::new();
        for (a, v) in &m.aliases {
            let Some(alias) = opts.aliases.get(a) else {
                summary.push(format!(
                    "{} alias `{a}` → v{v} is not mapped to a modelgate alias (champion, challenger; map it with --alias-map {a}=champion); recorded nowhere",
                    m.name
                ));
                continue;
            };
            if !imported.contains(v) && !existing.is_some_and(|e| e.versions.contains_key(v)) {
                summary.push(format!(
                    "{} alias `{a}` points at v{v}, which is not imported; skipped",
                    m.name
                ));
                continue;
            }
            if let Some((other_v, other)) = wanted.get(alias) {
                problems.push(format!(
                    "{}: MLflow aliases `{other}` (v{other_v}) and `{a}` (v{v}) both map to `{alias}`; change --alias-map",
                    m.name
                ));
                continue;
            }
            wanted.insert(*alias, (*v, a.clone()));
        }
        let current: BTreeMap<Alias, u32> = existing
            .map(|e| e.aliases.iter().map(|(a, v)| (*a, v.value)).collect())
            .unwrap_or_default();
        let mut next = current.clone();
        let mut moved = 0;
        for (alias, (v, from_name)) in &wanted {
            if current.get(alias) == Some(v) {
                continue;
            }
            let mut d = serde_json::Map::new();
            d.insert(
                "from".into(),
                current.get(alias).map_or(Value::Null, |x| (*x).into()),
            );
            d.insert("to".into(), (*v).into());
            d.insert("source".into(), "mlflow".into());
            d.insert("mlflow_alias".into(), from_name.clone().into());
            audit.push(
                NewEntry::new(Action::Promote, actor, at)
                    .version(name.as_str(), *v)
                    .alias(*alias)
                    .details(Value::Object(d)),
            );
            if existing.is_some() {
                summary.push(format!(
                    "{name} {alias}: v{} → v{v} (moved in MLflow)",
                    current
                        .get(alias)
                        .map_or("none".to_string(), |x| x.to_string())
                ));
            }
            next.insert(*alias, *v);
            moved += 1;
        }
        n_moves += moved;
        if imported.is_empty() && moved == 0 {
            continue;
        }
        n_models += 1;
        if let Some(e) = existing {
            if moved > 0 {
                files.push(crate::lifecycle::promote::aliases_file(reg, e, &next)?);
            }
            continue;
        }
        let n = n_features.unwrap_or(0);
        let mut y = format!(
            "# Imported from MLflow ({}). MLflow does not record feature names: rename the\n# features below (in the model's input order), and set the label and protected attributes.\n",
            m.name
        );
        let _ = writeln!(y, "name: {name}");
        let _ = writeln!(
            y,
            "description: {}",
            yaml_str(m.description.as_deref().unwrap_or("Imported from MLflow."))
        );
        let owner = m
            .tags
            .get("owner")
            .cloned()
            .or_else(|| first_run.and_then(|r| r.tags.get("mlflow.user").cloned()))
            .unwrap_or_else(|| actor.to_string());
        let _ = writeln!(y, "owner: {}", yaml_str(&owner));
        y.push_str("task: binary_classification\n");
        if n == 0 {
            y.push_str("features: []\n");
        } else {
            y.push_str(
                "features:                          # order = the model's input tensor order\n",
            );
            for i in 0..n {
                let _ = writeln!(y, "  - {{name: feature_{i}, type: numerical}}");
            }
        }
        y.push_str("protected_attributes: []\n");
        let mut mtags = m.tags.clone();
        mtags.insert("mlflow_name".into(), m.name.clone());
        let items: Vec<String> = mtags
            .iter()
            .map(|(k, x)| format!("{}: {}", yaml_str(k), yaml_str(x)))
            .collect();
        let _ = writeln!(y, "tags: {{{}}}", items.join(", "));
        let path = format!("{dir}/model.yaml");
        let y = crate::registry::json_schema::with_modeline(&path, &y);
        files.push((path, y.into_bytes()));
        if !next.is_empty() {
            let path = format!("{dir}/aliases.yaml");
            let al = crate::registry::json_schema::with_modeline(
                &path,
                &crate::lifecycle::promote::aliases_text(&next),
            );
            files.push((path, al.into_bytes()));
        }
        let template = crate::scaffold::MODEL_CARD.to_string();
        let card = crate::scaffold::fill(&template, &[("model", name.as_str())]);
        let card_path = format!("{}/{name}.md", crate::registry::CARDS_DIR);
        if reg.source.read(&card_path, 1).is_err() {
            files.push((card_path, card.into_bytes()));
        }
    }
    if opts.strict {
        problems.append(&mut skipped);
    }
    if !problems.is_empty() {
        bail!(
            "nothing was imported; {} problem{}{}:\n  - {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            if opts.strict { " (--strict)" } else { "" },
            problems.join("\n  - ")
        );
    }
    skipped.append(&mut warnings);
    if !audit.is_empty() {
        files.push((
            crate::audit::AUDIT_PATH.to_string(),
            append_audit(reg, audit).into_bytes(),
        ));
    }
    Ok(Plan {
        files,
        summary,
        warnings: skipped,
        models: n_models,
        versions: n_versions,
        unchanged: n_unchanged,
        alias_moves: n_moves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_maps() {
        let m = alias_map(&["prod=champion, staging=challenger".into()]).unwrap();
        assert_eq!(m["prod"], Alias::Champion);
        assert_eq!(m["staging"], Alias::Challenger);
        assert_eq!(m["champion"], Alias::Champion);
        let m = alias_map(&["champion=challenger".into()]).unwrap();
        assert_eq!(m["champion"], Alias::Challenger);
        assert!(alias_map(&["prod".into()]).is_err());
        assert!(alias_map(&["prod=production".into()]).is_err());
    }
}
