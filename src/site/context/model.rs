//! A model's pages: its page, a page per version, `README.md` and `model.json`.

use super::*;

/// What a model's pages are built from, gathered once.
struct ModelFacts<'m> {
    name: &'m str,
    spec: &'m ModelSpec,
    /// `models/<name>`.
    dir: String,
    champion: Option<u32>,
    challenger: Option<u32>,
    newest: Option<&'m VersionEntry>,
    /// The version the page and the row are about: the champion, else the newest.
    focus: Option<&'m VersionEntry>,
    /// The champion's gates.
    gate: GateConfig,
    /// The primary metric: the gate's, else the focus's first, else `roc_auc`.
    primary: String,
    /// The monitoring runs, oldest first.
    runs: Vec<DriftRun>,
    /// The model's audit entries.
    entries: Vec<&'m Entry>,
}

/// A model card as read: its Markdown, what it lacks and its HTML (all `None` without a card).
struct Card {
    md: Option<String>,
    gaps: Option<Vec<gates::card::Gap>>,
    html: Option<String>,
}

impl Card {
    /// `missing`, `complete` or `incomplete`: an incomplete card is shown with what it lacks,
    /// never as if it were complete.
    fn state(&self) -> &'static str {
        match &self.gaps {
            None => "missing",
            Some(g) if g.is_empty() => "complete",
            Some(_) => "incomplete",
        }
    }
}

/// The model page's context (template `model.html`).
#[derive(Serialize)]
struct ModelPage<'p> {
    #[serde(flatten)]
    base: Base,
    m: PageRow<'p>,
    versions: Vec<VersionRow<'p>>,
    /// The metrics the versions table shows: the primary one first, six at the most.
    metric_names: Vec<String>,
    metric_chart: String,
    champion_approvals: &'p [ApprovalRow<'p>],
    /// Roles the champion gate requires that no verified approval of the champion fills.
    missing_roles: Vec<String>,
    bias_rows: Vec<BiasRow<'p>>,
    bias_chart: String,
    bias_warn: String,
    bias_block: String,
    drift_runs: &'p [DriftRow<'p>],
    drift_chart: String,
    heat_strip: String,
    drift_issues: Vec<IssueLink<'p>>,
    card_html: Option<&'p str>,
    /// The card's file (where it would be, when there is none).
    card_file: String,
    card_gaps: Vec<CardGap<'p>>,
}

/// The model's row with its protected attributes (`m` on its page).
#[derive(Serialize)]
struct PageRow<'p> {
    #[serde(flatten)]
    row: &'p ModelRow,
    protected: &'p [String],
}

/// A row of the versions table, newest first.
#[derive(Serialize)]
struct VersionRow<'v> {
    number: u32,
    stage: &'static str,
    created: String,
    created_by: &'v str,
    /// The values of `metric_names`, as printed (`—` when missing).
    metrics_row: Vec<String>,
    approvals_text: String,
    /// `alias: role` of each approval.
    approvals: Vec<String>,
}

/// A monitoring run as the model page and `model.json` show it. Fields in alphabetical order:
/// `model.json` lists them so.
#[derive(Serialize)]
struct DriftRow<'r> {
    /// `drifted`, `stable` or `—`.
    concept: &'static str,
    date: &'r str,
    /// The drifted columns in words.
    drifted: String,
    prediction: &'static str,
    severity: &'r str,
    /// The share of drifted columns, as a percentage.
    share: String,
    version: Option<u64>,
}

/// An open drift issue (`--github-issues`).
#[derive(Serialize)]
struct IssueLink<'i> {
    number: u64,
    url: &'i str,
}

impl<'a> Site<'a> {
    /// The pages of one model: its card page, a page per version, README.md and model.json.
    pub fn model_pages(&self, m: &Model) -> Result<ModelPages> {
        let Some(spec) = &m.spec else {
            anyhow::bail!(
                "{}/model.yaml does not load; run `modelgate validate` and fix it before building the site",
                m.dir
            );
        };
        let f = self.model_facts(m, spec);
        let card = self.card(m);
        let row = self.row(m, &f, &card);
        let champion_approvals = self.champion_approvals(m, &f);
        let drift_runs = drift_rows(&f.runs);
        let page = self.model_page(m, &f, &row, &card, &champion_approvals, &drift_runs);
        let mut html = vec![(
            format!("{}/index.html", f.dir),
            "model.html",
            serde_json::to_value(page)?,
        )];
        for v in m.versions.values() {
            html.push((
                format!("{}/v{}.html", f.dir, v.number),
                "version.html",
                serde_json::to_value(self.version_context(
                    m,
                    spec,
                    v,
                    &f.entries,
                    card.md.as_deref(),
                ))?,
            ));
        }
        let other = vec![(
            format!("{}/model.json", f.dir),
            model_json(m, spec, &row, &champion_approvals, &drift_runs)?,
        )];
        html.push((
            format!("{}/README.md", f.dir),
            "model_readme.md",
            serde_json::to_value(readme(
                m,
                spec,
                f.focus,
                &f.primary,
                card.md.as_deref(),
                card.gaps.as_deref().unwrap_or_default(),
            ))?,
        ));
        let card = match (&m.card, card.md, card.html) {
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

    /// What the model's pages are built from.
    fn model_facts<'m>(&'m self, m: &'m Model, spec: &'m ModelSpec) -> ModelFacts<'m> {
        let name = m.name.as_str();
        let champion = m.aliases.get(&Alias::Champion).map(|v| v.value);
        let newest = m.versions.values().next_back();
        let focus = champion.and_then(|c| m.versions.get(&c)).or(newest);
        let gate = self.gates_of(m, Alias::Champion);
        let primary = gate
            .primary_metric
            .as_ref()
            .map(|p| p.value.clone())
            .or_else(|| focus.and_then(|v| v.spec.metrics.keys().next().cloned()))
            .unwrap_or_else(|| "roc_auc".into());
        ModelFacts {
            name,
            spec,
            dir: format!("models/{name}"),
            champion,
            challenger: m.aliases.get(&Alias::Challenger).map(|v| v.value),
            newest,
            focus,
            gate,
            primary,
            runs: self.drift_runs(m),
            entries: self.audit_by_model.get(name).cloned().unwrap_or_default(),
        }
    }

    /// The model's card, read, checked against the card template and rendered.
    fn card(&self, m: &Model) -> Card {
        let md = match &m.card {
            Some(c) => self
                .reg
                .source
                .read(c, crate::registry::MAX_YAML_BYTES)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            None => None,
        };
        let gaps = md
            .as_deref()
            .map(|md| gates::card::gaps(md, &self.card_template));
        let html = md.as_deref().map(|md| {
            crate::site::markdown::render(
                md,
                &["versions", "approvals", "bias", "drift", "card", "content"],
            )
        });
        Card { md, gaps, html }
    }

    /// The model's row on the index.
    fn row(&self, m: &Model, f: &ModelFacts, card: &Card) -> ModelRow {
        let spec = f.spec;
        let (drift, drift_status, drift_date) = drift_summary(f.runs.last());
        let drift_text = match &drift_date {
            Some(d) => format!("{drift_status} on {d}"),
            None => drift_status.clone(),
        };
        let (bias, bias_text) = self.bias_verdict(m, f.focus);
        let changed = f
            .entries
            .last()
            .map(|e| date_of(&e.at.raw))
            .or_else(|| f.newest.map(|v| date_of(&v.spec.created_at.raw)))
            .unwrap_or_default();
        let metric_value = f
            .focus
            .and_then(|v| v.spec.metrics.get(&f.primary))
            .map(|x| x.value);
        let metrics = f
            .focus
            .map(|v| {
                v.spec
                    .metrics
                    .iter()
                    .map(|(k, x)| (k.clone(), Some(x.value).filter(|x| x.is_finite())))
                    .collect()
            })
            .unwrap_or_default();
        let dir = &f.dir;
        ModelRow {
            bias_rank: bias_rank(&bias),
            bias,
            bias_text,
            card: card.state().into(),
            card_gaps: card.gaps.as_ref().map_or(0, Vec::len),
            challenger: f.challenger,
            challenger_url: f.challenger.map(|c| format!("{dir}/v{c}.html")),
            champion: f.champion,
            champion_url: f.champion.map(|c| format!("{dir}/v{c}.html")),
            changed,
            description: spec.description.clone(),
            drift_rank: drift.rank(),
            drift: drift.as_str().into(),
            drift_date,
            drift_status,
            drift_text,
            metric_text: metric_value.map(num),
            metric_value,
            metrics,
            name: f.name.into(),
            owner: spec.owner.clone(),
            primary_metric: f.primary.clone(),
            tags: spec.tags.clone(),
            task: spec.task,
            url: format!("{dir}/index.html"),
            versions: m.versions.len(),
        }
    }

    /// The model page's context.
    fn model_page<'p>(
        &'p self,
        m: &'p Model,
        f: &ModelFacts<'p>,
        row: &'p ModelRow,
        card: &'p Card,
        champion_approvals: &'p [ApprovalRow<'p>],
        drift_runs: &'p [DriftRow<'p>],
    ) -> ModelPage<'p> {
        let metric_names = metric_names(m, &f.primary);
        let (warn, block) = f
            .gate
            .bias
            .as_ref()
            .map(|b| (b.warn_at.value, b.block_at.value))
            .unwrap_or((0.10, 0.15));
        let (drift_chart, heat_strip) = if f.runs.is_empty() {
            (String::new(), String::new())
        } else {
            (self.drift_chart(m, &f.runs), heat_strip(&f.runs))
        };
        ModelPage {
            base: self.base(P2, &format!("{}/index.html", f.dir)),
            m: PageRow {
                row,
                protected: &f.spec.protected_attributes,
            },
            versions: version_rows(m, &metric_names),
            metric_chart: metric_chart(m, &f.primary, f.champion),
            metric_names,
            champion_approvals,
            missing_roles: missing_roles(f, champion_approvals),
            bias_rows: f.focus.map(|v| self.bias_rows(m, v)).unwrap_or_default(),
            bias_chart: f
                .focus
                .map(|v| bias_chart(v, warn, block))
                .unwrap_or_default(),
            bias_warn: num(warn),
            bias_block: num(block),
            drift_runs,
            drift_chart,
            heat_strip,
            drift_issues: self
                .drift_issues
                .get(f.name)
                .map(|v| {
                    v.iter()
                        .map(|(n, u)| IssueLink { number: *n, url: u })
                        .collect()
                })
                .unwrap_or_default(),
            card_html: card.html.as_deref(),
            card_file: m
                .card
                .clone()
                .unwrap_or_else(|| format!("{}/{}.md", crate::registry::CARDS_DIR, f.name)),
            card_gaps: card.gaps.iter().flatten().map(CardGap::of).collect(),
        }
    }

    /// The champion's approvals for the champion alias.
    fn champion_approvals<'m>(&self, m: &'m Model, f: &ModelFacts) -> Vec<ApprovalRow<'m>> {
        f.champion
            .and_then(|c| m.versions.get(&c))
            .map(|v| {
                self.approvals_of(m, v)
                    .into_iter()
                    .filter(|a| a.alias == "champion")
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The share of drifted columns by run, over the policy's severity bands.
    fn drift_chart(&self, m: &Model, runs: &[DriftRun]) -> String {
        let (issue, alert, retrain) = self.severity_of(m);
        figure(
            &charts::line_chart(&LineChart {
                id_prefix: "drift".into(),
                title: "Share of drifted columns".into(),
                desc: String::new(),
                x_title: "Monitoring run (date)".into(),
                y_title: "Drifted columns (%)".into(),
                x_labels: runs.iter().map(|r| r.date.clone()).collect(),
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
        )
    }
}

/// The latest run's severity (`ok` for none), in words with its share of drifted columns, and
/// its date; `none` and `not monitored` without runs.
fn drift_summary(latest: Option<&DriftRun>) -> (DriftStatus, String, Option<String>) {
    match latest {
        None => (DriftStatus(None), "not monitored".to_string(), None),
        Some(r) => {
            let status = DriftStatus(Some(r.severity));
            (
                status,
                format!(
                    "{}{}",
                    status.as_str(),
                    r.share
                        .map(|s| format!(" ({:.0}% of columns)", s * 100.0))
                        .unwrap_or_default(),
                ),
                Some(r.date.clone()),
            )
        }
    }
}

/// The metrics the versions table shows: the primary one, then others in order of appearance,
/// six at the most.
fn metric_names(m: &Model, primary: &str) -> Vec<String> {
    let mut metric_names: Vec<String> = vec![primary.to_string()];
    for v in m.versions.values() {
        for k in v.spec.metrics.keys() {
            if !metric_names.contains(k) && metric_names.len() < 6 {
                metric_names.push(k.clone());
            }
        }
    }
    metric_names
}

/// The versions table, newest first.
fn version_rows<'m>(m: &'m Model, metric_names: &[String]) -> Vec<VersionRow<'m>> {
    m.versions
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
            VersionRow {
                number: v.number,
                stage: stage_of(m, v),
                created: date_of(&v.spec.created_at.raw),
                created_by: &v.spec.created_by,
                metrics_row: metric_names
                    .iter()
                    .map(|k| {
                        v.spec
                            .metrics
                            .get(k)
                            .map(|x| num(x.value))
                            .unwrap_or_else(|| "—".into())
                    })
                    .collect(),
                approvals_text: if approvals.is_empty() {
                    "none".to_string()
                } else {
                    approvals.join(", ")
                },
                approvals,
            }
        })
        .collect()
}

/// The primary metric of every version, on an honest axis, the champion ringed; empty when no
/// version has it.
fn metric_chart(m: &Model, primary: &str, champion: Option<u32>) -> String {
    let values: Vec<Option<f64>> = m
        .versions
        .values()
        .map(|v| v.spec.metrics.get(primary).map(|x| x.value))
        .collect();
    if !values.iter().any(Option::is_some) {
        return String::new();
    }
    let highlight = champion
        .and_then(|c| m.versions.keys().position(|n| *n == c))
        .map(|i| (0usize, i, "champion".to_string()));
    let axis = charts::metric_axis(&values);
    let delta = metric_delta(m, primary, champion);
    figure(
        &charts::line_chart(&LineChart {
            id_prefix: "metric".into(),
            title: format!("{primary} by version"),
            desc: String::new(),
            x_title: "Version".into(),
            y_title: if axis.unit_interval {
                format!("{primary} (0–1)")
            } else {
                primary.to_string()
            },
            x_labels: m.versions.keys().map(|n| format!("v{n}")).collect(),
            series: vec![Series {
                name: primary.to_string(),
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
}

/// The roles the champion gate requires that no verified approval of the champion fills (none
/// without a champion).
fn missing_roles(f: &ModelFacts, champion_approvals: &[ApprovalRow]) -> Vec<String> {
    if f.champion.is_none() {
        return Vec::new();
    }
    f.gate
        .approvals
        .as_ref()
        .map(|a| {
            a.roles
                .iter()
                .map(|r| r.value.clone())
                .collect::<Vec<String>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            !champion_approvals
                .iter()
                .any(|a| a.role == r.as_str() && a.verified)
        })
        .collect()
}

/// The disparities of `v` by protected attribute, against the gate's thresholds; empty without
/// bias numbers.
fn bias_chart(v: &VersionEntry, warn: f64, block: f64) -> String {
    if v.spec.bias.is_empty() {
        return String::new();
    }
    let bar = |label: &str, value: Option<f64>| Bar {
        label: label.into(),
        value,
    };
    figure(
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
                        bar("demographic parity", b.value.demographic_parity),
                        bar("equal opportunity", b.value.equal_opportunity),
                        bar("predictive parity", b.value.predictive_parity),
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
    )
}

/// The monitoring runs, newest first.
fn drift_rows(runs: &[DriftRun]) -> Vec<DriftRow<'_>> {
    runs.iter()
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
            DriftRow {
                date: &r.date,
                version: r.version,
                share: r
                    .share
                    .map(|s| format!("{:.0}%", s * 100.0))
                    .unwrap_or_else(|| "—".into()),
                severity: DriftStatus(Some(r.severity)).as_str(),
                drifted: if drifted.is_empty() {
                    "none".to_string()
                } else {
                    format!(
                        "{} of {}: {}",
                        drifted.len(),
                        r.columns.len(),
                        drifted.join(", ")
                    )
                },
                prediction: yn(r.prediction),
                concept: yn(r.concept),
            }
        })
        .collect()
}

/// Drift by column and run, on one scale (0.5 at each column's threshold).
fn heat_strip(runs: &[DriftRun]) -> String {
    let mut cols: Vec<String> = Vec::new();
    for r in runs {
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
    figure(
        &charts::heat_strip(&HeatStrip {
            id_prefix: "heat".into(),
            title: "Drift by column".into(),
            desc: String::new(),
            x_title: "Monitoring run (date)".into(),
            score_title: "Drift (0.5 = at the threshold)".into(),
            rows: cols,
            cols: runs.iter().map(|r| r.date.clone()).collect(),
            cells,
        }),
        "One row per column, one cell per run: darker is further past the column's drift threshold (p-value tests and distances on one scale, 0.5 at the threshold); a dot marks a drifted column.",
    )
}

/// `model.json`: serialized straight from the registry's types (no intermediate JSON tree),
/// keys in the order of the YAML files.
fn model_json(
    m: &Model,
    spec: &ModelSpec,
    row: &ModelRow,
    champion_approvals: &[ApprovalRow],
    drift_runs: &[DriftRow],
) -> Result<Vec<u8>> {
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
        summary: &'v ModelRow,
        champion_approvals: &'v [ApprovalRow<'v>],
        monitoring: &'v [DriftRow<'v>],
    }
    let model_json = ModelJson {
        name: m.name.as_str(),
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
        summary: row,
        champion_approvals,
        monitoring: drift_runs,
    };
    let mut json_bytes = serde_json::to_vec(&model_json)?;
    json_bytes.push(b'\n');
    Ok(json_bytes)
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
    card_gaps: Vec<CardGap<'a>>,
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

/// Something a model card lacks: its line and what is wrong.
#[derive(Serialize)]
struct CardGap<'a> {
    line: usize,
    message: &'a str,
}

impl<'a> CardGap<'a> {
    fn of(g: &'a gates::card::Gap) -> CardGap<'a> {
        CardGap {
            line: g.line,
            message: &g.message,
        }
    }
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
        card_gaps: card_gaps.iter().map(CardGap::of).collect(),
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
    use super::super::tests::keys_sorted;
    use super::*;

    #[test]
    fn monitoring_runs_in_model_json_keep_their_sorted_keys() {
        let runs = [DriftRun {
            date: "2024-06-30".into(),
            version: Some(3),
            share: Some(0.4),
            severity: Severity::Alert,
            columns: vec![
                ("age".into(), 0.01, 0.05, "ks".into(), true),
                ("income".into(), 0.2, 0.05, "ks".into(), false),
            ],
            prediction: Some(false),
            concept: None,
        }];
        let rows = drift_rows(&runs);
        assert!(keys_sorted(&rows));
        let v = serde_json::to_value(&rows).unwrap();
        assert_eq!(v[0]["drifted"], "1 of 2: age");
        assert_eq!(v[0]["share"], "40%");
        assert_eq!(
            (&v[0]["prediction"], &v[0]["concept"]),
            (&"stable".into(), &"—".into())
        );
    }
}
