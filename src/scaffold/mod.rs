//! Scaffolding for `init` and `new`, and the atomic file writer every command that changes the
//! registry uses.
//!
//! Templates are embedded in the binary; a registry may replace the model-card template with
//! its own `model-cards/TEMPLATE.md`.

/// The default policy written by `init`.
pub const POLICY: &str = include_str!("policy.yaml");
/// The allowed_signers header written by `init`.
pub const ALLOWED_SIGNERS: &str = include_str!("allowed_signers");
/// The model-card template (`{{model}}` is replaced).
pub const MODEL_CARD: &str = include_str!("model-card.md");
/// The model.yaml template.
pub const MODEL_YAML: &str = include_str!("model.yaml");
/// The GitHub Actions workflows written by `init`: file name and text.
pub const WORKFLOWS: &[(&str, &str)] = &[
    ("modelgate-check.yml", include_str!("workflows/check.yml")),
    ("modelgate-drift.yml", include_str!("workflows/drift.yml")),
    ("modelgate-batch.yml", include_str!("workflows/batch.yml")),
    ("modelgate-pages.yml", include_str!("workflows/pages.yml")),
];

/// What a registry repository does not commit: the built site and modelgate's local caches.
pub const GITIGNORE_LINES: &[&str] = &["/site/", "/.modelgate/"];

/// `.gitignore` with modelgate's lines: the whole file for a repository without one, or the
/// existing text with the missing lines appended; `None` when nothing is missing.
pub fn gitignore(existing: Option<&str>) -> Option<String> {
    let have: Vec<&str> = existing
        .unwrap_or("")
        .lines()
        .map(|l| l.trim().trim_end_matches('/').trim_start_matches('/'))
        .collect();
    let missing: Vec<&str> = GITIGNORE_LINES
        .iter()
        .copied()
        .filter(|l| !have.contains(&l.trim_matches('/')))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut text = existing.unwrap_or("").to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# modelgate: the built site (`modelgate site build`) and local caches\n");
    for l in missing {
        text.push_str(l);
        text.push('\n');
    }
    Some(text)
}

/// Where a registry keeps its own model-card template.
pub const CARD_TEMPLATE_PATH: &str = "model-cards/TEMPLATE.md";

/// Fills `{{key}}` placeholders.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    s
}

use crate::registry::json_schema::{SCHEMAS_DIR, schema_files, with_modeline};
pub use crate::registry::write::{write_atomic, write_new_files};
use crate::yaml::write::string as yaml_str;

/// The files of a new registry: every YAML file starts with its schema's modeline, and the
/// schemas are written to `schemas/`.
pub fn init_files() -> Vec<(String, String)> {
    let policy = crate::registry::POLICY_PATH;
    let mut files = vec![
        (policy.into(), with_modeline(policy, POLICY)),
        (
            crate::signing::allowed_signers::SIGNERS_PATH.into(),
            ALLOWED_SIGNERS.into(),
        ),
        (crate::audit::AUDIT_PATH.into(), String::new()),
        (
            format!("{}/.gitkeep", crate::registry::MODELS_DIR),
            String::new(),
        ),
        (CARD_TEMPLATE_PATH.into(), MODEL_CARD.into()),
    ];
    for (name, text) in WORKFLOWS {
        files.push((format!(".github/workflows/{name}"), text.to_string()));
    }
    files.extend(schema_files(SCHEMAS_DIR));
    files
}

/// The schema files a registry at `root` lacks (`new` adds them, so that the modelines of the
/// files it writes lead somewhere; existing ones are left as they are).
pub fn missing_schema_files(root: &std::path::Path) -> Vec<(String, String)> {
    schema_files(SCHEMAS_DIR)
        .into_iter()
        .filter(|(p, _)| root.join(p).symlink_metadata().is_err())
        .collect()
}

/// The files of a new model.
pub fn model_files(
    model: &crate::registry::types::ModelName,
    owner: &str,
    description: &str,
    card_template: &str,
) -> Vec<(String, String)> {
    let m = model.as_str();
    let vars = [
        ("model", m),
        ("owner", &yaml_str(owner)),
        ("description", &yaml_str(description)),
    ];
    let model_yaml = format!("{}/{m}/model.yaml", crate::registry::MODELS_DIR);
    let aliases_yaml = format!("{}/{m}/aliases.yaml", crate::registry::MODELS_DIR);
    vec![
        (
            model_yaml.clone(),
            with_modeline(&model_yaml, &fill(MODEL_YAML, &vars)),
        ),
        (
            aliases_yaml.clone(),
            with_modeline(&aliases_yaml, "# champion: 1\n# challenger: 2\n{}\n"),
        ),
        (
            format!("{}/{m}.md", crate::registry::CARDS_DIR),
            fill(card_template, &[("model", m)]),
        ),
    ]
}

#[cfg(test)]
mod gitignore_tests {
    use super::gitignore;

    #[test]
    fn gitignore_is_written_or_completed_never_duplicated() {
        let new = gitignore(None).unwrap();
        assert!(new.contains("/site/\n/.modelgate/\n"), "{new}");
        let own = gitignore(Some("target\nsite/")).unwrap();
        assert!(own.starts_with("target\nsite/\n# modelgate"), "{own}");
        assert!(
            own.ends_with("/.modelgate/\n") && !own.contains("/site/"),
            "{own}"
        );
        assert_eq!(gitignore(Some(&own)), None);
    }
}
