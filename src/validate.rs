//! `modelgate validate`: every check that needs no pull request.
//!
//! Schema problems are found while loading (`registry::load`); this module adds the checks
//! across files: names and numbers agree with locations, aliases point at live versions, roles
//! name known signers, thresholds are in range, model cards exist, local artifacts and datasets
//! match their digests (hashed in parallel, each file once), and the audit chain verifies.

use crate::diag::{Code, Diagnostic, Report};
use crate::registry::policy;
use crate::registry::schema::GroupRates;
use crate::registry::source::Source;
use crate::registry::source::{Location, ReadError, locate};
use crate::registry::types::Sha256;
use crate::registry::{self, Model, POLICY_PATH, Registry};
use crate::signing::allowed_signers::SIGNERS_PATH;
use crate::yaml::Spanned;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// What to check.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Hash local artifacts and datasets (the slow part on big files).
    pub digests: bool,
    /// Verify approval signatures against the registry's own allowed_signers. `check` turns
    /// this off: in a pull request, signatures are judged against the base revision's signers.
    pub signatures: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            digests: true,
            signatures: true,
        }
    }
}

/// What a validation found, with the registry it found it in.
pub struct Outcome {
    /// The registry (for reading sources when rendering).
    pub registry: Registry,
    /// Everything found, sorted.
    pub report: Report,
}

/// Loads and validates a registry from a source. `Err` only when it is not a registry at all.
pub fn validate_source(
    src: Box<dyn Source>,
    opts: Options,
) -> Result<Outcome, registry::LoadError> {
    let loaded = registry::load(src)?;
    let mut diags: Vec<Diagnostic> = loaded.diagnostics;
    diags.extend(validate(&loaded.registry, opts));
    Ok(Outcome {
        registry: loaded.registry,
        report: Report::new(diags),
    })
}

/// Runs every check on a loaded registry.
pub fn validate(reg: &Registry, opts: Options) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    d.extend(reg.audit.verify(&reg.audit_text));
    d.extend(check_audit_references(reg));
    if let Some(p) = &reg.policy {
        d.extend(policy::check_ranges(
            POLICY_PATH,
            &p.gates,
            p.drift.as_ref(),
            p.retention.as_ref(),
        ));
        d.extend(check_roles(reg));
    }
    d.extend(check_governance(reg, opts));
    // (model, alias, version) of every promotion the log records: approvals those used.
    let promoted: std::collections::HashSet<(&str, &str, u32)> = reg
        .audit
        .entries()
        .filter(|e| e.action == crate::audit::Action::Promote)
        .filter_map(|e| Some((e.model.as_deref()?, e.alias.as_deref()?, e.version?)))
        .collect();
    let template = crate::gates::card::Template::of(reg.source.as_ref());
    let per_model: Vec<Vec<Diagnostic>> = reg
        .models
        .par_iter()
        .map(|(_, m)| check_model(reg, m, opts, &promoted, &template))
        .collect();
    d.extend(per_model.into_iter().flatten());
    if opts.digests {
        d.extend(check_digests(reg));
    }
    d
}

fn check_roles(reg: &Registry) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let Some(p) = &reg.policy else { return d };
    for (role, principals) in &p.roles {
        // Without a readable allowed_signers that file's own diagnostic says it all.
        let Some(signers) = &reg.signers else { break };
        for principal in principals {
            if !signers.knows_principal(principal) {
                d.push(
                    Diagnostic::error(
                        Code::UnknownPrincipal,
                        format!(
                            "role `{role}` names `{}`, who has no key in {SIGNERS_PATH}",
                            principal.value
                        ),
                    )
                    .in_file(POLICY_PATH)
                    .at(principal.span)
                    .hint(format!(
                        "add a line `{} namespaces=\"modelgate-approval\" ssh-ed25519 AAAA…` to {SIGNERS_PATH}",
                        principal.value
                    )),
                );
            }
        }
    }
    let mut gate_roles: Vec<(&str, &Spanned<String>)> = Vec::new();
    for g in p.gates.values() {
        if let Some(a) = &g.approvals {
            gate_roles.extend(a.roles.iter().map(|r| (POLICY_PATH, r)));
        }
    }
    if let Some(g) = &p.governance {
        gate_roles.extend(g.roles.iter().map(|r| (POLICY_PATH, r)));
    }
    if let Some(m) = &p.monitoring {
        gate_roles.push((POLICY_PATH, &m.role));
    }
    let model_files: Vec<(String, &Model)> = reg
        .models
        .values()
        .map(|m| (format!("{}/model.yaml", m.dir), &**m))
        .collect();
    for (file, m) in &model_files {
        if let Some(o) = m.spec.as_ref().and_then(|s| s.policy.as_ref()) {
            for g in o.gates.values() {
                if let Some(a) = &g.approvals {
                    gate_roles.extend(a.roles.iter().map(|r| (file.as_str(), r)));
                }
            }
        }
    }
    for (file, role) in gate_roles {
        if !p.roles.contains_key(role.as_str()) {
            let mut diag = Diagnostic::error(
                Code::UnknownRole,
                format!(
                    "approval role `{}` is not defined under `roles:` in {POLICY_PATH}",
                    role.value
                ),
            )
            .in_file(file)
            .at(role.span);
            diag.hint = Some(
                match crate::yaml::de::did_you_mean(role, p.roles.keys().map(String::as_str)) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "define the role and the principals who hold it".into(),
                },
            );
            d.push(diag);
        }
    }
    d
}

/// Every metric and disparity a gate may read is a finite number in its range.
fn check_numbers(v: &registry::VersionEntry, d: &mut Vec<Diagnostic>) {
    use crate::gates::{DISPARITY_RANGE, check_number, metric_range};
    for (name, value) in &v.spec.metrics {
        d.extend(check_number(v, name, value, metric_range(name)));
    }
    for (attr, b) in &v.spec.bias {
        for (measure, x) in [
            ("demographic_parity", b.demographic_parity),
            ("equal_opportunity", b.equal_opportunity),
            ("predictive_parity", b.predictive_parity),
            ("equalized_odds", b.equalized_odds),
        ] {
            if let Some(x) = x {
                let spanned = crate::yaml::Spanned {
                    value: x,
                    span: b.span,
                };
                d.extend(check_number(
                    v,
                    &format!("bias.{attr}.{measure}"),
                    &spanned,
                    DISPARITY_RANGE,
                ));
            }
        }
    }
}

fn check_model(
    reg: &Registry,
    m: &Model,
    opts: Options,
    promoted: &std::collections::HashSet<(&str, &str, u32)>,
    template: &crate::gates::card::Template,
) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let model_file = format!("{}/model.yaml", m.dir);
    if let Some(spec) = &m.spec {
        if let Err(e) = crate::registry::types::ModelName::new(&spec.name) {
            d.push(
                Diagnostic::error(Code::InvalidModelName, e.to_string())
                    .in_file(&model_file)
                    .at(spec.name.span)
                    .hint(format!("use the folder's name, `{}`", m.name)),
            );
        } else if spec.name.value != m.name.as_str() {
            d.push(
                Diagnostic::error(
                    Code::NameMismatch,
                    format!(
                        "model.yaml says `name: {}` but its folder is `{}`",
                        spec.name.value, m.name
                    ),
                )
                .in_file(&model_file)
                .at(spec.name.span)
                .hint("the name and the folder must be the same"),
            );
        }
        if let Some(o) = &spec.policy {
            d.extend(policy::check_ranges(
                &model_file,
                &o.gates,
                o.drift.as_ref(),
                o.retention.as_ref(),
            ));
            if let Some(p) = &reg.policy {
                // Cross-field rules after merging (a model that raises warn_at above the global
                // block_at, say).
                let eff = policy::effective(p, Some(o));
                for (alias, g) in &eff.gates {
                    if let Some(b) = &g.bias {
                        if b.warn_at.value > b.block_at.value && o.gates.contains_key(alias) {
                            d.push(
                                Diagnostic::error(
                                    Code::PolicyRange,
                                    format!(
                                        "after this model's overrides, gates.{alias}.bias.warn_at ({}) is above block_at ({})",
                                        b.warn_at.value, b.block_at.value
                                    ),
                                )
                                .in_file(&model_file),
                            );
                        }
                    }
                }
            }
        }
        if let Some(sv) = &spec.serving {
            d.extend(check_serving(m, &model_file, sv));
        }
        for f in &spec.features {
            if f.kind == crate::registry::schema::FeatureType::Categorical
                && f.categories.as_ref().is_none_or(|c| c.is_empty())
            {
                d.push(
                    Diagnostic::error(
                        Code::MissingKey,
                        format!("categorical feature `{}` lists no categories", f.name),
                    )
                    .in_file(&model_file)
                    .hint("categories: [A, B] — the model sees the index of the category in this list"),
                );
            }
        }
        d.extend(check_reference_schema(reg, &model_file, spec));
    }
    if m.card.is_none() {
        d.push(
            Diagnostic::error(
                Code::MissingModelCard,
                format!("{} has no model card", m.name),
            )
            .in_file(format!("{}/{}.md", registry::CARDS_DIR, m.name))
            .hint("write its intended use, limitations and ethical considerations there"),
        );
    }
    if let Some(file) = &m.card {
        // A card that cannot be read is reported by the loader; one that can is judged.
        if let Some(text) = reg
            .source
            .read(file, 1 << 20)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            let gaps = crate::gates::card::gaps(&text, template);
            d.extend(crate::gates::card::diagnostics(file, &text, &gaps, false));
        }
    }
    let judge = crate::monitor::evidence::Judge {
        policy: reg.policy.as_ref(),
        signers: reg.signers.as_ref(),
        now: None,
        signatures: opts.signatures,
    };
    d.extend(crate::monitor::evidence::results(reg, m, &judge).1);
    for (number, v) in &m.versions {
        check_bias_groups(v, &mut d);
        check_numbers(v, &mut d);
        if v.spec.version.value != *number {
            d.push(
                Diagnostic::error(
                    Code::VersionMismatch,
                    format!("v{number}.yaml holds `version: {}`", v.spec.version.value),
                )
                .in_file(&v.file)
                .at(v.spec.version.span)
                .hint(format!("set `version: {number}`, or rename the file")),
            );
        }
    }
    if let Some(file) = &m.aliases_file {
        for (alias, target) in &m.aliases {
            if m.broken_versions.contains(&target.value) {
                continue;
            }
            match m.versions.get(&target.value) {
                None => d.push(
                    Diagnostic::error(
                        Code::AliasMissingVersion,
                        format!(
                            "`{alias}` points at version {} of {}, which does not exist",
                            target.value, m.name
                        ),
                    )
                    .in_file(file)
                    .at(target.span)
                    .hint(match m.versions.keys().next_back() {
                        Some(last) => format!("existing versions: v1..v{last}"),
                        None => "register a version first".into(),
                    }),
                ),
                Some(v) if v.is_retired() => d.push(
                    Diagnostic::error(
                        Code::AliasArchivedVersion,
                        format!(
                            "`{alias}` points at version {} of {}, which is archived",
                            target.value, m.name
                        ),
                    )
                    .in_file(file)
                    .at(target.span)
                    .hint("an alias must point at a live version: promote another, or un-archive this one"),
                ),
                Some(_) => {}
            }
        }
    }
    for a in &m.approvals {
        let s = &a.approval.statement;
        let expected = format!(
            "v{}-{}-{}-{}.yaml",
            s.version.value, s.alias.value, s.role.value, s.principal.value
        );
        let actual = a.file.rsplit('/').next().unwrap_or_default();
        if s.model.value != m.name.as_str() {
            d.push(
                Diagnostic::error(
                    Code::NameMismatch,
                    format!(
                        "this approval is for model `{}` but lives in {}",
                        s.model.value, m.dir
                    ),
                )
                .in_file(&a.file)
                .at(s.model.span),
            );
        } else if actual != expected {
            d.push(
                Diagnostic::error(
                    Code::NameMismatch,
                    format!("the approval's statement says it is {expected}, but the file is named {actual}"),
                )
                .in_file(&a.file)
                .hint("approval file names are v<N>-<alias>-<role>-<principal>.yaml"),
            );
        }
        if let Some(signers) = reg.signers.as_ref().filter(|_| opts.signatures) {
            if let Err(why) =
                crate::signing::approval::verify(s, &a.approval.signature, signers, None)
            {
                d.push(
                    Diagnostic::error(
                        Code::ApprovalSignature,
                        format!("this approval does not count: {why}"),
                    )
                    .in_file(&a.file)
                    .at(a.approval.signature.span)
                    .hint(format!(
                        "sign the bytes of `modelgate approval message {}` with `ssh-keygen -Y sign -n modelgate-approval -f KEY`",
                        a.file
                    )),
                );
            }
        }
        if !m.versions.contains_key(&s.version.value)
            && !m.broken_versions.contains(&s.version.value)
        {
            d.push(
                Diagnostic::error(
                    Code::AliasMissingVersion,
                    format!(
                        "approval of version {}, which does not exist",
                        s.version.value
                    ),
                )
                .in_file(&a.file)
                .at(s.version.span),
            );
        }
        // Migration: an approval made before approvals bound the input schema stays valid
        // history, but a pending one (its version does not hold its alias yet) will not count.
        let realized = m.aliases.get(&s.alias.value).map(|v| v.value) == Some(s.version.value)
            || promoted.contains(&(m.name.as_str(), s.alias.value.as_str(), s.version.value));
        if s.inputs_sha256.is_none() && !realized {
            d.push(
                Diagnostic::warning(
                    Code::ApprovalRejected,
                    format!(
                        "this approval of v{} for {} does not bind the model's input schema (`inputs_sha256`) and will not count for the promotion",
                        s.version.value, s.alias.value
                    ),
                )
                .in_file(&a.file)
                .at(s.principal.span)
                .hint(format!(
                    "sign it again: modelgate approve {} {} --alias {} --role {} --key KEY",
                    m.name, s.version.value, s.alias.value, s.role.value
                )),
            );
        }
    }
    d
}

/// A model's `serving:` section: its problems (errors), and a warning when it sends traffic
/// or shadow requests to a challenger the model does not have (the champion then answers
/// everything).
fn check_serving(m: &Model, file: &str, sv: &crate::registry::schema::Serving) -> Vec<Diagnostic> {
    let mut d: Vec<Diagnostic> = sv
        .problems()
        .into_iter()
        .map(|(span, msg)| {
            let e = Diagnostic::error(Code::PolicyRange, msg)
                .in_file(file)
                .hint("serving: {split: {champion: 90, challenger: 10}, sticky: {field: patient_id}, shadow: false}");
            match span {
                Some(s) => e.at(s),
                None => e,
            }
        })
        .collect();
    if sv.uses_challenger()
        && !m
            .aliases
            .contains_key(&crate::registry::types::Alias::Challenger)
    {
        let (_, weight) = sv.weights();
        d.push(
            Diagnostic::warning(
                Code::PolicyRange,
                format!(
                    "serving {} the challenger, but {} has no challenger: the champion answers every request",
                    if weight > 0 {
                        format!("sends {weight}% of requests to")
                    } else {
                        "shadows".to_string()
                    },
                    m.name
                ),
            )
            .in_file(file)
            .hint(format!("promote a version to challenger (modelgate promote {} N --alias challenger), or remove the challenger's share", m.name)),
        );
    }
    d
}

/// Governance approvals: named after what they approve, about a governed file, and (with
/// signatures) signed by the principal's key.
fn check_governance(reg: &Registry, opts: Options) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    for a in &reg.governance {
        let s = &a.approval.statement;
        let expected = format!(
            "{}-{}-{}.yaml",
            &s.sha256.value.hex()[..12],
            s.role.value,
            s.principal.value
        );
        let actual = a.file.rsplit('/').next().unwrap_or_default();
        if actual != expected {
            d.push(
                Diagnostic::error(
                    Code::NameMismatch,
                    format!("the governance approval's statement says it is {expected}, but the file is named {actual}"),
                )
                .in_file(&a.file)
                .hint("governance approval file names are <first 12 hex digits of sha256>-<role>-<principal>.yaml"),
            );
        }
        let file = s.file.value.as_str();
        if !crate::check::governance::is_governed(reg, file) {
            d.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{file}` is not a governed file"),
                )
                .in_file(&a.file)
                .at(s.file.span)
                .hint("governance approvals are about registry/policy.yaml, registry/allowed_signers or a registry/models/<model>/model.yaml"),
            );
        }
        if let Some(signers) = reg.signers.as_ref().filter(|_| opts.signatures) {
            if let Err(why) =
                crate::signing::approval::verify_governance(s, &a.approval.signature, signers, None)
            {
                d.push(
                    Diagnostic::error(
                        Code::ApprovalSignature,
                        format!("this governance approval does not count: {why}"),
                    )
                    .in_file(&a.file)
                    .at(a.approval.signature.span),
                );
            }
        }
    }
    d
}

/// One file to hash, and every place that records a digest for it.
struct DigestUse<'a> {
    file: &'a str,
    uri: &'a Spanned<String>,
    expected: &'a Spanned<Sha256>,
    what: &'static str,
}

/// Per-group rates, where a version records them, must be rates and must give the stated
/// differences (max − min across the groups; both sides are rounded to 4 decimals).
fn check_bias_groups(v: &registry::VersionEntry, d: &mut Vec<Diagnostic>) {
    const TOLERANCE: f64 = 2e-4;
    for (attr, b) in &v.spec.bias {
        let Some(groups) = &b.value.groups else {
            continue;
        };
        let mut problems = Vec::new();
        for (g, r) in groups.iter() {
            for (name, x) in [
                ("selection_rate", r.selection_rate),
                ("tpr", r.tpr),
                ("fpr", r.fpr),
                ("precision", r.precision),
            ] {
                if let Some(x) = x.filter(|x| !(0.0..=1.0).contains(x)) {
                    problems.push(format!("group `{g}` has {name} {x}, outside 0..1"));
                }
            }
        }
        for (stated_name, stated, rate_name, rate) in [
            (
                "demographic_parity",
                b.value.demographic_parity,
                "selection_rate",
                (|r: &GroupRates| r.selection_rate) as fn(&GroupRates) -> Option<f64>,
            ),
            ("equal_opportunity", b.value.equal_opportunity, "tpr", |r| {
                r.tpr
            }),
            (
                "predictive_parity",
                b.value.predictive_parity,
                "precision",
                |r| r.precision,
            ),
        ] {
            let rates: Vec<f64> = groups.values().filter_map(rate).collect();
            let (Some(stated), false) = (stated, rates.is_empty()) else {
                continue;
            };
            let max = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
            if ((max - min) - stated).abs() > TOLERANCE {
                problems.push(format!(
                    "{stated_name} is {stated}, but the groups' {rate_name} spans {} ({} − {})",
                    crate::gates::num(max - min),
                    crate::gates::num(max),
                    crate::gates::num(min)
                ));
            }
        }
        for p in problems {
            d.push(
                Diagnostic::error(
                    Code::BiasGroups,
                    format!("bias of `{attr}` in v{}: {p}", v.number),
                )
                .in_file(&v.file)
                .at(b.span)
                .hint("write the numbers from one evaluation, e.g. with `modelgate register --evaluate`"),
            );
        }
    }
}

fn check_digests(reg: &Registry) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let mut by_path: BTreeMap<String, Vec<DigestUse<'_>>> = BTreeMap::new();
    for m in reg.models.values() {
        for v in m.versions.values() {
            if v.spec.deleted_at.is_some() {
                continue; // the artifact was purged on purpose
            }
            let mut uses = vec![(
                &v.spec.artifact.uri,
                Some(&v.spec.artifact.sha256),
                "artifact",
            )];
            if let Some(e) = &v.spec.explainer {
                uses.push((&e.uri, Some(&e.sha256), "explainer"));
            }
            if let Some(ds) = v.spec.training.as_ref().and_then(|t| t.dataset.as_ref()) {
                uses.push((&ds.uri, ds.sha256.as_ref(), "dataset"));
            }
            for (uri, sha, what) in uses {
                match locate(uri) {
                    Ok(Location::Remote) => {}
                    Ok(Location::Local(path)) => {
                        if let Some(expected) = sha {
                            by_path.entry(path).or_default().push(DigestUse {
                                file: &v.file,
                                uri,
                                expected,
                                what,
                            });
                        }
                    }
                    Err(code) => d.push(
                        Diagnostic::error(
                            code,
                            format!("the {what} path `{}` is outside the repository", uri.value),
                        )
                        .in_file(&v.file)
                        .at(uri.span)
                        .hint("use a path relative to the repository root, or a URI such as s3://bucket/key"),
                    ),
                }
            }
        }
    }
    let src = reg.source.as_ref();
    let hashed: Vec<(String, Result<Sha256, ReadError>)> = by_path
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|p| {
            let h = src.digest(&p);
            (p, h)
        })
        .collect();
    for (path, result) in hashed {
        for u in &by_path[&path] {
            match &result {
                Ok(actual) if actual == &u.expected.value => {}
                Ok(actual) => d.push(
                    Diagnostic::error(
                        Code::DigestMismatch,
                        format!(
                            "the {} {path} has sha256 {actual}, but {} records {}",
                            u.what, u.file, u.expected.value
                        ),
                    )
                    .in_file(u.file)
                    .at(u.expected.span)
                    .hint("the file changed after it was registered: restore it, or register a new version"),
                ),
                Err(ReadError::NotFound) => d.push(
                    Diagnostic::error(
                        Code::MissingFile,
                        format!("the {} {} does not exist", u.what, u.uri.value),
                    )
                    .in_file(u.file)
                    .at(u.uri.span),
                ),
                Err(e) => d.push(
                    registry::read_error(&path, e)
                        .in_file(u.file)
                        .at(u.uri.span),
                ),
            }
        }
    }
    d
}

/// The reference data of `monitoring:` has every feature, with a type the feature can take:
/// read from the Parquet footer or the CSV header only. Skipped when there is no local file
/// (a URI, or absent: the digest checks and the drift job report those).
fn check_reference_schema(
    reg: &Registry,
    model_file: &str,
    spec: &crate::registry::schema::ModelSpec,
) -> Vec<Diagnostic> {
    use crate::registry::schema::FeatureType;
    use polars::prelude::DataType;
    let mut d = Vec::new();
    let Some(mon) = &spec.monitoring else {
        return d;
    };
    let reference = &mon.reference;
    let Ok(Location::Local(path)) = locate(&reference.value) else {
        return d;
    };
    if path.contains(['*', '?', '[']) || !reg.source.is_file(&path) {
        return d;
    }
    let warn = |msg: String| {
        Diagnostic::warning(Code::ReferenceSchema, msg)
            .in_file(model_file)
            .at(reference.span)
    };
    let columns = match crate::monitor::data::schema_of(reg.source.as_ref(), &path) {
        Ok(c) => c,
        Err(e) => {
            d.push(warn(format!("the reference data cannot be read: {e:#}")));
            return d;
        }
    };
    for f in &spec.features {
        let Some(c) = columns.iter().find(|c| c.name == f.name) else {
            let have: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            d.push(
                warn(format!(
                    "the reference data {path} has no column `{}` (a feature of the model)",
                    f.name
                ))
                .hint(format!(
                    "it has: {}; the drift job compares every feature with it",
                    have.join(", ")
                )),
            );
            continue;
        };
        let Some(dt) = &c.dtype else { continue };
        let fits = matches!(dt, DataType::Null | DataType::Boolean)
            || match f.kind {
                FeatureType::Numerical => dt.is_primitive_numeric() || dt.is_decimal(),
                FeatureType::Categorical => {
                    dt.is_integer() || matches!(dt, DataType::String) || dt.is_categorical()
                }
            };
        if !fits {
            let expected = match f.kind {
                FeatureType::Numerical => "numbers",
                FeatureType::Categorical => "strings, integers or booleans",
            };
            d.push(
                warn(format!(
                    "the reference data {path} holds `{}` as {dt}, but the feature is {}: expected {expected}",
                    f.name,
                    match f.kind {
                        FeatureType::Numerical => "numerical",
                        FeatureType::Categorical => "categorical",
                    }
                ))
                .hint("fix the feature's `type:` in model.yaml, or the reference data"),
            );
        }
    }
    d
}

fn check_audit_references(reg: &Registry) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    for line in &reg.audit.lines {
        let Some(e) = &line.entry else { continue };
        let Some(model) = &e.model else { continue };
        let known = crate::registry::types::ModelName::new(model)
            .ok()
            .and_then(|n| reg.models.get(&n));
        let span = line.span;
        match (known, e.version) {
            (None, _) => d.push(
                Diagnostic::warning(
                    Code::AuditReference,
                    format!(
                        "line {} names model `{model}`, which is not in the registry",
                        line.number
                    ),
                )
                .in_file(crate::audit::AUDIT_PATH)
                .at(span),
            ),
            (Some(m), Some(v))
                if !m.versions.contains_key(&v) && !m.broken_versions.contains(&v) =>
            {
                d.push(
                    Diagnostic::warning(
                        Code::AuditReference,
                        format!(
                            "line {} names version {v} of `{model}`, which does not exist",
                            line.number
                        ),
                    )
                    .in_file(crate::audit::AUDIT_PATH)
                    .at(span),
                )
            }
            _ => {}
        }
    }
    d
}
