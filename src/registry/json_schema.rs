//! JSON Schemas of the registry's file kinds, generated from the serde types the loader reads
//! them with ([`super::schema`]), so that an editor can complete keys and flag mistakes before
//! `modelgate validate` does.
//!
//! Every YAML file modelgate writes starts with a modeline that points the YAML language server
//! at its kind's schema (`# yaml-language-server: $schema=<relative path>`), and every rewrite
//! keeps the first line a file already has ([`keep_modeline`]). The schemas themselves live in
//! `schemas/` at the repository root, outside `registry/`, where neither the loader nor `check`
//! looks; `modelgate schema --out schemas` refreshes them.

use super::schema::{
    ApprovalFile, GovernanceApprovalFile, ModelSpec, MonitoringResult, Policy, VersionSpec,
};
use super::types::Alias;
use crate::yaml::Spanned;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use std::collections::BTreeMap;

/// Where a repository keeps the schemas (relative to its root).
pub const SCHEMAS_DIR: &str = "schemas";

/// The first words of a YAML language server modeline.
pub const MODELINE_PREFIX: &str = "# yaml-language-server: $schema=";

/// One kind of registry file.
pub struct Kind {
    /// Its name: `modelgate schema <name>`, `schemas/<name>.schema.json`.
    pub name: &'static str,
    /// Where files of this kind live (repository-relative, with placeholders).
    pub path: &'static str,
    /// Whether the files are YAML (and so carry a modeline); otherwise one JSON object a line.
    pub yaml: bool,
    /// What the files are, in one line.
    pub about: &'static str,
    generate: fn(&mut schemars::SchemaGenerator) -> Schema,
}

impl Kind {
    /// The schema's file name: `<name>.schema.json`.
    pub fn file_name(&self) -> String {
        format!("{}.schema.json", self.name)
    }
}

/// `aliases.yaml`: a map from alias to version number; empty (`{}` or nothing) when no alias is
/// set. The same type the loader reads it as.
type AliasesFile = Option<BTreeMap<Alias, Spanned<u32>>>;

/// The loader's type for one kind, as a generator function.
fn gen_of<T: JsonSchema>(g: &mut schemars::SchemaGenerator) -> Schema {
    g.root_schema_for::<T>()
}

/// Every kind of registry file with a schema. `registry/allowed_signers` is not among them: it
/// is OpenSSH's allowed_signers format (one key a line), not YAML or JSON.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "policy",
        about: "The defaults for every model: gates, roles, drift severities, retention, governance.",
        path: "registry/policy.yaml",
        yaml: true,
        generate: gen_of::<Policy>,
    },
    Kind {
        name: "model",
        about: "Identity and configuration of one model: task, features, label, monitoring data, policy overrides.",
        path: "registry/models/<model>/model.yaml",
        yaml: true,
        generate: gen_of::<ModelSpec>,
    },
    Kind {
        name: "version",
        about: "One version of a model: artifact, lineage, metrics and bias numbers; immutable once merged except `archived_at` and `deleted_at`.",
        path: "registry/models/<model>/versions/v<N>.yaml",
        yaml: true,
        generate: gen_of::<VersionSpec>,
    },
    Kind {
        name: "aliases",
        about: "Which version each alias points at: `champion: 3`, `challenger: 4`; empty when none.",
        path: "registry/models/<model>/aliases.yaml",
        yaml: true,
        generate: gen_of::<AliasesFile>,
    },
    Kind {
        name: "approval",
        about: "A signed approval of moving an alias to a version.",
        path: "registry/models/<model>/approvals/v<N>-<alias>-<role>-<principal>.yaml",
        yaml: true,
        generate: gen_of::<ApprovalFile>,
    },
    Kind {
        name: "governance-approval",
        about: "A signed approval of one new content of a rule file (policy.yaml, allowed_signers, a model.yaml).",
        path: "registry/governance/<sha256 prefix>-<role>-<principal>.yaml",
        yaml: true,
        generate: gen_of::<GovernanceApprovalFile>,
    },
    Kind {
        name: "monitoring",
        about: "One result of the drift job, written and signed by `modelgate drift`.",
        path: "registry/models/<model>/monitoring/<YYYY-MM-DD>.yaml",
        yaml: true,
        generate: gen_of::<MonitoringResult>,
    },
    Kind {
        name: "audit-entry",
        about: "One line of the append-only, hash-chained audit log (JSON Lines: each line is one object).",
        path: "registry/audit.jsonl",
        yaml: false,
        generate: gen_of::<crate::audit::Entry>,
    },
];

/// The kind asked for does not exist.
#[derive(Debug, thiserror::Error)]
#[error("there is no file kind `{0}`; the kinds are: {kinds}", kinds = kind_names().join(", "))]
pub struct UnknownKind(pub String);

/// The names of every kind.
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// The kind of a name.
pub fn kind(name: &str) -> Result<&'static Kind, UnknownKind> {
    KINDS
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| UnknownKind(name.to_string()))
}

/// The schema of a kind, as JSON (draft 2020-12).
pub fn schema(kind: &Kind) -> serde_json::Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = (kind.generate)(&mut generator);
    if !schema
        .as_object()
        .is_some_and(|o| o.contains_key("description"))
    {
        schema.insert("description".into(), kind.about.into());
    }
    schema.insert(
        "title".into(),
        format!("modelgate {} ({})", kind.name, kind.path).into(),
    );
    schema.to_value()
}

/// The schema of a kind as written to `schemas/<kind>.schema.json`: pretty JSON and a newline.
pub fn schema_text(kind: &Kind) -> String {
    // Serializing a `serde_json::Value` cannot fail.
    let mut text = serde_json::to_string_pretty(&schema(kind)).unwrap_or_default();
    text.push('\n');
    text
}

/// Every schema file, `schemas/<kind>.schema.json` with its text (repository-relative paths
/// under `dir`).
pub fn schema_files(dir: &str) -> Vec<(String, String)> {
    KINDS
        .iter()
        .map(|k| (format!("{dir}/{}", k.file_name()), schema_text(k)))
        .collect()
}

/// The kind of a repository-relative path, by where it is (`None` for a file that is no
/// registry file with a schema).
pub fn kind_of_path(path: &str) -> Option<&'static Kind> {
    let name = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["registry", "policy.yaml"] => "policy",
        ["registry", "audit.jsonl"] => "audit-entry",
        ["registry", "governance", f] if f.ends_with(".yaml") => "governance-approval",
        ["registry", "models", _, "model.yaml"] => "model",
        ["registry", "models", _, "aliases.yaml"] => "aliases",
        ["registry", "models", _, "versions", f] if super::version_from_file_name(f).is_some() => {
            "version"
        }
        ["registry", "models", _, "approvals", f] if f.ends_with(".yaml") => "approval",
        ["registry", "models", _, "monitoring", f] if f.ends_with(".yaml") => "monitoring",
        _ => return None,
    };
    kind(name).ok()
}

/// The modeline of a YAML registry file at a repository-relative path: the schema's path
/// relative to the file's folder. `None` for a path that is no YAML registry file.
pub fn modeline(path: &str) -> Option<String> {
    let kind = kind_of_path(path).filter(|k| k.yaml)?;
    let up = "../".repeat(path.matches('/').count());
    Some(format!(
        "{MODELINE_PREFIX}{up}{SCHEMAS_DIR}/{}",
        kind.file_name()
    ))
}

/// A new YAML file's text: its modeline, then `body`.
pub fn with_modeline(path: &str, body: &str) -> String {
    match modeline(path) {
        Some(line) if !body.starts_with(MODELINE_PREFIX) => format!("{line}\n{body}"),
        _ => body.to_string(),
    }
}

/// The text of a rewritten YAML file: `new` (which has no modeline of its own) after the
/// modeline `old` starts with, so a rewrite never drops one; a file that had none gets none.
pub fn keep_modeline(old: &str, new: &str) -> String {
    match old.lines().next() {
        Some(first) if first.starts_with(MODELINE_PREFIX) && !new.starts_with(MODELINE_PREFIX) => {
            format!("{first}\n{new}")
        }
        _ => new.to_string(),
    }
}

/// The Markdown table of a kind's keys, generated from its schema (docs/format.md holds these
/// tables verbatim, and a test keeps them equal): one row per key, nested keys as paths
/// (`training.dataset.uri`), map entries as `<name>`, list items as `[]`.
pub fn key_table(kind: &Kind) -> String {
    let schema = schema(kind);
    let mut rows = Vec::new();
    walk(&schema, &schema, "", &mut rows);
    let mut out = String::from("| key | type | required | default | description |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for r in rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.key,
            cell(&r.ty),
            if r.required { "yes" } else { "no" },
            r.default
                .map(|d| format!("`{d}`"))
                .unwrap_or_else(|| "—".into()),
            cell(&r.description)
        ));
    }
    out
}

struct Row {
    key: String,
    ty: String,
    required: bool,
    default: Option<String>,
    description: String,
}

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The definition a `$ref` names, or the schema itself.
fn deref<'a>(root: &'a serde_json::Value, s: &'a serde_json::Value) -> &'a serde_json::Value {
    match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => &root["$defs"][name],
        None => s,
    }
}

/// The schema without its `null` alternative (an optional value), and whether it had one.
fn non_null<'a>(root: &'a serde_json::Value, s: &'a serde_json::Value) -> &'a serde_json::Value {
    if let Some(alts) = s["anyOf"].as_array() {
        let rest: Vec<&serde_json::Value> = alts.iter().filter(|a| a["type"] != "null").collect();
        if rest.len() == 1 {
            return deref(root, rest[0]);
        }
    }
    deref(root, s)
}

/// The type of a schema in words.
fn type_words(root: &serde_json::Value, s: &serde_json::Value) -> String {
    let nullable = s["anyOf"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["type"] == "null"))
        || s["type"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "null"));
    let t = non_null(root, s);
    let mut words = if let Some(values) = t["enum"].as_array() {
        let v: Vec<String> = values
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or("")))
            .collect();
        format!("one of {}", v.join(", "))
    } else if let Some(alts) = t["oneOf"].as_array() {
        let v: Vec<String> = alts
            .iter()
            .map(|v| format!("`{}`", v["const"].as_str().unwrap_or("")))
            .collect();
        format!("one of {}", v.join(", "))
    } else {
        let base = match &t["type"] {
            serde_json::Value::String(x) => x.clone(),
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str())
                .filter(|x| *x != "null")
                .collect::<Vec<_>>()
                .join(" or "),
            _ => "any".into(),
        };
        match base.as_str() {
            "array" => format!("list of {}", type_words(root, &t["items"])),
            "object" if t.get("properties").is_none() => match &t["additionalProperties"] {
                serde_json::Value::Object(_) => {
                    format!("map of {}", type_words(root, &t["additionalProperties"]))
                }
                _ => "map of any value".into(),
            },
            "object" => "mapping".into(),
            "integer" if t["minimum"] == 0 => "integer ≥ 0".into(),
            "string" => match (t["format"].as_str(), t["pattern"].as_str()) {
                (Some(f), _) => format!("string ({f})"),
                (None, Some(p)) => format!("string matching `{p}`"),
                (None, None) => "string".into(),
            },
            _ => base,
        }
    };
    if nullable {
        words.push_str(" or null");
    }
    words
}

fn walk(root: &serde_json::Value, s: &serde_json::Value, prefix: &str, rows: &mut Vec<Row>) {
    let t = non_null(root, s);
    match t["type"].as_str().or_else(|| {
        t["type"]
            .as_array()
            .and_then(|a| a.iter().filter_map(|x| x.as_str()).find(|x| *x != "null"))
    }) {
        Some("object") => {
            let props = t["properties"].as_object();
            let required: Vec<&str> = t["required"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            // A map keyed by aliases: every property has the same schema.
            let same = props.is_some_and(|p| {
                p.len() > 1 && p.values().all(|v| v == p.values().next().unwrap_or(v))
            }) && required.is_empty();
            if let Some(p) = props.filter(|_| !same) {
                for (k, v) in p {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    let description = v["description"]
                        .as_str()
                        .or_else(|| non_null(root, v)["description"].as_str())
                        .unwrap_or("")
                        .to_string();
                    rows.push(Row {
                        key: key.clone(),
                        ty: type_words(root, v),
                        required: required.contains(&k.as_str()),
                        default: v.get("default").map(|d| d.to_string()),
                        description,
                    });
                    walk(root, v, &key, rows);
                }
            } else if let Some(p) = props {
                // The only such maps are keyed by aliases (`gates:`).
                let key = format!("{}<alias>", dot(prefix));
                let v = p.values().next().unwrap_or(&serde_json::Value::Null);
                walk(root, v, &key, rows);
            } else if t["additionalProperties"].is_object() {
                walk(
                    root,
                    &t["additionalProperties"],
                    &format!("{}<name>", dot(prefix)),
                    rows,
                );
            }
        }
        Some("array") => walk(root, &t["items"], &format!("{prefix}[]"), rows),
        _ => {}
    }
}

fn dot(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_generates_a_strict_schema() {
        for k in KINDS {
            let s = schema(k);
            assert_eq!(
                s["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{}",
                k.name
            );
            assert!(s["title"].as_str().unwrap().contains(k.path));
        }
        let version = schema(kind("version").unwrap());
        assert_eq!(version["additionalProperties"], false);
        let required = version["required"].as_array().unwrap();
        assert!(required.contains(&"artifact".into()), "{required:?}");
        assert_eq!(
            version["properties"]["created_at"]["format"], "date-time",
            "timestamps are date-times"
        );
    }

    #[test]
    fn paths_have_kinds_and_modelines() {
        assert_eq!(
            modeline("registry/models/m/versions/v3.yaml").unwrap(),
            "# yaml-language-server: $schema=../../../../schemas/version.schema.json"
        );
        assert_eq!(
            modeline("registry/policy.yaml").unwrap(),
            "# yaml-language-server: $schema=../schemas/policy.schema.json"
        );
        assert_eq!(
            kind_of_path("registry/audit.jsonl").unwrap().name,
            "audit-entry"
        );
        assert_eq!(modeline("registry/audit.jsonl"), None);
        assert_eq!(modeline("registry/allowed_signers"), None);
        assert_eq!(modeline("registry/models/m/versions/notes.yaml"), None);
    }

    #[test]
    fn rewrites_keep_the_modeline() {
        let line = modeline("registry/models/m/aliases.yaml").unwrap();
        let old = format!("{line}\nchampion: 1\n");
        assert_eq!(
            keep_modeline(&old, "champion: 2\n"),
            format!("{line}\nchampion: 2\n")
        );
        assert_eq!(
            keep_modeline("champion: 1\n", "champion: 2\n"),
            "champion: 2\n"
        );
        assert_eq!(keep_modeline(&old, &old), old);
        assert_eq!(
            with_modeline("registry/models/m/aliases.yaml", "{}\n"),
            format!("{line}\n{{}}\n")
        );
    }

    #[test]
    fn unknown_kinds_list_the_kinds() {
        let e = kind("polcy").err().unwrap().to_string();
        assert!(
            e.contains("`polcy`") && e.contains("policy, model, version"),
            "{e}"
        );
    }
}
