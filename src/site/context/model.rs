//! A model's pages: its page, a page per version, `README.md` and `model.json`.

use super::*;

impl<'a> Site<'a> {
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
            None => (DriftStatus(None), "not monitored".to_string(), None),
            Some(r) => {
                let status = DriftStatus(Some(r.severity));
                let sev = status.as_str();
                (
                    status,
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
            "drift": drift.as_str(),
            "drift_text": drift_text,
            "drift_status": drift_status,
            "drift_date": drift_date,
            "drift_rank": drift.rank(),
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
                    "severity": DriftStatus(Some(r.severity)).as_str(),
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
            crate::site::markdown::render(
                md,
                &["versions", "approvals", "bias", "drift", "card", "content"],
            )
        });

        let mut ctx = self.base(P2, &format!("{dir}/index.html"));
        ctx.insert("m".into(), {
            let mut r = row.clone();
            r["protected"] = json!(spec.protected_attributes);
            r["drift"] = drift.as_str().into();
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
