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
        ".gitignore",
    ] {
        assert!(root.join(f).is_file(), "{f}");
    }
    // the built site and the local caches are never committed by accident
    let ignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(
        ignore.contains("/site/") && ignore.contains("/.modelgate/"),
        "{ignore}"
    );
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
    // Raw inputs and the scored log of `batch --log` in separate folders: the drift job reads
    // `current`, never the log beside the inputs it scored.
    let model = std::fs::read_to_string(root.join("registry/models/churn/model.yaml")).unwrap();
    assert!(
        model.contains("  current: data/churn/current/*.parquet"),
        "{model}"
    );
    assert!(
        model.contains("  predictions: data/churn/predictions/*.parquet"),
        "{model}"
    );
    // valid, but the new card is the template: each of its 9 sections is a warning (MG051)
    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 errors, 9 warnings"), "{out}");
    assert!(out.contains("validated 1 model, 0 versions"), "{out}");
    assert!(out.contains("the model card is incomplete"), "{out}");

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
    // The promotion reaches a running server.
    let online = &out[out.find("15. Online").expect("the serve section")..];
    let before = online.find("→ v3 (champion)").expect("v3 answers first");
    let after = online.find("→ v4 (champion)").expect("then v4");
    assert!(before < after, "{online}");
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

/// Runs the binary with `--format json`; returns (exit code, the parsed stdout, stderr).
fn run_json(args: &[&str], cwd: &std::path::Path) -> (i32, serde_json::Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = run(&all, cwd);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {out}\n{err}"));
    (code, v, err)
}

/// The writing commands say in JSON what they wrote, and an error asked for as JSON is a JSON
/// document on stdout (exit 2), not only text on stderr.
#[test]
fn writing_commands_and_errors_speak_json() {
    let empty = tempfile::tempdir().unwrap();
    let (code, v, _) = run_json(&["validate"], empty.path());
    assert_eq!(code, 2);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("no registry found"), "{v}");

    let (code, v, err) = run_json(&["init"], empty.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["command"], "init");
    let wrote: Vec<&str> = v["wrote"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(wrote.contains(&"registry/policy.yaml"), "{v}");
    assert!(
        v["next"].as_str().unwrap().contains("allowed_signers"),
        "{v}"
    );
    let (code, v, err) = run_json(&["new", "churn"], empty.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["model"], "churn");
    assert!(
        v["wrote"]
            .to_string()
            .contains("registry/models/churn/model.yaml"),
        "{v}"
    );
    let (code, v, _) = run_json(&["new", "churn"], empty.path());
    assert_eq!(code, 2);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{v}"
    );

    let dir = crate::util::example_dir();
    let root = dir.path();
    modelgate::synth::commit_all(root, "base").unwrap();
    let (code, v, err) = run_json(
        &[
            "register",
            "diabetes",
            "--artifact",
            "examples/diabetes/v2/model.onnx",
            "--allow-dirty",
            "--actor",
            "alice@example.com",
        ],
        root,
    );
    assert_eq!(code, 0, "{v}{err}");
    assert_eq!(
        (v["command"].clone(), v["version"].clone()),
        ("register".into(), 3.into())
    );
    assert!(
        v["wrote"]
            .to_string()
            .contains("registry/models/diabetes/versions/v3.yaml"),
        "{v}"
    );
    let (code, v, err) = run_json(
        &[
            "promote",
            "diabetes",
            "3",
            "--to",
            "challenger",
            "--actor",
            "alice@example.com",
        ],
        root,
    );
    assert_eq!(code, 0, "{v}{err}");
    assert_eq!(v["alias"], "challenger");
    assert!(v["wrote"].to_string().contains("aliases.yaml"), "{v}");
    let (code, v, err) = run_json(
        &[
            "approve",
            "diabetes",
            "3",
            "--alias",
            "challenger",
            "--role",
            "data_scientist",
            "--key",
            "examples/keys/alice",
        ],
        root,
    );
    assert_eq!(code, 0, "{v}{err}");
    assert_eq!(v["principal"], "alice@example.com");
    let approval = v["wrote"][0].as_str().unwrap().to_string();
    assert!(
        approval.starts_with("registry/models/diabetes/approvals/"),
        "{v}"
    );
    let (code, v, err) = run_json(&["approval", "message", &approval], root);
    assert_eq!(code, 0, "{v}{err}");
    assert!(v["message"].as_str().unwrap().contains("diabetes"), "{v}");

    let prof = root.join("p.json");
    let (code, v, err) = run_json(
        &[
            "profile",
            "--reference",
            "examples/heart_disease/reference.parquet",
            "--current",
            "examples/heart_disease/inference/*.parquet",
            "--columns",
            "age,sex",
            "--out",
            prof.to_str().unwrap(),
        ],
        root,
    );
    assert_eq!(code, 0, "{v}{err}");
    assert_eq!(v["columns"], 2);
    assert!(prof.is_file());

    let site = root.join("site-out");
    let (code, v, err) = run_json(&["site", "build", "--out", site.to_str().unwrap()], root);
    assert_eq!(code, 0, "{v}{err}");
    assert!(v["pages"].as_u64().unwrap() > 3, "{v}");

    let (code, v, _) = run_json(&["promote", "nope", "1", "--to", "champion"], root);
    assert_eq!(code, 2);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("nope"),
        "{v}"
    );
}

/// A public key passed to `approve` is named as such, once, with the file to pass instead; a
/// file that is no key at all is one line, not the same error three times.
#[test]
fn approve_with_a_public_key_says_which_file_to_pass() {
    let dir = crate::util::example_dir();
    let args = |key: &str| {
        [
            "approve",
            "heart_disease",
            "4",
            "--alias",
            "champion",
            "--role",
            "data_scientist",
            "--key",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([key.to_string()])
        .collect::<Vec<_>>()
    };
    let a = args("examples/keys/alice.pub");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err) = run(&a, dir.path());
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("examples/keys/alice.pub is a public key"),
        "{err}"
    );
    assert!(err.contains("pass --key examples/keys/alice"), "{err}");
    assert!(!err.contains("PEM") && !err.contains("caused by"), "{err}");
    std::fs::write(dir.path().join("junk"), "not a key\n").unwrap();
    let a = args("junk");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, _, err) = run(&a, dir.path());
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("junk is not an OpenSSH private key"), "{err}");
}
