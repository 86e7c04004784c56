//! `show` and `diff`: one model, one version, or two versions side by side, as JSON values
//! (rendered as text by [`text`]).
//!
//! A version's **input schema** is the `features` (with task and label) of its model's
//! `model.yaml` as it was in the git commit that added the version file — what the version was
//! registered against — or the working tree's when the version is not committed yet. Its
//! `inputs_sha256` is the digest approvals bind.

use crate::registry::schema::{Feature, ModelSpec};
use crate::registry::types::ModelName;
use crate::registry::{Model, Registry, VersionEntry};
use anyhow::{Result, anyhow};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn model<'a>(reg: &'a Registry, name: &ModelName) -> Result<&'a Model> {
    super::promote::model(reg, name)
}

fn version(m: &Model, n: u32) -> Result<&VersionEntry> {
    m.versions.get(&n).ok_or_else(|| {
        let have: Vec<String> = m.versions.keys().map(|v| format!("v{v}")).collect();
        anyhow!(
            "{} has no version {n} (it has {})",
            m.name,
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            }
        )
    })
}

/// The input schema each of `versions` was registered with (see the module doc).
fn input_schemas(root: &Path, m: &Model, versions: &[u32]) -> BTreeMap<u32, (String, ModelSpec)> {
    let mut out = BTreeMap::new();
    let model_file = format!("{}/model.yaml", m.dir);
    if let Ok(repo) = git2::Repository::discover(root) {
        let prefix = repo
            .workdir()
            .and_then(|w| {
                root.canonicalize()
                    .ok()?
                    .strip_prefix(w.canonicalize().ok()?)
                    .ok()
                    .map(Path::to_path_buf)
            })
            .unwrap_or_default();
        let rel = |p: &str| prefix.join(p);
        if let Ok(mut walk) = repo.revwalk() {
            let _ = walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE);
            if walk.push_head().is_ok() {
                for oid in walk.flatten() {
                    if out.len() == versions.len() {
                        break;
                    }
                    let Ok(tree) = repo.find_commit(oid).and_then(|c| c.tree()) else {
                        continue;
                    };
                    for n in versions {
                        if out.contains_key(n) {
                            continue;
                        }
                        let Some(v) = m.versions.get(n) else { continue };
                        if tree.get_path(&rel(&v.file)).is_err() {
                            continue;
                        }
                        let spec = tree
                            .get_path(&rel(&model_file))
                            .ok()
                            .and_then(|e| repo.find_blob(e.id()).ok())
                            .and_then(|b| {
                                let text = std::str::from_utf8(b.content()).ok()?;
                                let node = crate::yaml::parse(text).ok()?;
                                crate::yaml::de::from_node::<ModelSpec>(&node).ok()
                            });
                        if let Some(spec) = spec {
                            let id = oid.to_string();
                            out.insert(*n, (format!("commit {}", &id[..12]), spec));
                        }
                    }
                }
            }
        }
    }
    for n in versions {
        if !out.contains_key(n) {
            if let Some(spec) = &m.spec {
                out.insert(*n, ("working tree".to_string(), spec.clone()));
            }
        }
    }
    out
}

fn schema_json(source: &str, spec: &ModelSpec) -> Value {
    json!({
        "from": source,
        "inputs_sha256": spec.inputs_sha256().hex(),
        "task": spec.task,
        "label": spec.label,
        "features": spec.features,
    })
}

fn bias_json(v: &VersionEntry) -> Value {
    let mut out = Map::new();
    for (attr, b) in &v.spec.bias {
        let mut x = serde_json::to_value(&b.value).unwrap_or_default();
        if let Some(o) = x.as_object_mut() {
            o.remove("groups");
            o.insert("worst".into(), json!(b.value.worst()));
        }
        out.insert(attr.clone(), x);
    }
    Value::Object(out)
}

fn metrics_json(v: &VersionEntry) -> Value {
    json!(
        v.spec
            .metrics
            .iter()
            .map(|(k, x)| (k.clone(), x.value))
            .collect::<BTreeMap<_, _>>()
    )
}

/// The model: owner, description, task, label, protected attributes, aliases, and every
/// version with its stage.
pub fn show_model(reg: &Registry, name: &ModelName) -> Result<Value> {
    let m = model(reg, name)?;
    let spec = m.spec.as_ref();
    let aliases: BTreeMap<&str, u32> = m
        .aliases
        .iter()
        .map(|(a, v)| (a.as_str(), v.value))
        .collect();
    let versions: Vec<Value> = m
        .versions
        .values()
        .rev()
        .map(|v| {
            json!({
                "version": v.number,
                "stage": m.stage_of(v),
                "created_at": v.spec.created_at.raw,
                "created_by": v.spec.created_by,
                "metrics": metrics_json(v),
            })
        })
        .collect();
    Ok(json!({
        "model": name.as_str(),
        "description": spec.map(|s| s.description.clone()),
        "owner": spec.map(|s| s.owner.clone()),
        "task": spec.map(|s| &s.task),
        "label": spec.and_then(|s| s.label.clone()),
        "protected_attributes": spec.map(|s| s.protected_attributes.clone()).unwrap_or_default(),
        "features": spec.map(|s| s.features.len()).unwrap_or(0),
        "aliases": aliases,
        "versions": versions,
        "card": m.card,
    }))
}

/// One version: stage, metrics, bias, lineage, input schema, artifact, approvals (each
/// signature verified against allowed_signers now) and its audit entries.
pub fn show_version(
    reg: &Registry,
    root: &Path,
    name: &ModelName,
    n: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value> {
    let m = model(reg, name)?;
    let v = version(m, n)?;
    let schema = input_schemas(root, m, &[n]);
    let approvals: Vec<Value> = m
        .approvals
        .iter()
        .filter(|a| a.approval.statement.version.value == n)
        .map(|a| {
            let s = &a.approval.statement;
            let verified = match &reg.signers {
                None => Err("no allowed_signers".to_string()),
                Some(signers) => crate::signing::approval::verify(
                    s,
                    &a.approval.signature.value,
                    signers,
                    Some(now),
                )
                .map(|_| ())
                .map_err(|e| e.to_string()),
            };
            json!({
                "file": a.file,
                "alias": s.alias.value,
                "role": s.role.value,
                "principal": s.principal.value,
                "approved_at": s.approved_at.value.raw,
                "signature": match &verified { Ok(()) => "verified".to_string(), Err(e) => e.clone() },
            })
        })
        .collect();
    let audit: Vec<Value> = reg
        .audit
        .entries()
        .filter(|e| e.model.as_deref() == Some(name.as_str()) && e.version == Some(n))
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .collect();
    Ok(json!({
        "model": name.as_str(),
        "version": n,
        "stage": m.stage_of(v),
        "file": v.file,
        "created_at": v.spec.created_at.raw,
        "created_by": v.spec.created_by,
        "archived_at": v.spec.archived_at.as_ref().map(|t| t.value.raw.clone()),
        "deleted_at": v.spec.deleted_at.as_ref().map(|t| t.raw.clone()),
        "metrics": metrics_json(v),
        "bias": bias_json(v),
        "lineage": v.spec.training,
        "hyperparameters": v.spec.hyperparameters,
        "tags": v.spec.tags,
        "input_schema": schema.get(&n).map(|(from, s)| schema_json(from, s)),
        "artifact": v.spec.artifact,
        "version_sha256": v.digest.hex(),
        "approvals": approvals,
        "audit": audit,
    }))
}

/// Flattens a JSON value into dotted keys (`dataset.sha256`).
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

fn changed_fields(a: &Value, b: &Value) -> Vec<Value> {
    let (mut fa, mut fb) = (BTreeMap::new(), BTreeMap::new());
    flatten("", a, &mut fa);
    flatten("", b, &mut fb);
    let keys: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    keys.into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .map(|k| json!({"field": k, "a": fa.get(k), "b": fb.get(k)}))
        .collect()
}

fn features_diff(a: &[Feature], b: &[Feature]) -> Value {
    let names = |f: &[Feature]| f.iter().map(|x| x.name.clone()).collect::<Vec<_>>();
    let (na, nb) = (names(a), names(b));
    let added: Vec<&String> = nb.iter().filter(|n| !na.contains(n)).collect();
    let removed: Vec<&String> = na.iter().filter(|n| !nb.contains(n)).collect();
    let changed: Vec<Value> = a
        .iter()
        .filter_map(|fa| {
            let fb = b.iter().find(|f| f.name == fa.name)?;
            let (ja, jb) = (
                serde_json::to_value(fa).ok()?,
                serde_json::to_value(fb).ok()?,
            );
            (ja != jb).then(|| json!({"feature": fa.name, "a": ja, "b": jb}))
        })
        .collect();
    let common_a: Vec<&String> = na.iter().filter(|n| nb.contains(n)).collect();
    let common_b: Vec<&String> = nb.iter().filter(|n| na.contains(n)).collect();
    json!({
        "added": added,
        "removed": removed,
        "changed": changed,
        "reordered": common_a != common_b,
    })
}

/// Two versions compared: metrics with deltas (b − a, from the stored numbers), bias (worst disparity per attribute),
/// lineage fields that differ, the input schema (features added, removed, changed, reordered)
/// and the artifact digest.
pub fn diff(reg: &Registry, root: &Path, name: &ModelName, a: u32, b: u32) -> Result<Value> {
    use crate::registry::number::difference;
    let m = model(reg, name)?;
    let (va, vb) = (version(m, a)?, version(m, b)?);
    let keys: BTreeSet<&String> = va
        .spec
        .metrics
        .keys()
        .chain(vb.spec.metrics.keys())
        .collect();
    let metrics: Vec<Value> = keys
        .into_iter()
        .map(|k| {
            let x = va.spec.metrics.get(k).map(|v| v.value);
            let y = vb.spec.metrics.get(k).map(|v| v.value);
            json!({"metric": k, "a": x, "b": y, "delta": x.zip(y).map(|(x, y)| difference(y, x))})
        })
        .collect();
    let attrs: BTreeSet<&String> = va.spec.bias.keys().chain(vb.spec.bias.keys()).collect();
    let bias: Vec<Value> = attrs
        .into_iter()
        .map(|k| {
            let x = va.spec.bias.get(k).and_then(|v| v.value.worst());
            let y = vb.spec.bias.get(k).and_then(|v| v.value.worst());
            json!({"attribute": k, "a": x, "b": y, "delta": x.zip(y).map(|(x, y)| difference(y, x))})
        })
        .collect();
    let lineage = changed_fields(
        &serde_json::to_value(&va.spec.training).unwrap_or_default(),
        &serde_json::to_value(&vb.spec.training).unwrap_or_default(),
    );
    let schemas = input_schemas(root, m, &[a, b]);
    let input_schema = match (schemas.get(&a), schemas.get(&b)) {
        (Some((fa, sa)), Some((fb, sb))) => {
            let mut d = features_diff(&sa.features, &sb.features);
            d["a"] = json!({"from": fa, "inputs_sha256": sa.inputs_sha256().hex()});
            d["b"] = json!({"from": fb, "inputs_sha256": sb.inputs_sha256().hex()});
            d["same"] = json!(sa.inputs_sha256() == sb.inputs_sha256());
            d
        }
        _ => Value::Null,
    };
    let (da, db) = (
        &va.spec.artifact.sha256.value,
        &vb.spec.artifact.sha256.value,
    );
    Ok(json!({
        "model": name.as_str(),
        "a": a,
        "b": b,
        "stages": {"a": m.stage_of(va), "b": m.stage_of(vb)},
        "metrics": metrics,
        "bias": bias,
        "lineage": lineage,
        "input_schema": input_schema,
        "artifact": {
            "a": {"uri": va.spec.artifact.uri.value, "sha256": da.hex()},
            "b": {"uri": vb.spec.artifact.uri.value, "sha256": db.hex()},
            "same": da == db,
        },
    }))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n
            .as_f64()
            .filter(|_| !n.is_i64() && !n.is_u64())
            .map(crate::gates::num)
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// Any of the three values as indented text: objects as `key: value` lines, arrays of objects
/// as one line each.
pub fn text(v: &Value) -> String {
    let mut s = String::new();
    render(v, 0, &mut s);
    s
}

fn render(v: &Value, depth: usize, s: &mut String) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::Object(inner) if !inner.is_empty() => {
                        s.push_str(&format!("{pad}{k}:\n"));
                        render(x, depth + 1, s);
                    }
                    Value::Array(items) if !items.is_empty() => {
                        s.push_str(&format!("{pad}{k}:\n"));
                        render(x, depth + 1, s);
                    }
                    Value::Object(_) | Value::Array(_) => s.push_str(&format!("{pad}{k}: -\n")),
                    _ => s.push_str(&format!("{pad}{k}: {}\n", scalar(x))),
                }
            }
        }
        Value::Array(items) => {
            for x in items {
                match x {
                    Value::Object(o) => {
                        let parts: Vec<String> = o
                            .iter()
                            .map(|(k, y)| match y {
                                Value::Object(_) | Value::Array(_) => format!("{k}={y}"),
                                _ => format!("{k}={}", scalar(y)),
                            })
                            .collect();
                        s.push_str(&format!("{pad}- {}\n", parts.join("  ")));
                    }
                    _ => s.push_str(&format!("{pad}- {}\n", scalar(x))),
                }
            }
        }
        other => s.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}
