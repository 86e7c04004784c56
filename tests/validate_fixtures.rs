//! Every bad-input case of the foundation issue, as a fixture folder under `tests/fixtures/`
//! with a snapshot of its diagnostics. Each case is validated twice, from the folder and from a
//! git commit of it, and both must report the same thing.

use crate::util::fixture;
use modelgate::registry::source::{FsSource, GitSource};
use modelgate::validate::{Options, validate_source};
use serde_json::{Value, json};
use std::path::Path;

/// The outcome as the snapshot records it: the exit code and the JSON diagnostics.
fn outcome(src: Box<dyn modelgate::registry::source::Source>) -> Value {
    match validate_source(src, Options::default()) {
        Ok(o) => {
            let diags: Value =
                serde_json::from_str(&modelgate::diag::render::json(&o.report)).unwrap();
            json!({"exit": if o.report.has_errors() { 1 } else { 0 }, "diagnostics": diags})
        }
        Err(e) => {
            json!({"exit": 2, "error": e.to_string().split(" is not").nth(1).map(|s| format!("[ROOT] is not{s}"))})
        }
    }
}

fn from_folder(dir: &Path) -> Value {
    outcome(Box::new(FsSource::new(dir).unwrap()))
}

fn from_git(dir: &Path) -> Value {
    modelgate::synth::commit_all(dir, "fixture").unwrap();
    outcome(Box::new(GitSource::open(dir, "HEAD").unwrap()))
}

/// The codes of the errors in an outcome, sorted and unique.
fn error_codes(v: &Value) -> Vec<String> {
    let mut codes: Vec<String> = v["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|d| d["severity"] == "error")
                .map(|d| d["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    codes.sort();
    codes.dedup();
    codes
}

macro_rules! case {
    ($name:ident, exit $exit:literal, [$($code:literal),*]) => {
        #[test]
        fn $name() {
            let dir = fixture(stringify!($name));
            let v = from_folder(dir.path());
            assert_eq!(v["exit"], $exit, "{v:#}");
            let expected: Vec<String> = vec![$($code.to_string()),*];
            assert_eq!(error_codes(&v), expected, "{v:#}");
            insta::assert_json_snapshot!(stringify!($name), v);
            assert_eq!(from_git(dir.path()), v, "the git revision reports differently");
        }
    };
}

#[test]
fn base_fixture_is_clean() {
    let dir = fixture("_base");
    let v = from_folder(dir.path());
    assert_eq!(v, json!({"exit": 0, "diagnostics": []}));
    assert_eq!(from_git(dir.path()), v);
}

case!(malformed_yaml, exit 1, ["MG002"]);
case!(wrong_type, exit 1, ["MG008"]);
case!(unknown_key, exit 1, ["MG006"]);
case!(missing_field, exit 1, ["MG007"]);
case!(duplicate_key, exit 1, ["MG005"]);
case!(version_mismatch, exit 1, ["MG011"]);
case!(alias_missing_version, exit 1, ["MG012"]);
case!(alias_archived_version, exit 1, ["MG013"]);
case!(bad_sha256, exit 1, ["MG009"]);
case!(artifact_changed, exit 1, ["MG014"]);
case!(audit_line_edited, exit 1, ["MG017"]);
case!(audit_line_deleted, exit 1, ["MG017", "MG018"]);
case!(audit_lines_reordered, exit 1, ["MG017", "MG018"]);
case!(model_name_in_yaml, exit 1, ["MG010"]);
case!(model_name_folder, exit 1, ["MG010"]);
case!(missing_model_card, exit 1, ["MG022"]);
case!(unknown_principal, exit 1, ["MG019"]);
case!(unknown_role, exit 1, ["MG027"]);
case!(policy_out_of_range, exit 1, ["MG021"]);
case!(non_utf8, exit 1, ["MG003"]);
case!(empty_registry, exit 2, []);
case!(missing_required_files, exit 1, ["MG015"]);
case!(signers_syntax, exit 1, ["MG020"]);
// Group rates that contradict the stated difference, and a rate above 1.
case!(bias_groups, exit 1, ["MG045"]);

/// A 50 MB YAML file is refused by its size, before it is read.
#[test]
fn large_yaml() {
    let dir = fixture("large_yaml");
    let path = dir.path().join("registry/models/fraud/versions/v2.yaml");
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    let mut big = String::with_capacity(50 * 1024 * 1024 + line.len());
    while big.len() < 50 * 1024 * 1024 {
        big.push_str(line);
    }
    std::fs::write(&path, big).unwrap();
    let v = from_folder(dir.path());
    assert_eq!(v["exit"], 1);
    assert_eq!(error_codes(&v), ["MG004"]);
    insta::assert_json_snapshot!("large_yaml", v);
}

/// Plain files only: a symbolic link is reported (MG046) and never followed, wherever it
/// points — out of the repository or inside it — from a folder and from git alike. A model card
/// that is a link counts as no card.
#[cfg(unix)]
#[test]
fn symlink_escape() {
    use std::os::unix::fs::symlink;
    let dir = fixture("symlink_escape");
    let models = dir.path().join("registry/models");
    symlink("/etc", models.join("etc")).unwrap();
    symlink("/etc/hostname", models.join("fraud/versions/v2.yaml")).unwrap();
    symlink(
        "../../../../../../../../etc/passwd",
        models.join("churn/aliases.yaml.bak"),
    )
    .unwrap();
    // Inside the repository: not followed either.
    std::fs::rename(
        dir.path().join("model-cards/fraud.md"),
        dir.path().join("model-cards/fraud-card.md"),
    )
    .unwrap();
    symlink("fraud-card.md", dir.path().join("model-cards/fraud.md")).unwrap();
    let v = from_folder(dir.path());
    assert_eq!(v["exit"], 1);
    assert_eq!(error_codes(&v), ["MG022", "MG046"]);
    insta::assert_json_snapshot!("symlink_escape", v);
    let g = from_git(dir.path());
    assert_eq!(error_codes(&g), ["MG022", "MG046"]);
    let files = |v: &Value| -> Vec<String> {
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["file"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(files(&g), files(&v));
}
