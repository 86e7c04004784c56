//! What each page shows: the registry's facts gathered into template contexts (JSON values),
//! the charts drawn, the machine-readable files written.

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
use serde::Serialize;
use serde_json::{Value, json};
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
pub fn script_json(v: &Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The pages of one model.
pub struct ModelPages {
    /// Pages rendered with a template (the HTML pages and the README): site-relative path,
    /// template, context.
    pub templated: Vec<(String, &'static str, Value)>,
    /// Other files: site-relative path and bytes.
    pub other: Vec<(String, Vec<u8>)>,
    /// The model's row on the index (and in models.json).
    pub row: Value,
    /// The card rendered into the model page, to map a broken link back to its line.
    pub card: Option<CardSource>,
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

    fn base(&self, root: &str, page: &str) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("root".into(), root.into());
        m.insert("site_title".into(), "Model registry".into());
        m.insert("modelgate_version".into(), env!("CARGO_PKG_VERSION").into());
        m.insert(
            "built_at".into(),
            self.built_at
                .clone()
                .map(Value::from)
                .unwrap_or(Value::Null),
        );
        m.insert(
            "canonical".into(),
            self.base_url
                .as_ref()
                .map(|b| Value::from(format!("{b}/{page}")))
                .unwrap_or(Value::Null),
        );
        m
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

    fn approvals_of(&self, m: &Model, v: &VersionEntry) -> Vec<Value> {
        let roles = self.roles();
        let mut out = Vec::new();
        for a in m
            .approvals
            .iter()
            .filter(|a| a.approval.statement.version.value == v.number)
        {
            let s = &a.approval.statement;
            let alias: Alias = s.alias.value;
            let inp = gates::approvals::Inputs {
                model: m.name.as_str(),
                alias,
                candidate: v,
                approvals: &m.approvals,
                signers: self.reg.signers.as_ref(),
                roles,
                alias_at: (m.aliases_file.as_deref().unwrap_or(""), None),
                // The site shows history: each approval as judged when it was made.
                inputs: None,
                now: None,
                not_before: None,
                distinct_principals: false,
                head_rules: None,
            };
            let problem = gates::approvals::judge(&inp, a);
            out.push(json!({
                "alias": s.alias.value.to_string(),
                "role": s.role.value,
                "principal": s.principal.value,
                "approved_at": s.approved_at.value.raw,
                "verified": problem.is_none(),
                "problem": problem.unwrap_or_default(),
                "file": a.file,
            }));
        }
        out.sort_by(|a, b| {
            (a["alias"].as_str(), a["role"].as_str())
                .cmp(&(b["alias"].as_str(), b["role"].as_str()))
        });
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

    fn bias_rows(&self, m: &Model, v: &VersionEntry) -> Vec<Value> {
        let (warn, block) = self.bias_thresholds(m);
        let f = |x: Option<f64>| x.map(num).unwrap_or_else(|| "—".into());
        v.spec
            .bias
            .iter()
            .map(|(attr, b)| {
                let b = &b.value;
                let worst = [b.demographic_parity, b.equal_opportunity, b.predictive_parity]
                    .into_iter()
                    .flatten()
                    .fold(f64::NEG_INFINITY, f64::max);
                let groups: Vec<Value> = b
                    .groups
                    .iter()
                    .flat_map(|g| g.iter())
                    .map(|(g, r)| {
                        json!({
                            "group": g,
                            "count": r.count.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
                            "sr": f(r.selection_rate),
                            "tpr": f(r.tpr),
                            "fpr": f(r.fpr),
                            "precision": f(r.precision),
                        })
                    })
                    .collect();
                json!({
                    "attribute": attr,
                    "dp": f(b.demographic_parity),
                    "eo": f(b.equal_opportunity),
                    "pp": f(b.predictive_parity),
                    "verdict": if worst.is_finite() { crate::monitor::bias::verdict(worst, warn, block) } else { "none" },
                    "groups": groups,
                })
            })
            .collect()
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
