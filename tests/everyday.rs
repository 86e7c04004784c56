//! The everyday commands on real registries: `list`, `show`, `diff`, shell completions and man
//! pages. (`demote` and `archive` are judged by `check` in tests/attacks.rs.)

use crate::check::{HD, example_repo};
use crate::util::run;
use modelgate::synth::commit_all;
use serde_json::Value;
use std::process::Command;

fn json(dir: &std::path::Path, args: &[&str]) -> Value {
    let (code, out, err) = run(args, dir);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// One line per model; the champion's latest *signed* drift result counts, an unsigned newer
/// one does not; bias verdicts follow the champion gate's thresholds.
#[test]
fn list_shows_every_model_with_its_champion_numbers() {
    let (dir, _) = example_repo();
    let p = dir.path();
    let (code, out, err) = run(&["list"], p);
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("heart_disease"))
        .unwrap();
    for w in ["v3", "v4", "roc_auc=0.8467", "pass"] {
        assert!(line.contains(w), "{line}");
    }
    assert!(out.ends_with("3 models\n"), "{out}");
    crate::attacks::monitoring(
        p,
        "2024-06-01",
        "2024-06-02T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    crate::attacks::monitoring(p, "2024-06-08", "2024-06-09T06:00:00Z", "none", None);
    let v = json(p, &["list", "--format", "json"]);
    let hd = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "heart_disease")
        .unwrap();
    assert_eq!(hd["champion"], 3);
    assert_eq!(hd["challenger"], 4);
    assert_eq!(hd["primary_metric"], "roc_auc");
    assert_eq!(hd["primary_value"], 0.8467);
    assert_eq!(
        hd["drift"], "alert",
        "the unsigned newer result does not count: {hd}"
    );
    assert_eq!(hd["bias"], "pass");
    let db = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "diabetes")
        .unwrap();
    assert_eq!(db["drift"], Value::Null);
    assert_eq!(db["challenger"], Value::Null);
    // A champion over block_at on one protected attribute blocks.
    crate::check::edit(p, &format!("{HD}/versions/v3.yaml"), |t| {
        t.replacen("demographic_parity: 0.0", "demographic_parity: 0.4", 1)
    });
    let v = json(p, &["list", "--format", "json"]);
    let hd = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "heart_disease")
        .unwrap();
    assert_eq!(hd["bias"], "block", "{hd}");
}

/// `list` reads versions through the search index: on a thousand-model registry the second
/// run parses no version file, and gives the same rows.
#[test]
fn list_uses_the_search_index_on_many_models() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("r");
    let (code, out, err) = run(
        &[
            "dev",
            "synth",
            "--out",
            root.to_str().unwrap(),
            "--models",
            "1000",
            "--versions",
            "3",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let first = json(&root, &["list", "--format", "json"]);
    assert_eq!(first.as_array().unwrap().len(), 1000);
    assert!(root.join(".modelgate/search-index.json").is_file());
    let started = std::time::Instant::now();
    let second = json(&root, &["list", "--format", "json"]);
    assert_eq!(first, second);
    // Debug builds: generous, but far below parsing 3,000 version files again would need.
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    let (_, search, _) = run(
        &[
            "search",
            "stage = 'champion'",
            "--max-results",
            "5000",
            "--format",
            "json",
        ],
        &root,
    );
    let champions: Vec<Value> = serde_json::from_str(&search).unwrap();
    let listed = first
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["champion"].is_null())
        .count();
    assert_eq!(
        champions.len(),
        listed,
        "list and search agree on every champion"
    );
}

/// `show` a model, a version by alias and by number; a missing version names those there are.
#[test]
fn show_a_model_and_a_version() {
    let (dir, _) = example_repo();
    let p = dir.path();
    let m = json(p, &["show", "heart_disease", "--format", "json"]);
    assert_eq!(m["owner"], "cardiology-ml@example.com");
    assert_eq!(m["aliases"]["champion"], 3);
    let stages: Vec<(u64, &str)> = m["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_u64().unwrap(), v["stage"].as_str().unwrap()))
        .collect();
    assert_eq!(
        stages,
        [
            (4, "challenger"),
            (3, "champion"),
            (2, "staging"),
            (1, "archived")
        ]
    );

    let v = json(p, &["show", "heart_disease@champion", "--format", "json"]);
    assert_eq!(v["version"], 3);
    assert_eq!(v["stage"], "champion");
    assert_eq!(v["metrics"]["roc_auc"], 0.8467);
    assert!(v["bias"]["sex"]["worst"].is_number(), "{v:#}");
    assert_eq!(v["lineage"]["random_seed"], 333);
    let approvals = v["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 3, "{v:#}");
    assert!(
        approvals.iter().all(|a| a["signature"] == "verified"),
        "{v:#}"
    );
    assert!(
        v["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "promote")
    );
    assert!(
        v["input_schema"]["from"]
            .as_str()
            .unwrap()
            .starts_with("commit "),
        "{v:#}"
    );
    assert_eq!(v["input_schema"]["features"].as_array().unwrap().len(), 12);
    assert_eq!(v["artifact"]["sha256"].as_str().unwrap().len(), 64);

    let (code, out, _) = run(&["show", "heart_disease@v4"], p);
    assert_eq!(code, 0);
    assert!(
        out.contains("stage: challenger") && out.contains("signature=verified"),
        "{out}"
    );
    let (code, _, err) = run(&["show", "heart_disease@v9"], p);
    assert_eq!(code, 2);
    assert!(
        err.contains("has no version 9") && err.contains("v1, v2, v3, v4"),
        "{err}"
    );
    let (code, _, err) = run(&["show", "nope"], p);
    assert_eq!(code, 2);
    assert!(err.contains("no model `nope`"), "{err}");
}

/// `diff`: metric deltas, bias, lineage, and the input schema each version was registered with
/// (model.yaml at the commit that added the version file).
#[test]
fn diff_two_versions() {
    let (dir, _) = example_repo();
    let p = dir.path();
    let d = json(p, &["diff", "heart_disease", "v3", "4", "--format", "json"]);
    let auc = d["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "roc_auc")
        .unwrap();
    assert_eq!(auc["a"], 0.8467);
    assert_eq!(auc["b"], 0.8909);
    // Computed from the stored numbers and rounded as they are: 0.0442, not 0.04420000000000002.
    assert_eq!(auc["delta"].to_string(), "0.0442");
    assert!(
        d["lineage"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["field"] == "random_seed")
    );
    assert_eq!(d["artifact"]["same"], false);
    assert_eq!(d["input_schema"]["same"], true);

    // v5 is registered after a feature is added and another renamed.
    let v4 = std::fs::read_to_string(p.join(HD).join("versions/v4.yaml")).unwrap();
    crate::check::edit(p, &format!("{HD}/model.yaml"), |t| {
        t.replace("name: glucose,", "name: glucose_mg,").replace(
            "  - {name: bmi, type: numerical}\n",
            "  - {name: bmi, type: numerical}\n  - {name: waist, type: numerical}\n",
        )
    });
    std::fs::write(
        p.join(HD).join("versions/v5.yaml"),
        v4.replace("version: 4", "version: 5"),
    )
    .unwrap();
    commit_all(p, "v5 with new inputs").unwrap();
    let d = json(p, &["diff", "heart_disease", "4", "5", "--format", "json"]);
    let s = &d["input_schema"];
    assert_eq!(s["same"], false, "{s:#}");
    assert_eq!(
        s["added"],
        serde_json::json!(["waist", "glucose_mg"]),
        "{s:#}"
    );
    assert_eq!(s["removed"], serde_json::json!(["glucose"]), "{s:#}");
    assert_eq!(s["reordered"], false, "{s:#}");
    let (code, out, _) = run(&["diff", "heart_disease", "3", "4"], p);
    assert_eq!(code, 0);
    assert!(
        out.contains("metric=roc_auc") && out.contains("delta=0.0442"),
        "{out}"
    );
}

/// Completions for every shell; bash's parse with `bash -n`.
#[test]
fn completions_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = run(&["completions", shell], dir.path());
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(
            out.contains("demote") && out.contains("completions"),
            "{shell}"
        );
    }
    let (_, bash, _) = run(&["completions", "bash"], dir.path());
    let file = dir.path().join("modelgate.bash");
    std::fs::write(&file, bash).unwrap();
    let out = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `man --out DIR` writes modelgate.1 and a page per subcommand; each renders with `man -l`
/// when man is installed, and always has a .TH header naming it.
#[test]
fn man_pages_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man");
    let (code, out, err) = run(&["man", "--out", out_dir.to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{out}{err}");
    let main = std::fs::read_to_string(out_dir.join("modelgate.1")).unwrap();
    assert!(main.contains(".TH modelgate 1"), "{main}");
    // every page names itself (that each visible subcommand has one is a unit test of the
    // binary, manpages::tests::every_visible_subcommand_has_a_page)
    let mut pages = 0;
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.contains(&format!(".TH {name} 1")), "{name}");
        if name != "modelgate" {
            let sub = name
                .trim_start_matches("modelgate-")
                .split('-')
                .next()
                .unwrap();
            assert!(main.contains(sub), "the main page lists {name}");
        }
        pages += 1;
    }
    assert!(pages > 30, "{pages}");
    let demote = std::fs::read_to_string(out_dir.join("modelgate-demote.1")).unwrap();
    assert!(demote.contains("EXAMPLES"), "{demote}");
    let has_man = Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_man {
        for page in ["modelgate.1", "modelgate-list.1", "modelgate-site-build.1"] {
            let out = Command::new("man")
                .arg("-l")
                .arg(out_dir.join(page))
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "100")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{page}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.stdout.is_empty(), "{page}");
        }
    }
}
