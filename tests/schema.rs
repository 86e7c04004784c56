//! The JSON Schemas of `modelgate schema` against real files: every file of the example
//! registry (and the fixtures' good files) validates against its kind's schema, every fixture the
//! loader rejects for a structural reason is rejected by the schema too, the committed
//! `schemas/` are what the binary writes, and `docs/format.md` documents every key.

use crate::util::{example_dir, fixture, repo_root, run};
use modelgate::diag::Code;
use modelgate::registry::json_schema::{self, KINDS, Kind};
use modelgate::registry::source::FsSource;
use modelgate::validate::{Options, validate_source};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The diagnostics that are about a file's structure — an unknown key, a missing key, a value
/// of the wrong type, a value the type refuses (a sha256 that is not 64 hex digits, a timestamp
/// that is not RFC 3339, an enum value not in the list), a model name that does not match its
/// pattern — and so must be caught by the schema as well. Every other diagnostic is about
/// content across files (references, digests, signatures, ranges) or about bytes below YAML
/// (syntax, encoding, size), which a schema cannot see.
const STRUCTURAL: &[Code] = &[
    Code::UnknownKey,
    Code::MissingKey,
    Code::WrongType,
    Code::InvalidValue,
    Code::InvalidModelName,
];

/// Codes that mean the file is no YAML a schema could be applied to.
const BELOW_YAML: &[Code] = &[
    Code::YamlSyntax,
    Code::NotUtf8,
    Code::TooLarge,
    Code::DuplicateKey,
    Code::NotPlainFile,
];

fn validator(kind: &Kind) -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&json_schema::schema(kind))
        .unwrap_or_else(|e| panic!("the {} schema does not compile: {e}", kind.name))
}

/// A YAML file as JSON, read as the loader reads it.
fn yaml_as_json(text: &str) -> Value {
    let node = modelgate::yaml::parse(text).unwrap_or_else(|e| panic!("{}", e.message));
    modelgate::yaml::from_node::<Value>(&node).unwrap()
}

/// The schema's complaints about one registry file (`None`: the path has no schema).
fn schema_errors(root: &Path, rel: &str) -> Option<Vec<String>> {
    let kind = json_schema::kind_of_path(rel)?;
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let v = validator(kind);
    let instances: Vec<Value> = if kind.yaml {
        vec![yaml_as_json(&text)]
    } else {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    Some(
        instances
            .iter()
            .flat_map(|i| {
                v.iter_errors(i)
                    .map(|e| format!("{rel}: {} at {}", e, e.instance_path()))
                    .collect::<Vec<_>>()
            })
            .collect(),
    )
}

/// Every file under `dir`, repository-relative.
fn files_under(root: &Path, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push(rel.replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// Every registry file under `root` with a schema validates, and every YAML one starts with its
/// modeline; returns how many files were checked per kind.
fn assert_registry_valid(root: &Path) -> BTreeSet<&'static str> {
    let mut kinds = BTreeSet::new();
    for rel in files_under(root, "registry") {
        let Some(errors) = schema_errors(root, &rel) else {
            continue;
        };
        assert!(errors.is_empty(), "{errors:#?}");
        let kind = json_schema::kind_of_path(&rel).unwrap();
        kinds.insert(kind.name);
        if kind.yaml {
            let text = std::fs::read_to_string(root.join(&rel)).unwrap();
            assert_eq!(
                text.lines().next(),
                json_schema::modeline(&rel).as_deref(),
                "{rel} does not start with its modeline"
            );
            // The modeline points at a schema file that is there.
            let target = json_schema::modeline(&rel).unwrap();
            let target = target.strip_prefix(json_schema::MODELINE_PREFIX).unwrap();
            let dir = root.join(&rel).parent().unwrap().to_path_buf();
            assert!(dir.join(target).is_file(), "{rel}: {target} is missing");
        }
    }
    kinds
}

#[test]
fn the_example_registry_validates_against_the_schemas() {
    let kinds = assert_registry_valid(&repo_root());
    for k in [
        "policy",
        "model",
        "version",
        "aliases",
        "approval",
        "audit-entry",
    ] {
        assert!(kinds.contains(k), "no example file of kind {k}: {kinds:?}");
    }
}

/// The files modelgate writes itself — a signed monitoring result, a promotion's aliases.yaml
/// and archived version, an approval — validate and keep their modelines.
#[test]
fn files_modelgate_writes_validate_and_keep_their_modelines() {
    let dir = example_dir();
    let root = dir.path();
    let (code, out, err) = run(
        &[
            "drift",
            "--model",
            "heart_disease",
            "--actor",
            "ci@example.com",
            "--sign-key",
            "examples/keys/drift-job",
        ],
        root,
    );
    assert_eq!(code, 1, "the example drifts: {out}{err}");
    let (code, out, err) = run(
        &[
            "promote",
            "diabetes",
            "1",
            "--to",
            "challenger",
            "--actor",
            "alice@example.com",
        ],
        root,
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(
        &[
            "approve",
            "diabetes",
            "1",
            "--alias",
            "challenger",
            "--role",
            "data_scientist",
            "--key",
            "examples/keys/alice",
        ],
        root,
    );
    assert_eq!(code, 0, "{out}{err}");
    let kinds = assert_registry_valid(root);
    assert!(kinds.contains("monitoring"), "{kinds:?}");
    let (code, out, _) = run(&["validate", "--no-digests"], root);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn structural_problems_of_the_fixtures_are_caught_by_the_schemas() {
    let fixtures = repo_root().join("tests/fixtures");
    let mut caught: BTreeSet<&str> = BTreeSet::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let case = entry.unwrap().file_name().to_string_lossy().into_owned();
        if case == "large_yaml" || case == "symlink_escape" {
            // Set up by their own tests (a 50 MB file, links); nothing structural in either.
            continue;
        }
        let dir = fixture(&case);
        let root = dir.path();
        let Ok(outcome) =
            validate_source(Box::new(FsSource::new(root).unwrap()), Options::default())
        else {
            continue; // not a registry at all (`empty_registry`)
        };
        let diags = &outcome.report.diagnostics;
        let mut structural_files = BTreeSet::new();
        let mut skip_files = BTreeSet::new();
        let mut skip_dirs: BTreeSet<String> = BTreeSet::new();
        for d in diags {
            let Some(file) = &d.file else { continue };
            if BELOW_YAML.contains(&d.code) {
                skip_files.insert(file.clone());
            }
            if !STRUCTURAL.contains(&d.code) {
                continue;
            }
            if json_schema::kind_of_path(file).is_none() {
                // A model folder's name: a path, not a file a schema reads. The loader reads
                // nothing in that folder.
                assert_eq!(d.code, Code::InvalidModelName, "{case}: {d:?}");
                assert!(root.join(file).is_dir(), "{case}: {d:?}");
                skip_dirs.insert(format!("{file}/"));
                continue;
            }
            let errors = schema_errors(root, file).unwrap();
            assert!(
                !errors.is_empty(),
                "{case}: the loader says {} `{}` about {file}, the schema accepts it",
                d.code,
                d.message
            );
            caught.insert(d.code.as_str());
            structural_files.insert(file.clone());
        }
        // The other registry files of the case — those the loader found nothing structural
        // in — validate: the schema is not stricter than the loader on them.
        for rel in files_under(root, "registry") {
            if structural_files.contains(&rel)
                || skip_files.contains(&rel)
                || skip_dirs.iter().any(|d| rel.starts_with(d.as_str()))
            {
                continue;
            }
            if let Some(errors) = schema_errors(root, &rel) {
                assert!(errors.is_empty(), "{case}: {errors:#?}");
            }
        }
        cases += 1;
    }
    assert!(cases > 20, "only {cases} fixtures ran");
    // Every structural code has a fixture that shows the schema catches it.
    assert_eq!(
        caught,
        ["MG006", "MG007", "MG008", "MG009", "MG010"].into(),
        "structural codes without a fixture"
    );
}

/// The committed `schemas/` are exactly what `modelgate schema --out` writes, so they cannot go
/// stale: after a change to the types, run `modelgate schema --out schemas`.
#[test]
fn committed_schemas_equal_the_generated_ones() {
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, err) = run(
        &["schema", "--out", out.path().to_str().unwrap()],
        out.path(),
    );
    assert_eq!(code, 0, "{stdout}{err}");
    let committed = repo_root().join(json_schema::SCHEMAS_DIR);
    let names = |d: &Path| -> BTreeSet<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&committed), names(out.path()));
    for k in KINDS {
        let want = std::fs::read_to_string(out.path().join(k.file_name())).unwrap();
        let have = std::fs::read_to_string(committed.join(k.file_name())).unwrap();
        assert!(
            have == want,
            "schemas/{} is stale: run `modelgate schema --out schemas`",
            k.file_name()
        );
        // What `schema KIND` prints is the same text.
        let (code, printed, _) = run(&["schema", k.name], out.path());
        assert_eq!(code, 0);
        assert_eq!(printed, want);
    }
}

#[test]
fn schema_lists_kinds_and_refuses_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(&["schema"], dir.path());
    assert_eq!(code, 0);
    for k in KINDS {
        assert!(out.contains(k.name) && out.contains(k.path), "{out}");
    }
    assert!(out.contains("allowed_signers has no schema"), "{out}");
    let (code, out, _) = run(&["schema", "--format", "json"], dir.path());
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(names, json_schema::kind_names());
    for hostile in ["polcy", "../etc/passwd", "", "version; rm -rf /"] {
        let (code, out, err) = run(&["schema", hostile], dir.path());
        assert_eq!(code, 2, "{hostile}: {out}{err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains(&format!("there is no file kind `{hostile}`"))
                && err.contains("policy, model, version, aliases"),
            "{err}"
        );
    }
    // --out into a path that is a file: an error, nothing written.
    let file = dir.path().join("taken");
    std::fs::write(&file, "x").unwrap();
    let (code, _, err) = run(&["schema", "--out", "taken"], dir.path());
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

/// The key tables of docs/format.md are the ones generated from the schemas.
#[test]
fn format_doc_tables_equal_the_generated_ones() {
    let doc = std::fs::read_to_string(repo_root().join("docs/format.md")).unwrap();
    for k in KINDS {
        let table = json_schema::key_table(k);
        assert!(
            doc.contains(&table),
            "docs/format.md lacks the generated key table of `{}`; \
             `modelgate schema KIND --format markdown` prints it:\n{table}",
            k.name
        );
    }
}

/// The complete examples of docs/format.md (those with no `…` left out) validate against the
/// schema their modeline names.
#[test]
fn format_doc_examples_validate() {
    let doc = std::fs::read_to_string(repo_root().join("docs/format.md")).unwrap();
    let mut checked = BTreeSet::new();
    for block in doc.split("```yaml\n").skip(1) {
        let text = block.split("```").next().unwrap();
        let Some(schema) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(json_schema::MODELINE_PREFIX))
        else {
            continue;
        };
        if text.contains('…') || text.lines().count() < 2 {
            continue; // abridged, or the modeline alone
        }
        let name = schema.rsplit('/').next().unwrap();
        let kind = KINDS.iter().find(|k| k.file_name() == name).unwrap();
        let errors: Vec<String> = validator(kind)
            .iter_errors(&yaml_as_json(text))
            .map(|e| format!("{}: {e} at {}", kind.name, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        checked.insert(kind.name);
    }
    for k in ["policy", "model", "aliases", "version", "monitoring"] {
        assert!(checked.contains(k), "{checked:?}");
    }
}

/// `init` writes the schemas and modelines; `new` writes modelines and adds missing schemas;
/// what they write validates against the schemas and with `validate`.
#[test]
fn init_and_new_write_schemas_and_modelines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (code, out, err) = run(&["init"], root);
    assert_eq!(code, 0, "{out}{err}");
    for k in KINDS {
        let text = std::fs::read_to_string(root.join("schemas").join(k.file_name())).unwrap();
        assert_eq!(text, json_schema::schema_text(k));
        assert!(out.contains(&format!("schemas/{}", k.file_name())), "{out}");
    }
    // A registry from before the schemas: `new` adds the missing ones, keeps the others.
    std::fs::remove_file(root.join("schemas/model.schema.json")).unwrap();
    std::fs::write(root.join("schemas/aliases.schema.json"), "{}\n").unwrap();
    let (code, out, err) = run(&["new", "churn", "--owner", "growth@example.com"], root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(root.join("schemas/model.schema.json").is_file());
    assert_eq!(
        std::fs::read_to_string(root.join("schemas/aliases.schema.json")).unwrap(),
        "{}\n"
    );
    std::fs::write(
        root.join("schemas/aliases.schema.json"),
        json_schema::schema_text(json_schema::kind("aliases").unwrap()),
    )
    .unwrap();
    let kinds = assert_registry_valid(root);
    assert_eq!(
        kinds,
        ["aliases", "audit-entry", "model", "policy"].into(),
        "{kinds:?}"
    );
    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}");
    // the new card is still the template: only its 9 sections warn (MG051)
    assert!(out.contains("0 errors, 9 warnings"), "{out}");
}
