//! `check` on real git repositories made from the example registry: a promotion pull request,
//! every bad-input case of the issue, and the signed-commit gate.

use crate::util::run;
use modelgate::synth::commit_all;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A git repository holding a copy of the example, committed once; returns it and the commit.
pub(crate) fn example_repo() -> (tempfile::TempDir, String) {
    let dir = crate::util::example_dir();
    let base = commit_all(dir.path(), "base").unwrap().to_string();
    (dir, base)
}

pub(crate) fn mg(dir: &Path, args: &[&str]) {
    let (code, out, err) = run(args, dir);
    assert_eq!(code, 0, "modelgate {args:?}: {out}{err}");
}

/// `modelgate approve MODEL VERSION --alias ALIAS --role ROLE --key KEY --at AT`, which must
/// succeed.
pub(crate) fn approve_version(
    dir: &Path,
    model: &str,
    version: &str,
    alias: &str,
    role: &str,
    key: &str,
    at: &str,
) {
    mg(
        dir,
        &[
            "approve", model, version, "--alias", alias, "--role", role, "--key", key, "--at", at,
        ],
    );
}

/// `modelgate promote heart_disease <version> --to <alias> --actor <actor> [--at <at>]`, which
/// must succeed.
pub(crate) fn promote_version(dir: &Path, version: &str, to: &str, actor: &str, at: Option<&str>) {
    let mut args = vec![
        "promote",
        "heart_disease",
        version,
        "--to",
        to,
        "--actor",
        actor,
    ];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    mg(dir, &args);
}

pub(crate) fn promote_v4(dir: &Path) {
    promote_version(
        dir,
        "4",
        "champion",
        "alice@example.com",
        Some("2024-06-03T09:00:00Z"),
    );
}

pub(crate) fn approve(dir: &Path, role: &str, who: &str, extra: &[&str]) {
    let key = format!("examples/keys/{who}");
    let mut args = vec![
        "approve",
        "heart_disease",
        "4",
        "--alias",
        "champion",
        "--role",
        role,
        "--key",
        &key,
        "--at",
        "2024-06-03T10:00:00Z",
    ];
    args.extend_from_slice(extra);
    mg(dir, &args);
}

pub(crate) fn approve_all(dir: &Path) {
    approve(dir, "data_scientist", "alice", &[]);
    approve(dir, "compliance", "carol", &[]);
    approve(dir, "business", "bob", &[]);
}

/// Runs check base..HEAD; returns the exit code and the JSON report.
pub(crate) fn check(dir: &Path, base: &str) -> (i32, Value) {
    let (code, out, err) = run(
        &[
            "check", "--base", base, "--head", "HEAD", "--format", "json",
        ],
        dir,
    );
    assert!(code == 0 || code == 1, "exit {code}: {out}{err}");
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
    )
}

/// `check` against `base`, which must exit `code` and report each of `expected` as an error;
/// returns its JSON report.
pub(crate) fn expect_check(dir: &Path, base: &str, code: i32, expected: &[&str]) -> Value {
    let (got, v) = check(dir, base);
    assert_eq!(got, code, "{}", messages(&v));
    let found = codes(&v);
    for c in expected {
        assert!(found.iter().any(|f| f == c), "no {c}: {}", messages(&v));
    }
    v
}

pub(crate) fn codes(v: &Value) -> Vec<String> {
    let mut c: Vec<String> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

pub(crate) fn messages(v: &Value) -> String {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}\n", d["code"], d["message"]))
        .collect()
}

pub(crate) fn gate<'a>(v: &'a Value, model: &str, alias: &str, name: &str) -> &'a Value {
    v["promotions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["model"] == model && p["alias"] == alias)
        .and_then(|p| {
            p["gates"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["gate"] == name)
        })
        .unwrap_or_else(|| panic!("no {name} gate for {model} {alias}: {v:#}"))
}

pub(crate) fn edit(dir: &Path, file: &str, f: impl FnOnce(String) -> String) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, f(text)).unwrap();
}

pub(crate) const HD: &str = "registry/models/heart_disease";

#[test]
fn a_promotion_with_three_approvals_passes() {
    let (dir, base) = example_repo();
    promote_v4(dir.path());
    commit_all(dir.path(), "promote").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1, "no approvals yet");
    assert_eq!(codes(&v), ["MG037"]);
    let summary = dir.path().join("summary.md");
    let out = crate::util::modelgate()
        .args(["check", "--base", &base, "--format", "github"])
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let gh = String::from_utf8(out.stdout).unwrap();
    assert!(
        gh.starts_with("::error file=registry/models/heart_disease/aliases.yaml,line=2,col=11,"),
        "{gh}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| ✗ | approvals | missing: business, compliance, data_scientist |"),
        "{md}"
    );
    assert_eq!(
        gate(&v, "heart_disease", "champion", "approvals")["status"],
        "block"
    );

    approve_all(dir.path());
    commit_all(dir.path(), "approvals").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 0, "{}", messages(&v));
    assert_eq!(v["verdict"], "pass");
    let perf = gate(&v, "heart_disease", "champion", "performance");
    assert_eq!(perf["status"], "pass");
    assert_eq!(perf["detail"], "roc_auc 0.8909 ≥ 0.8467 + 0.02");
    assert_eq!(
        gate(&v, "heart_disease", "champion", "stability")["status"],
        "pass"
    );
    assert_eq!(
        gate(&v, "heart_disease", "champion", "bias")["status"],
        "pass"
    );
    assert_eq!(
        gate(&v, "heart_disease", "champion", "approvals")["status"],
        "pass"
    );
    let kinds: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"alias_moved") && kinds.contains(&"approval_added"),
        "{kinds:?}"
    );
    // The old champion is archived and the registry stays valid.
    let (code, out, _) = run(&["validate"], dir.path());
    assert_eq!(code, 0, "{out}");
    let v3 = std::fs::read_to_string(dir.path().join(HD).join("versions/v3.yaml")).unwrap();
    assert!(v3.contains("archived_at: 2024-06-03T09:00:00Z"));

    // The text and Markdown reports show the numbers compared.
    let (_, text, _) = run(&["check", "--base", &base], dir.path());
    assert!(
        text.contains("✓ performance  roc_auc 0.8909 ≥ 0.8467 + 0.02"),
        "{text}"
    );
    assert!(text.contains("verdict: PASS"), "{text}");
    let (_, md, _) = run(
        &["check", "--base", &base, "--format", "markdown"],
        dir.path(),
    );
    assert!(
        md.contains("| ✓ | approvals | business ✓ bob@example.com;"),
        "{md}"
    );
}

#[test]
fn modelgate_signed_approvals_verify_with_ssh_keygen() {
    let (dir, _) = example_repo();
    approve(dir.path(), "compliance", "carol", &[]);
    let file = dir
        .path()
        .join(HD)
        .join("approvals/v4-champion-compliance-carol@example.com.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let sig: String = text
        .split("signature: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    std::fs::write(dir.path().join("sig"), sig).unwrap();
    let (_, msg, _) = run(&["approval", "message", file.to_str().unwrap()], dir.path());
    std::fs::write(dir.path().join("msg"), msg).unwrap();
    let out = Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-n",
            "modelgate-approval",
            "-f",
            "registry/allowed_signers",
        ])
        .args(["-I", "carol@example.com", "-s", "sig"])
        .current_dir(dir.path())
        .stdin(std::fs::File::open(dir.path().join("msg")).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn forged_signature_is_rejected() {
    let (dir, base) = example_repo();
    promote_v4(dir.path());
    approve_all(dir.path());
    // Flip one character of the signature bytes (the end of the block; its start is the key).
    edit(
        dir.path(),
        &format!("{HD}/approvals/v4-champion-compliance-carol@example.com.yaml"),
        |t| {
            let i = t.find("-----END SSH SIGNATURE-----").unwrap() - 20;
            let mut b = t.into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            String::from_utf8(b).unwrap()
        },
    );
    commit_all(dir.path(), "forged").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["MG037", "MG038"], "{}", messages(&v));
    assert!(
        messages(&v).contains("the signature does not verify"),
        "{}",
        messages(&v)
    );
    assert!(
        messages(&v).contains("needs approval by compliance"),
        "{}",
        messages(&v)
    );
}

/// Signs a statement (YAML text without signature) with a key through ssh-keygen.
fn sign_with_ssh_keygen(dir: &Path, file: &str, statement: &str, key: &str) {
    let path = dir.join(file);
    std::fs::write(&path, statement).unwrap();
    let (code, msg, err) = run(&["approval", "message", path.to_str().unwrap()], dir);
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("msg"), msg).unwrap();
    let _ = std::fs::remove_file(dir.join("msg.sig"));
    let st = Command::new("ssh-keygen")
        .args([
            "-q",
            "-Y",
            "sign",
            "-n",
            "modelgate-approval",
            "-f",
            key,
            "msg",
        ])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success());
    let sig = std::fs::read_to_string(dir.join("msg.sig")).unwrap();
    let indented: String = sig.lines().map(|l| format!("  {l}\n")).collect();
    std::fs::write(&path, format!("{statement}signature: |\n{indented}")).unwrap();
}

fn statement_of(dir: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text.split("signature: |").next().unwrap().to_string()
}

#[test]
fn a_valid_key_of_another_principal_does_not_count() {
    let (dir, base) = example_repo();
    promote_v4(dir.path());
    approve_all(dir.path());
    // Carol's approval re-signed with Bob's (valid) key.
    let f = format!("{HD}/approvals/v4-champion-compliance-carol@example.com.yaml");
    let st = statement_of(dir.path(), &f);
    sign_with_ssh_keygen(dir.path(), &f, &st, "examples/keys/bob");
    commit_all(dir.path(), "bob signs for carol").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["MG037", "MG038"]);
    assert!(
        messages(&v).contains(
            "not in allowed_signers for carol@example.com (it belongs to bob@example.com)"
        ),
        "{}",
        messages(&v)
    );
}

#[test]
fn an_approval_of_v3_replayed_for_v4_does_not_count() {
    let (dir, base) = example_repo();
    promote_v4(dir.path());
    approve(dir.path(), "data_scientist", "alice", &[]);
    approve(dir.path(), "business", "bob", &[]);
    // Carol approved v3; replay her signed statement for v4 by editing the version.
    let v3 = std::fs::read_to_string(
        dir.path()
            .join(HD)
            .join("approvals/v3-champion-compliance-carol@example.com.yaml"),
    )
    .unwrap();
    let v4 = dir
        .path()
        .join(HD)
        .join("approvals/v4-champion-compliance-carol@example.com.yaml");
    std::fs::write(&v4, v3.replace("version: 3", "version: 4")).unwrap();
    commit_all(dir.path(), "replay").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["MG037", "MG038"]);
    assert!(
        messages(&v).contains("the signature does not verify"),
        "{}",
        messages(&v)
    );

    // Replayed unchanged (a valid v3 statement under a v4 name): it is not an approval of v4.
    std::fs::write(&v4, &v3).unwrap();
    commit_all(dir.path(), "replay unchanged").unwrap();
    let (_, v) = check(dir.path(), &base);
    assert_eq!(codes(&v), ["MG026", "MG037"], "{}", messages(&v));
}

#[test]
fn editing_an_approved_version_voids_its_approvals() {
    let (dir, base) = example_repo();
    promote_v4(dir.path());
    approve_all(dir.path());
    edit(dir.path(), &format!("{HD}/versions/v4.yaml"), |t| {
        t.replace("roc_auc: 0.8909", "roc_auc: 0.9909")
    });
    commit_all(dir.path(), "better numbers").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    // v4 was merged already: immutable; and every approval is now stale.
    assert_eq!(codes(&v), ["MG037", "MG038", "MG039"]);
    assert!(
        messages(&v).contains("approves a different text of v4"),
        "{}",
        messages(&v)
    );
}

#[test]
fn an_approval_before_the_keys_valid_after_does_not_count() {
    let (dir, _) = example_repo();
    edit(dir.path(), "registry/allowed_signers", |t| {
        t.replace(
            "carol@example.com namespaces=",
            "carol@example.com valid-after=\"20250101\",namespaces=",
        )
    });
    let base = commit_all(dir.path(), "carol's key valid from 2025")
        .unwrap()
        .to_string();
    promote_v4(dir.path());
    approve_all(dir.path());
    commit_all(dir.path(), "promote").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert!(
        messages(&v).contains("the key was not valid at 2024-06-03T10:00:00Z"),
        "{}",
        messages(&v)
    );
}

#[test]
fn a_role_granted_in_the_same_pull_request_does_not_count() {
    let (dir, base) = example_repo();
    edit(dir.path(), "registry/policy.yaml", |t| {
        t.replace(
            "compliance: [carol@example.com]",
            "compliance: [carol@example.com, bob@example.com]",
        )
    });
    promote_v4(dir.path());
    approve(dir.path(), "data_scientist", "alice", &[]);
    approve(dir.path(), "business", "bob", &[]);
    approve(dir.path(), "compliance", "bob", &[]);
    commit_all(dir.path(), "bob is compliance now").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    // The role change is also an unapproved governance change (MG048).
    assert_eq!(codes(&v), ["MG037", "MG038", "MG048"]);
    assert!(
        messages(&v).contains(
            "bob@example.com is given the role `compliance` by this same pull request; signers and roles count only once merged"
        ),
        "{}",
        messages(&v)
    );
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "policy_changed")
    );
}

#[test]
fn a_key_added_to_allowed_signers_in_the_same_pull_request_does_not_count() {
    let (dir, base) = example_repo();
    let st = Command::new("ssh-keygen")
        .args([
            "-q", "-t", "ed25519", "-N", "", "-C", "mallory", "-f", "mallory",
        ])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let public = std::fs::read_to_string(dir.path().join("mallory.pub")).unwrap();
    let public: Vec<&str> = public.split_whitespace().take(2).collect();
    edit(dir.path(), "registry/allowed_signers", |t| {
        format!(
            "{t}carol@example.com namespaces=\"modelgate-approval\" {}\n",
            public.join(" ")
        )
    });
    promote_v4(dir.path());
    approve(dir.path(), "data_scientist", "alice", &[]);
    approve(dir.path(), "business", "bob", &[]);
    let key = dir.path().join("mallory");
    mg(
        dir.path(),
        &[
            "approve",
            "heart_disease",
            "4",
            "--alias",
            "champion",
            "--role",
            "compliance",
            "--key",
            key.to_str().unwrap(),
            "--principal",
            "carol@example.com",
            "--at",
            "2024-06-03T10:00:00Z",
        ],
    );
    std::fs::remove_file(dir.path().join("mallory")).unwrap();
    std::fs::remove_file(dir.path().join("mallory.pub")).unwrap();
    commit_all(dir.path(), "mallory's key").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    // The new key is also an unapproved governance change (MG048).
    assert_eq!(codes(&v), ["MG037", "MG038", "MG048"]);
    assert!(
        messages(&v).contains("its key is added to allowed_signers by this same pull request"),
        "{}",
        messages(&v)
    );
}

#[test]
fn a_rewritten_audit_line_blocks() {
    let (dir, base) = example_repo();
    edit(dir.path(), "registry/audit.jsonl", |t| {
        t.replacen("alice@example.com", "mallory@example.com", 1)
    });
    commit_all(dir.path(), "rewrite history").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"MG040".to_string()));
    assert!(
        messages(&v).contains("line 1 of the audit log differs from the base revision"),
        "{}",
        messages(&v)
    );
}

#[test]
fn a_truncated_audit_log_blocks() {
    let (dir, base) = example_repo();
    edit(dir.path(), "registry/audit.jsonl", |t| {
        let mut lines: Vec<&str> = t.lines().collect();
        lines.pop();
        lines.join("\n") + "\n"
    });
    commit_all(dir.path(), "truncate").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["MG040"]);
    assert!(
        messages(&v).contains("it was truncated"),
        "{}",
        messages(&v)
    );
}

#[test]
fn an_alias_move_without_its_audit_entry_blocks() {
    let (dir, base) = example_repo();
    approve_all(dir.path());
    edit(dir.path(), &format!("{HD}/aliases.yaml"), |t| {
        t.replace("champion: 3", "champion: 4")
    });
    commit_all(dir.path(), "move by hand").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["MG041"], "{}", messages(&v));
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "MG041")
        .unwrap();
    assert_eq!(d["file"], format!("{HD}/aliases.yaml"));
    // Line 2: the first is the schema modeline.
    assert_eq!(d["line"], 2);
}

#[test]
fn an_alias_to_a_version_added_and_deleted_in_the_pull_request_blocks() {
    let (dir, base) = example_repo();
    let v4 = std::fs::read_to_string(dir.path().join(HD).join("versions/v4.yaml")).unwrap();
    std::fs::write(
        dir.path().join(HD).join("versions/v5.yaml"),
        v4.replace("version: 4", "version: 5"),
    )
    .unwrap();
    edit(dir.path(), &format!("{HD}/aliases.yaml"), |t| {
        t.replace("challenger: 4", "challenger: 5")
    });
    commit_all(dir.path(), "add v5").unwrap();
    std::fs::remove_file(dir.path().join(HD).join("versions/v5.yaml")).unwrap();
    commit_all(dir.path(), "remove v5").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"MG012".to_string()), "{}", messages(&v));
}

#[test]
fn removing_the_champion_without_a_replacement_blocks() {
    let (dir, base) = example_repo();
    edit(
        dir.path(),
        "registry/models/readmission/aliases.yaml",
        |_| "{}\n".into(),
    );
    commit_all(dir.path(), "no champion").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"MG042".to_string()), "{}", messages(&v));
}

#[test]
fn unknown_revisions_are_exit_2() {
    let (dir, base) = example_repo();
    let (code, _, err) = run(
        &["check", "--base", "no-such-rev", "--head", "HEAD"],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("revision `no-such-rev` does not exist"),
        "{err}"
    );
    let (code, _, err) = run(
        &[
            "check",
            "--base",
            &base,
            "--head",
            "0123456789abcdef0123456789abcdef01234567",
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_base_that_is_not_an_ancestor_is_said_and_compared() {
    let (dir, base) = example_repo();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    git(&["checkout", "-q", "-b", "other"]);
    edit(dir.path(), "model-cards/diabetes.md", |t| {
        t + "\nAn edit on another branch.\n"
    });
    git(&["commit", "-qam", "other"]);
    let other = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    git(&["checkout", "-q", "main"]);
    promote_v4(dir.path());
    approve_all(dir.path());
    git(&["add", "-A"]);
    git(&["commit", "-qm", "promote"]);
    let (code, v) = check(dir.path(), other.trim());
    assert_eq!(code, 0, "{}", messages(&v));
    assert_eq!(v["verdict"], "warn");
    assert!(messages(&v).contains("MG043"), "{}", messages(&v));
    let _ = base;
}

#[test]
fn a_pull_request_touching_500_models() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("r");
    modelgate::synth::write(&root, 500, 3).unwrap();
    let base = commit_all(&root, "base").unwrap().to_string();
    for i in 0..500 {
        let f = root.join(format!("registry/models/model_{i:04}/aliases.yaml"));
        std::fs::write(&f, "champion: 3\n").unwrap();
    }
    commit_all(&root, "move every champion").unwrap();
    let (code, v) = check(&root, &base);
    assert_eq!(code, 1);
    let promotions = v["promotions"].as_array().unwrap();
    assert_eq!(
        promotions
            .iter()
            .filter(|p| p["alias"] == "champion")
            .count(),
        500
    );
    assert!(
        promotions
            .iter()
            .filter(|p| p["alias"] == "champion")
            .all(|p| p["status"] == "block")
    );
    // Every move lacks approvals and its audit entry (the metrics gates pass: v3 beats v2).
    assert_eq!(codes(&v), ["MG037", "MG041"]);
    for p in promotions.iter().filter(|p| p["alias"] == "champion") {
        assert_eq!(p["gates"][0]["status"], "pass", "{p:#}");
    }
}

#[test]
fn drift_of_the_champion_blocks_promotions() {
    let (dir, _) = example_repo();
    std::fs::create_dir_all(dir.path().join(HD).join("monitoring")).unwrap();
    let result = dir.path().join(HD).join("monitoring/2024-06-24.yaml");
    std::fs::write(
        &result,
        "model: heart_disease\nversion: 3\ndate: 2024-06-24\ncomputed_at: 2024-06-25T06:00:00Z\nseverity: alert\ndrift_share: 0.5\n",
    )
    .unwrap();
    // Signed by the drift job's key, as `modelgate drift --sign-key` does.
    let signed = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "modelgate-monitoring", "-f"])
        .arg(dir.path().join("examples/keys/drift-job"))
        .arg(&result)
        .output()
        .unwrap();
    assert!(signed.status.success());
    let base = commit_all(dir.path(), "drift job").unwrap().to_string();
    promote_v4(dir.path());
    approve_all(dir.path());
    commit_all(dir.path(), "promote").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["MG036"]);
    assert_eq!(
        gate(&v, "heart_disease", "champion", "drift")["status"],
        "block"
    );
}

#[test]
fn signed_commits_when_the_policy_requires_them() {
    let (dir, _) = example_repo();
    edit(dir.path(), "registry/policy.yaml", |t| {
        t + "require_signed_commits: true\n"
    });
    let base = commit_all(dir.path(), "require signed commits")
        .unwrap()
        .to_string();
    promote_v4(dir.path());
    approve_all(dir.path());
    commit_all(dir.path(), "unsigned promotion").unwrap();
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["MG044"]);
    assert!(messages(&v).contains("is not signed"), "{}", messages(&v));

    // The same change, signed by alice's key (allowed for namespace git).
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "gpg.format=ssh",
                "-c",
                "user.signingkey=examples/keys/alice",
            ])
            .args([
                "-c",
                "user.name=Alice",
                "-c",
                "user.email=alice@example.com",
            ])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["reset", "-q", "--soft", &base]);
    git(&["commit", "-q", "-S", "-m", "signed promotion"]);
    let (code, v) = check(dir.path(), &base);
    assert_eq!(code, 0, "{}", messages(&v));
}

#[test]
fn approve_refuses_what_would_not_count() {
    let (dir, _) = example_repo();
    let base = ["approve", "heart_disease", "4", "--alias", "champion"];
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--role",
                "compliance",
                "--key",
                "examples/keys/bob",
                "--principal",
                "carol@example.com",
            ],
            "does not list this key for carol@example.com",
        ),
        (
            &["--role", "compliance", "--key", "examples/keys/bob"],
            "bob@example.com does not hold the role `compliance`",
        ),
        (
            &["--role", "auditor", "--key", "examples/keys/bob"],
            "there is no role `auditor`",
        ),
        (
            &["--role", "business", "--key", "examples/keys/nobody"],
            "reading the private key",
        ),
    ];
    for (extra, expected) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let (code, _, err) = run(&args, dir.path());
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert!(
        !dir.path()
            .join(HD)
            .join("approvals/v4-champion-compliance-carol@example.com.yaml")
            .exists()
    );
    let (code, _, err) = run(
        &[
            "promote",
            "heart_disease",
            "1",
            "--to",
            "champion",
            "--actor",
            "a@example.com",
        ],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("v1 is archived"), "{err}");
    let (code, _, err) = run(
        &[
            "promote",
            "heart_disease",
            "3",
            "--to",
            "champion",
            "--actor",
            "a@example.com",
        ],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("already v3"), "{err}");
}

/// `check --head HEAD` judges commits: uncommitted changes are named in a warning, not silently
/// left out of a "no changes … PASS".
#[test]
fn uncommitted_changes_are_named_not_silently_passed() {
    let (dir, base) = example_repo();
    let p = dir.path();
    edit(p, &format!("{HD}/aliases.yaml"), |t| {
        t.replace("champion: 3", "champion: 4")
    });
    std::fs::write(p.join("registry/models/heart_disease/notes.txt"), "new\n").unwrap();
    let (code, out, err) = run(&["check", "--base", &base], p);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no changes to the registry"), "{out}");
    assert!(
        err.contains("warning: 2 uncommitted changes (registry/models/heart_disease/aliases.yaml, …) are not checked"),
        "{err}"
    );
    assert!(err.contains("commit them to have them judged"), "{err}");
    // a clean tree: no warning
    commit_all(p, "committed").unwrap();
    let (_, _, err) = run(&["check", "--base", &base], p);
    assert!(!err.contains("uncommitted"), "{err}");
}
