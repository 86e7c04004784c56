//! GitHub: a small REST client on octocrab, and what modelgate does with it — drift issues
//! ([`drift`]), the pull-request comment ([`comment`]), retrain dispatches and webhooks.
//!
//! - The token comes from `GITHUB_TOKEN`, the repository from `--repo owner/name` or
//!   `GITHUB_REPOSITORY`, the API from `GITHUB_API_URL` (GitHub Enterprise) or
//!   `https://api.github.com`.
//! - **Dry run without a token**: every request is printed (method, path, body) instead of
//!   sent, and reads answer as if the repository were empty, so local runs and the demo need no
//!   account.
//! - **Retries** (octocrab's own retry layer is not compiled in, so the policy is in one place): 5xx and 429
//!   are retried with exponential backoff; a 403 or 429 that is a rate limit waits for
//!   `Retry-After` or until `x-ratelimit-reset`; the waiting is bounded in total
//!   (`MODELGATE_GITHUB_MAX_WAIT`, seconds, default 60), after which the error says when the limit
//!   resets.
//! - **Markers are trusted only from ourselves**: modelgate finds its pull-request comment and
//!   its drift issues (and their state) again by hidden markers, but anyone can paste a marker
//!   into a comment. Only issues and comments whose author (`user.login`) is the token's own
//!   account count: `GET /user`, or `github-actions[bot]` for an installation token (Actions'
//!   `GITHUB_TOKEN`, to which GitHub refuses `/user` with 403 "Resource not accessible by
//!   integration").
//! - **Errors** say what to do: 401 is a bad or expired token, 403 names the permission the token
//!   lacks for that endpoint, 404 says the repository is missing or invisible to the token.

pub mod comment;
pub mod drift;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The hidden marker prefix of everything modelgate writes on GitHub.
pub const MARKER: &str = "<!-- modelgate:";

/// The author of what an installation token (Actions' `GITHUB_TOKEN`) writes.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// A response.
#[derive(Clone, Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// JSON body (`null` when empty or not JSON).
    pub body: Value,
    /// The `rel="next"` link, for pagination.
    pub next: Option<String>,
}

struct Live {
    client: octocrab::Octocrab,
    hooks: octocrab::Octocrab,
    rt: tokio::runtime::Runtime,
}

enum Mode {
    Live(Box<Live>),
    DryRun,
}

/// A GitHub client for one repository.
pub struct GitHub {
    mode: Mode,
    /// `owner/name`.
    pub repo: String,
    /// API base URL, without a trailing slash.
    pub api: String,
    max_wait: Duration,
    /// Why this is a dry run, when it is.
    pub dry_reason: Option<String>,
    /// Dry run: print only the method, path and title, not whole bodies (the demo).
    pub brief: bool,
    /// The token's own login, once asked for.
    login: std::sync::OnceLock<String>,
    /// Dry run: the requests that were not sent, in order, for the command to show.
    dry_log: std::sync::Mutex<Vec<String>>,
}

/// Why a GitHub request (or a webhook) failed, in words a user can act on. Callers match on
/// the variant (a missing label is [`GithubError::NotFound`]), never on the text.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// 401: the token is bad.
    #[error(
        "GitHub rejected the token (401 {message}) for {method} {path}: GITHUB_TOKEN is missing, expired or revoked"
    )]
    Unauthorized {
        /// The method.
        method: String,
        /// The path or URL.
        path: String,
        /// GitHub's `message`.
        message: String,
    },
    /// 403 that is not a rate limit: the token lacks a permission.
    #[error(
        "GitHub refused {method} {path} (403 {message}): the token lacks the permission {permission}; in a workflow, add it under `permissions:`"
    )]
    Forbidden {
        /// The method.
        method: String,
        /// The path or URL.
        path: String,
        /// GitHub's `message` (`Resource not accessible by integration` for what an
        /// installation token may not do).
        message: String,
        /// The permission the endpoint needs ([`permission_for`]).
        permission: &'static str,
    },
    /// 404: the repository is missing or invisible to the token, or the thing is gone.
    #[error(
        "GitHub answered 404 for {method} {path}: the repository {repo} does not exist, or the token cannot see it (a private repository needs `metadata: read`), or the issue/pull request is gone"
    )]
    NotFound {
        /// The method.
        method: String,
        /// The path or URL.
        path: String,
        /// `owner/name`.
        repo: String,
    },
    /// 422: the request was understood and refused (validation failed).
    #[error("GitHub refused {method} {path} (422 {message}): {body}")]
    Unprocessable {
        /// The method.
        method: String,
        /// The path or URL.
        path: String,
        /// GitHub's `message`.
        message: String,
        /// The whole answer (its `errors[].code` says what failed, e.g. `already_exists`).
        body: Value,
    },
    /// A rate limit that outlasts the time this run may wait.
    #[error(
        "GitHub's rate limit holds {method} {path} for {resets_in} s more, beyond the {max_wait} s this run may wait (MODELGATE_GITHUB_MAX_WAIT); run again later"
    )]
    RateLimited {
        /// The method.
        method: String,
        /// The path or URL.
        path: String,
        /// Seconds until the limit resets (or `Retry-After`).
        resets_in: u64,
        /// Seconds this run may wait in total.
        max_wait: u64,
    },
    /// A 5xx that outlasted the retries.
    #[error("GitHub answered {status} for {method} {path}: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The method.
        method: String,
        /// The path or URL.
        path: String,
        /// GitHub's `message`.
        message: String,
    },
    /// Any other refusal (400, 409, 410, a 429 that is not a rate limit, …).
    #[error("GitHub answered {status} for {method} {path}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The method.
        method: String,
        /// The path or URL.
        path: String,
        /// GitHub's `message`.
        message: String,
    },
    /// GitHub could not be reached (connection, TLS, timeout), after retries.
    #[error("GitHub could not be reached at {api} (gave up after {tries} tries)")]
    Transport {
        /// The API base URL.
        api: String,
        /// How many tries were made.
        tries: u32,
        /// The last failure.
        #[source]
        cause: TransportError,
    },
    /// An answer of the wrong shape (a list was expected), or a list too long to page through.
    #[error("GET {path}: {what}")]
    Unexpected {
        /// The path or URL.
        path: String,
        /// What was wrong.
        what: String,
    },
    /// The webhook could not be reached, or refused the message.
    #[error("{0}")]
    Webhook(String),
}

/// One failed attempt to reach GitHub: the request and what the HTTP stack said.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: {detail}")]
pub struct TransportError {
    /// The method.
    pub method: String,
    /// The path or URL.
    pub path: String,
    /// The HTTP client's error.
    pub detail: String,
}

impl GithubError {
    /// A refusal with `status` and `body`, as the variant that says what to do.
    fn from_status(status: u16, method: &str, path: &str, repo: &str, body: Value) -> Self {
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let (method, path) = (method.to_string(), path.to_string());
        match status {
            401 => GithubError::Unauthorized {
                method,
                path,
                message,
            },
            403 => GithubError::Forbidden {
                permission: permission_for(&method, &path),
                method,
                path,
                message,
            },
            404 => GithubError::NotFound {
                method,
                path,
                repo: repo.to_string(),
            },
            422 => GithubError::Unprocessable {
                method,
                path,
                message,
                body,
            },
            500.. => GithubError::Server {
                status,
                method,
                path,
                message,
            },
            _ => GithubError::Refused {
                status,
                method,
                path,
                message,
            },
        }
    }

    /// Whether a 422 says the thing already exists (a label created meanwhile by another job).
    pub fn already_exists(&self) -> bool {
        matches!(self, GithubError::Unprocessable { body, .. }
        if body.get("errors").and_then(Value::as_array).is_some_and(|es| {
            es.iter().any(|e| e.get("code").and_then(Value::as_str) == Some("already_exists"))
        }))
    }
}

/// The permission an endpoint needs, for error messages.
pub fn permission_for(method: &str, path: &str) -> &'static str {
    if path.ends_with("/dispatches") {
        "`contents: write` (repository_dispatch)"
    } else if path.contains("/pulls/") {
        "`pull-requests: write`"
    } else if path.contains("/issues") || path.contains("/labels") {
        if method == "GET" {
            "`issues: read`"
        } else {
            "`issues: write` (pull-request comments need `pull-requests: write`)"
        }
    } else {
        "`contents: read`"
    }
}

fn header(resp: &http::Response<impl Sized>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

impl GitHub {
    /// A client from the environment: `GITHUB_TOKEN`, `GITHUB_REPOSITORY` (or `repo`),
    /// `GITHUB_API_URL`. Without a token, or with `dry_run`, requests are printed, not sent.
    pub fn from_env(repo: Option<&str>, dry_run: bool) -> Result<GitHub> {
        let repo = repo
            .map(str::to_string)
            .or_else(|| std::env::var("GITHUB_REPOSITORY").ok())
            .filter(|r| !r.is_empty());
        let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
        let api = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://api.github.com".into())
            .trim_end_matches('/')
            .to_string();
        let max_wait = Duration::from_secs(
            std::env::var("MODELGATE_GITHUB_MAX_WAIT")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60),
        );
        let dry_reason = if dry_run {
            Some("--dry-run".to_string())
        } else if token.is_none() {
            Some("no GITHUB_TOKEN".to_string())
        } else {
            None
        };
        let repo = match (repo, &dry_reason) {
            (Some(r), _) => r,
            (None, Some(_)) => "OWNER/REPO".to_string(),
            (None, None) => bail!(
                "which repository? pass --repo owner/name, or set GITHUB_REPOSITORY (Actions sets it)"
            ),
        };
        let (owner, name) = repo
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
            .with_context(|| format!("repository `{repo}`: expected owner/name"))?;
        let repo = format!("{owner}/{name}");
        let mode = match (&dry_reason, token) {
            (None, Some(token)) => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting the HTTP runtime")?;
                let (client, hooks) = rt.block_on(async {
                    let client = octocrab::Octocrab::builder()
                        .base_uri(api.as_str())
                        .map_err(|e| anyhow::anyhow!("GITHUB_API_URL `{api}`: {e}"))?
                        .personal_token(token)
                        .set_connect_timeout(Some(Duration::from_secs(10)))
                        .set_read_timeout(Some(Duration::from_secs(30)))
                        .build()
                        .map_err(|e| anyhow::anyhow!("building the GitHub client: {e}"))?;
                    // Webhooks get a client without the token: it must never leave GitHub.
                    let hooks = octocrab::Octocrab::builder()
                        .set_connect_timeout(Some(Duration::from_secs(10)))
                        .set_read_timeout(Some(Duration::from_secs(30)))
                        .build()
                        .map_err(|e| anyhow::anyhow!("building the webhook client: {e}"))?;
                    Ok::<_, anyhow::Error>((client, hooks))
                })?;
                Mode::Live(Box::new(Live { client, hooks, rt }))
            }
            _ => Mode::DryRun,
        };
        Ok(GitHub {
            mode,
            repo,
            api,
            max_wait,
            dry_reason,
            brief: false,
            login: std::sync::OnceLock::new(),
            dry_log: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Whether requests are printed instead of sent.
    pub fn is_dry_run(&self) -> bool {
        matches!(self.mode, Mode::DryRun)
    }

    /// The login of the token's own account (`GET /user`, asked once): the only author whose
    /// marked comments and issues modelgate trusts as its own. An installation token cannot
    /// call `/user` (GitHub answers 403 "Resource not accessible by integration"); what it
    /// writes is authored by `github-actions[bot]`. `None` in a dry run (whose reads are empty).
    pub fn login(&self) -> Result<Option<String>> {
        if self.is_dry_run() {
            return Ok(None);
        }
        if let Some(l) = self.login.get() {
            return Ok(Some(l.clone()));
        }
        let login = match self.request("GET", "/user", None) {
            Ok(r) => r
                .body
                .get("login")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .with_context(|| {
                    format!(
                        "GET /user at {}: expected the token's account with a `login`, got {}",
                        self.api, r.body
                    )
                })?,
            Err(GithubError::Forbidden { message, .. })
                if message == "Resource not accessible by integration" =>
            {
                ACTIONS_BOT.to_string()
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(
                    "finding the token's own account (GET /user), to recognise modelgate's own comments and issues",
                ));
            }
        };
        Ok(Some(self.login.get_or_init(|| login).clone()))
    }

    /// Whether an issue or comment (as GitHub returns it) was written by the token's own
    /// account; in a dry run, whatever was read (nothing) counts.
    pub fn is_mine(&self, item: &Value) -> Result<bool> {
        Ok(match self.login()? {
            None => true,
            Some(me) => item
                .pointer("/user/login")
                .and_then(Value::as_str)
                .is_some_and(|l| l.eq_ignore_ascii_case(&me)),
        })
    }

    /// Dry run: the requests not sent since the last call, in order (`[dry run: …] POST …`).
    pub fn take_dry_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.dry_log.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record_dry(&self, line: String) {
        self.dry_log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    /// `/repos/owner/name`.
    pub fn repo_path(&self) -> String {
        format!("/repos/{}", self.repo)
    }

    /// Sends one request (a path under the API, or a full URL from a `Link` header), with
    /// retries. Dry run: prints it; GETs answer `[]`, writes answer a placeholder object.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, GithubError> {
        let (client, rt) = match &self.mode {
            Mode::DryRun => {
                if method != "GET" {
                    let shown = if self.brief {
                        body.and_then(|b| b.get("title").or_else(|| b.get("event_type")))
                            .map(|t| format!("  {t}"))
                            .unwrap_or_default()
                    } else {
                        body.map(|b| {
                            format!("\n{}", serde_json::to_string_pretty(b).unwrap_or_default())
                        })
                        .unwrap_or_default()
                    };
                    self.record_dry(format!(
                        "[dry run: {}] {method} {path}{shown}",
                        self.dry_reason.as_deref().unwrap_or("")
                    ));
                }
                let answer = if method == "GET" {
                    json!([])
                } else {
                    json!({"number": 0, "id": 0, "html_url": "(dry run)"})
                };
                return Ok(Response {
                    status: 200,
                    body: answer,
                    next: None,
                });
            }
            Mode::Live(l) => (&l.client, &l.rt),
        };
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.api)
        };
        let started = Instant::now();
        let mut attempt = 0u32;
        let failed = |detail: String| TransportError {
            method: method.to_string(),
            path: path.to_string(),
            detail,
        };
        loop {
            let result = rt.block_on(async {
                let resp = match method {
                    "GET" => client._get(url.as_str()).await,
                    "POST" => client._post(url.as_str(), body).await,
                    "PATCH" => client._patch(url.as_str(), body).await,
                    "PUT" => client._put(url.as_str(), body).await,
                    "DELETE" => client._delete(url.as_str(), body).await,
                    m => return Err(failed(format!("unsupported method {m}"))),
                }
                .map_err(|e| failed(e.to_string()))?;
                let status = resp.status().as_u16();
                let retry_after = header(&resp, "retry-after");
                let remaining = header(&resp, "x-ratelimit-remaining");
                let reset = header(&resp, "x-ratelimit-reset");
                let link = header(&resp, "link");
                let text = client
                    .body_to_string(resp)
                    .await
                    .map_err(|e| failed(format!("reading the answer: {e}")))?;
                Ok((status, retry_after, remaining, reset, link, text))
            });
            let (status, retry_after, remaining, reset, link, text) = match result {
                Ok(x) => x,
                Err(e) => {
                    // Connection errors: retried like a 5xx.
                    let wait = Duration::from_millis(500 * 2u64.pow(attempt.min(6)));
                    if started.elapsed() + wait > self.max_wait || attempt >= 5 {
                        return Err(GithubError::Transport {
                            api: self.api.clone(),
                            tries: attempt + 1,
                            cause: e,
                        });
                    }
                    std::thread::sleep(wait);
                    attempt += 1;
                    continue;
                }
            };
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                return Ok(Response {
                    status,
                    body,
                    next: link.as_deref().and_then(next_link),
                });
            }
            let msg = body.get("message").and_then(Value::as_str).unwrap_or("");
            let rate_limited = matches!(status, 403 | 429)
                && (remaining.as_deref() == Some("0")
                    || retry_after.is_some()
                    || msg.to_ascii_lowercase().contains("rate limit"));
            let wait = if rate_limited {
                if let Some(s) = retry_after.as_deref().and_then(|s| s.parse::<u64>().ok()) {
                    Some(Duration::from_secs(s))
                } else if let Some(r) = reset.as_deref().and_then(|s| s.parse::<i64>().ok()) {
                    let now = chrono::Utc::now().timestamp();
                    Some(Duration::from_secs((r - now).max(1) as u64))
                } else {
                    Some(Duration::from_secs(60u64.min(2u64.pow(attempt + 1))))
                }
            } else if status >= 500 || status == 429 {
                Some(Duration::from_millis(500 * 2u64.pow(attempt.min(6))))
            } else {
                None
            };
            match wait {
                Some(w) if attempt < 8 && started.elapsed() + w <= self.max_wait => {
                    log::warn!(
                        "GitHub answered {status} for {method} {path}; retrying in {:.1} s",
                        w.as_secs_f64()
                    );
                    std::thread::sleep(w);
                    attempt += 1;
                }
                Some(w) if rate_limited => {
                    return Err(GithubError::RateLimited {
                        method: method.to_string(),
                        path: path.to_string(),
                        resets_in: w.as_secs(),
                        max_wait: self.max_wait.as_secs(),
                    });
                }
                _ => {
                    return Err(GithubError::from_status(
                        status, method, path, &self.repo, body,
                    ));
                }
            }
        }
    }

    /// GETs every page of a list.
    pub fn list(&self, path: &str) -> Result<Vec<Value>, GithubError> {
        let mut out = Vec::new();
        let mut next = Some(path.to_string());
        let mut pages = 0;
        while let Some(p) = next {
            let r = self.request("GET", &p, None)?;
            match r.body {
                Value::Array(items) => out.extend(items),
                other => {
                    return Err(GithubError::Unexpected {
                        path: p,
                        what: format!("expected a list, got {other}"),
                    });
                }
            }
            next = r.next;
            pages += 1;
            if pages > 100 {
                return Err(GithubError::Unexpected {
                    path: path.to_string(),
                    what: "more than 100 pages; narrow the query".into(),
                });
            }
        }
        Ok(out)
    }

    /// Makes sure a label exists (creating it when missing).
    pub fn ensure_label(
        &self,
        name: &str,
        color: &str,
        description: &str,
    ) -> Result<(), GithubError> {
        if self.is_dry_run() {
            return Ok(());
        }
        let path = format!("{}/labels/{}", self.repo_path(), percent(name));
        match self.request("GET", &path, None) {
            Ok(_) => Ok(()),
            Err(GithubError::NotFound { .. }) => {
                let body = json!({"name": name, "color": color, "description": description});
                match self.request("POST", &format!("{}/labels", self.repo_path()), Some(&body)) {
                    Ok(_) => Ok(()),
                    // Created meanwhile by another job.
                    Err(e) if e.already_exists() => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// POSTs JSON to a webhook (e.g. Slack's incoming webhook). Never sends the GitHub token.
    pub fn webhook(&self, url: &str, body: &Value) -> Result<(), GithubError> {
        let (hooks, rt) = match &self.mode {
            Mode::DryRun => {
                self.record_dry(format!(
                    "[dry run: {}] POST {url}\n{}",
                    self.dry_reason.as_deref().unwrap_or(""),
                    serde_json::to_string_pretty(body).unwrap_or_default()
                ));
                return Ok(());
            }
            Mode::Live(l) => (&l.hooks, &l.rt),
        };
        let (status, text) = rt.block_on(async {
            let resp = hooks
                ._post(url, Some(body))
                .await
                .map_err(|e| GithubError::Webhook(format!("POST to the webhook: {e}")))?;
            let status = resp.status().as_u16();
            let text = hooks.body_to_string(resp).await.unwrap_or_default();
            Ok::<_, GithubError>((status, text))
        })?;
        if !(200..300).contains(&status) {
            return Err(GithubError::Webhook(format!(
                "the webhook answered {status}: {text}"
            )));
        }
        Ok(())
    }
}

/// Percent-encodes a path segment.
pub fn percent(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next_is_found() {
        let l = "<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=5>; rel=\"last\"";
        assert_eq!(
            next_link(l).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        assert_eq!(next_link("<a>; rel=\"prev\""), None);
    }

    #[test]
    fn permissions_are_named() {
        assert!(permission_for("POST", "/repos/o/r/dispatches").contains("contents: write"));
        assert!(permission_for("POST", "/repos/o/r/issues").contains("issues: write"));
        assert_eq!(percent("severity:high"), "severity%3Ahigh");
    }

    #[test]
    fn refusals_are_typed_and_say_what_to_do() {
        let e = GithubError::from_status(404, "GET", "/repos/o/r/labels/x", "o/r", Value::Null);
        assert!(matches!(e, GithubError::NotFound { .. }));
        assert!(e.to_string().starts_with(
            "GitHub answered 404 for GET /repos/o/r/labels/x: the repository o/r does not exist"
        ));
        let body = json!({"message": "Resource not accessible by integration"});
        match GithubError::from_status(403, "GET", "/user", "o/r", body) {
            GithubError::Forbidden {
                message,
                permission,
                ..
            } => {
                assert_eq!(message, "Resource not accessible by integration");
                assert_eq!(permission, "`contents: read`");
            }
            other => panic!("{other:?}"),
        }
        let exists = json!({"message": "Validation Failed",
            "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]});
        let e = GithubError::from_status(422, "POST", "/repos/o/r/labels", "o/r", exists);
        assert!(e.already_exists());
        assert!(e.to_string().contains("(422 Validation Failed)"), "{e}");
        let other = json!({"message": "Validation Failed",
            "errors": [{"resource": "Label", "code": "invalid", "field": "color"}]});
        assert!(
            !GithubError::from_status(422, "POST", "/repos/o/r/labels", "o/r", other)
                .already_exists()
        );
        assert!(matches!(
            GithubError::from_status(502, "GET", "/x", "o/r", Value::Null),
            GithubError::Server { status: 502, .. }
        ));
        assert!(matches!(
            GithubError::from_status(401, "GET", "/x", "o/r", Value::Null),
            GithubError::Unauthorized { .. }
        ));
    }
}
