//! What each page shows: the registry's facts gathered into typed template contexts (each
//! field named as the template's variable), the charts drawn, the machine-readable files
//! written.

use super::Options;
use super::charts::{
    self, Band, Bar, BarChart, BarGroup, HeatCell, HeatStrip, Level, LineChart, Lineage, Node,
    RefLine, Series, ValueFormat,
};
use crate::audit::{Action, Entry};
use crate::gates::{self, num};
use crate::registry::schema::{GateConfig, ModelSpec};
use crate::registry::types::{Alias, Severity};
use crate::registry::{Model, Registry, VersionEntry};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod audit;
mod index;
mod model;
mod version;

/// Escapes text for XML and HTML (the charts' escaping).
pub fn escape_xml(s: &str) -> String {
    super::charts::escape(s)
}

/// JSON safe to embed in a `<script type="application/json">` element.
pub fn script_json(v: &impl Serialize) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The pages of one model.
pub struct ModelPages {
    /// Pages rendered with a template (the HTML pages and the README): site-relative path,
    /// template, context (a typed context as the JSON tree tera reads).
    pub templated: Vec<(String, &'static str, Value)>,
    /// Other files: site-relative path and bytes.
    pub other: Vec<(String, Vec<u8>)>,
    /// The model's row on the index (and in models.json).
    pub row: ModelRow,
    /// The card rendered into the model page, to map a broken link back to its line.
    pub card: Option<CardSource>,
}

/// A model's row on the index, in `models.json` and (as `m`) on its page. Fields in
/// alphabetical order: `models.json`, `model.json` and the build cache have always listed them
/// sorted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelRow {
    /// The champion's bias verdict: `none`, `pass`, `warn` or `block`.
    pub bias: String,
    /// The verdict's sort order.
    pub bias_rank: u8,
    /// The verdict in words, with the largest disparity.
    pub bias_text: String,
    /// The model card: `missing`, `complete` or `incomplete`.
    pub card: String,
    /// How many things the card lacks.
    pub card_gaps: usize,
    /// The challenger's version.
    pub challenger: Option<u32>,
    /// The challenger's page.
    pub challenger_url: Option<String>,
    /// The champion's version.
    pub champion: Option<u32>,
    /// The champion's page.
    pub champion_url: Option<String>,
    /// The date of the last change (audit entry, else the newest version).
    pub changed: String,
    /// The model's description.
    pub description: String,
    /// The latest monitoring run's severity (`ok` for none; `none` when not monitored).
    pub drift: String,
    /// The latest run's date.
    pub drift_date: Option<String>,
    /// The severity's sort order.
    pub drift_rank: u8,
    /// The severity with the share of drifted columns.
    pub drift_status: String,
    /// The status with the run's date.
    pub drift_text: String,
    /// The primary metric of the champion (else the newest version), as printed.
    pub metric_text: Option<String>,
    /// Its value.
    pub metric_value: Option<f64>,
    /// The champion's (else the newest version's) metrics; `None` for a value that is not a
    /// finite number (written as `null`).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// The model's name.
    pub name: String,
    /// The model's owner.
    pub owner: String,
    /// The primary metric's name.
    pub primary_metric: String,
    /// The model's tags.
    pub tags: BTreeMap<String, String>,
    /// What the model predicts.
    pub task: crate::registry::schema::Task,
    /// The model's page.
    pub url: String,
    /// How many versions it has.
    pub versions: usize,
}

/// A model card as the model page shows it.
pub struct CardSource {
    /// The card's file, e.g. `model-cards/churn.md`.
    pub file: String,
    /// Its Markdown.
    pub md: String,
    /// Its HTML, as inserted into the model page.
    pub html: String,
}

/// One monitoring run, as the site shows it.
#[derive(Clone, Debug)]
struct DriftRun {
    date: String,
    version: Option<u64>,
    share: Option<f64>,
    severity: Severity,
    columns: Vec<(String, f64, f64, String, bool)>,
    prediction: Option<bool>,
    concept: Option<bool>,
}

/// Everything the pages share.
pub struct Site<'a> {
    reg: &'a Registry,
    drift_issues: BTreeMap<String, Vec<(u64, String)>>,
    root: PathBuf,
    base_url: Option<String>,
    built_at: Option<String>,
    audit_by_model: BTreeMap<&'a str, Vec<&'a Entry>>,
    /// What a complete model card holds (the registry's template, else the built-in one).
    card_template: gates::card::Template,
}

const P2: &str = "../../";

fn stage_of(m: &Model, v: &VersionEntry) -> &'static str {
    m.stage_of(v)
}

fn short(h: &str) -> String {
    h.chars().take(12).collect()
}

fn date_of(raw: &str) -> String {
    raw.chars().take(10).collect()
}

/// A model's drift as the site shows it: not monitored (`None`, shown as `none`), or its latest
/// run's severity, with severity `none` shown as `ok`. Ordered for sorting:
/// none < ok < issue < alert < retrain (the order of [`Severity`], after "not monitored").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct DriftStatus(Option<Severity>);

impl DriftStatus {
    /// The word the pages show and style by (`status-<word>`).
    fn as_str(self) -> &'static str {
        match self.0 {
            None => "none",
            Some(Severity::None) => "ok",
            Some(s) => s.as_str(),
        }
    }

    /// The sort key of the index's drift column: 0 (not monitored) to 4 (retrain).
    fn rank(self) -> u8 {
        self.0.map_or(0, |s| s as u8 + 1)
    }
}

fn bias_rank(s: &str) -> u8 {
    match s {
        "pass" => 1,
        "warn" => 2,
        "block" => 3,
        _ => 0,
    }
}

fn is_p_value(method: &str) -> bool {
    matches!(method, "ks" | "chisquare" | "ztest")
}

/// A drift score mapped to [0, 1] with 0.5 at the method's threshold: p-value tests and
/// distances read the same way on the heat strip.
fn intensity(method: &str, score: f64, threshold: f64) -> f64 {
    if !score.is_finite() || !threshold.is_finite() || threshold <= 0.0 {
        return f64::NAN;
    }
    let r = if is_p_value(method) {
        threshold / score.max(1e-12)
    } else {
        score / threshold
    };
    (r.min(2.0) / 2.0).clamp(0.0, 1.0)
}

impl<'a> Site<'a> {
    /// Prepares what every page shares.
    pub fn new(reg: &'a Registry, root: &Path, opts: &Options) -> Result<Site<'a>> {
        let mut audit_by_model: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for e in reg.audit.entries() {
            if let Some(m) = e.model.as_deref() {
                audit_by_model.entry(m).or_default().push(e);
            }
        }
        Ok(Site {
            reg,
            drift_issues: opts.drift_issues.clone(),
            root: root.to_path_buf(),
            base_url: opts
                .base_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            built_at: opts
                .stamp
                .then(|| chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()),
            audit_by_model,
            card_template: gates::card::Template::of(reg.source.as_ref()),
        })
    }

    /// What every page's context has; `root` is the way from the page to the site's root.
    fn base(&self, root: &'static str, page: &str) -> Base {
        Base {
            root,
            site_title: "Model registry",
            modelgate_version: env!("CARGO_PKG_VERSION"),
            built_at: self.built_at.clone(),
            canonical: self.base_url.as_ref().map(|b| format!("{b}/{page}")),
        }
    }

    fn gates_of(&self, m: &Model, alias: Alias) -> GateConfig {
        let Some(policy) = &self.reg.policy else {
            return GateConfig::default();
        };
        let over = m.spec.as_ref().and_then(|s| s.policy.as_ref());
        crate::registry::policy::effective(policy, over)
            .gates
            .get(&alias)
            .cloned()
            .unwrap_or_default()
    }

    fn severity_of(&self, m: &Model) -> (f64, f64, f64) {
        match &self.reg.policy {
            Some(p) => {
                crate::registry::policy::effective(
                    p,
                    m.spec.as_ref().and_then(|s| s.policy.as_ref()),
                )
                .severity
            }
            None => crate::registry::policy::DEFAULT_SEVERITY,
        }
    }

    fn drift_runs(&self, m: &Model) -> Vec<DriftRun> {
        let mut runs = Vec::new();
        let mut files: Vec<&String> = m
            .monitoring
            .iter()
            .filter(|f| f.ends_with(".yaml"))
            .collect();
        files.sort();
        for f in files {
            let Ok(bytes) = self.reg.source.read(f, crate::registry::MAX_YAML_BYTES) else {
                continue;
            };
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            let Ok(node) = crate::yaml::parse(&text) else {
                continue;
            };
            let Ok(v) = crate::yaml::de::from_node::<Value>(&node) else {
                continue;
            };
            let date = v
                .get("date")
                .map(|d| match d {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| {
                    f.rsplit('/')
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(".yaml")
                        .to_string()
                });
            let columns = v
                .get("columns")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            (
                                c.get("column")
                                    .and_then(Value::as_str)
                                    .unwrap_or("?")
                                    .to_string(),
                                c.get("score").and_then(Value::as_f64).unwrap_or(f64::NAN),
                                c.get("threshold")
                                    .and_then(Value::as_f64)
                                    .unwrap_or(f64::NAN),
                                c.get("method")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                                c.get("drifted").and_then(Value::as_bool).unwrap_or(false),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            runs.push(DriftRun {
                date,
                version: v.get("version").and_then(Value::as_u64),
                share: v.get("drift_share").and_then(Value::as_f64),
                severity: v
                    .get("severity")
                    .and_then(Value::as_str)
                    .and_then(Severity::parse)
                    .unwrap_or(Severity::None),
                columns,
                prediction: v
                    .get("prediction")
                    .and_then(|p| p.get("drifted"))
                    .and_then(Value::as_bool),
                concept: v
                    .get("concept")
                    .and_then(|p| p.get("drifted"))
                    .and_then(Value::as_bool),
            });
        }
        runs
    }

    /// The bias verdict of a version: the largest disparity against the gate's thresholds.
    fn bias_verdict(&self, m: &Model, v: Option<&VersionEntry>) -> (String, String) {
        let Some(v) = v else {
            return ("none".into(), "no version".into());
        };
        let gate = self.gates_of(m, Alias::Champion);
        let (warn, block) = gate
            .bias
            .as_ref()
            .map(|b| (b.warn_at.value, b.block_at.value))
            .unwrap_or((0.10, 0.15));
        let mut worst: Option<(f64, String)> = None;
        for (attr, b) in &v.spec.bias {
            for x in [
                b.value.demographic_parity,
                b.value.equal_opportunity,
                b.value.predictive_parity,
            ]
            .into_iter()
            .flatten()
            {
                if worst.as_ref().is_none_or(|(w, _)| x > *w) {
                    worst = Some((x, attr.clone()));
                }
            }
        }
        match worst {
            None => ("none".into(), "no numbers".into()),
            Some((x, attr)) => {
                let verdict = crate::monitor::bias::verdict(x, warn, block);
                (
                    verdict.into(),
                    format!("{verdict} (max {} on {attr})", num(x)),
                )
            }
        }
    }

    /// The policy's roles (none when the policy does not load).
    fn roles(&self) -> &'a BTreeMap<String, Vec<crate::yaml::Spanned<String>>> {
        static NONE: BTreeMap<String, Vec<crate::yaml::Spanned<String>>> = BTreeMap::new();
        self.reg.policy.as_ref().map(|p| &p.roles).unwrap_or(&NONE)
    }

    /// The approvals gate's inputs for moving `alias` to `v`, as the site replays history:
    /// each approval judged as when it was made.
    fn approval_inputs<'x>(
        &'x self,
        m: &'x Model,
        alias: Alias,
        v: &'x VersionEntry,
    ) -> gates::approvals::Inputs<'x> {
        gates::approvals::Inputs {
            model: m.name.as_str(),
            alias,
            candidate: v,
            approvals: &m.approvals,
            signers: self.reg.signers.as_ref(),
            roles: self.roles(),
            alias_at: (m.aliases_file.as_deref().unwrap_or(""), None),
            // The site shows history: each approval as judged when it was made.
            inputs: None,
            now: None,
            not_before: None,
            distinct_principals: false,
            head_rules: None,
        }
    }

    /// The approvals of `v`, each judged, by alias and role.
    fn approvals_of<'x>(&self, m: &'x Model, v: &VersionEntry) -> Vec<ApprovalRow<'x>> {
        let mut out = Vec::new();
        for a in m
            .approvals
            .iter()
            .filter(|a| a.approval.statement.version.value == v.number)
        {
            let s = &a.approval.statement;
            let alias: Alias = s.alias.value;
            let problem = gates::approvals::judge(&self.approval_inputs(m, alias, v), a);
            out.push(ApprovalRow {
                alias: s.alias.value.to_string(),
                role: &s.role.value,
                principal: &s.principal.value,
                approved_at: &s.approved_at.value.raw,
                verified: problem.is_none(),
                problem: problem.unwrap_or_default(),
                file: &a.file,
            });
        }
        out.sort_by(|a, b| (a.alias.as_str(), a.role).cmp(&(b.alias.as_str(), b.role)));
        out
    }

    /// The champion gate's bias thresholds (the model's override, else the policy's).
    fn bias_thresholds(&self, m: &Model) -> (f64, f64) {
        let over = m
            .spec
            .as_ref()
            .and_then(|s| s.policy.as_ref())
            .and_then(|p| p.gates.get(&Alias::Champion))
            .and_then(|g| g.bias.as_ref());
        let base = self
            .reg
            .policy
            .as_ref()
            .and_then(|p| p.gates.get(&Alias::Champion))
            .and_then(|g| g.bias.as_ref());
        over.or(base)
            .map(|b| (b.warn_at.value, b.block_at.value))
            .unwrap_or((0.10, 0.15))
    }

    /// The bias numbers of `v`, one row per protected attribute, with its groups.
    fn bias_rows<'v>(&self, m: &Model, v: &'v VersionEntry) -> Vec<BiasRow<'v>> {
        let (warn, block) = self.bias_thresholds(m);
        let f = |x: Option<f64>| x.map(num).unwrap_or_else(|| "—".into());
        v.spec
            .bias
            .iter()
            .map(|(attr, b)| {
                let b = &b.value;
                let worst = [
                    b.demographic_parity,
                    b.equal_opportunity,
                    b.predictive_parity,
                ]
                .into_iter()
                .flatten()
                .fold(f64::NEG_INFINITY, f64::max);
                let groups = b
                    .groups
                    .iter()
                    .flat_map(|g| g.iter())
                    .map(|(g, r)| BiasGroupRow {
                        group: g,
                        count: r.count.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
                        sr: f(r.selection_rate),
                        tpr: f(r.tpr),
                        fpr: f(r.fpr),
                        precision: f(r.precision),
                    })
                    .collect();
                BiasRow {
                    attribute: attr,
                    dp: f(b.demographic_parity),
                    eo: f(b.equal_opportunity),
                    pp: f(b.predictive_parity),
                    verdict: if worst.is_finite() {
                        crate::monitor::bias::verdict(worst, warn, block)
                    } else {
                        "none"
                    },
                    groups,
                }
            })
            .collect()
    }
}

/// What every page's context has.
#[derive(Serialize)]
struct Base {
    /// The way from the page to the site's root: `""` or `"../../"`.
    root: &'static str,
    site_title: &'static str,
    modelgate_version: &'static str,
    /// The build time, with `--stamp`.
    built_at: Option<String>,
    /// The page's public URL, with `--base-url`.
    canonical: Option<String>,
}

/// An approval of a version, judged. Fields in alphabetical order: `model.json` lists them so.
#[derive(Serialize)]
struct ApprovalRow<'a> {
    alias: String,
    approved_at: &'a str,
    file: &'a str,
    principal: &'a str,
    /// Why it does not count; empty when it does.
    problem: String,
    role: &'a str,
    verified: bool,
}

/// A version's bias numbers on one protected attribute, as printed.
#[derive(Serialize)]
struct BiasRow<'a> {
    attribute: &'a str,
    /// Demographic parity, equal opportunity and predictive parity differences.
    dp: String,
    eo: String,
    pp: String,
    /// `none`, `pass`, `warn` or `block`.
    verdict: &'static str,
    groups: Vec<BiasGroupRow<'a>>,
}

/// One group's rates, as printed (`—` when not given).
#[derive(Serialize)]
struct BiasGroupRow<'a> {
    group: &'a str,
    count: String,
    /// Selection rate.
    sr: String,
    tpr: String,
    fpr: String,
    precision: String,
}

/// An audit entry as the version page's history and the audit page show it.
#[derive(Serialize)]
struct EntryRow<'e> {
    seq: u64,
    at: &'e str,
    action: Action,
    alias: &'e Option<String>,
    actor: &'e str,
    /// The details as one line of JSON (empty when there are none).
    details: String,
    /// The details as readable fields ([`detail_fields`]).
    fields: Vec<[String; 2]>,
}

impl<'e> EntryRow<'e> {
    fn of(e: &'e Entry) -> EntryRow<'e> {
        EntryRow {
            seq: e.seq,
            at: &e.at.raw,
            action: e.action,
            alias: &e.alias,
            actor: &e.actor,
            details: if e.details.is_empty() {
                String::new()
            } else {
                Value::Object(e.details.clone()).to_string()
            },
            fields: detail_fields(&e.details),
        }
    }
}

/// The change of the primary metric in words: the newest version against the champion, or,
/// when the newest is the champion (or there is none), against the version before it.
fn metric_delta(m: &Model, primary: &str, champion: Option<u32>) -> Option<String> {
    let with: Vec<(u32, f64)> = m
        .versions
        .values()
        .filter_map(|v| Some((v.number, v.spec.metrics.get(primary)?.value)))
        .filter(|(_, x)| x.is_finite())
        .collect();
    let &(newest, x) = with.last()?;
    let (base, y) = champion
        .filter(|c| *c != newest)
        .and_then(|c| with.iter().find(|(n, _)| *n == c).copied())
        .or_else(|| with.len().checked_sub(2).map(|i| with[i]))?;
    let d = x - y;
    let sign = if d > 0.0 {
        "+"
    } else if d < 0.0 {
        "−"
    } else {
        "±"
    };
    let what = if Some(base) == champion {
        format!("the champion v{base}")
    } else {
        format!("v{base}")
    };
    Some(format!(
        "v{newest} is {sign}{} against {what} ({} against {})",
        num(d.abs()),
        num(x),
        num(y)
    ))
}

/// An audit entry's details as readable fields, `[name, value]` in the entry's order: strings
/// as they are, numbers and booleans as written, lists joined with commas, nested objects
/// flattened to `outer.inner` names. The site shows these instead of the raw JSON.
pub fn detail_fields(details: &serde_json::Map<String, Value>) -> Vec<[String; 2]> {
    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => "—".into(),
            Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
            Value::Object(_) => v.to_string(),
            other => other.to_string(),
        }
    }
    fn walk(prefix: &str, map: &serde_json::Map<String, Value>, out: &mut Vec<[String; 2]>) {
        for (k, v) in map {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Object(inner) if !inner.is_empty() => walk(&name, inner, out),
                _ => out.push([name.replace('_', " "), text(v)]),
            }
        }
    }
    let mut out = Vec::new();
    walk("", details, &mut out);
    out
}

/// An SVG chart in a `<figure>` with a caption.
fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"chart\">{svg}<figcaption>{}</figcaption></figure>",
        escape_xml(caption)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `t` serialized straight gives the bytes of its JSON tree, whose keys are sorted:
    /// what a context written to a file (`models.json`, `model.json`, the search index, the
    /// build cache) has always looked like.
    pub(super) fn keys_sorted(t: &impl Serialize) -> bool {
        let straight = serde_json::to_string(t).unwrap();
        let tree = serde_json::to_string(&serde_json::to_value(t).unwrap()).unwrap();
        straight == tree
    }

    /// A row with every optional field set.
    pub(super) fn sample_row() -> ModelRow {
        ModelRow {
            bias: "warn".into(),
            bias_rank: 2,
            bias_text: "warn (max 0.12 on sex)".into(),
            card: "incomplete".into(),
            card_gaps: 1,
            challenger: Some(4),
            challenger_url: Some("models/churn/v4.html".into()),
            champion: Some(3),
            champion_url: Some("models/churn/v3.html".into()),
            changed: "2024-06-30".into(),
            description: "Churn".into(),
            drift: "alert".into(),
            drift_date: Some("2024-06-30".into()),
            drift_rank: 3,
            drift_status: "alert (40% of columns)".into(),
            drift_text: "alert (40% of columns) on 2024-06-30".into(),
            metric_text: Some("0.87".into()),
            metric_value: Some(0.87),
            metrics: [("roc_auc".to_string(), Some(0.87)), ("f1".into(), None)].into(),
            name: "churn".into(),
            owner: "ml-team".into(),
            primary_metric: "roc_auc".into(),
            tags: [("team".to_string(), "growth".to_string())].into(),
            task: crate::registry::schema::Task::BinaryClassification,
            url: "models/churn/index.html".into(),
            versions: 4,
        }
    }

    #[test]
    fn rows_written_to_files_keep_their_sorted_keys() {
        assert!(keys_sorted(&sample_row()));
        assert!(keys_sorted(&ApprovalRow {
            alias: "champion".into(),
            approved_at: "2024-06-01T10:00:00Z",
            file: "registry/models/churn/approvals/v3-champion-risk.yaml",
            principal: "alice@example.com",
            problem: String::new(),
            role: "risk",
            verified: true,
        }));
    }

    #[test]
    fn a_row_reads_back_as_it_was_written() {
        let row = sample_row();
        let text = serde_json::to_string(&row).unwrap();
        let back: ModelRow = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        // A metric that is not a finite number is written as null and read back as none.
        assert!(text.contains("\"f1\":null"));
        assert_eq!(back.metrics["f1"], None);
    }

    #[test]
    fn audit_details_read_as_fields_not_json() {
        let d: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"drift_share":0.4,"file":"registry/models/x/monitoring/2024-06-30.yaml","gates":{"bias":"pass"},"roles":["a","b"],"from":null}"#,
        )
        .unwrap();
        let f = detail_fields(&d);
        let pairs: Vec<(&str, &str)> = f.iter().map(|[k, v]| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("drift share", "0.4"),
                ("file", "registry/models/x/monitoring/2024-06-30.yaml"),
                ("from", "—"),
                ("gates.bias", "pass"),
                ("roles", "a, b"),
            ]
        );
        assert!(f.iter().all(|[_, v]| !v.starts_with('{')));
    }
}
