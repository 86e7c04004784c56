//! Planning an import: new versions, alias moves, versions that changed in MLflow (reported,
//! never overwritten), and what is skipped with a warning; all of it written all or none.

use super::confine::Unsafe;
use super::version::{self, Prepared};
use super::{MlModel, MlVersion, Run, Store};
use crate::audit::{Action, NewEntry};
use crate::lifecycle::{Files, append_audit};
use crate::registry::schema::ArtifactFormat;
use crate::registry::types::{Alias, ModelName, Timestamp};
use crate::registry::{Model, Registry, VersionEntry};
use crate::yaml::write::string as yaml_str;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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

/// Plans importing `store` into `reg`.
///
/// New versions are written; versions the registry already has are compared with MLflow and
/// left as they are (a version that changed in MLflow is reported, never overwritten); aliases
/// that MLflow moved are moved, each with its audit entry. Deleted and broken things (a deleted
/// run, a version whose artifact is gone, what the store records but does not read — the
/// store's notes — and an alias that points at a version not imported) are skipped with a
/// warning naming them, or refused with `strict`.
///
/// With `copy_to` (a repository-relative folder), each artifact is copied to
/// `<copy_to>/<model>/v<N>/` — the ONNX file, or the whole MLflow model folder — and recorded by
/// that path; otherwise MLflow's URI is recorded (`file://` for a local path).
pub fn plan(reg: &Registry, store: &Store, opts: &Options) -> Result<Plan> {
    check_options(store, opts)?;
    let mut planner = Planner::new(reg, store, opts);
    let mut names: BTreeMap<ModelName, String> = BTreeMap::new();
    for m in store
        .models
        .iter()
        .filter(|m| opts.only.is_empty() || opts.only.contains(&m.name))
    {
        if let Some(name) = planner.model_name(m, &mut names) {
            planner.model(m, name)?;
        }
    }
    planner.finish()
}

/// `--copy-artifacts` is a folder inside the repository, and every `--model` is in the store.
fn check_options(store: &Store, opts: &Options) -> Result<()> {
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
    Ok(())
}

/// An import being planned: what to write, and what to tell.
struct Planner<'a> {
    reg: &'a Registry,
    store: &'a Store,
    opts: &'a Options,
    files: Files,
    summary: Vec<String>,
    /// Versions that changed in MLflow, or that are no longer readable there (never errors).
    warnings: Vec<String>,
    /// Deleted and broken things, skipped (errors with `strict`).
    skipped: Vec<String>,
    /// What refuses the whole import.
    problems: Vec<String>,
    audit: Vec<NewEntry>,
    models: usize,
    versions: usize,
    unchanged: usize,
    alias_moves: usize,
}

/// One MLflow model being imported, and what its versions brought.
struct Target<'a> {
    mlflow: &'a MlModel,
    name: ModelName,
    /// The registry's model of that name, when it has one.
    existing: Option<&'a Model>,
    /// Its folder in the registry.
    dir: String,
    /// Its versions imported now.
    imported: Vec<u32>,
    /// The inputs of its first ONNX version imported (a new model's features).
    n_features: Option<usize>,
    /// The run of its first version imported (a new model's owner).
    first_run: Option<&'a Run>,
}

impl<'a> Planner<'a> {
    fn new(reg: &'a Registry, store: &'a Store, opts: &'a Options) -> Self {
        Self {
            reg,
            store,
            opts,
            files: Vec::new(),
            summary: Vec::new(),
            warnings: Vec::new(),
            skipped: store.notes.clone(),
            problems: Vec::new(),
            audit: Vec::new(),
            models: 0,
            versions: 0,
            unchanged: 0,
            alias_moves: 0,
        }
    }

    /// The modelgate name of MLflow model `m`; none (a problem) when it has none, or when
    /// another MLflow model took it (`names`: modelgate name → MLflow name).
    fn model_name(
        &mut self,
        m: &MlModel,
        names: &mut BTreeMap<ModelName, String>,
    ) -> Option<ModelName> {
        let name = match normalize_name(&m.name) {
            Ok(n) => n,
            Err(e) => {
                self.problems.push(e.to_string());
                return None;
            }
        };
        if let Some(other) = names.insert(name.clone(), m.name.clone()) {
            self.problems.push(format!(
                "MLflow models `{other}` and `{}` both become `{name}`; import them one at a time with --model and rename one",
                m.name
            ));
            return None;
        }
        Some(name)
    }

    /// MLflow model `m` as modelgate model `name`: its new versions, its alias moves, and,
    /// when the registry does not have it yet, its `model.yaml`, `aliases.yaml` and card.
    fn model(&mut self, m: &'a MlModel, name: ModelName) -> Result<()> {
        let reg = self.reg;
        let mut t = Target {
            mlflow: m,
            existing: reg.models.get(&name).map(|e| &**e),
            dir: format!("{}/{name}", crate::registry::MODELS_DIR),
            name,
            imported: Vec::new(),
            n_features: None,
            first_run: None,
        };
        let (live, deleted): (Vec<&MlVersion>, Vec<&MlVersion>) =
            m.versions.iter().partition(|v| !v.deleted);
        for v in deleted {
            self.skipped.push(format!(
                "{} v{}: deleted in MLflow; skipped",
                m.name, v.version
            ));
        }
        if live.is_empty() {
            self.summary
                .push(format!("{} → {}: no versions, skipped", m.name, t.name));
            return Ok(());
        }
        for v in live {
            self.version(&mut t, v)?;
        }
        let (aliases, moved) = self.move_aliases(&t);
        self.alias_moves += moved;
        if t.imported.is_empty() && moved == 0 {
            return Ok(());
        }
        self.models += 1;
        match t.existing {
            Some(e) if moved > 0 => self
                .files
                .push(crate::lifecycle::promote::aliases_file(reg, e, &aliases)?),
            Some(_) => {}
            None => self.new_model_files(&t, &aliases),
        }
        Ok(())
    }

    /// Version `v` of `t`: imported when new; compared with MLflow when the registry has it;
    /// skipped, with a warning or a problem that says why, when it cannot be imported.
    fn version(&mut self, t: &mut Target<'a>, v: &MlVersion) -> Result<()> {
        let what = format!("{} v{}", t.mlflow.name, v.version);
        let had = t.existing.and_then(|e| e.versions.get(&v.version));
        if had.is_none()
            && t.existing
                .is_some_and(|e| e.broken_versions.contains(&v.version))
        {
            self.problems.push(format!(
                "{what}: {}/versions/v{}.yaml exists but does not load; fix it (`modelgate validate`) before importing again",
                t.dir, v.version
            ));
            return Ok(());
        }
        let p = match version::prepare(v, self.store) {
            Ok(p) => p,
            Err(e) if e.downcast_ref::<Unsafe>().is_some() => {
                self.problems.push(format!("{what}: {e}"));
                return Ok(());
            }
            Err(e) if had.is_some() => {
                self.warnings.push(format!(
                    "{what}: imported before, but no longer readable in MLflow ({e}); {}/versions/v{}.yaml is left as it is",
                    t.dir, v.version
                ));
                return Ok(());
            }
            Err(e) => {
                self.skipped.push(format!("{what}: {e}; skipped"));
                return Ok(());
            }
        };
        if let Some(e) = had {
            self.compare(&what, e, &p);
            return Ok(());
        }
        t.first_run.get_or_insert(p.run);
        if p.format == ArtifactFormat::Onnx && t.n_features.is_none() && t.existing.is_none() {
            match self.onnx_inputs(&what, &p)? {
                Some(n) => t.n_features = Some(n),
                None => return Ok(()),
            }
        }
        let Some(uri) = self.artifact_uri(&what, t, v, &p)? else {
            return Ok(());
        };
        let file = format!("{}/versions/v{}.yaml", t.dir, v.version);
        let r = version::render(
            t.mlflow,
            v,
            &p,
            self.store,
            uri,
            &self.opts.actor,
            file.clone(),
        )?;
        self.audit.push(
            NewEntry::new(Action::Register, &self.opts.actor, &self.opts.at)
                .version(t.name.as_str(), v.version)
                .details(Value::Object(r.details)),
        );
        self.files.push((file, r.yaml.into_bytes()));
        self.skipped
            .extend(p.notes.iter().map(|n| format!("{what}: {n}")));
        self.summary.push(format!(
            "{what} → {} v{}: {}, run {}, {} metrics, {} params, sha256 {}…",
            t.name,
            v.version,
            p.format,
            p.run_id,
            p.metrics.len(),
            r.n_params,
            &p.sha[..12]
        ));
        self.versions += 1;
        t.imported.push(v.version);
        Ok(())
    }

    /// A version the registry already has: unchanged, or changed in MLflow (a warning; it is
    /// never overwritten). One that was not imported from MLflow is left as it is.
    fn compare(&mut self, what: &str, e: &VersionEntry, p: &Prepared) {
        if e.spec.tags.get("imported_from").map(String::as_str) != Some("mlflow") {
            self.warnings.push(format!(
                "{what}: {} exists and was not imported from MLflow; it is left as it is",
                e.file
            ));
            return;
        }
        let diff = version::changes(e, p);
        if diff.is_empty() {
            self.unchanged += 1;
        } else {
            self.warnings.push(format!(
                "{what} changed in MLflow since it was imported ({}); {} was not overwritten (register the change as a new version)",
                diff.join(", "),
                e.file
            ));
        }
    }

    /// The number of inputs of an ONNX artifact, loaded in ONNX Runtime; none (skipped) when
    /// it does not load. A missing ONNX Runtime is not the model's fault: it stops the import.
    fn onnx_inputs(&mut self, what: &str, p: &Prepared) -> Result<Option<usize>> {
        let bytes = std::fs::read(&p.found.path)
            .with_context(|| format!("reading {}", p.found.path.display()))?;
        crate::batch::runtime::environment()?;
        match crate::batch::runtime::Scorer::new(&bytes, 1) {
            Ok(sc) => Ok(Some(sc.n_features.unwrap_or(0))),
            Err(e) => {
                self.skipped.push(format!(
                    "{what}: {} is not a usable ONNX model: {e}; skipped",
                    p.found.path.display()
                ));
                Ok(None)
            }
        }
    }

    /// Where the version records its artifact: with `copy_to`, the copy planned at
    /// `<copy_to>/<model>/v<N>/` (none, a problem, when a file is already there); otherwise
    /// MLflow's file as a `file://` URI.
    fn artifact_uri(
        &mut self,
        what: &str,
        t: &Target,
        v: &MlVersion,
        p: &Prepared,
    ) -> Result<Option<String>> {
        let Some(c) = &self.opts.copy_to else {
            let abs = p
                .found
                .path
                .canonicalize()
                .unwrap_or_else(|_| p.found.path.clone());
            return Ok(Some(format!("file://{}", abs.display())));
        };
        let base = format!("{}/{}/v{}", c.trim_end_matches('/'), t.name, v.version);
        let mut clash = None;
        let mut copies = Vec::new();
        for (k, path) in &p.found.files {
            let rel = format!("{base}/{k}");
            if self.reg.source.read(&rel, 1).is_ok() {
                clash = Some(rel.clone());
            }
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            copies.push((rel, bytes));
        }
        if let Some(rel) = clash {
            self.problems.push(format!(
                "{what}: {rel} already exists; import never overwrites"
            ));
            return Ok(None);
        }
        self.files.extend(copies);
        Ok(Some(if p.found.is_dir {
            base
        } else {
            // A file artifact has exactly its one file (artifact_in).
            format!("{base}/{}", p.found.files[0].0)
        }))
    }

    /// The aliases MLflow sets, mapped to modelgate's, and only to versions the registry has
    /// or gets now: alias → (version, MLflow alias).
    fn wanted_aliases(&mut self, t: &Target) -> BTreeMap<Alias, (u32, String)> {
        let m = t.mlflow;
        let mut wanted: BTreeMap<Alias, (u32, String)> = BTreeMap::new();
        for (a, v) in &m.aliases {
            let Some(alias) = self.opts.aliases.get(a) else {
                self.summary.push(format!(
                    "{} alias `{a}` → v{v} is not mapped to a modelgate alias (champion, challenger; map it with --alias-map {a}=champion); recorded nowhere",
                    m.name
                ));
                continue;
            };
            if !t.imported.contains(v) && !t.existing.is_some_and(|e| e.versions.contains_key(v)) {
                let why = if m.versions.iter().any(|x| x.version == *v && !x.deleted) {
                    "which is not imported (see its warning)"
                } else {
                    "which MLflow does not have (a deleted or missing version)"
                };
                self.skipped.push(format!(
                    "{} alias `{a}` points at v{v}, {why}; the alias is skipped",
                    m.name
                ));
                continue;
            }
            if let Some((other_v, other)) = wanted.get(alias) {
                self.problems.push(format!(
                    "{}: MLflow aliases `{other}` (v{other_v}) and `{a}` (v{v}) both map to `{alias}`; change --alias-map",
                    m.name
                ));
                continue;
            }
            wanted.insert(*alias, (*v, a.clone()));
        }
        wanted
    }

    /// The aliases MLflow moved, moved, each with its audit entry: the model's aliases after
    /// the moves, and how many moved.
    fn move_aliases(&mut self, t: &Target) -> (BTreeMap<Alias, u32>, usize) {
        let wanted = self.wanted_aliases(t);
        let current: BTreeMap<Alias, u32> = t
            .existing
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
            self.audit.push(
                NewEntry::new(Action::Promote, &self.opts.actor, &self.opts.at)
                    .version(t.name.as_str(), *v)
                    .alias(*alias)
                    .details(Value::Object(d)),
            );
            if t.existing.is_some() {
                self.summary.push(format!(
                    "{} {alias}: v{} → v{v} (moved in MLflow)",
                    t.name,
                    current
                        .get(alias)
                        .map_or("none".to_string(), |x| x.to_string())
                ));
            }
            next.insert(*alias, *v);
            moved += 1;
        }
        (next, moved)
    }

    /// A new model's `model.yaml`, its `aliases.yaml` (when it has aliases) and its card (when
    /// the registry has none).
    fn new_model_files(&mut self, t: &Target, aliases: &BTreeMap<Alias, u32>) {
        let path = format!("{}/model.yaml", t.dir);
        let y = crate::registry::json_schema::with_modeline(&path, &self.model_yaml(t));
        self.files.push((path, y.into_bytes()));
        if !aliases.is_empty() {
            let path = format!("{}/aliases.yaml", t.dir);
            let al = crate::registry::json_schema::with_modeline(
                &path,
                &crate::lifecycle::promote::aliases_text(aliases),
            );
            self.files.push((path, al.into_bytes()));
        }
        let template = crate::scaffold::MODEL_CARD.to_string();
        let card = crate::scaffold::fill(&template, &[("model", t.name.as_str())]);
        let card_path = format!("{}/{}.md", crate::registry::CARDS_DIR, t.name);
        if self.reg.source.read(&card_path, 1).is_err() {
            self.files.push((card_path, card.into_bytes()));
        }
    }

    /// A new model's `model.yaml` (without its modeline): numbered features as many as its
    /// ONNX model's inputs, its owner from MLflow, its tags.
    fn model_yaml(&self, t: &Target) -> String {
        let m = t.mlflow;
        let name = &t.name;
        let n = t.n_features.unwrap_or(0);
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
            .or_else(|| t.first_run.and_then(|r| r.tags.get("mlflow.user").cloned()))
            .unwrap_or_else(|| self.opts.actor.clone());
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
        y
    }

    /// The plan, or the problems that refuse it (with `strict`, what was skipped too).
    fn finish(mut self) -> Result<Plan> {
        if self.opts.strict {
            self.problems.append(&mut self.skipped);
        }
        let problems = &self.problems;
        if !problems.is_empty() {
            bail!(
                "nothing was imported; {} problem{}{}:\n  - {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                if self.opts.strict { " (--strict)" } else { "" },
                problems.join("\n  - ")
            );
        }
        self.skipped.append(&mut self.warnings);
        if !self.audit.is_empty() {
            self.files.push((
                crate::audit::AUDIT_PATH.to_string(),
                append_audit(self.reg, self.audit).into_bytes(),
            ));
        }
        Ok(Plan {
            files: self.files,
            summary: self.summary,
            warnings: self.skipped,
            models: self.models,
            versions: self.versions,
            unchanged: self.unchanged,
            alias_moves: self.alias_moves,
        })
    }
}

/// A modelgate name for an MLflow model name: lowercase, `_` for anything else.
fn normalize_name(name: &str) -> Result<ModelName> {
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
