//! A version page's context.

use super::*;

/// A version page's context (template `version.html`).
#[derive(Serialize)]
pub(super) struct VersionPage<'p> {
    #[serde(flatten)]
    base: Base,
    m: PageModel<'p>,
    v: PageVersion,
    /// The version's facts, `[name, value]`.
    facts: Vec<(String, String)>,
    lineage_svg: String,
    metrics: Vec<(String, String)>,
    hyperparameters: Vec<(String, String)>,
    bias_rows: Vec<BiasRow<'p>>,
    promotions: Vec<Promotion<'p>>,
    approvals: Vec<ApprovalRow<'p>>,
    /// The version's audit entries.
    history: Vec<EntryRow<'p>>,
}

/// The model a version page is of.
#[derive(Serialize)]
struct PageModel<'p> {
    name: &'p str,
}

/// The version a version page is about.
#[derive(Serialize)]
struct PageVersion {
    number: u32,
    stage: &'static str,
}

/// A promotion of the version, with the gates judged again against the version it replaced.
#[derive(Serialize)]
struct Promotion<'e> {
    alias: String,
    at: &'e str,
    actor: &'e str,
    /// The version it replaced.
    from: Option<u32>,
    seq: u64,
    gates: [gates::GateResult; 4],
}

impl<'a> Site<'a> {
    /// The context of `v`'s page: its facts, lineage, numbers, promotions (gates judged again),
    /// approvals and audit history; `entries` are the model's audit entries.
    pub(super) fn version_context<'p>(
        &self,
        m: &'p Model,
        spec: &ModelSpec,
        v: &'p VersionEntry,
        entries: &[&'p Entry],
        card_md: Option<&str>,
    ) -> VersionPage<'p> {
        let name = m.name.as_str();
        let s = &v.spec;
        let mine: Vec<&'p Entry> = entries
            .iter()
            .filter(|e| e.version == Some(v.number))
            .copied()
            .collect();
        VersionPage {
            base: self.base(P2, &format!("models/{name}/v{}.html", v.number)),
            m: PageModel { name },
            v: PageVersion {
                number: v.number,
                stage: stage_of(m, v),
            },
            facts: version_facts(m, v),
            lineage_svg: lineage(m, spec, v, &mine),
            metrics: s
                .metrics
                .iter()
                .map(|(k, x)| (k.clone(), num(x.value)))
                .collect(),
            hyperparameters: s
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
                .collect(),
            bias_rows: self.bias_rows(m, v),
            promotions: self.promotions(m, spec, v, &mine, card_md),
            approvals: self.approvals_of(m, v),
            history: mine.iter().map(|&e| EntryRow::of(e)).collect(),
        }
    }

    /// The promotions of `v`, with the gates judged again against what it replaced.
    fn promotions<'p>(
        &self,
        m: &Model,
        spec: &ModelSpec,
        v: &VersionEntry,
        mine: &[&'p Entry],
        card_md: Option<&str>,
    ) -> Vec<Promotion<'p>> {
        let card = m.card.as_deref().zip(card_md);
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
            let inp = self.approval_inputs(m, alias, v);
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
            promotions.push(Promotion {
                alias: alias.to_string(),
                at: &e.at.raw,
                actor: &e.actor,
                from,
                seq: e.seq,
                gates: results,
            });
        }
        promotions
    }
}

/// A version's facts, `(name, value)`: stage, artifact, training and environment, tags, the
/// registry file.
fn version_facts(m: &Model, v: &VersionEntry) -> Vec<(String, String)> {
    let s = &v.spec;
    let mut facts: Vec<(String, String)> = vec![
        ("Stage".into(), stage_of(m, v).into()),
        ("Created".into(), s.created_at.raw.clone()),
        ("Created by".into(), s.created_by.clone()),
        ("Artifact".into(), s.artifact.uri.value.clone()),
        ("Artifact sha256".into(), s.artifact.sha256.value.hex()),
        (
            "Format".into(),
            match s.artifact.format {
                crate::registry::schema::ArtifactFormat::Onnx => "ONNX".into(),
                f => format!("{f} (an MLflow model folder; modelgate does not run it)"),
            },
        ),
    ];
    if let Some(e) = &s.explainer {
        facts.push(("Explainer".into(), e.uri.value.clone()));
        facts.push(("Explainer sha256".into(), e.sha256.value.hex()));
    }
    if let Some(t) = &s.training {
        training_facts(t, &mut facts);
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
    facts
}

/// The facts of a version's training that it records.
fn training_facts(t: &crate::registry::schema::Training, facts: &mut Vec<(String, String)>) {
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

/// A lineage graph being built: its nodes and edges, and the last node of the chain from the
/// raw data to the version.
#[derive(Default)]
struct LineageBuilder {
    nodes: Vec<Node>,
    edges: Vec<(String, String)>,
    tail: Option<String>,
}

impl LineageBuilder {
    /// Adds a node.
    fn node(&mut self, id: &str, kind: &str, label: String, detail: Option<String>) {
        self.nodes.push(Node {
            id: id.into(),
            kind: kind.into(),
            label,
            detail,
            href: None,
        });
    }

    /// Adds a node to the chain: an edge from the chain's last node, if any, to it.
    fn chain(&mut self, id: &str, kind: &str, label: String, detail: Option<String>) {
        self.node(id, kind, label, detail);
        if let Some(prev) = self.tail.replace(id.into()) {
            self.edges.push((prev, id.into()));
        }
    }

    fn edge(&mut self, from: &str, to: &str) {
        self.edges.push((from.into(), to.into()));
    }
}

/// The lineage graph of `v`: from the raw data through the pipeline, the dataset snapshot and
/// the training run to the version, its aliases (now and former) and the data it scores.
fn lineage(m: &Model, spec: &ModelSpec, v: &VersionEntry, mine: &[&Entry]) -> String {
    let name = m.name.as_str();
    let mut g = LineageBuilder::default();
    if let Some(t) = &v.spec.training {
        training_lineage(t, &mut g);
    }
    g.chain(
        "version",
        "version",
        format!("{name} v{}", v.number),
        Some(format!(
            "sha256 {}",
            short(&v.spec.artifact.sha256.value.hex())
        )),
    );
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
        g.node(
            &id,
            "alias",
            a.clone(),
            Some(if now { "now".into() } else { "formerly".into() }),
        );
        g.edge("version", &id);
    }
    if m.aliases.get(&Alias::Champion).map(|x| x.value) == Some(v.number) {
        if let Some(mon) = &spec.monitoring {
            g.node(
                "batch",
                "batch",
                "scored data".into(),
                Some(mon.current.value.clone()),
            );
            g.edge("version", "batch");
        }
    }
    figure(
        &charts::lineage_graph(&Lineage {
            id_prefix: "lineage".into(),
            title: format!("Lineage of {name} v{}", v.number),
            desc: String::new(),
            nodes: g.nodes,
            edges: g.edges,
        }),
        "From the raw data through the pipeline, the dataset snapshot and the training run to this version, its aliases and the data it scores.",
    )
}

/// The training's part of the lineage: raw data, pipeline, dataset, run, and the code commit
/// that feeds the run (else the version).
fn training_lineage(t: &crate::registry::schema::Training, g: &mut LineageBuilder) {
    if let Some(r) = &t.raw_data {
        g.chain("raw", "raw_data", r.clone(), None);
    }
    if let Some(p) = &t.pipeline {
        g.chain("pipeline", "pipeline", p.clone(), None);
    }
    if let Some(d) = &t.dataset {
        g.chain(
            "dataset",
            "dataset",
            d.snapshot.clone().unwrap_or_else(|| d.uri.value.clone()),
            d.sha256
                .as_ref()
                .map(|h| format!("sha256 {}", short(&h.value.hex()))),
        );
    }
    let has_run = t.run_id.is_some() || t.experiment.is_some();
    if has_run {
        g.chain(
            "run",
            "run",
            t.run_id.clone().unwrap_or_else(|| "training run".into()),
            t.experiment.clone(),
        );
    }
    if let Some(c) = &t.git_commit {
        g.node(
            "commit",
            "commit",
            t.code_version.clone().unwrap_or_else(|| "code".into()),
            Some(format!("commit {}", short(&c.value.0))),
        );
        g.edge("commit", if has_run { "run" } else { "version" });
    }
}
