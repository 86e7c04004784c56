//! The binary as a user runs it: exit codes, formats, init/new, the demo.

use crate::util::{fixture, repo_root, run};

#[test]
fn the_example_registry_validates_clean() {
    let (code, out, err) = run(&["validate"], &repo_root());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("validated 3 models, 7 versions"), "{out}");
    assert!(out.contains("0 errors, 0 warnings"), "{out}");
}

#[test]
fn json_and_github_formats() {
    let dir = fixture("unknown_key");
    let root = dir.path().to_str().unwrap();
    let (code, out, _) = run(
        &["--root", root, "validate", "--format", "json"],
        dir.path(),
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["code"], "MG006");
    assert_eq!(v[0]["file"], "registry/models/churn/model.yaml");
    assert_eq!(
        (v[0]["line"].as_u64(), v[0]["column"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(v[0]["hint"], "did you mean `owner`?");

    let summary = dir.path().join("summary.md");
    let out = crate::util::modelgate()
        .args(["--root", root, "validate", "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.starts_with("::error file=registry/models/churn/model.yaml,line=3,col=1,"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(summary).unwrap();
    assert!(md.contains("| ❌ | `MG006` |"), "{md}");
}

#[test]
fn text_format_shows_source_and_caret() {
    let dir = fixture("alias_missing_version");
    let (code, out, _) = run(&["validate"], dir.path());
    assert_eq!(code, 1);
    assert!(
        out.contains("error[MG012]: `challenger` points at version 5 of fraud"),
        "{out}"
    );
    assert!(
        out.contains("registry/models/fraud/aliases.yaml:2:13"),
        "{out}"
    );
    assert!(out.contains("challenger: 5"), "{out}");
    assert!(out.contains("^"), "{out}");
}

#[test]
fn no_registry_is_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["validate"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("no registry found"), "{err}");
    assert!(err.contains("modelgate init"), "{err}");
}

#[test]
fn init_then_new_gives_a_valid_registry() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (code, out, err) = run(&["init"], root);
    assert_eq!(code, 0, "{out}{err}");
    for f in [
        "registry/policy.yaml",
        "registry/allowed_signers",
        "registry/audit.jsonl",
        "model-cards/TEMPLATE.md",
        ".github/workflows/modelgate-check.yml",
        ".github/workflows/modelgate-drift.yml",
        ".github/workflows/modelgate-batch.yml",
        ".github/workflows/modelgate-pages.yml",
    ] {
        assert!(root.join(f).is_file(), "{f}");
    }
    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("MG024"), "an empty registry warns: {out}");

    // init refuses to overwrite, and writes nothing.
    std::fs::write(root.join("registry/policy.yaml"), "# mine\n").unwrap();
    let (code, _, err) = run(&["init"], root);
    assert_eq!(code, 2);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read_to_string(root.join("registry/policy.yaml")).unwrap(),
        "# mine\n"
    );
    std::fs::write(
        root.join("registry/policy.yaml"),
        modelgate::scaffold::POLICY,
    )
    .unwrap();

    let (code, out, err) = run(&["new", "churn", "--owner", "growth@example.com"], root);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 errors, 0 warnings"), "{out}");

    let (code, _, err) = run(&["new", "churn"], root);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(&["new", "../etc"], root);
    assert_eq!(code, 2);
    assert!(err.contains("not a valid model name"), "{err}");
    assert!(!root.join("registry/etc").exists());
}

#[test]
fn demo_runs_on_the_example() {
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("demo");
    let (code, out, err) = run(&["demo", "--out", target.to_str().unwrap()], &repo_root());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("heart_disease"), "{out}");
    assert!(out.contains("modelgate validate --rev HEAD"), "{out}");
    // The promotion passes; the same promotion with a forged approval is blocked.
    let pass = out.find("verdict: PASS").expect("a passing check");
    let block = out.find("verdict: BLOCKED").expect("a blocked check");
    assert!(pass < block, "{out}");
    assert!(out.contains("it belongs to bob@example.com"), "{out}");
    assert!(target.join("registry/policy.yaml").is_file());
    assert!(target.join(".git").is_dir());
}

#[test]
fn search_with_the_mlflow_grammar_and_or() {
    let root = repo_root();
    let (code, out, err) = run(
        &[
            "search",
            "metrics.roc_auc > 0.8 AND (stage = 'champion' OR alias = 'challenger')",
            "--order-by",
            "metrics.roc_auc DESC",
            "--format",
            "json",
        ],
        &root,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found: Vec<(String, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                h["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("heart_disease".to_string(), 4),
            ("heart_disease".to_string(), 3),
            ("diabetes".to_string(), 2)
        ]
    );
    let (code, _, err) = run(
        &[
            "search",
            "version IN (1) AND params.n_estimators >= 40",
            "--format",
            "json",
        ],
        &root,
    );
    assert_eq!(code, 0, "{err}");
    for (filter, expected) in [
        ("(metrics.roc_auc > 0.8", "never closed"),
        ("metrics.roc_auc > 0.8)", "unbalanced `)`"),
        ("metrcs.roc_auc > 0.8", "did you mean `metrics`"),
        ("tags.status > 'prod'", "`>` compares numbers"),
    ] {
        let (code, _, err) = run(&["search", filter], &root);
        assert_eq!(code, 2, "{filter}");
        assert!(
            err.contains(expected) && err.contains("column"),
            "{filter}: {err}"
        );
    }
}
