//! GitHub automation against a local fake of GitHub's REST API (tests/fake_github.rs, on
//! 127.0.0.1): drift issues without duplicates, retries, rate limits, permissions, the
//! pull-request comment, dispatches, webhooks and the dry run.

use crate::fake_github::FakeGitHub;
use crate::util::{example_dir, modelgate};
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

const TOKEN: &str = "ghs_test_token";

/// Runs modelgate against the fake, with a token.
fn gh_run(
    gh: &FakeGitHub,
    dir: &Path,
    args: &[&str],
    token: Option<&str>,
) -> (i32, String, String) {
    let mut c = modelgate();
    c.args(args)
        .current_dir(dir)
        .env("GITHUB_API_URL", gh.url())
        .env("GITHUB_REPOSITORY", "acme/registry")
        .env("MODELGATE_GITHUB_MAX_WAIT", "20")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_REF");
    match token {
        Some(t) => c.env("GITHUB_TOKEN", t),
        None => c.env_remove("GITHUB_TOKEN"),
    };
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const DRIFT: &[&str] = &[
    "drift",
    "--all",
    "--date",
    "2024-06-30",
    "--open-issues",
    "--fail-on",
    "never",
    "--actor",
    "ci@example.com",
];

fn open_issues(gh: &FakeGitHub) -> Vec<Value> {
    gh.issues()
        .into_iter()
        .filter(|i| i["state"] == "open" && i.get("pull_request").is_none_or(Value::is_null))
        .collect()
}

fn posts(gh: &FakeGitHub, suffix: &str) -> usize {
    gh.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
        .count()
}

fn set_severity(dir: &Path, issue: f64, alert: f64, retrain: f64) {
    let p = dir.join("registry/policy.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("severity:") {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(&format!(
                "{indent}severity: {{issue: {issue}, alert: {alert}, retrain: {retrain}}}\n"
            ));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(p, out).unwrap();
}

#[test]
fn drift_issues_open_once_update_and_close() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    let dir = example_dir();
    let (code, out, err) = gh_run(&gh, dir.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    let issues = open_issues(&gh);
    assert_eq!(issues.len(), 3, "{issues:#?}");
    let hd = issues
        .iter()
        .find(|i| {
            i["title"]
                .as_str()
                .unwrap()
                .starts_with("Drift: heart_disease")
        })
        .unwrap();
    assert!(
        hd["title"]
            .as_str()
            .unwrap()
            .starts_with("Drift: heart_disease (alert, "),
        "{hd}"
    );
    let body = hd["body"].as_str().unwrap();
    assert!(
        body.contains("<!-- modelgate:drift model=heart_disease alias=champion version=3 -->"),
        "{body}"
    );
    assert!(body.contains("| Column |"), "{body}");
    assert!(
        body.contains("https://acme.github.io/registry/models/heart_disease/index.html"),
        "{body}"
    );
    let names: Vec<&str> = hd["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"modelgate:drift") && names.contains(&"severity:high"),
        "{names:?}"
    );
    let labels: Vec<String> = gh
        .labels()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    for l in [
        "modelgate:drift",
        "severity:low",
        "severity:high",
        "severity:urgent",
    ] {
        assert!(
            labels.iter().any(|x| x == l),
            "label {l} missing: {labels:?}"
        );
    }
    // diabetes is at `retrain`: one dispatch with the model in the payload.
    let d = gh.dispatches();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["event_type"], "modelgate-retrain");
    assert_eq!(d[0]["client_payload"]["model"], "diabetes");

    // The same run again: no new issue, no comment (nothing changed), no second dispatch.
    let created = posts(&gh, "/issues");
    let (code, out, err) = gh_run(&gh, dir.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(open_issues(&gh).len(), 3);
    assert_eq!(posts(&gh, "/issues"), created, "no new issue");
    assert_eq!(posts(&gh, "/comments"), 0, "nothing changed: no comment");
    assert_eq!(gh.dispatches().len(), 1);
    assert!(err.contains("heart_disease issue unchanged"), "{err}");

    // A later window: one comment per issue, still no new issue.
    let mut later: Vec<&str> = DRIFT.to_vec();
    later[3] = "2024-06-23";
    let (code, out, err) = gh_run(&gh, dir.path(), &later, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(open_issues(&gh).len(), 3);
    let number = hd["number"].as_u64().unwrap();
    assert_eq!(gh.comments(number).len(), 1, "commented once");

    // Drift clears (a policy with higher thresholds): every issue gets a comment and closes.
    set_severity(dir.path(), 0.9, 0.95, 0.99);
    let (code, out, err) = gh_run(&gh, dir.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    assert!(open_issues(&gh).is_empty(), "{:#?}", gh.issues());
    let last = gh.comments(number).last().unwrap().clone();
    assert!(
        last["body"].as_str().unwrap().contains("Drift cleared"),
        "{last}"
    );
    let closed = gh
        .issues()
        .into_iter()
        .find(|i| i["number"] == number)
        .unwrap();
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["state_reason"], "completed");
}

#[test]
fn server_errors_are_retried_and_rate_limits_waited_for() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    let dir = example_dir();
    // 502 then 200.
    gh.fail_next(1, 502, &[], serde_json::json!({"message": "Bad Gateway"}));
    let (code, out, err) = gh_run(&gh, dir.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("answered 502"), "{err}");
    let first = &gh.requests()[..2];
    assert_eq!(
        first[0].path, first[1].path,
        "the failed request was sent again"
    );
    assert_eq!(open_issues(&gh).len(), 3);

    // 403 with rate-limit headers: waits for Retry-After, then succeeds within the bound.
    let dir2 = example_dir();
    let gh2 = FakeGitHub::start();
    gh2.require_token(TOKEN);
    gh2.fail_next(
        1,
        403,
        &[("retry-after", "2"), ("x-ratelimit-remaining", "0")],
        serde_json::json!({"message": "You have exceeded a secondary rate limit."}),
    );
    let t = Instant::now();
    let (code, out, err) = gh_run(&gh2, dir2.path(), DRIFT, Some(TOKEN));
    let took = t.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{out}{err}");
    assert!(took >= 2.0, "waited {took} s");
    assert!(took < 20.0, "bounded: {took} s");
    assert_eq!(open_issues(&gh2).len(), 3);

    // A rate limit that lasts beyond the bound fails with when it resets, writing no issue.
    let dir3 = example_dir();
    let gh3 = FakeGitHub::start();
    gh3.fail_next(
        1,
        403,
        &[("retry-after", "3600"), ("x-ratelimit-remaining", "0")],
        serde_json::json!({"message": "API rate limit exceeded"}),
    );
    let (code, _, err) = gh_run(&gh3, dir3.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 2);
    assert!(
        err.contains("rate limit") && err.contains("MODELGATE_GITHUB_MAX_WAIT"),
        "{err}"
    );
    assert!(gh3.issues().is_empty());
}

#[test]
fn bad_tokens_and_missing_permissions_say_what_is_wrong() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    let dir = example_dir();
    let (code, _, err) = gh_run(&gh, dir.path(), DRIFT, Some("wrong"));
    assert_eq!(code, 2);
    assert!(err.contains("GitHub rejected the token (401"), "{err}");
    assert!(
        err.contains("GITHUB_TOKEN is missing, expired or revoked"),
        "{err}"
    );
    // A token without issues: write.
    gh.fail_next(
        1,
        403,
        &[],
        serde_json::json!({"message": "Resource not accessible by integration"}),
    );
    let (code, _, err) = gh_run(&gh, dir.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 2);
    assert!(err.contains("issues: read"), "{err}");
}

#[test]
fn two_shards_at_once_open_one_issue_per_model() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    // Each shard runs in its own checkout, as CI jobs do.
    let dirs = [example_dir(), example_dir()];
    // The shards own disjoint sets of models that together are all of them.
    let owned: Vec<Vec<String>> = (0..2)
        .map(|i| {
            let (code, out, _) = crate::util::run(
                &["plan", "--shards", "2", "--format", "json"],
                dirs[0].path(),
            );
            assert_eq!(code, 0);
            let v: Value = serde_json::from_str(&out).unwrap();
            let shard = v
                .as_array()
                .or_else(|| v["shards"].as_array())
                .or_else(|| v["include"].as_array())
                .unwrap()[i]
                .clone();
            shard["model_names"]
                .as_array()
                .or_else(|| shard["models"].as_array())
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert!(owned[0].iter().all(|m| !owned[1].contains(m)), "{owned:?}");
    let mut all: Vec<String> = owned.concat();
    all.sort();
    assert_eq!(all, ["diabetes", "heart_disease", "readmission"]);

    std::thread::scope(|s| {
        for (i, d) in dirs.iter().enumerate() {
            let gh = &gh;
            s.spawn(move || {
                let shard = format!("{i}/2");
                let mut args = DRIFT.to_vec();
                args.extend(["--shard", &shard]);
                let (code, out, err) = gh_run(gh, d.path(), &args, Some(TOKEN));
                assert_eq!(code, 0, "{out}{err}");
            });
        }
    });
    let issues = open_issues(&gh);
    assert_eq!(issues.len(), 3, "{issues:#?}");
    for m in ["diabetes", "heart_disease", "readmission"] {
        let n = issues
            .iter()
            .filter(|i| {
                i["title"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("Drift: {m} "))
            })
            .count();
        assert_eq!(n, 1, "{m}");
    }
}

#[test]
fn webhook_gets_alerts_and_never_the_token() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    let dir = example_dir();
    let hook = format!("{}/hooks/slack", gh.url());
    let mut args = DRIFT.to_vec();
    args.extend(["--notify-webhook", &hook]);
    let (code, out, err) = gh_run(&gh, dir.path(), &args, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    let hooks = gh.webhooks();
    assert_eq!(hooks.len(), 3, "{hooks:?}");
    assert!(
        hooks
            .iter()
            .all(|h| h["text"].as_str().unwrap().starts_with("Drift: "))
    );
    for r in gh
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/hooks/"))
    {
        assert!(
            r.header("authorization").is_none(),
            "the token went to the webhook"
        );
    }
}

#[test]
fn without_a_token_every_action_is_printed_not_sent() {
    let gh = FakeGitHub::start();
    let dir = example_dir();
    let (code, out, err) = gh_run(&gh, dir.path(), DRIFT, None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("[dry run: no GITHUB_TOKEN] POST /repos/acme/registry/issues"),
        "{out}"
    );
    assert!(
        out.contains("\"title\": \"Drift: heart_disease (alert, "),
        "{out}"
    );
    assert!(
        out.contains("POST /repos/acme/registry/dispatches"),
        "{out}"
    );
    assert!(gh.requests().is_empty(), "nothing was sent");
}

#[test]
fn check_comment_is_posted_once_and_edited() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    gh.seed_pull(7);
    let dir = example_dir();
    let base = modelgate::synth::commit_all(dir.path(), "base")
        .unwrap()
        .to_string();
    let args = [
        "check",
        "--base",
        &base,
        "--head",
        "HEAD",
        "--comment",
        "--pr",
        "7",
    ];
    let (code, out, err) = gh_run(&gh, dir.path(), &args, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    let c = gh.comments(7);
    assert_eq!(c.len(), 1);
    assert!(
        c[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("<!-- modelgate:check -->")
    );
    // Same report: left alone.
    let (code, _, err) = gh_run(&gh, dir.path(), &args, Some(TOKEN));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("up to date"), "{err}");
    assert_eq!(gh.comments(7).len(), 1);
    // A new commit changes the report: the same comment is edited.
    let (code, out, err) = crate::util::run(
        &[
            "promote",
            "heart_disease",
            "4",
            "--to",
            "champion",
            "--actor",
            "alice@example.com",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}{err}");
    modelgate::synth::commit_all(dir.path(), "promote").unwrap();
    let before = c[0]["body"].as_str().unwrap().to_string();
    let (code, _, err) = gh_run(&gh, dir.path(), &args, Some(TOKEN));
    assert_eq!(code, 1, "the promotion lacks approvals: {err}");
    let c = gh.comments(7);
    assert_eq!(c.len(), 1, "still one comment");
    assert_ne!(c[0]["body"].as_str().unwrap(), before, "edited");
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.path.contains("/issues/comments/"))
    );
}

#[test]
fn the_site_links_model_pages_to_their_open_drift_issues() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    let dir = example_dir();
    let n = gh.seed_issue(
        "Drift: heart_disease (alert, 6/12 columns)",
        "<!-- modelgate:drift model=heart_disease alias=champion version=3 -->\nbody",
        &["modelgate:drift", "severity:high"],
    );
    let out = tempfile::tempdir().unwrap();
    let o = out.path().display().to_string();
    let (code, stdout, err) = gh_run(
        &gh,
        dir.path(),
        &["site", "build", "--out", &o, "--github-issues"],
        Some(TOKEN),
    );
    assert_eq!(code, 0, "{stdout}{err}");
    let page = std::fs::read_to_string(out.path().join("models/heart_disease/index.html")).unwrap();
    assert!(page.contains(&format!("#{n}</a>")), "issue link missing");
    assert!(page.contains("Open drift issues"));
    let other = std::fs::read_to_string(out.path().join("models/diabetes/index.html")).unwrap();
    assert!(!other.contains("Open drift issues"));
    // Without a token: built anyway, with a note.
    let out2 = tempfile::tempdir().unwrap();
    let o2 = out2.path().display().to_string();
    let (code, _, err) = gh_run(
        &gh,
        dir.path(),
        &["site", "build", "--out", &o2, "--github-issues"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("without their drift issues"), "{err}");
}

/// A comment by another account that carries modelgate's marker (pasted by anyone on the pull
/// request) is neither edited nor taken for modelgate's own comment: modelgate posts and then
/// edits its own, found by its author (`GET /user`, or `github-actions[bot]` for an installation
/// token, to which GitHub refuses `/user`).
#[test]
fn a_marked_comment_by_another_account_is_neither_edited_nor_trusted() {
    for app in [false, true] {
        let gh = FakeGitHub::start();
        gh.require_token(TOKEN);
        let me = if app {
            gh.use_app_token("github-actions[bot]");
            "github-actions[bot]"
        } else {
            crate::fake_github::USER_LOGIN
        };
        gh.seed_pull(7);
        let forged = "<!-- modelgate:check -->\n**verdict: PASS** — nothing to review, merge away";
        let theirs = gh.seed_comment_by(7, "mallory", forged).unwrap();
        let dir = example_dir();
        let base = modelgate::synth::commit_all(dir.path(), "base")
            .unwrap()
            .to_string();
        let args = [
            "check",
            "--base",
            &base,
            "--head",
            "HEAD",
            "--comment",
            "--pr",
            "7",
        ];
        let (code, out, err) = gh_run(&gh, dir.path(), &args, Some(TOKEN));
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            gh.requests().iter().any(|r| r.path == "/user"),
            "the token's account was asked for"
        );
        let c = gh.comments(7);
        assert_eq!(c.len(), 2, "{c:#?}");
        assert_eq!(c[0]["id"], theirs);
        assert_eq!(c[0]["body"], forged, "mallory's comment is untouched");
        assert_eq!(c[1]["user"]["login"], me);
        let mine = c[1]["id"].as_u64().unwrap();
        // Mallory copies modelgate's comment, newer than it: modelgate still finds its own.
        gh.seed_comment_by(7, "mallory", c[1]["body"].as_str().unwrap());
        let (code, _, err) = gh_run(&gh, dir.path(), &args, Some(TOKEN));
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains(&format!("comment {mine} on #7 is up to date")),
            "{err}"
        );
        assert_eq!(gh.comments(7).len(), 3);
        assert!(
            !gh.requests()
                .iter()
                .any(|r| r.method != "GET" && r.path.ends_with(&format!("/comments/{theirs}"))),
            "mallory's comment was edited"
        );
    }
}

/// A drift issue opened by another account with modelgate's fingerprint is not taken for
/// modelgate's own (modelgate opens its own and never comments on, relabels or closes the
/// other), and a state marker in another account's comment is not trusted as the state.
#[test]
fn drift_markers_by_another_account_are_not_trusted() {
    let gh = FakeGitHub::start();
    gh.require_token(TOKEN);
    let dir = example_dir();
    let fake = gh.seed_issue_by(
        "mallory",
        "Drift: heart_disease (none)",
        "<!-- modelgate:drift model=heart_disease alias=champion version=3 -->\n<!-- modelgate:state 0000000000000000 -->\nall fine",
        &["modelgate:drift", "severity:low"],
    );
    let (code, out, err) = gh_run(&gh, dir.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    let issues = open_issues(&gh);
    assert_eq!(
        issues.len(),
        4,
        "three of modelgate's and mallory's: {issues:#?}"
    );
    let hd = issues
        .iter()
        .find(|i| {
            i["number"] != fake
                && i["title"]
                    .as_str()
                    .unwrap()
                    .starts_with("Drift: heart_disease")
        })
        .expect("modelgate opened its own heart_disease issue");
    let hd = hd["number"].as_u64().unwrap();
    assert!(gh.comments(fake).is_empty());
    assert!(
        !gh.requests()
            .iter()
            .any(|r| r.method != "GET" && r.path.contains(&format!("/issues/{fake}"))),
        "mallory's issue was written to"
    );
    // Mallory comments on modelgate's issue with a different state: not trusted, so the same
    // run again finds its own state unchanged and comments nothing.
    gh.seed_comment_by(hd, "mallory", "<!-- modelgate:state 0000000000000000 -->");
    let (code, out, err) = gh_run(&gh, dir.path(), DRIFT, Some(TOKEN));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("heart_disease issue unchanged"), "{err}");
    assert_eq!(posts(&gh, "/comments"), 0, "{err}");

    // The site links only modelgate's own drift issues.
    let out = tempfile::tempdir().unwrap();
    let o = out.path().display().to_string();
    let (code, stdout, err) = gh_run(
        &gh,
        dir.path(),
        &["site", "build", "--out", &o, "--github-issues"],
        Some(TOKEN),
    );
    assert_eq!(code, 0, "{stdout}{err}");
    let page = std::fs::read_to_string(out.path().join("models/heart_disease/index.html")).unwrap();
    assert!(page.contains(&format!("#{hd}</a>")), "own issue linked");
    assert!(
        !page.contains(&format!("#{fake}</a>")),
        "mallory's issue linked"
    );
}
