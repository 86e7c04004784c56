//! The pull-request comment of `check --comment`: one comment per pull request, found again by
//! a hidden marker and edited on later runs, so a pull request never collects a stack of them.

use super::{GitHub, MARKER};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// The marker that identifies modelgate's check comment.
pub fn marker() -> String {
    format!("{MARKER}check -->")
}

/// The pull request's number: `--pr`, or the workflow's event (`GITHUB_EVENT_PATH`), or
/// `GITHUB_REF` (`refs/pull/N/merge`).
pub fn pr_number(given: Option<u64>) -> Result<u64> {
    if let Some(n) = given {
        return Ok(n);
    }
    if let Ok(p) = std::env::var("GITHUB_EVENT_PATH") {
        if let Ok(text) = std::fs::read_to_string(&p) {
            let v: Value = serde_json::from_str(&text)
                .with_context(|| format!("GITHUB_EVENT_PATH {p} is not JSON"))?;
            if let Some(n) = v
                .pointer("/pull_request/number")
                .or_else(|| v.get("number"))
                .and_then(Value::as_u64)
            {
                return Ok(n);
            }
        }
    }
    if let Ok(r) = std::env::var("GITHUB_REF") {
        if let Some(n) = r
            .strip_prefix("refs/pull/")
            .and_then(|x| x.split('/').next())
            .and_then(|x| x.parse().ok())
        {
            return Ok(n);
        }
    }
    bail!(
        "which pull request? pass --pr N (in a pull_request workflow, GITHUB_EVENT_PATH gives it)"
    )
}

/// Creates or edits modelgate's comment on pull request `pr`; returns what was done.
pub fn upsert(gh: &GitHub, pr: u64, markdown: &str) -> Result<String> {
    let body = format!("{}\n{markdown}", marker());
    let comments = gh.list(&format!(
        "{}/issues/{pr}/comments?per_page=100",
        gh.repo_path()
    ))?;
    // The marker is trusted only in a comment by the token's own account: anyone can paste it.
    let mut mine = None;
    for c in comments.iter().rev() {
        let marked = c
            .get("body")
            .and_then(Value::as_str)
            .is_some_and(|b| b.contains(&marker()));
        if marked && gh.is_mine(c)? {
            mine = Some(c);
            break;
        }
    }
    match mine {
        Some(c) => {
            let id = c.get("id").and_then(Value::as_u64).unwrap_or(0);
            if c.get("body").and_then(Value::as_str) == Some(body.as_str()) {
                return Ok(format!("comment {id} on #{pr} is up to date"));
            }
            gh.request(
                "PATCH",
                &format!("{}/issues/comments/{id}", gh.repo_path()),
                Some(&json!({ "body": body })),
            )?;
            Ok(format!("edited comment {id} on #{pr}"))
        }
        None => {
            let r = gh.request(
                "POST",
                &format!("{}/issues/{pr}/comments", gh.repo_path()),
                Some(&json!({ "body": body })),
            )?;
            Ok(format!(
                "commented on #{pr}: {}",
                r.body.get("html_url").and_then(Value::as_str).unwrap_or("")
            ))
        }
    }
}
