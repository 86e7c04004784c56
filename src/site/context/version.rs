//! A version page's context.

use super::*;

impl<'a> Site<'a> {
    pub(super) fn version_context(
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
}
