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
use crate::registry::types::Alias;
use crate::registry::{Model, Registry, VersionEntry};
use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
    severity: String,
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

/// Severity order for sorting: none < ok < issue < alert < retrain.
fn drift_rank(s: &str) -> u8 {
    match s {
        "ok" => 1,
        "issue" => 2,
        "alert" => 3,
        "retrain" => 4,
        _ => 0,
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
                    .unwrap_or("none")
                    .to_string(),
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

    /// The pages of one model: its card page, a page per version, README.md and model.json.
    pub fn model_pages(&self, m: &Model) -> Result<ModelPages> {
        let name = m.name.as_str();
        let empty_spec;
        let spec: &ModelSpec = match &m.spec {
            Some(s) => s,
            None => {
                empty_spec = None::<ModelSpec>;
                let _ = &empty_spec;
                anyhow::bail!(
                    "{}/model.yaml does not load; run `modelgate validate` and fix it before building the site",
                    m.dir
                );
            }
        };
        let dir = format!("models/{name}");
        let champion = m.aliases.get(&Alias::Champion).map(|v| v.value);
        let challenger = m.aliases.get(&Alias::Challenger).map(|v| v.value);
        let newest = m.versions.values().next_back();
        let focus = champion.and_then(|c| m.versions.get(&c)).or(newest);
        let gate = self.gates_of(m, Alias::Champion);
        let primary = gate
            .primary_metric
            .as_ref()
            .map(|p| p.value.clone())
            .or_else(|| focus.and_then(|v| v.spec.metrics.keys().next().cloned()))
            .unwrap_or_else(|| "roc_auc".into());
        let runs = self.drift_runs(m);
        let latest = runs.last();
        // The latest run's severity, its share of drifted columns, and its date.
        let (drift, drift_status, drift_date) = match latest {
            None => ("none".to_string(), "not monitored".to_string(), None),
            Some(r) => {
                let sev = if r.severity == "none" {
                    "ok"
                } else {
                    r.severity.as_str()
                };
                (
                    sev.to_string(),
                    format!(
                        "{sev}{}",
                        r.share
                            .map(|s| format!(" ({:.0}% of columns)", s * 100.0))
                            .unwrap_or_default(),
                    ),
                    Some(r.date.clone()),
                )
            }
        };
        let drift_text = match &drift_date {
            Some(d) => format!("{drift_status} on {d}"),
            None => drift_status.clone(),
        };
        let (bias, bias_text) = self.bias_verdict(m, focus);
        let entries = self.audit_by_model.get(name).cloned().unwrap_or_default();
        let changed = entries
            .last()
            .map(|e| date_of(&e.at.raw))
            .or_else(|| newest.map(|v| date_of(&v.spec.created_at.raw)))
            .unwrap_or_default();
        let metric_value = focus
            .and_then(|v| v.spec.metrics.get(&primary))
            .map(|x| x.value);
        let metrics_json: BTreeMap<String, f64> = focus
            .map(|v| {
                v.spec
                    .metrics
                    .iter()
                    .map(|(k, x)| (k.clone(), x.value))
                    .collect()
            })
            .unwrap_or_default();
        let row = json!({
            "name": name,
            "description": spec.description,
            "owner": spec.owner,
            "task": serde_json::to_value(spec.task)?,
            "tags": spec.tags,
            "metrics": metrics_json,
            "champion": champion,
            "challenger": challenger,
            "primary_metric": primary,
            "metric_value": metric_value,
            "metric_text": metric_value.map(num),
            "bias": bias,
            "bias_text": bias_text,
            "bias_rank": bias_rank(&bias),
            "drift": drift,
            "drift_text": drift_text,
            "drift_status": drift_status,
            "drift_date": drift_date,
            "drift_rank": drift_rank(&drift),
            "changed": changed,
            "versions": m.versions.len(),
            "url": format!("{dir}/index.html"),
            "champion_url": champion.map(|c| format!("{dir}/v{c}.html")),
            "challenger_url": challenger.map(|c| format!("{dir}/v{c}.html")),
        });

        // Versions table and the primary-metric chart.
        let mut metric_names: Vec<String> = vec![primary.clone()];
        for v in m.versions.values() {
            for k in v.spec.metrics.keys() {
                if !metric_names.contains(k) && metric_names.len() < 6 {
                    metric_names.push(k.clone());
                }
            }
        }
        let versions: Vec<Value> = m
            .versions
            .values()
            .rev()
            .map(|v| {
                let approvals: Vec<String> = m
                    .approvals
                    .iter()
                    .filter(|a| a.approval.statement.version.value == v.number)
                    .map(|a| {
                        format!(
                            "{}: {}",
                            a.approval.statement.alias.value, a.approval.statement.role.value
                        )
                    })
                    .collect();
                json!({
                    "number": v.number,
                    "stage": stage_of(m, v),
                    "created": date_of(&v.spec.created_at.raw),
                    "created_by": v.spec.created_by,
                    "metrics_row": metric_names.iter().map(|k| v.spec.metrics.get(k).map(|x| num(x.value)).unwrap_or_else(|| "—".into())).collect::<Vec<_>>(),
                    "approvals_text": if approvals.is_empty() { "none".to_string() } else { approvals.join(", ") },
                    "approvals": approvals,
                })
            })
            .collect();
        let xs: Vec<String> = m.versions.keys().map(|n| format!("v{n}")).collect();
        let values: Vec<Option<f64>> = m
            .versions
            .values()
            .map(|v| v.spec.metrics.get(&primary).map(|x| x.value))
            .collect();
        let highlight = champion
            .and_then(|c| m.versions.keys().position(|n| *n == c))
            .map(|i| (0usize, i, "champion".to_string()));
        let axis = charts::metric_axis(&values);
        let delta = metric_delta(m, &primary, champion);
        let metric_chart = if values.iter().any(Option::is_some) {
            figure(
                &charts::line_chart(&LineChart {
                    id_prefix: "metric".into(),
                    title: format!("{primary} by version"),
                    desc: String::new(),
                    x_title: "Version".into(),
                    y_title: if axis.unit_interval {
                        format!("{primary} (0–1)")
                    } else {
                        primary.clone()
                    },
                    x_labels: xs,
                    series: vec![Series {
                        name: primary.clone(),
                        values,
                    }],
                    y_range: Some(axis.range),
                    y_format: ValueFormat::Plain,
                    hlines: Vec::new(),
                    bands: Vec::new(),
                    highlight,
                }),
                &format!(
                    "The primary metric, {primary}, of every version; the ring marks the champion. The axis {}, so differences are drawn to scale{}.",
                    if axis.unit_interval {
                        "spans the whole range 0–1"
                    } else {
                        "starts at zero"
                    },
                    delta.map(|d| format!(": {d}")).unwrap_or_default()
                ),
            )
        } else {
            String::new()
        };

        // Approvals of the champion.
        let champion_v = champion.and_then(|c| m.versions.get(&c));
        let champion_approvals: Vec<Value> = champion_v
            .map(|v| {
                self.approvals_of(m, v)
                    .into_iter()
                    .filter(|a| a["alias"] == "champion")
                    .collect()
            })
            .unwrap_or_default();
        let required: Vec<String> = gate
            .approvals
            .as_ref()
            .map(|a| a.roles.iter().map(|r| r.value.clone()).collect())
            .unwrap_or_default();
        let missing_roles: Vec<String> = if champion.is_some() {
            required
                .iter()
                .filter(|r| {
                    !champion_approvals
                        .iter()
                        .any(|a| a["role"] == r.as_str() && a["verified"] == true)
                })
                .cloned()
                .collect()
        } else {
            Vec::new()
        };

        // Bias.
        let (warn, block) = gate
            .bias
            .as_ref()
            .map(|b| (b.warn_at.value, b.block_at.value))
            .unwrap_or((0.10, 0.15));
        let bias_rows = focus.map(|v| self.bias_rows(m, v)).unwrap_or_default();
        let bias_chart = match focus {
            Some(v) if !v.spec.bias.is_empty() => figure(
                &charts::bar_chart(&BarChart {
                    id_prefix: "bias".into(),
                    title: format!("Disparity between groups, v{}", v.number),
                    desc: String::new(),
                    x_title: "Largest difference between groups (0–1)".into(),
                    groups: v
                        .spec
                        .bias
                        .iter()
                        .map(|(attr, b)| BarGroup {
                            label: attr.clone(),
                            bars: vec![
                                Bar {
                                    label: "demographic parity".into(),
                                    value: b.value.demographic_parity,
                                },
                                Bar {
                                    label: "equal opportunity".into(),
                                    value: b.value.equal_opportunity,
                                },
                                Bar {
                                    label: "predictive parity".into(),
                                    value: b.value.predictive_parity,
                                },
                            ],
                        })
                        .collect(),
                    x_range: None,
                    x_format: ValueFormat::Plain,
                    thresholds: vec![
                        RefLine {
                            label: "warn".into(),
                            value: warn,
                            kind: Level::Warn,
                        },
                        RefLine {
                            label: "block".into(),
                            value: block,
                            kind: Level::Block,
                        },
                    ],
                }),
                "Each bar is the largest difference between the groups of one protected attribute; the dashed line is where the policy warns, the solid line where it blocks a promotion.",
            ),
            _ => String::new(),
        };

        // Drift.
        let (issue, alert, retrain) = self.severity_of(m);
        let drift_runs: Vec<Value> = runs
            .iter()
            .rev()
            .map(|r| {
                let drifted: Vec<&str> = r
                    .columns
                    .iter()
                    .filter(|c| c.4)
                    .map(|c| c.0.as_str())
                    .collect();
                let yn = |b: Option<bool>| match b {
                    Some(true) => "drifted",
                    Some(false) => "stable",
                    None => "—",
                };
                json!({
                    "date": r.date,
                    "version": r.version,
                    "share": r.share.map(|s| format!("{:.0}%", s * 100.0)).unwrap_or_else(|| "—".into()),
                    "severity": if r.severity == "none" { "ok" } else { r.severity.as_str() },
                    "drifted": if drifted.is_empty() { "none".to_string() } else { format!("{} of {}: {}", drifted.len(), r.columns.len(), drifted.join(", ")) },
                    "prediction": yn(r.prediction),
                    "concept": yn(r.concept),
                })
            })
            .collect();
        let (drift_chart, heat) = if runs.is_empty() {
            (String::new(), String::new())
        } else {
            let dates: Vec<String> = runs.iter().map(|r| r.date.clone()).collect();
            let chart = figure(
                &charts::line_chart(&LineChart {
                    id_prefix: "drift".into(),
                    title: "Share of drifted columns".into(),
                    desc: String::new(),
                    x_title: "Monitoring run (date)".into(),
                    y_title: "Drifted columns (%)".into(),
                    x_labels: dates.clone(),
                    series: vec![Series {
                        name: "drift share".into(),
                        values: runs.iter().map(|r| r.share).collect(),
                    }],
                    y_range: Some((0.0, 1.0)),
                    y_format: ValueFormat::Percent,
                    hlines: Vec::new(),
                    bands: vec![
                        Band {
                            from: issue,
                            to: alert,
                            kind: Level::Info,
                            label: "issue".into(),
                        },
                        Band {
                            from: alert,
                            to: retrain,
                            kind: Level::Warn,
                            label: "alert".into(),
                        },
                        Band {
                            from: retrain,
                            to: f64::INFINITY,
                            kind: Level::Block,
                            label: "retrain".into(),
                        },
                    ],
                    highlight: None,
                }),
                "The share of monitored columns that drifted in each run, over the severity bands of the policy (strictly above a band's lower edge).",
            );
            let mut cols: Vec<String> = Vec::new();
            for r in &runs {
                for c in &r.columns {
                    if !cols.contains(&c.0) {
                        cols.push(c.0.clone());
                    }
                }
            }
            let cells: Vec<Vec<Option<HeatCell>>> = cols
                .iter()
                .map(|col| {
                    runs.iter()
                        .map(|r| {
                            r.columns.iter().find(|c| &c.0 == col).map(|c| HeatCell {
                                score: intensity(&c.3, c.1, c.2),
                                drifted: c.4,
                            })
                        })
                        .collect()
                })
                .collect();
            let heat = figure(
                &charts::heat_strip(&HeatStrip {
                    id_prefix: "heat".into(),
                    title: "Drift by column".into(),
                    desc: String::new(),
                    x_title: "Monitoring run (date)".into(),
                    score_title: "Drift (0.5 = at the threshold)".into(),
                    rows: cols,
                    cols: dates,
                    cells,
                }),
                "One row per column, one cell per run: darker is further past the column's drift threshold (p-value tests and distances on one scale, 0.5 at the threshold); a dot marks a drifted column.",
            );
            (chart, heat)
        };

        // The card.
        let card_md = match &m.card {
            Some(c) => self
                .reg
                .source
                .read(c, crate::registry::MAX_YAML_BYTES)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            None => None,
        };
        // An incomplete card is shown with what it lacks, never as if it were complete.
        let card_gaps: Option<Vec<gates::card::Gap>> = card_md
            .as_deref()
            .map(|md| gates::card::gaps(md, &self.card_template));
        let card_state = match &card_gaps {
            None => "missing",
            Some(g) if g.is_empty() => "complete",
            Some(_) => "incomplete",
        };
        let mut row = row;
        row["card"] = card_state.into();
        row["card_gaps"] = card_gaps.as_ref().map_or(0, Vec::len).into();
        let card_html = card_md.as_deref().map(|md| {
            super::markdown::render(
                md,
                &["versions", "approvals", "bias", "drift", "card", "content"],
            )
        });

        let mut ctx = self.base(P2, &format!("{dir}/index.html"));
        ctx.insert("m".into(), {
            let mut r = row.clone();
            r["protected"] = json!(spec.protected_attributes);
            r["drift"] = drift.clone().into();
            r
        });
        ctx.insert("versions".into(), versions.into());
        ctx.insert("metric_names".into(), json!(metric_names));
        ctx.insert("metric_chart".into(), metric_chart.into());
        ctx.insert(
            "champion_approvals".into(),
            champion_approvals.clone().into(),
        );
        ctx.insert("missing_roles".into(), json!(missing_roles));
        ctx.insert("bias_rows".into(), bias_rows.into());
        ctx.insert("bias_chart".into(), bias_chart.into());
        ctx.insert("bias_warn".into(), num(warn).into());
        ctx.insert("bias_block".into(), num(block).into());
        ctx.insert("drift_runs".into(), drift_runs.clone().into());
        ctx.insert("drift_chart".into(), drift_chart.into());
        ctx.insert("heat_strip".into(), heat.into());
        ctx.insert(
            "drift_issues".into(),
            json!(
                self.drift_issues
                    .get(name)
                    .map(|v| v
                        .iter()
                        .map(|(n, u)| json!({"number": n, "url": u}))
                        .collect::<Vec<_>>())
                    .unwrap_or_default()
            ),
        );
        ctx.insert(
            "card_html".into(),
            card_html.clone().map(Value::from).unwrap_or(Value::Null),
        );
        ctx.insert(
            "card_file".into(),
            m.card
                .clone()
                .unwrap_or_else(|| format!("{}/{name}.md", crate::registry::CARDS_DIR))
                .into(),
        );
        ctx.insert(
            "card_gaps".into(),
            json!(
                card_gaps
                    .iter()
                    .flatten()
                    .map(|g| json!({"line": g.line, "message": g.message}))
                    .collect::<Vec<_>>()
            ),
        );
        let mut html = vec![(
            format!("{dir}/index.html"),
            "model.html",
            Value::Object(ctx),
        )];

        for v in m.versions.values() {
            html.push((
                format!("{dir}/v{}.html", v.number),
                "version.html",
                Value::Object(self.version_context(
                    m,
                    spec,
                    v,
                    &row,
                    &entries,
                    card_md.as_deref(),
                )?),
            ));
        }

        // model.json and the portable README.md.
        // Serialized straight from the registry's types (no intermediate JSON tree): keys in
        // the order of the YAML files.
        #[derive(Serialize)]
        struct VersionJson<'v> {
            #[serde(flatten)]
            spec: &'v crate::registry::schema::VersionSpec,
            stage: &'static str,
            file: &'v str,
            sha256: String,
        }
        #[derive(Serialize)]
        struct ModelJson<'v> {
            name: &'v str,
            model: &'v ModelSpec,
            aliases: BTreeMap<String, u32>,
            versions: Vec<VersionJson<'v>>,
            summary: &'v Value,
            champion_approvals: &'v [Value],
            monitoring: &'v [Value],
        }
        let model_json = ModelJson {
            name,
            model: spec,
            aliases: m
                .aliases
                .iter()
                .map(|(a, v)| (a.to_string(), v.value))
                .collect(),
            versions: m
                .versions
                .values()
                .map(|v| VersionJson {
                    spec: &v.spec,
                    stage: stage_of(m, v),
                    file: &v.file,
                    sha256: v.digest.hex(),
                })
                .collect(),
            summary: &row,
            champion_approvals: &champion_approvals,
            monitoring: &drift_runs,
        };
        let mut json_bytes = serde_json::to_vec(&model_json)?;
        json_bytes.push(b'\n');
        let other = vec![(format!("{dir}/model.json"), json_bytes)];
        html.push((
            format!("{dir}/README.md"),
            "model_readme.md",
            serde_json::to_value(readme(
                m,
                spec,
                focus,
                &primary,
                card_md.as_deref(),
                card_gaps.as_deref().unwrap_or_default(),
            ))?,
        ));
        let card = match (&m.card, card_md, card_html) {
            (Some(file), Some(md), Some(html)) => Some(CardSource {
                file: file.clone(),
                md,
                html,
            }),
            _ => None,
        };
        Ok(ModelPages {
            templated: html,
            other,
            row,
            card,
        })
    }

    fn version_context(
        &self,
        m: &Model,
        spec: &ModelSpec,
        v: &VersionEntry,
        row: &Value,
        entries: &[&Entry],
        card_md: Option<&str>,
    ) -> Result<serde_json::Map<String, Value>> {
        let name = m.name.as_str();
        let s = &v.spec;
        let t = s.training.as_ref();
        let mut facts: Vec<(String, String)> = vec![
            ("Stage".into(), stage_of(m, v).into()),
            ("Created".into(), s.created_at.raw.clone()),
            ("Created by".into(), s.created_by.clone()),
            ("Artifact".into(), s.artifact.uri.value.clone()),
            ("Artifact sha256".into(), s.artifact.sha256.value.hex()),
            ("Format".into(), "ONNX".into()),
        ];
        if let Some(e) = &s.explainer {
            facts.push(("Explainer".into(), e.uri.value.clone()));
            facts.push(("Explainer sha256".into(), e.sha256.value.hex()));
        }
        if let Some(t) = t {
            let mut add = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    facts.push((k.to_string(), v));
                }
            };
            add("Training run", t.run_id.clone());
            add("Experiment", t.experiment.clone());
            add(
                "Code commit",
                t.git_commit.as_ref().map(|c| {
                    format!(
                        "{}{}",
                        c.value.0,
                        if t.dirty == Some(true) {
                            " (with uncommitted changes)"
                        } else {
                            ""
                        }
                    )
                }),
            );
            add("Code version", t.code_version.clone());
            add("Random seed", t.random_seed.map(|x| x.to_string()));
            if let Some(d) = &t.dataset {
                add("Dataset", Some(d.uri.value.clone()));
                add("Dataset sha256", d.sha256.as_ref().map(|h| h.value.hex()));
                add("Dataset snapshot", d.snapshot.clone());
                add("Dataset rows", d.rows.map(|r| r.to_string()));
            }
            add("Raw data", t.raw_data.clone());
            add("Pipeline", t.pipeline.clone());
            if let Some(e) = &t.environment {
                add("Python", e.python.clone());
                add("Image", e.image.clone());
                if !e.packages.is_empty() {
                    add(
                        "Packages",
                        Some(
                            e.packages
                                .iter()
                                .map(|(k, v)| format!("{k}=={v}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                    );
                }
            }
        }
        if !s.tags.is_empty() {
            facts.push((
                "Tags".into(),
                s.tags
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        if let Some(a) = &s.archived_at {
            facts.push(("Archived".into(), a.value.raw.clone()));
        }
        if let Some(d) = &s.deleted_at {
            facts.push(("Artifact deleted".into(), d.raw.clone()));
        }
        facts.push(("Registry file".into(), v.file.clone()));
        facts.push(("File sha256".into(), v.digest.hex()));

        let metrics: Vec<(String, String)> = s
            .metrics
            .iter()
            .map(|(k, x)| (k.clone(), num(x.value)))
            .collect();
        let hyper: Vec<(String, String)> = s
            .hyperparameters
            .iter()
            .map(|(k, x)| {
                (
                    k.clone(),
                    match x {
                        Value::String(s) => s.clone(),
                        o => o.to_string(),
                    },
                )
            })
            .collect();

        // Promotions of this version, with the gates judged again against what it replaced.
        let mine: Vec<&&Entry> = entries
            .iter()
            .filter(|e| e.version == Some(v.number))
            .collect();
        let card = m.card.as_deref().zip(card_md);
        let roles = self.roles();
        let mut promotions = Vec::new();
        for e in mine.iter().filter(|e| e.action == Action::Promote) {
            let Some(alias) = e.alias.as_deref().and_then(|a| a.parse::<Alias>().ok()) else {
                continue;
            };
            let from = e
                .details
                .get("from")
                .and_then(Value::as_u64)
                .and_then(|f| u32::try_from(f).ok());
            let holder = from.and_then(|f| m.versions.get(&f));
            let gate = self.gates_of(m, alias);
            let inp = gates::approvals::Inputs {
                model: name,
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
            let results = [
                gates::performance::check(&gate, v, holder),
                gates::stability::check(&gate, v, holder),
                gates::bias::check(
                    &gate,
                    v,
                    &spec.protected_attributes,
                    card.as_ref()
                        .map(|(f, t)| gates::bias::Card { file: f, text: t }),
                ),
                gates::approvals::check(&gate, &inp),
            ];
            promotions.push(json!({
                "alias": alias.to_string(),
                "at": e.at.raw,
                "actor": e.actor,
                "from": from,
                "seq": e.seq,
                "gates": results.iter().map(|g| json!({
                    "gate": g.gate,
                    "status": serde_json::to_value(g.status).unwrap_or(Value::Null),
                    "detail": g.detail,
                })).collect::<Vec<_>>(),
            }));
        }
        let history: Vec<Value> = mine
            .iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "at": e.at.raw,
                    "action": serde_json::to_value(e.action).unwrap_or(Value::Null),
                    "alias": e.alias,
                    "actor": e.actor,
                    "details": if e.details.is_empty() { String::new() } else { Value::Object(e.details.clone()).to_string() },
                    "fields": detail_fields(&e.details),
                })
            })
            .collect();

        // Lineage graph.
        let mut nodes: Vec<Node> = Vec::new();
        let mut edges: Vec<(String, String)> = Vec::new();
        let node = |id: &str, kind: &str, label: String, detail: Option<String>| Node {
            id: id.into(),
            kind: kind.into(),
            label,
            detail,
            href: None,
        };
        let mut chain_tail: Option<String> = None;
        if let Some(t) = t {
            if let Some(r) = &t.raw_data {
                nodes.push(node("raw", "raw_data", r.clone(), None));
                chain_tail = Some("raw".into());
            }
            if let Some(p) = &t.pipeline {
                nodes.push(node("pipeline", "pipeline", p.clone(), None));
                if let Some(prev) = chain_tail.replace("pipeline".into()) {
                    edges.push((prev, "pipeline".into()));
                }
            }
            if let Some(d) = &t.dataset {
                nodes.push(node(
                    "dataset",
                    "dataset",
                    d.snapshot.clone().unwrap_or_else(|| d.uri.value.clone()),
                    d.sha256
                        .as_ref()
                        .map(|h| format!("sha256 {}", short(&h.value.hex()))),
                ));
                if let Some(prev) = chain_tail.replace("dataset".into()) {
                    edges.push((prev, "dataset".into()));
                }
            }
            if t.run_id.is_some() || t.experiment.is_some() {
                nodes.push(node(
                    "run",
                    "run",
                    t.run_id.clone().unwrap_or_else(|| "training run".into()),
                    t.experiment.clone(),
                ));
                if let Some(prev) = chain_tail.replace("run".into()) {
                    edges.push((prev, "run".into()));
                }
            }
            if let Some(c) = &t.git_commit {
                nodes.push(node(
                    "commit",
                    "commit",
                    t.code_version.clone().unwrap_or_else(|| "code".into()),
                    Some(format!("commit {}", short(&c.value.0))),
                ));
                let to = if t.run_id.is_some() || t.experiment.is_some() {
                    "run"
                } else {
                    "version"
                };
                edges.push(("commit".into(), to.into()));
            }
        }
        nodes.push(node(
            "version",
            "version",
            format!("{name} v{}", v.number),
            Some(format!("sha256 {}", short(&s.artifact.sha256.value.hex()))),
        ));
        if let Some(prev) = chain_tail {
            edges.push((prev, "version".into()));
        }
        let mut held: BTreeSet<String> = BTreeSet::new();
        for e in mine.iter().filter(|e| e.action == Action::Promote) {
            if let Some(a) = &e.alias {
                held.insert(a.clone());
            }
        }
        for (a, x) in &m.aliases {
            if x.value == v.number {
                held.insert(a.to_string());
            }
        }
        for a in &held {
            let now = m
                .aliases
                .get(&a.parse::<Alias>().unwrap_or(Alias::Champion))
                .map(|x| x.value)
                == Some(v.number);
            let id = format!("alias-{a}");
            nodes.push(node(
                &id,
                "alias",
                a.clone(),
                Some(if now { "now".into() } else { "formerly".into() }),
            ));
            edges.push(("version".into(), id));
        }
        if m.aliases.get(&Alias::Champion).map(|x| x.value) == Some(v.number) {
            if let Some(mon) = &spec.monitoring {
                nodes.push(node(
                    "batch",
                    "batch",
                    "scored data".into(),
                    Some(mon.current.value.clone()),
                ));
                edges.push(("version".into(), "batch".into()));
            }
        }
        let lineage = figure(
            &charts::lineage_graph(&Lineage {
                id_prefix: "lineage".into(),
                title: format!("Lineage of {name} v{}", v.number),
                desc: String::new(),
                nodes,
                edges,
            }),
            "From the raw data through the pipeline, the dataset snapshot and the training run to this version, its aliases and the data it scores.",
        );

        let mut ctx = self.base(P2, &format!("models/{name}/v{}.html", v.number));
        ctx.insert("m".into(), json!({ "name": row["name"] }));
        ctx.insert(
            "v".into(),
            json!({"number": v.number, "stage": stage_of(m, v)}),
        );
        ctx.insert(
            "facts".into(),
            json!(facts.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>()),
        );
        ctx.insert("lineage_svg".into(), lineage.into());
        ctx.insert(
            "metrics".into(),
            json!(metrics.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>()),
        );
        ctx.insert(
            "hyperparameters".into(),
            json!(hyper.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>()),
        );
        ctx.insert("bias_rows".into(), self.bias_rows(m, v).into());
        ctx.insert("promotions".into(), promotions.into());
        ctx.insert("approvals".into(), self.approvals_of(m, v).into());
        ctx.insert("history".into(), history.into());
        Ok(ctx)
    }

    /// The index's context and models.json, from every model's row.
    pub fn index(&self, rows: &[Value]) -> Result<(Value, String)> {
        let mut ctx = self.base("", "index.html");
        let count = |f: &dyn Fn(&Value) -> bool| rows.iter().filter(|r| f(r)).count();
        ctx.insert(
            "totals".into(),
            json!({
                "versions": rows.iter().filter_map(|r| r["versions"].as_u64()).sum::<u64>(),
                "champions": count(&|r| !r["champion"].is_null()),
                "challengers": count(&|r| !r["challenger"].is_null()),
                "drifting": count(&|r| drift_rank(r["drift"].as_str().unwrap_or("")) >= 2),
                "bias_block": count(&|r| r["bias"] == "block"),
            }),
        );
        ctx.insert("models".into(), Value::Array(rows.to_vec()));
        let search: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r["name"], "description": r["description"], "owner": r["owner"],
                    "task": r["task"], "tags": r["tags"], "metrics": r["metrics"],
                    "champion": r["champion"], "challenger": r["challenger"],
                    "drift": r["drift"], "bias": r["bias"], "url": r["url"],
                })
            })
            .collect();
        ctx.insert(
            "search_index".into(),
            script_json(&Value::Array(search.clone())).into(),
        );
        let json = serde_json::to_string_pretty(&json!({
            "modelgate": env!("CARGO_PKG_VERSION"),
            "models": rows,
        }))? + "\n";
        Ok((Value::Object(ctx), json))
    }

    /// The audit page's context. `pages` are the site's files, to link only to pages that exist.
    pub fn audit(&self, text: &str, pages: &BTreeSet<String>) -> Result<Value> {
        let mut diags = Vec::new();
        let log = crate::audit::Log::parse(text, &mut diags);
        diags.extend(log.verify(text));
        let head = log.lines.last().map(|l| l.digest.hex()).unwrap_or_default();
        let mut entries: Vec<Value> = log
            .entries()
            .map(|e| {
                let model_url = e
                    .model
                    .as_ref()
                    .map(|m| format!("models/{m}/index.html"))
                    .filter(|u| pages.contains(u));
                let version_url = match (&e.model, e.version) {
                    (Some(m), Some(v)) => {
                        Some(format!("models/{m}/v{v}.html")).filter(|u| pages.contains(u))
                    }
                    _ => None,
                };
                json!({
                    "seq": e.seq,
                    "at": e.at.raw,
                    "action": serde_json::to_value(e.action).unwrap_or(Value::Null),
                    "model": e.model,
                    "model_url": model_url,
                    "version": e.version,
                    "version_url": version_url,
                    "alias": e.alias,
                    "actor": e.actor,
                    "details": if e.details.is_empty() { String::new() } else { Value::Object(e.details.clone()).to_string() },
                    "fields": detail_fields(&e.details),
                })
            })
            .collect();
        entries.reverse();
        let mut ctx = self.base("", "audit.html");
        ctx.insert("entries".into(), entries.into());
        ctx.insert("chain_ok".into(), diags.is_empty().into());
        ctx.insert(
            "chain_problems".into(),
            json!(diags.iter().map(|d| d.message.clone()).collect::<Vec<_>>()),
        );
        ctx.insert("head".into(), head.into());
        let _ = &self.root;
        Ok(Value::Object(ctx))
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

/// The context of a Hugging Face–style README (template `model_readme.md`): YAML front matter
/// with `model-index` metrics, then the card and the registry's facts, so the card can travel.
#[derive(Serialize)]
struct Readme<'a> {
    name: &'a str,
    /// The model's tags as `key:value`.
    tags: Vec<String>,
    focus: Option<ReadmeFocus<'a>>,
    has_card: bool,
    /// The card, trailing whitespace removed.
    card: &'a str,
    description: &'a str,
    card_gaps: Vec<ReadmeGap<'a>>,
    owner: &'a str,
    aliases: Vec<ReadmeAlias>,
}

/// The version the README's metrics and artifact are of.
#[derive(Serialize)]
struct ReadmeFocus<'a> {
    number: u32,
    dataset: String,
    /// The primary metric first, then the others by name.
    metrics: Vec<ReadmeMetric>,
    artifact: &'a str,
    sha256: String,
}

#[derive(Serialize)]
struct ReadmeMetric {
    name: String,
    value: String,
    label: String,
}

#[derive(Serialize)]
struct ReadmeGap<'a> {
    line: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct ReadmeAlias {
    alias: String,
    version: u32,
}

fn readme<'a>(
    m: &'a Model,
    spec: &'a ModelSpec,
    focus: Option<&'a VersionEntry>,
    primary: &str,
    card: Option<&'a str>,
    card_gaps: &'a [gates::card::Gap],
) -> Readme<'a> {
    let focus = focus.map(|v| {
        let dataset = v
            .spec
            .training
            .as_ref()
            .and_then(|t| t.dataset.as_ref())
            .map(|d| d.snapshot.clone().unwrap_or_else(|| d.uri.value.clone()))
            .unwrap_or_else(|| "evaluation data".into());
        let mut keys: Vec<&String> = v.spec.metrics.keys().collect();
        keys.sort_by_key(|k| (k.as_str() != primary, k.as_str()));
        ReadmeFocus {
            number: v.number,
            dataset,
            metrics: keys
                .into_iter()
                .map(|k| ReadmeMetric {
                    name: k.clone(),
                    value: num(v.spec.metrics[k].value),
                    label: format!("{k} (v{})", v.number),
                })
                .collect(),
            artifact: &v.spec.artifact.uri.value,
            sha256: v.spec.artifact.sha256.value.hex(),
        }
    });
    Readme {
        name: m.name.as_str(),
        tags: spec.tags.iter().map(|(k, v)| format!("{k}:{v}")).collect(),
        focus,
        has_card: card.is_some(),
        card: card.map(str::trim_end).unwrap_or_default(),
        description: &spec.description,
        card_gaps: card_gaps
            .iter()
            .map(|g| ReadmeGap {
                line: g.line,
                message: &g.message,
            })
            .collect(),
        owner: &spec.owner,
        aliases: m
            .aliases
            .iter()
            .map(|(a, v)| ReadmeAlias {
                alias: a.to_string(),
                version: v.value,
            })
            .collect(),
    }
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
