//! A fake of GitHub's REST API (issues, pull-request comments, labels, repository dispatches)
//! and of a Slack-style incoming webhook, served over HTTP/1.1 on 127.0.0.1 for integration
//! tests. std + serde_json only.
//!
//! State is per server and shared by every `owner/repo`: the fake holds one repository's
//! issues, comments and labels, and answers for it under whatever owner and name the request
//! uses (URLs in the objects it returns use the owner and name of the request).
//!
//! The server never panics on bad input: malformed requests get `400` and the connection is
//! closed; bad JSON gets `400 {"message":"Problems parsing JSON"}` as on GitHub.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The fake clock starts at 2024-01-01T00:00:00Z and advances one second per write.
const CLOCK_START: u64 = 1_704_067_200;
const MAX_LINE: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;
const MAX_BODY: usize = 16 * 1024 * 1024;
const DOCS: &str = "https://docs.github.com/rest";
/// The owner/name used in objects returned by the accessors for seeded items.
const DEFAULT_REPO: &str = "owner/repo";
const RATE_LIMIT: u64 = 5000;
const JSON_TYPE: &str = "application/json; charset=utf-8";
const TEXT_TYPE: &str = "text/plain; charset=utf-8";

/// The account of the token: what `GET /user` answers, and the author of every issue and
/// comment created through the API (unless [`FakeGitHub::use_app_token`] is called).
pub const USER_LOGIN: &str = "modelgate-bot";
const USER_ID: u64 = 4242;

/// One request as received (recorded before any failure, auth or routing decision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent, with its query string (origin-form).
    pub path: String,
    /// Header names lowercased, values as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked; lossy UTF-8.
    pub body: String,
}

impl Request {
    /// The body parsed as JSON, or `Value::Null` when it is empty or not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Failure {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

struct IssueRec {
    id: u64,
    number: u64,
    repo: String,
    title: String,
    body: Option<String>,
    open: bool,
    state_reason: Option<String>,
    labels: Vec<u64>,
    comments: u32,
    is_pull: bool,
    created: u64,
    updated: u64,
    closed: Option<u64>,
    /// `user.login`.
    author: String,
}

struct CommentRec {
    id: u64,
    issue: u64,
    repo: String,
    body: String,
    /// `user.login`.
    author: String,
    created: u64,
    updated: u64,
}

struct LabelRec {
    id: u64,
    repo: String,
    name: String,
    color: String,
    description: Option<String>,
}

struct State {
    base: String,
    token: Option<String>,
    /// The login of the token's account: the author of what the API creates.
    login: String,
    /// The token is a GitHub App installation token: `GET /user` is refused with 403.
    app_token: bool,
    failures: VecDeque<Failure>,
    requests: Vec<Request>,
    issues: Vec<IssueRec>,
    comments: Vec<CommentRec>,
    labels: Vec<LabelRec>,
    dispatches: Vec<Value>,
    webhooks: Vec<Value>,
    clock: u64,
    next_id: u64,
    next_number: u64,
    rate_remaining: u64,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
    conns: Mutex<Vec<(u64, TcpStream)>>,
    next_conn: AtomicU64,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fake GitHub REST API on 127.0.0.1; stops accepting (and closes open connections) on drop.
pub struct FakeGitHub {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl FakeGitHub {
    /// Binds 127.0.0.1:0 and serves in background threads, one per connection (keep-alive).
    pub fn start() -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("local address of the fake GitHub");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                base: format!("http://{addr}"),
                token: None,
                login: USER_LOGIN.into(),
                app_token: false,
                failures: VecDeque::new(),
                requests: Vec::new(),
                issues: Vec::new(),
                comments: Vec::new(),
                labels: Vec::new(),
                dispatches: Vec::new(),
                webhooks: Vec::new(),
                clock: 0,
                next_id: 1001,
                next_number: 1,
                rate_remaining: RATE_LIMIT,
            }),
            stop: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            next_conn: AtomicU64::new(0),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("fake-github-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawning the fake GitHub accept thread");
        FakeGitHub {
            shared,
            addr,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, requests (except `/hooks/...`) without `Authorization: Bearer <token>` or
    /// `Authorization: token <token>` get 401 Bad credentials.
    pub fn require_token(&self, token: &str) {
        self.shared.state().token = Some(token.to_string());
    }

    /// The next `n` requests (any route, including `/hooks/...`, whatever their auth) are
    /// answered with `status`, these headers (replacing default headers of the same name) and
    /// `body` (`Value::Null` means an empty body). They are recorded but change no state.
    pub fn fail_next(&self, n: usize, status: u16, headers: &[(&str, &str)], body: Value) {
        let mut st = self.shared.state();
        for _ in 0..n {
            st.failures.push_back(Failure {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: body.clone(),
            });
        }
    }

    /// Every request received, in order (including failed and rejected ones; not requests
    /// too malformed to parse).
    pub fn requests(&self) -> Vec<Request> {
        self.shared.state().requests.clone()
    }

    /// Current issue objects (pull requests included), by number ascending.
    pub fn issues(&self) -> Vec<Value> {
        let st = self.shared.state();
        let mut recs: Vec<&IssueRec> = st.issues.iter().collect();
        recs.sort_by_key(|i| i.number);
        recs.iter().map(|i| st.render_issue(i, &i.repo)).collect()
    }

    /// Comment objects on issue or pull request `number`, oldest first.
    pub fn comments(&self, number: u64) -> Vec<Value> {
        let st = self.shared.state();
        st.comments
            .iter()
            .filter(|c| c.issue == number)
            .map(|c| st.render_comment(c, &c.repo))
            .collect()
    }

    /// Label objects, in creation order.
    pub fn labels(&self) -> Vec<Value> {
        let st = self.shared.state();
        st.labels
            .iter()
            .map(|l| st.render_label(l, &l.repo))
            .collect()
    }

    /// Bodies of `POST /repos/{o}/{r}/dispatches`, in order.
    pub fn dispatches(&self) -> Vec<Value> {
        self.shared.state().dispatches.clone()
    }

    /// Bodies POSTed to `/hooks/...`, in order.
    pub fn webhooks(&self) -> Vec<Value> {
        self.shared.state().webhooks.clone()
    }

    /// A pull request `#number` exists (open, title `Pull request #N`, empty body); its
    /// comments live at `/issues/{n}/comments`. No-op if `#number` already exists.
    pub fn seed_pull(&self, number: u64) {
        let mut st = self.shared.state();
        if st.issue_index(number).is_some() {
            return;
        }
        let now = st.tick();
        let id = st.id();
        let author = st.login.clone();
        st.issues.push(IssueRec {
            id,
            number,
            repo: DEFAULT_REPO.into(),
            title: format!("Pull request #{number}"),
            body: None,
            open: true,
            state_reason: None,
            labels: Vec::new(),
            comments: 0,
            is_pull: true,
            created: now,
            updated: now,
            closed: None,
            author,
        });
        st.next_number = st.next_number.max(number + 1);
    }

    /// An open issue with these labels (created if missing); returns its number.
    pub fn seed_issue(&self, title: &str, body: &str, labels: &[&str]) -> u64 {
        let mut st = self.shared.state();
        let now = st.tick();
        let labels: Vec<u64> = labels
            .iter()
            .map(|l| st.label_or_create(l, DEFAULT_REPO))
            .collect();
        let id = st.id();
        let number = st.next_number;
        st.next_number += 1;
        let author = st.login.clone();
        st.issues.push(IssueRec {
            id,
            number,
            repo: DEFAULT_REPO.into(),
            title: title.into(),
            body: Some(body.into()),
            open: true,
            state_reason: None,
            labels: dedup(labels),
            comments: 0,
            is_pull: false,
            created: now,
            updated: now,
            closed: None,
            author,
        });
        number
    }
}

impl FakeGitHub {
    /// From now on the token is a GitHub App installation token (like Actions'
    /// `GITHUB_TOKEN`): `GET /user` answers 403, and what the API creates is authored by `bot`
    /// (e.g. `github-actions[bot]`).
    pub fn use_app_token(&self, bot: &str) {
        let mut st = self.shared.state();
        st.app_token = true;
        st.login = bot.to_string();
    }

    /// A comment on issue or pull request `#number` written by another account, `login`;
    /// returns its id (None when `#number` does not exist).
    pub fn seed_comment_by(&self, number: u64, login: &str, body: &str) -> Option<u64> {
        let mut st = self.shared.state();
        let ix = st.issue_index(number)?;
        let now = st.tick();
        let id = st.id();
        st.issues[ix].comments += 1;
        st.issues[ix].updated = now;
        st.comments.push(CommentRec {
            id,
            issue: number,
            repo: DEFAULT_REPO.into(),
            body: body.into(),
            author: login.into(),
            created: now,
            updated: now,
        });
        Some(id)
    }

    /// An open issue written by another account, `login`, with these labels; returns its
    /// number.
    pub fn seed_issue_by(&self, login: &str, title: &str, body: &str, labels: &[&str]) -> u64 {
        let n = self.seed_issue(title, body, labels);
        let mut st = self.shared.state();
        if let Some(ix) = st.issue_index(n) {
            st.issues[ix].author = login.into();
        }
        n
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
        let conns = self.shared.conns.lock().unwrap_or_else(|e| e.into_inner());
        for (_, stream) in conns.iter() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(_) => {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let conn_shared = Arc::clone(&shared);
        let _ = thread::Builder::new()
            .name("fake-github-conn".into())
            .spawn(move || serve_connection(conn_shared, stream));
    }
}

fn serve_connection(shared: Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    if let Ok(handle) = stream.try_clone() {
        shared
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, handle));
    }
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        match read_request(&mut reader, &mut writer) {
            Ok(Some((req, keep_alive))) => {
                let head = req.method == "HEAD";
                let resp = handle(&shared, req);
                if write_response(&mut writer, &resp, head, !keep_alive).is_err() || !keep_alive {
                    break;
                }
            }
            Ok(None) | Err(ReadError::Io) => break,
            Err(ReadError::Bad(message)) => {
                let resp = Response::json(
                    400,
                    json!({ "message": message, "documentation_url": DOCS, "status": "400" }),
                );
                let _ = write_response(&mut writer, &resp, false, true);
                break;
            }
            Err(ReadError::TooLarge) => {
                let resp = Response::json(
                    413,
                    json!({ "message": "Payload Too Large", "documentation_url": DOCS, "status": "413" }),
                );
                let _ = write_response(&mut writer, &resp, false, true);
                break;
            }
        }
    }
    let _ = writer.flush();
    let _ = writer.shutdown(Shutdown::Both);
    shared
        .conns
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(i, _)| *i != id);
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 framing

enum ReadError {
    /// Connection closed or broken: drop it silently.
    Io,
    /// Malformed request: answer 400 and close.
    Bad(String),
    /// Body over the limit: answer 413 and close.
    TooLarge,
}

/// Reads one line (up to LF), without the CR LF. `Ok(None)` on EOF before any byte.
fn read_line<R: BufRead>(r: &mut R) -> Result<Option<String>, ReadError> {
    let mut buf = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut buf)
        .map_err(|_| ReadError::Io)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return if n >= MAX_LINE {
            Err(ReadError::Bad("line too long".into()))
        } else {
            Err(ReadError::Io)
        };
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Reads one request; `Ok(None)` on a clean EOF between requests. Returns whether the
/// connection stays open afterwards.
fn read_request<R: BufRead, W: Write>(
    r: &mut R,
    w: &mut W,
) -> Result<Option<(Request, bool)>, ReadError> {
    // Request line (empty lines before it are allowed).
    let line = loop {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m.to_string(), t.to_string(), v.to_string()),
        _ => return Err(ReadError::Bad("malformed request line".into())),
    };
    if !method
        .bytes()
        .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
    {
        return Err(ReadError::Bad("malformed method".into()));
    }
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad("unsupported HTTP version".into()));
    }
    // Absolute-form targets (proxies) are reduced to origin-form.
    let path = if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        }
    } else {
        target
    };
    if !path.starts_with('/') {
        return Err(ReadError::Bad("malformed request target".into()));
    }

    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let line = match read_line(r)? {
            None => return Err(ReadError::Io),
            Some(l) => l,
        };
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Bad("too many headers".into()));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Bad("malformed header line".into()));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ReadError::Bad("malformed header name".into()));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    fn values<'h>(
        headers: &'h [(String, String)],
        name: &'static str,
    ) -> impl Iterator<Item = &'h str> {
        headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    let get = |name: &'static str| values(&headers, name);

    let http10 = version == "HTTP/1.0";
    let connection: Vec<String> = get("connection")
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let keep_alive = if http10 {
        connection.iter().any(|t| t == "keep-alive")
    } else {
        !connection.iter().any(|t| t == "close")
    };

    if get("expect").any(|v| v.eq_ignore_ascii_case("100-continue")) {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|_| ReadError::Io)?;
        let _ = w.flush();
    }

    let chunked = get("transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .last()
        .is_some_and(|t| t == "chunked");
    let body = if chunked {
        read_chunked(r)?
    } else {
        let mut lengths = get("content-length")
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().parse::<usize>());
        let length = match lengths.next() {
            None => 0,
            Some(Err(_)) => return Err(ReadError::Bad("malformed Content-Length".into())),
            Some(Ok(n)) => {
                if lengths.any(|other| other != Ok(n)) {
                    return Err(ReadError::Bad("conflicting Content-Length".into()));
                }
                n
            }
        };
        if length > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        let mut buf = vec![0; length];
        r.read_exact(&mut buf).map_err(|_| ReadError::Io)?;
        buf
    };
    let req = Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    Ok(Some((req, keep_alive)))
}

fn read_chunked<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?.ok_or(ReadError::Io)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad("malformed chunk size".into()))?;
        if size == 0 {
            // Trailers, up to an empty line.
            loop {
                match read_line(r)? {
                    None => return Err(ReadError::Io),
                    Some(l) if l.is_empty() => return Ok(body),
                    Some(_) => {}
                }
            }
        }
        if size > MAX_BODY - body.len() {
            return Err(ReadError::TooLarge);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])
            .map_err(|_| ReadError::Io)?;
        match read_line(r)? {
            Some(l) if l.is_empty() => {}
            Some(_) => return Err(ReadError::Bad("chunk not followed by CRLF".into())),
            None => return Err(ReadError::Io),
        }
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn json(status: u16, body: Value) -> Response {
        Response {
            status,
            content_type: JSON_TYPE,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }
    fn empty(status: u16) -> Response {
        Response {
            status,
            content_type: JSON_TYPE,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    fn with_header(mut self, name: &str, value: String) -> Response {
        self.headers.push((name.to_string(), value));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response<W: Write>(
    w: &mut W,
    resp: &Response,
    head: bool,
    close: bool,
) -> std::io::Result<()> {
    let no_body_status =
        resp.status == 204 || resp.status == 304 || (100..200).contains(&resp.status);
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    let has = |name: &str| {
        resp.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if !has("content-type") {
        out.push_str(&format!("content-type: {}\r\n", resp.content_type));
    }
    if !no_body_status {
        out.push_str(&format!("content-length: {}\r\n", resp.body.len()));
    }
    for (name, value) in &resp.headers {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("connection") {
            continue;
        }
        // Header values must not break the framing.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head && !no_body_status {
        bytes.extend_from_slice(&resp.body);
    }
    w.write_all(&bytes)?;
    w.flush()
}

// ---------------------------------------------------------------------------------------------
// Request handling

fn handle(shared: &Shared, req: Request) -> Response {
    let mut st = shared.state();
    st.requests.push(req.clone());
    st.rate_remaining = st.rate_remaining.saturating_sub(1);
    let mut resp = st.respond(&req);
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 3600;
    let defaults = [
        ("x-ratelimit-limit", RATE_LIMIT.to_string()),
        ("x-ratelimit-remaining", st.rate_remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        (
            "x-ratelimit-used",
            (RATE_LIMIT - st.rate_remaining).to_string(),
        ),
        ("x-ratelimit-resource", "core".to_string()),
        ("x-github-api-version-selected", "2022-11-28".to_string()),
    ];
    for (name, value) in defaults {
        if !resp
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            resp.headers.push((name.to_string(), value));
        }
    }
    resp
}

fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        json!({ "message": message, "documentation_url": DOCS, "status": status.to_string() }),
    )
}

fn not_found() -> Response {
    error(404, "Not Found")
}

fn validation_failed(resource: &str, code: &str, field: &str) -> Response {
    Response::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{ "resource": resource, "code": code, "field": field }],
            "documentation_url": DOCS,
            "status": "422",
        }),
    )
}

fn parse_json(body: &str) -> Result<Value, Response> {
    match serde_json::from_str::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(error(400, "Problems parsing JSON")),
    }
}

fn dedup(ids: Vec<u64>) -> Vec<u64> {
    let mut out = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Label names from `["a", {"name": "b"}]`; `None` if the value has another shape.
fn label_names(v: &Value) -> Option<Vec<String>> {
    let arr = v.as_array()?;
    arr.iter()
        .map(|l| match l {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect()
}

impl State {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        CLOCK_START + self.clock
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }

    fn issue_index(&self, number: u64) -> Option<usize> {
        self.issues.iter().position(|i| i.number == number)
    }

    fn label_by_name(&self, name: &str) -> Option<&LabelRec> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    fn label_or_create(&mut self, name: &str, repo: &str) -> u64 {
        if let Some(l) = self.label_by_name(name) {
            return l.id;
        }
        let id = self.id();
        self.labels.push(LabelRec {
            id,
            repo: repo.into(),
            name: name.into(),
            color: "ededed".into(),
            description: None,
        });
        id
    }

    fn issue_has_label(&self, issue: &IssueRec, name: &str) -> bool {
        issue.labels.iter().any(|id| {
            self.labels
                .iter()
                .any(|l| l.id == *id && l.name.eq_ignore_ascii_case(name))
        })
    }

    fn authorized(&self, req: &Request) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        req.headers
            .iter()
            .filter(|(n, _)| n == "authorization")
            .any(|(_, v)| {
                let v = v.trim();
                match v.split_once(' ') {
                    Some((scheme, t)) => {
                        (scheme.eq_ignore_ascii_case("bearer")
                            || scheme.eq_ignore_ascii_case("token"))
                            && t.trim() == token
                    }
                    None => false,
                }
            })
    }

    fn respond(&mut self, req: &Request) -> Response {
        if let Some(f) = self.failures.pop_front() {
            let body = if f.body.is_null() {
                Vec::new()
            } else {
                f.body.to_string().into_bytes()
            };
            return Response {
                status: f.status,
                content_type: JSON_TYPE,
                headers: f.headers,
                body,
            };
        }
        let (raw_path, raw_query) = match req.path.split_once('?') {
            Some((p, q)) => (p, q),
            None => (req.path.as_str(), ""),
        };
        let Some(segs) = raw_path
            .trim_start_matches('/')
            .split('/')
            .map(|s| percent_decode(s, false))
            .collect::<Option<Vec<String>>>()
        else {
            return error(400, "Malformed percent-encoding in path");
        };
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let query = parse_query(raw_query);
        let method = if req.method == "HEAD" {
            "GET"
        } else {
            req.method.as_str()
        };

        if let ["hooks", _, ..] = segs.as_slice() {
            return if method == "POST" {
                self.webhook(req)
            } else {
                not_found()
            };
        }
        if !self.authorized(req) {
            return error(401, "Bad credentials");
        }
        let page = Page {
            base: &self.base.clone(),
            raw_path,
            raw_query,
            query: &query,
        };
        match (method, segs.as_slice()) {
            ("GET", ["user"]) => self.get_user(req),
            ("GET", ["search", "issues"]) => self.search(&page),
            ("GET", ["repos", o, r, "issues"]) => self.list_issues(&repo(o, r), &page),
            ("POST", ["repos", o, r, "issues"]) => self.create_issue(&repo(o, r), &req.body),
            ("GET", ["repos", o, r, "issues", "comments", id]) => self.get_comment(&repo(o, r), id),
            // octocrab 0.54's `update_comment` POSTs; GitHub accepts POST for PATCH.
            ("PATCH" | "POST", ["repos", o, r, "issues", "comments", id]) => {
                self.update_comment(&repo(o, r), id, &req.body)
            }
            ("DELETE", ["repos", _, _, "issues", "comments", id]) => self.delete_comment(id),
            ("GET", ["repos", o, r, "issues", n]) => self.get_issue(&repo(o, r), n),
            ("PATCH" | "POST", ["repos", o, r, "issues", n]) => {
                self.update_issue(&repo(o, r), n, &req.body)
            }
            ("GET", ["repos", o, r, "issues", n, "comments"]) => {
                self.list_comments(&repo(o, r), n, &page)
            }
            ("POST", ["repos", o, r, "issues", n, "comments"]) => {
                self.create_comment(&repo(o, r), n, &req.body)
            }
            ("GET", ["repos", o, r, "issues", n, "labels"]) => self.issue_labels(&repo(o, r), n),
            ("POST", ["repos", o, r, "issues", n, "labels"]) => {
                self.set_issue_labels(&repo(o, r), n, &req.body, false)
            }
            ("PUT", ["repos", o, r, "issues", n, "labels"]) => {
                self.set_issue_labels(&repo(o, r), n, &req.body, true)
            }
            ("DELETE", ["repos", o, r, "issues", n, "labels", name]) => {
                self.remove_issue_label(&repo(o, r), n, name)
            }
            ("GET", ["repos", o, r, "labels"]) => {
                let repo = repo(o, r);
                let all: Vec<Value> = self
                    .labels
                    .iter()
                    .map(|l| self.render_label(l, &repo))
                    .collect();
                page.respond(all)
            }
            ("GET", ["repos", o, r, "labels", name]) => match self.label_by_name(name) {
                Some(l) => Response::json(200, self.render_label(l, &repo(o, r))),
                None => not_found(),
            },
            ("POST", ["repos", o, r, "labels"]) => self.create_label(&repo(o, r), &req.body),
            ("POST", ["repos", _, _, "dispatches"]) => self.dispatch(&req.body),
            _ => not_found(),
        }
    }

    /// `GET /user`, as GitHub answers it: 401 without credentials; 403 "Resource not accessible
    /// by integration" for a GitHub App installation token (Actions' `GITHUB_TOKEN`); else the
    /// private profile of the token's account.
    fn get_user(&self, req: &Request) -> Response {
        let doc = "https://docs.github.com/rest/users/users#get-the-authenticated-user";
        if !req.headers.iter().any(|(n, _)| n == "authorization") {
            return Response::json(
                401,
                json!({"message": "Requires authentication", "documentation_url": doc, "status": "401"}),
            );
        }
        if self.app_token {
            return Response::json(
                403,
                json!({"message": "Resource not accessible by integration", "documentation_url": doc, "status": "403"}),
            );
        }
        let mut u = self.render_user(&self.login);
        let extra = json!({
            "name": null,
            "company": null,
            "blog": "",
            "location": null,
            "email": null,
            "hireable": null,
            "bio": null,
            "twitter_username": null,
            "notification_email": null,
            "public_repos": 1,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso8601(CLOCK_START - 86_400 * 365),
            "updated_at": iso8601(CLOCK_START),
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": true,
            "plan": {"name": "free", "space": 976_562_499, "collaborators": 0, "private_repos": 10000},
        });
        if let (Some(o), Value::Object(e)) = (u.as_object_mut(), extra) {
            o.extend(e);
        }
        Response::json(200, u)
    }

    /// Slack-style: a JSON body, or a form body with a JSON `payload` field.
    fn webhook(&mut self, req: &Request) -> Response {
        let form = req.header("content-type").is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        let parsed = if form {
            query_get(&parse_query(&req.body), "payload")
                .and_then(|p| serde_json::from_str::<Value>(p).ok())
        } else {
            serde_json::from_str::<Value>(&req.body).ok()
        };
        let (status, body) = match parsed {
            Some(v) => {
                self.webhooks.push(v);
                (200, b"ok".to_vec())
            }
            None => (400, b"invalid_payload".to_vec()),
        };
        Response {
            status,
            content_type: TEXT_TYPE,
            headers: Vec::new(),
            body,
        }
    }

    fn dispatch(&mut self, body: &str) -> Response {
        let v = match parse_json(body) {
            Ok(v) => v,
            Err(resp) => return resp,
        };
        if !v.get("event_type").is_some_and(Value::is_string) {
            return validation_failed("Repository", "missing_field", "event_type");
        }
        if v.get("client_payload")
            .is_some_and(|p| !p.is_object() && !p.is_null())
        {
            return validation_failed("Repository", "invalid", "client_payload");
        }
        self.dispatches.push(v);
        Response::empty(204)
    }

    // --- issues -------------------------------------------------------------------------------

    fn sorted_issues<'a>(
        &'a self,
        mut recs: Vec<&'a IssueRec>,
        query: &[(String, String)],
        direction_key: &str,
    ) -> Vec<&'a IssueRec> {
        let sort = query_get(query, "sort").unwrap_or("created");
        let ascending = query_get(query, direction_key) == Some("asc");
        match sort {
            "updated" => recs.sort_by_key(|i| (i.updated, i.number)),
            "comments" => recs.sort_by_key(|i| (i.comments, i.number)),
            _ => recs.sort_by_key(|i| i.number),
        }
        if !ascending {
            recs.reverse();
        }
        recs
    }

    fn list_issues(&self, repo: &str, page: &Page) -> Response {
        let state = query_get(page.query, "state").unwrap_or("open");
        let labels: Vec<&str> = query_get(page.query, "labels")
            .map(|l| {
                l.split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let recs: Vec<&IssueRec> = self
            .issues
            .iter()
            .filter(|i| match state {
                "closed" => !i.open,
                "all" => true,
                _ => i.open,
            })
            .filter(|i| labels.iter().all(|l| self.issue_has_label(i, l)))
            .collect();
        let recs = self.sorted_issues(recs, page.query, "direction");
        page.respond(recs.iter().map(|i| self.render_issue(i, repo)).collect())
    }

    fn search(&self, page: &Page) -> Response {
        let Some(q) = query_get(page.query, "q") else {
            return validation_failed("Search", "missing", "q");
        };
        let search = SearchQuery::parse(q);
        let repo = search
            .repo
            .clone()
            .unwrap_or_else(|| DEFAULT_REPO.to_string());
        let recs: Vec<&IssueRec> = self
            .issues
            .iter()
            .filter(|i| search.matches(self, i))
            .collect();
        let recs = self.sorted_issues(recs, page.query, "order");
        let items: Vec<Value> = recs
            .iter()
            .map(|i| {
                let mut v = self.render_issue(i, &repo);
                v["score"] = json!(1.0);
                v
            })
            .collect();
        let total = items.len();
        let (items, link) = page.slice(items);
        let resp = Response::json(
            200,
            json!({ "total_count": total, "incomplete_results": false, "items": items }),
        );
        match link {
            Some(l) => resp.with_header("link", l),
            None => resp,
        }
    }

    fn get_issue(&self, repo: &str, n: &str) -> Response {
        match n.parse::<u64>().ok().and_then(|n| self.issue_index(n)) {
            Some(ix) => Response::json(200, self.render_issue(&self.issues[ix], repo)),
            None => not_found(),
        }
    }

    fn create_issue(&mut self, repo: &str, body: &str) -> Response {
        let v = match parse_json(body) {
            Ok(v) => v,
            Err(resp) => return resp,
        };
        let Some(title) = v.get("title").and_then(|t| match t {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }) else {
            return validation_failed("Issue", "missing_field", "title");
        };
        let issue_body = match v.get("body") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return validation_failed("Issue", "invalid", "body"),
        };
        let names = match v.get("labels") {
            None | Some(Value::Null) => Vec::new(),
            Some(l) => match label_names(l) {
                Some(n) => n,
                None => return validation_failed("Issue", "invalid", "labels"),
            },
        };
        let now = self.tick();
        let labels: Vec<u64> = names
            .iter()
            .map(|n| self.label_or_create(n, repo))
            .collect();
        let id = self.id();
        let number = self.next_number;
        self.next_number += 1;
        self.issues.push(IssueRec {
            id,
            number,
            repo: repo.into(),
            title,
            body: issue_body,
            open: true,
            state_reason: None,
            labels: dedup(labels),
            comments: 0,
            is_pull: false,
            created: now,
            updated: now,
            closed: None,
            author: self.login.clone(),
        });
        let Some(ix) = self.issue_index(number) else {
            return not_found();
        };
        let obj = self.render_issue(&self.issues[ix], repo);
        let location = obj["url"].as_str().unwrap_or_default().to_string();
        Response::json(201, obj).with_header("location", location)
    }

    fn update_issue(&mut self, repo: &str, n: &str, body: &str) -> Response {
        let Some(ix) = n.parse::<u64>().ok().and_then(|n| self.issue_index(n)) else {
            return not_found();
        };
        let v = match parse_json(body) {
            Ok(v) => v,
            Err(resp) => return resp,
        };
        // Validate everything before changing anything.
        let title = match v.get("title") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return validation_failed("Issue", "invalid", "title"),
        };
        let new_body = match v.get("body") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => return validation_failed("Issue", "invalid", "body"),
        };
        let open = match v.get("state") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s == "open" => Some(true),
            Some(Value::String(s)) if s == "closed" => Some(false),
            Some(_) => return validation_failed("Issue", "invalid", "state"),
        };
        let reason = match v.get("state_reason") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s))
                if ["completed", "not_planned", "reopened", "duplicate"].contains(&s.as_str()) =>
            {
                Some(Some(s.clone()))
            }
            Some(_) => return validation_failed("Issue", "invalid", "state_reason"),
        };
        let names = match v.get("labels") {
            None => None,
            Some(Value::Null) => Some(Vec::new()),
            Some(l) => match label_names(l) {
                Some(n) => Some(n),
                None => return validation_failed("Issue", "invalid", "labels"),
            },
        };
        let now = self.tick();
        let label_ids = names.map(|names| {
            dedup(
                names
                    .iter()
                    .map(|n| self.label_or_create(n, repo))
                    .collect(),
            )
        });
        let issue = &mut self.issues[ix];
        if let Some(t) = title {
            issue.title = t;
        }
        if let Some(b) = new_body {
            issue.body = b;
        }
        if let Some(ids) = label_ids {
            issue.labels = ids;
        }
        match open {
            Some(false) => {
                if issue.open || issue.closed.is_none() {
                    issue.closed = Some(now);
                }
                issue.open = false;
                issue.state_reason = match reason {
                    Some(r) => r,
                    None => Some("completed".into()),
                };
            }
            Some(true) => {
                if !issue.open {
                    issue.state_reason = Some("reopened".into());
                }
                issue.open = true;
                issue.closed = None;
                if let Some(r) = reason {
                    issue.state_reason = r;
                }
            }
            None => {
                if let Some(r) = reason {
                    issue.state_reason = r;
                }
            }
        }
        issue.updated = now;
        Response::json(200, self.render_issue(&self.issues[ix], repo))
    }

    // --- issue labels ---------------------------------------------------------------------

    fn issue_labels(&self, repo: &str, n: &str) -> Response {
        let Some(ix) = n.parse::<u64>().ok().and_then(|n| self.issue_index(n)) else {
            return not_found();
        };
        Response::json(200, self.render_issue_labels(&self.issues[ix], repo))
    }

    fn set_issue_labels(&mut self, repo: &str, n: &str, body: &str, replace: bool) -> Response {
        let Some(ix) = n.parse::<u64>().ok().and_then(|n| self.issue_index(n)) else {
            return not_found();
        };
        let v: Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(_) => return error(400, "Problems parsing JSON"),
        };
        let names = match v
            .get("labels")
            .map(label_names)
            .unwrap_or_else(|| label_names(&v))
        {
            Some(n) => n,
            None => return validation_failed("Label", "invalid", "labels"),
        };
        let now = self.tick();
        let ids: Vec<u64> = names
            .iter()
            .map(|n| self.label_or_create(n, repo))
            .collect();
        let issue = &mut self.issues[ix];
        if replace {
            issue.labels = dedup(ids);
        } else {
            let mut all = issue.labels.clone();
            all.extend(ids);
            issue.labels = dedup(all);
        }
        issue.updated = now;
        Response::json(200, self.render_issue_labels(&self.issues[ix], repo))
    }

    fn remove_issue_label(&mut self, repo: &str, n: &str, name: &str) -> Response {
        let Some(ix) = n.parse::<u64>().ok().and_then(|n| self.issue_index(n)) else {
            return not_found();
        };
        let Some(label_id) = self.label_by_name(name).map(|l| l.id) else {
            return error(404, "Label does not exist");
        };
        if !self.issues[ix].labels.contains(&label_id) {
            return error(404, "Label does not exist");
        }
        let now = self.tick();
        let issue = &mut self.issues[ix];
        issue.labels.retain(|id| *id != label_id);
        issue.updated = now;
        Response::json(200, self.render_issue_labels(&self.issues[ix], repo))
    }

    // --- comments -----------------------------------------------------------------------------

    fn list_comments(&self, repo: &str, n: &str, page: &Page) -> Response {
        let Some(number) = n
            .parse::<u64>()
            .ok()
            .filter(|n| self.issue_index(*n).is_some())
        else {
            return not_found();
        };
        let all: Vec<Value> = self
            .comments
            .iter()
            .filter(|c| c.issue == number)
            .map(|c| self.render_comment(c, repo))
            .collect();
        page.respond(all)
    }

    fn create_comment(&mut self, repo: &str, n: &str, body: &str) -> Response {
        let Some(ix) = n.parse::<u64>().ok().and_then(|n| self.issue_index(n)) else {
            return not_found();
        };
        let v = match parse_json(body) {
            Ok(v) => v,
            Err(resp) => return resp,
        };
        let Some(text) = v.get("body").and_then(Value::as_str).map(str::to_string) else {
            return validation_failed("IssueComment", "missing_field", "body");
        };
        let now = self.tick();
        let id = self.id();
        let issue = &mut self.issues[ix];
        issue.comments += 1;
        issue.updated = now;
        let number = issue.number;
        self.comments.push(CommentRec {
            id,
            issue: number,
            repo: repo.into(),
            body: text,
            created: now,
            updated: now,
            author: self.login.clone(),
        });
        let Some(c) = self.comments.last() else {
            return not_found();
        };
        let obj = self.render_comment(c, repo);
        let location = obj["url"].as_str().unwrap_or_default().to_string();
        Response::json(201, obj).with_header("location", location)
    }

    fn comment_index(&self, id: &str) -> Option<usize> {
        let id = id.parse::<u64>().ok()?;
        self.comments.iter().position(|c| c.id == id)
    }

    fn get_comment(&self, repo: &str, id: &str) -> Response {
        match self.comment_index(id) {
            Some(ix) => Response::json(200, self.render_comment(&self.comments[ix], repo)),
            None => not_found(),
        }
    }

    fn update_comment(&mut self, repo: &str, id: &str, body: &str) -> Response {
        let Some(ix) = self.comment_index(id) else {
            return not_found();
        };
        let v = match parse_json(body) {
            Ok(v) => v,
            Err(resp) => return resp,
        };
        let Some(text) = v.get("body").and_then(Value::as_str).map(str::to_string) else {
            return validation_failed("IssueComment", "missing_field", "body");
        };
        let now = self.tick();
        let c = &mut self.comments[ix];
        c.body = text;
        c.updated = now;
        Response::json(200, self.render_comment(&self.comments[ix], repo))
    }

    fn delete_comment(&mut self, id: &str) -> Response {
        let Some(ix) = self.comment_index(id) else {
            return not_found();
        };
        self.tick();
        let c = self.comments.remove(ix);
        if let Some(i) = self.issue_index(c.issue) {
            self.issues[i].comments = self.issues[i].comments.saturating_sub(1);
        }
        Response::empty(204)
    }

    // --- labels -------------------------------------------------------------------------------

    fn create_label(&mut self, repo: &str, body: &str) -> Response {
        let v = match parse_json(body) {
            Ok(v) => v,
            Err(resp) => return resp,
        };
        let Some(name) = v
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|n| !n.trim().is_empty())
        else {
            return validation_failed("Label", "missing_field", "name");
        };
        let color = match v.get("color") {
            None | Some(Value::Null) => "ededed".to_string(),
            Some(Value::String(c)) => {
                let c = c.trim_start_matches('#');
                if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return validation_failed("Label", "invalid", "color");
                }
                c.to_ascii_lowercase()
            }
            Some(_) => return validation_failed("Label", "invalid", "color"),
        };
        let description = match v.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) => Some(d.clone()),
            Some(_) => return validation_failed("Label", "invalid", "description"),
        };
        if self.label_by_name(&name).is_some() {
            return validation_failed("Label", "already_exists", "name");
        }
        self.tick();
        let id = self.id();
        self.labels.push(LabelRec {
            id,
            repo: repo.into(),
            name,
            color,
            description,
        });
        let Some(l) = self.labels.last() else {
            return not_found();
        };
        let obj = self.render_label(l, repo);
        let location = obj["url"].as_str().unwrap_or_default().to_string();
        Response::json(201, obj).with_header("location", location)
    }

    // --- rendering ----------------------------------------------------------------------------

    fn render_user(&self, login: &str) -> Value {
        let u = format!("{}/users/{}", self.base, percent_encode(login));
        let bot = login.ends_with("[bot]");
        let id = if login == USER_LOGIN {
            USER_ID
        } else if bot {
            41_898_282
        } else {
            // A stable id per login.
            login.bytes().fold(1_000_000u64, |h, b| {
                h.wrapping_mul(31).wrapping_add(u64::from(b)) % 1_000_000_000
            })
        };
        json!({
            "login": login,
            "id": id,
            "node_id": if id == USER_ID {
                "MDQ6VXNlcjQyNDI=".to_string()
            } else {
                format!("U_kgFake{id}")
            },
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            "gravatar_id": "",
            "url": u,
            "html_url": if bot {
                format!("https://github.com/apps/{}", login.trim_end_matches("[bot]"))
            } else {
                format!("https://github.com/{login}")
            },
            "followers_url": format!("{u}/followers"),
            "following_url": format!("{u}/following{{/other_user}}"),
            "gists_url": format!("{u}/gists{{/gist_id}}"),
            "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{u}/subscriptions"),
            "organizations_url": format!("{u}/orgs"),
            "repos_url": format!("{u}/repos"),
            "events_url": format!("{u}/events{{/privacy}}"),
            "received_events_url": format!("{u}/received_events"),
            "type": if bot { "Bot" } else { "User" },
            "user_view_type": "public",
            "site_admin": false,
        })
    }

    fn render_label(&self, l: &LabelRec, repo: &str) -> Value {
        json!({
            "id": l.id,
            "node_id": format!("LA_kwDOFake{}", l.id),
            "url": format!("{}/repos/{repo}/labels/{}", self.base, percent_encode(&l.name)),
            "name": l.name,
            "color": l.color,
            "default": false,
            "description": l.description,
        })
    }

    fn render_issue_labels(&self, issue: &IssueRec, repo: &str) -> Value {
        Value::Array(
            issue
                .labels
                .iter()
                .filter_map(|id| self.labels.iter().find(|l| l.id == *id))
                .map(|l| self.render_label(l, repo))
                .collect(),
        )
    }

    fn render_issue(&self, i: &IssueRec, repo: &str) -> Value {
        let api = format!("{}/repos/{repo}", self.base);
        let n = i.number;
        let html = format!(
            "https://github.com/{repo}/{}/{n}",
            if i.is_pull { "pull" } else { "issues" }
        );
        let mut v = json!({
            "url": format!("{api}/issues/{n}"),
            "repository_url": api,
            "labels_url": format!("{api}/issues/{n}/labels{{/name}}"),
            "comments_url": format!("{api}/issues/{n}/comments"),
            "events_url": format!("{api}/issues/{n}/events"),
            "html_url": html,
            "id": i.id,
            "node_id": format!("{}_kwDOFake{}", if i.is_pull { "PR" } else { "I" }, i.id),
            "number": n,
            "title": i.title,
            "user": self.render_user(&i.author),
            "labels": self.render_issue_labels(i, repo),
            "state": if i.open { "open" } else { "closed" },
            "locked": false,
            "assignee": null,
            "assignees": [],
            "milestone": null,
            "comments": i.comments,
            "created_at": iso8601(i.created),
            "updated_at": iso8601(i.updated),
            "closed_at": i.closed.map(iso8601),
            "author_association": "OWNER",
            "active_lock_reason": null,
            "body": i.body,
            "closed_by": null,
            "timeline_url": format!("{api}/issues/{n}/timeline"),
            "performed_via_github_app": null,
            "state_reason": i.state_reason,
        });
        if i.is_pull {
            v["draft"] = json!(false);
            v["pull_request"] = json!({
                "url": format!("{api}/pulls/{n}"),
                "html_url": format!("https://github.com/{repo}/pull/{n}"),
                "diff_url": format!("https://github.com/{repo}/pull/{n}.diff"),
                "patch_url": format!("https://github.com/{repo}/pull/{n}.patch"),
                "merged_at": null,
            });
        }
        v
    }

    fn render_comment(&self, c: &CommentRec, repo: &str) -> Value {
        let api = format!("{}/repos/{repo}", self.base);
        let is_pull = self
            .issue_index(c.issue)
            .is_some_and(|ix| self.issues[ix].is_pull);
        json!({
            "url": format!("{api}/issues/comments/{}", c.id),
            "html_url": format!(
                "https://github.com/{repo}/{}/{}#issuecomment-{}",
                if is_pull { "pull" } else { "issues" },
                c.issue,
                c.id
            ),
            "issue_url": format!("{api}/issues/{}", c.issue),
            "id": c.id,
            "node_id": format!("IC_kwDOFake{}", c.id),
            "user": self.render_user(&c.author),
            "created_at": iso8601(c.created),
            "updated_at": iso8601(c.updated),
            "author_association": "OWNER",
            "body": c.body,
            "performed_via_github_app": null,
        })
    }
}

fn repo(owner: &str, name: &str) -> String {
    format!("{owner}/{name}")
}

// ---------------------------------------------------------------------------------------------
// Pagination

struct Page<'a> {
    base: &'a str,
    raw_path: &'a str,
    raw_query: &'a str,
    query: &'a [(String, String)],
}

impl Page<'_> {
    /// The requested page of `items` and the `Link` header value, if there is more than one page.
    fn slice(&self, items: Vec<Value>) -> (Vec<Value>, Option<String>) {
        let per_page = query_get(self.query, "per_page")
            .and_then(|p| p.trim().parse::<usize>().ok())
            .filter(|p| *p > 0)
            .map(|p| p.min(100))
            .unwrap_or(30);
        let page = query_get(self.query, "page")
            .and_then(|p| p.trim().parse::<usize>().ok())
            .filter(|p| *p > 0)
            .unwrap_or(1);
        let total = items.len();
        let last = total.div_ceil(per_page).max(1);
        let start = (page - 1).saturating_mul(per_page).min(total);
        let end = start.saturating_add(per_page).min(total);
        let slice: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
        if last <= 1 && page <= 1 {
            return (slice, None);
        }
        let mut links = Vec::new();
        if page > 1 {
            links.push(format!("<{}>; rel=\"prev\"", self.link(page - 1)));
        }
        if page < last {
            links.push(format!("<{}>; rel=\"next\"", self.link(page + 1)));
            links.push(format!("<{}>; rel=\"last\"", self.link(last)));
        }
        if page > 1 {
            links.push(format!("<{}>; rel=\"first\"", self.link(1)));
        }
        (slice, Some(links.join(", ")))
    }

    fn respond(&self, items: Vec<Value>) -> Response {
        let (items, link) = self.slice(items);
        let resp = Response::json(200, Value::Array(items));
        match link {
            Some(l) => resp.with_header("link", l),
            None => resp,
        }
    }

    /// This request's URL with `page=n`; commas and other Link-header delimiters escaped.
    fn link(&self, n: usize) -> String {
        let mut pairs: Vec<String> = self
            .raw_query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| p.split('=').next() != Some("page"))
            .map(|p| {
                p.chars()
                    .map(|c| match c {
                        ',' => "%2C".to_string(),
                        ';' => "%3B".to_string(),
                        '<' => "%3C".to_string(),
                        '>' => "%3E".to_string(),
                        '"' => "%22".to_string(),
                        ' ' => "%20".to_string(),
                        c => c.to_string(),
                    })
                    .collect()
            })
            .collect();
        pairs.push(format!("page={n}"));
        format!("{}{}?{}", self.base, self.raw_path, pairs.join("&"))
    }
}

// ---------------------------------------------------------------------------------------------
// Search

#[derive(Default)]
struct SearchQuery {
    repo: Option<String>,
    /// Some(true): pull requests only; Some(false): issues only.
    pulls: Option<bool>,
    open: Option<bool>,
    /// (negated, any-of names)
    labels: Vec<(bool, Vec<String>)>,
    /// Lowercased words and phrases, all required.
    text: Vec<String>,
    in_title: bool,
    in_body: bool,
}

impl SearchQuery {
    fn parse(q: &str) -> SearchQuery {
        let mut s = SearchQuery::default();
        let mut in_title = false;
        let mut in_body = false;
        for (token, quoted) in tokenize(q) {
            if quoted {
                if !token.is_empty() {
                    s.text.push(token.to_lowercase());
                }
                continue;
            }
            let (negated, bare) = match token.strip_prefix('-') {
                Some(rest) if rest.contains(':') => (true, rest),
                _ => (false, token.as_str()),
            };
            let qualifier = bare
                .split_once(':')
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()));
            match qualifier {
                Some((k, v)) if k == "repo" => s.repo = Some(v),
                Some((k, v)) if k == "is" || k == "type" || k == "state" => {
                    match v.to_ascii_lowercase().as_str() {
                        "issue" => s.pulls = Some(negated),
                        "pr" | "pull-request" => s.pulls = Some(!negated),
                        "open" => s.open = Some(!negated),
                        "closed" => s.open = Some(negated),
                        _ => {}
                    }
                }
                Some((k, v)) if k == "label" => {
                    let names = v
                        .split(',')
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty())
                        .collect();
                    s.labels.push((negated, names));
                }
                Some((k, v)) if k == "in" => {
                    for part in v.split(',') {
                        match part.trim().to_ascii_lowercase().as_str() {
                            "title" => in_title = true,
                            "body" => in_body = true,
                            _ => {}
                        }
                    }
                }
                Some((k, _))
                    if [
                        "author",
                        "assignee",
                        "mentions",
                        "commenter",
                        "involves",
                        "user",
                        "org",
                        "no",
                        "sort",
                        "created",
                        "updated",
                        "closed",
                        "comments",
                        "reason",
                        "linked",
                        "milestone",
                        "archived",
                    ]
                    .contains(&k.as_str()) => {}
                _ => {
                    if !token.is_empty() && token != "AND" {
                        s.text.push(token.to_lowercase());
                    }
                }
            }
        }
        if !in_title && !in_body {
            in_title = true;
            in_body = true;
        }
        s.in_title = in_title;
        s.in_body = in_body;
        s
    }

    fn matches(&self, st: &State, i: &IssueRec) -> bool {
        if self.pulls.is_some_and(|p| p != i.is_pull) {
            return false;
        }
        if self.open.is_some_and(|o| o != i.open) {
            return false;
        }
        for (negated, names) in &self.labels {
            let has = names.iter().any(|n| st.issue_has_label(i, n));
            if has == *negated {
                return false;
            }
        }
        let mut hay = String::new();
        if self.in_title {
            hay.push_str(&i.title.to_lowercase());
            hay.push('\n');
        }
        if self.in_body {
            hay.push_str(&i.body.as_deref().unwrap_or("").to_lowercase());
        }
        self.text.iter().all(|t| hay.contains(t.as_str()))
    }
}

/// Splits a search query on whitespace outside double quotes, dropping the quotes; the flag
/// says whether the token began with a quote (a phrase, never a qualifier).
fn tokenize(q: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut started_quoted = false;
    let mut started = false;
    for c in q.chars() {
        if c == '"' {
            if !started {
                started = true;
                started_quoted = true;
            }
            in_quote = !in_quote;
            continue;
        }
        if c.is_whitespace() && !in_quote {
            if started {
                out.push((std::mem::take(&mut cur), started_quoted));
            }
            started = false;
            started_quoted = false;
            continue;
        }
        started = true;
        cur.push(c);
    }
    if started {
        out.push((cur, started_quoted));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Encoding and time helpers

fn query_get<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `application/x-www-form-urlencoded` pairs; undecodable pairs are dropped.
fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

/// Percent-decodes (and, in query strings, turns `+` into a space); `None` if malformed.
fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes everything but unreserved characters (for a path segment).
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------------------------
// Self-tests (std only): a tiny keep-alive HTTP/1.1 client against the fake.

mod self_tests {
    use super::FakeGitHub;
    use serde_json::{Value, json};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;

    struct Resp {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Resp {
        fn json(&self) -> Value {
            serde_json::from_str(&self.body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
        }
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    struct Client {
        reader: BufReader<TcpStream>,
        writer: TcpStream,
        auth: Option<String>,
    }

    impl Client {
        fn new(gh: &FakeGitHub) -> Client {
            let addr = gh.url().trim_start_matches("http://").to_string();
            let stream = TcpStream::connect(addr).expect("connect");
            let writer = stream.try_clone().expect("clone");
            Client {
                reader: BufReader::new(stream),
                writer,
                auth: None,
            }
        }

        fn raw(&mut self, bytes: &[u8], head: bool) -> Resp {
            self.writer.write_all(bytes).expect("write");
            self.read(head)
        }

        fn send(&mut self, method: &str, path: &str, body: Option<&str>) -> Resp {
            let mut req = format!(
                "{method} {path} HTTP/1.1\r\nhost: fake\r\naccept: application/vnd.github+json\r\n"
            );
            if let Some(a) = &self.auth {
                req.push_str(&format!("authorization: {a}\r\n"));
            }
            if let Some(b) = body {
                req.push_str(&format!(
                    "content-type: application/json\r\ncontent-length: {}\r\n",
                    b.len()
                ));
            }
            req.push_str("\r\n");
            req.push_str(body.unwrap_or(""));
            self.raw(req.as_bytes(), method == "HEAD")
        }

        fn get(&mut self, path: &str) -> Resp {
            self.send("GET", path, None)
        }

        fn post(&mut self, path: &str, body: Value) -> Resp {
            self.send("POST", path, Some(&body.to_string()))
        }

        fn read(&mut self, head: bool) -> Resp {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("status line");
            let status: u16 = line
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("status line {line:?}"));
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                self.reader.read_line(&mut h).expect("header");
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').expect("header colon");
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
            let len = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse::<usize>().unwrap());
            let mut body = Vec::new();
            if !head && status != 204 {
                match len {
                    Some(n) => {
                        body.resize(n, 0);
                        self.reader.read_exact(&mut body).expect("body");
                    }
                    None => {
                        self.reader.read_to_end(&mut body).expect("body to end");
                    }
                }
            }
            Resp {
                status,
                headers,
                body: String::from_utf8(body).expect("utf-8 body"),
            }
        }
    }

    #[test]
    fn fake_github_keep_alive_and_headers() {
        let gh = FakeGitHub::start();
        let mut c = Client::new(&gh);
        let created = c.post(
            "/repos/acme/models/issues",
            json!({"title": "Drift on m1", "body": "details", "labels": ["drift", "m1"]}),
        );
        assert_eq!(created.status, 201);
        assert_eq!(
            created.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(created.header("x-ratelimit-limit"), Some("5000"));
        assert!(created.header("x-ratelimit-remaining").is_some());
        assert!(created.header("x-ratelimit-reset").is_some());
        assert_eq!(
            created
                .header("content-length")
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            created.body.len()
        );
        let issue = created.json();
        assert_eq!(issue["number"], 1);
        assert_eq!(issue["state"], "open");
        assert_eq!(issue["html_url"], "https://github.com/acme/models/issues/1");
        assert_eq!(
            issue["url"],
            format!("{}/repos/acme/models/issues/1", gh.url())
        );
        assert_eq!(created.header("location"), issue["url"].as_str());
        assert_eq!(issue["labels"][0]["name"], "drift");
        assert_eq!(issue["labels"][0]["color"], "ededed");
        assert_eq!(issue["created_at"], "2024-01-01T00:00:01Z");
        assert!(issue.get("pull_request").is_none());
        for key in [
            "id",
            "node_id",
            "repository_url",
            "labels_url",
            "comments_url",
            "events_url",
            "user",
            "assignees",
            "locked",
            "comments",
            "author_association",
            "updated_at",
            "closed_at",
            "state_reason",
        ] {
            assert!(issue.get(key).is_some(), "missing {key}");
        }
        // Same connection, second request.
        let got = c.get("/repos/acme/models/issues/1");
        assert_eq!(got.status, 200);
        assert_eq!(got.json()["title"], "Drift on m1");
        // HEAD: headers with the GET length, no body; then the connection still works.
        let head = c.send("HEAD", "/repos/acme/models/issues/1", None);
        assert_eq!(head.status, 200);
        assert_eq!(head.header("content-length"), got.header("content-length"));
        assert_eq!(c.get("/repos/acme/models/issues/99").status, 404);
        let missing = c.get("/nope");
        assert_eq!(
            (missing.status, missing.json()["message"].clone()),
            (404, json!("Not Found"))
        );
        assert_eq!(
            c.send("PUT", "/repos/acme/models/issues/1", Some("{}"))
                .status,
            404
        );
        assert_eq!(c.send("BREW", "/coffee", None).status, 404);
        let reqs = gh.requests();
        assert_eq!(reqs.len(), 7);
        assert_eq!(reqs[0].method, "POST");
        assert_eq!(reqs[0].path, "/repos/acme/models/issues");
        assert_eq!(reqs[0].json()["title"], "Drift on m1");
        assert_eq!(
            reqs[0].header("Accept"),
            Some("application/vnd.github+json")
        );
        assert_eq!(gh.issues().len(), 1);
        assert_eq!(gh.labels().len(), 2);
    }

    #[test]
    fn fake_github_chunked_body_and_connection_close() {
        let gh = FakeGitHub::start();
        let mut c = Client::new(&gh);
        let body = r#"{"title":"chunked","body":"split over chunks"}"#;
        let (a, b) = body.split_at(10);
        let raw = format!(
            "POST /repos/o/r/issues HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        );
        let resp = c.raw(raw.as_bytes(), false);
        assert_eq!(resp.status, 201, "{}", resp.body);
        assert_eq!(resp.json()["body"], "split over chunks");
        assert_eq!(gh.requests()[0].body, body);
        // Connection: close is honoured.
        let resp = c.raw(
            b"GET /repos/o/r/issues/1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            false,
        );
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("connection"), Some("close"));
        let mut rest = Vec::new();
        assert_eq!(c.reader.read_to_end(&mut rest).unwrap(), 0);
    }

    #[test]
    fn fake_github_bad_input_gets_400_and_server_survives() {
        let gh = FakeGitHub::start();
        let mut c = Client::new(&gh);
        let resp = c.send("POST", "/repos/o/r/issues", Some("{not json"));
        assert_eq!(resp.status, 400);
        assert_eq!(resp.json()["message"], "Problems parsing JSON");
        let resp = c.post("/repos/o/r/issues", json!({"body": "no title"}));
        assert_eq!(resp.status, 422);
        let resp = c.raw(b"GET /x HTTP/1.1\r\ncontent-length: banana\r\n\r\n", false);
        assert_eq!(resp.status, 400);
        let mut c = Client::new(&gh);
        let resp = c.raw(b"garbage\r\n\r\n", false);
        assert_eq!(resp.status, 400);
        let mut c = Client::new(&gh);
        let resp = c.raw(
            b"POST /repos/o/r/issues HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            false,
        );
        assert_eq!(resp.status, 400);
        let mut c = Client::new(&gh);
        let huge = b"POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\n";
        assert_eq!(c.raw(huge, false).status, 413);
        let mut c = Client::new(&gh);
        let huge = b"POST /x HTTP/1.1\r\ncontent-length: 99999999999\r\n\r\n";
        assert_eq!(c.raw(huge, false).status, 413);
        let mut c = Client::new(&gh);
        assert_eq!(c.get("/repos/o/r/labels/%zz").status, 400);
        assert_eq!(c.get("/repos/o/r/issues/abc").status, 404);
        assert_eq!(
            c.post("/repos/o/r/issues/1/comments", json!({"body": "x"}))
                .status,
            404
        );
        assert_eq!(c.get("/repos/o/r/issues").json(), json!([]));
    }

    #[test]
    fn fake_github_pagination_filters_and_sorting() {
        let gh = FakeGitHub::start();
        for i in 1..=65 {
            let labels: &[&str] = if i % 2 == 0 {
                &["even", "model:a"]
            } else {
                &["odd"]
            };
            gh.seed_issue(&format!("issue {i}"), "b", labels);
        }
        gh.seed_pull(100);
        let mut c = Client::new(&gh);
        let p1 = c.get("/repos/o/r/issues");
        let items = p1.json();
        assert_eq!(items.as_array().unwrap().len(), 30);
        assert_eq!(items[0]["number"], 100);
        assert_eq!(
            items[0]["pull_request"]["html_url"],
            "https://github.com/o/r/pull/100"
        );
        assert_eq!(items[1]["number"], 65);
        let link = p1.header("link").unwrap();
        let base = gh.url();
        assert_eq!(
            link,
            format!(
                "<{base}/repos/o/r/issues?page=2>; rel=\"next\", <{base}/repos/o/r/issues?page=3>; rel=\"last\""
            )
        );
        let p3 = c.get("/repos/o/r/issues?per_page=30&page=3");
        assert_eq!(p3.json().as_array().unwrap().len(), 6);
        let link = p3.header("link").unwrap();
        assert!(link.contains("per_page=30&page=2>; rel=\"prev\""), "{link}");
        assert!(link.contains("page=1>; rel=\"first\""), "{link}");
        assert!(!link.contains("rel=\"next\""), "{link}");
        // Labels filter (all must match), commas escaped in the Link header.
        let even = c.get("/repos/o/r/issues?labels=even,model%3Aa&per_page=10");
        assert_eq!(even.json().as_array().unwrap().len(), 10);
        assert!(
            even.json()
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["number"].as_u64().unwrap() % 2 == 0)
        );
        let link = even.header("link").unwrap();
        assert!(
            link.contains("labels=even%2Cmodel%3Aa&per_page=10&page=2>; rel=\"next\""),
            "{link}"
        );
        assert!(link.contains("page=4>; rel=\"last\""), "{link}");
        assert_eq!(c.get("/repos/o/r/issues?labels=even,odd").json(), json!([]));
        // per_page is capped at 100; small pages give no Link.
        let all = c.get("/repos/o/r/issues?per_page=500");
        assert_eq!(all.json().as_array().unwrap().len(), 66);
        assert!(all.header("link").is_none());
        // State filter.
        let patched = c.send(
            "PATCH",
            "/repos/o/r/issues/3",
            Some(r#"{"state":"closed","state_reason":"not_planned"}"#),
        );
        assert_eq!(patched.status, 200);
        let closed = patched.json();
        assert_eq!(closed["state"], "closed");
        assert_eq!(closed["state_reason"], "not_planned");
        assert!(closed["closed_at"].is_string());
        assert_eq!(
            c.get("/repos/o/r/issues?per_page=100")
                .json()
                .as_array()
                .unwrap()
                .len(),
            65
        );
        let closed_list = c.get("/repos/o/r/issues?state=closed").json();
        assert_eq!(closed_list.as_array().unwrap().len(), 1);
        assert_eq!(closed_list[0]["number"], 3);
        assert_eq!(
            c.get("/repos/o/r/issues?state=all&per_page=100")
                .json()
                .as_array()
                .unwrap()
                .len(),
            66
        );
        let asc = c.get("/repos/o/r/issues?direction=asc&per_page=1").json();
        assert_eq!(asc[0]["number"], 1);
        let updated = c
            .get("/repos/o/r/issues?state=all&sort=updated&per_page=1")
            .json();
        assert_eq!(updated[0]["number"], 3);
        // Reopen.
        let reopened = c
            .send(
                "PATCH",
                "/repos/o/r/issues/3",
                Some(r#"{"state":"open","labels":["odd","new"]}"#),
            )
            .json();
        assert_eq!(reopened["state"], "open");
        assert_eq!(reopened["state_reason"], "reopened");
        assert!(reopened["closed_at"].is_null());
        assert_eq!(reopened["labels"].as_array().unwrap().len(), 2);
        assert_eq!(
            c.send("PATCH", "/repos/o/r/issues/3", Some(r#"{"state":"weird"}"#))
                .status,
            422
        );
    }

    #[test]
    fn fake_github_search() {
        let gh = FakeGitHub::start();
        let a = gh.seed_issue(
            "Drift detected: fraud-model",
            "PSI above threshold",
            &["modelgate", "model: fraud"],
        );
        let b = gh.seed_issue(
            "Bias report",
            "Mentions fraud-model in body",
            &["modelgate"],
        );
        let _c = gh.seed_issue("Unrelated", "nothing", &[]);
        gh.seed_pull(10);
        let mut c = Client::new(&gh);
        c.send(
            "PATCH",
            &format!("/repos/o/r/issues/{b}"),
            Some(r#"{"state":"closed"}"#),
        );
        let r = c.get("/search/issues?q=repo%3Aacme%2Fmodels+is%3Aissue+is%3Aopen+label%3A%22model%3A+fraud%22+%22drift+detected%22");
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v["total_count"], 1);
        assert_eq!(v["incomplete_results"], false);
        assert_eq!(v["items"][0]["number"], a);
        assert_eq!(
            v["items"][0]["html_url"],
            format!("https://github.com/acme/models/issues/{a}")
        );
        // Bare word in title or body, case-insensitive; all states.
        let v = c
            .get("/search/issues?q=repo:acme/models+is:issue+FRAUD-MODEL")
            .json();
        assert_eq!(v["total_count"], 2);
        assert_eq!(v["items"][0]["number"], b); // newest first
        let v = c.get("/search/issues?q=is:closed+fraud-model").json();
        assert_eq!(v["total_count"], 1);
        let v = c
            .get("/search/issues?q=label:modelgate+in:title+fraud")
            .json();
        assert_eq!(v["total_count"], 1);
        let v = c.get("/search/issues?q=is:pr").json();
        assert_eq!(v["items"][0]["number"], 10);
        let v = c.get("/search/issues?q=-label:modelgate+is:issue").json();
        assert_eq!(v["total_count"], 1);
        let v = c.get("/search/issues?q=is:open&per_page=1").json();
        assert_eq!(v["total_count"], 3);
        assert_eq!(v["items"].as_array().unwrap().len(), 1);
        assert_eq!(c.get("/search/issues").status, 422);
    }

    #[test]
    fn fake_github_user_is_the_tokens_account() {
        let gh = FakeGitHub::start();
        let mut c = Client::new(&gh);
        let r = c.get("/user");
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["message"], "Requires authentication");
        c.auth = Some("Bearer anything".into());
        let r = c.get("/user");
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["login"], super::USER_LOGIN);
        assert_eq!(r.json()["type"], "User");
        assert!(r.json().get("plan").is_some(), "the private profile");
        gh.seed_pull(1);
        gh.seed_comment_by(1, "mallory", "hi").unwrap();
        assert_eq!(gh.comments(1)[0]["user"]["login"], "mallory");
        gh.use_app_token("github-actions[bot]");
        let r = c.get("/user");
        assert_eq!(r.status, 403);
        assert_eq!(
            r.json()["message"],
            "Resource not accessible by integration"
        );
        let r = c.post("/repos/o/r/issues/1/comments", json!({"body": "x"}));
        assert_eq!(r.status, 201);
        assert_eq!(r.json()["user"]["login"], "github-actions[bot]");
        assert_eq!(r.json()["user"]["type"], "Bot");
    }

    #[test]
    fn fake_github_require_token() {
        let gh = FakeGitHub::start();
        gh.require_token("s3cret");
        let mut c = Client::new(&gh);
        let r = c.get("/repos/o/r/issues");
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json(),
            json!({"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"})
        );
        c.auth = Some("Bearer wrong".into());
        assert_eq!(c.get("/repos/o/r/issues").status, 401);
        c.auth = Some("Bearer s3cret".into());
        assert_eq!(c.get("/repos/o/r/issues").status, 200);
        c.auth = Some("token s3cret".into());
        assert_eq!(c.get("/repos/o/r/issues").status, 200);
        // Webhooks need no GitHub token.
        c.auth = None;
        assert_eq!(
            c.post("/hooks/T000/B000/XXX", json!({"text": "hi"})).status,
            200
        );
        assert_eq!(gh.requests().len(), 5);
    }

    #[test]
    fn fake_github_fail_next_then_success() {
        let gh = FakeGitHub::start();
        gh.fail_next(
            2,
            503,
            &[("retry-after", "1"), ("x-ratelimit-remaining", "0")],
            json!({"message": "Service Unavailable"}),
        );
        let mut c = Client::new(&gh);
        for _ in 0..2 {
            let r = c.post("/repos/o/r/issues", json!({"title": "t"}));
            assert_eq!(r.status, 503);
            assert_eq!(r.header("retry-after"), Some("1"));
            assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
            assert_eq!(
                r.headers
                    .iter()
                    .filter(|(k, _)| k == "x-ratelimit-remaining")
                    .count(),
                1
            );
            assert_eq!(r.json()["message"], "Service Unavailable");
        }
        assert!(gh.issues().is_empty(), "failed requests change nothing");
        let r = c.post("/repos/o/r/issues", json!({"title": "t"}));
        assert_eq!(r.status, 201);
        assert_eq!(r.json()["number"], 1);
        assert_eq!(gh.requests().len(), 3);
        gh.fail_next(1, 502, &[], Value::Null);
        let r = c.get("/repos/o/r/issues");
        assert_eq!((r.status, r.body.as_str()), (502, ""));
    }

    #[test]
    fn fake_github_labels_dispatch_webhook_comments() {
        let gh = FakeGitHub::start();
        let mut c = Client::new(&gh);
        let r = c.post(
            "/repos/o/r/labels",
            json!({"name": "needs review", "color": "#FBCA04", "description": "Waiting"}),
        );
        assert_eq!(r.status, 201);
        assert_eq!(
            r.json()["url"],
            format!("{}/repos/o/r/labels/needs%20review", gh.url())
        );
        assert_eq!(r.json()["color"], "fbca04");
        let r = c.post(
            "/repos/o/r/labels",
            json!({"name": "Needs Review", "color": "ffffff"}),
        );
        assert_eq!(r.status, 422);
        assert_eq!(r.json()["message"], "Validation Failed");
        assert_eq!(
            r.json()["errors"][0],
            json!({"resource":"Label","code":"already_exists","field":"name"})
        );
        let r = c.get("/repos/o/r/labels/needs%20review");
        assert_eq!(
            (r.status, r.json()["description"].clone()),
            (200, json!("Waiting"))
        );
        assert_eq!(c.get("/repos/o/r/labels/absent").status, 404);
        assert_eq!(
            c.get("/repos/o/r/labels").json().as_array().unwrap().len(),
            1
        );

        let r = c.post(
            "/repos/o/r/dispatches",
            json!({"event_type": "model-promoted", "client_payload": {"model": "m1"}}),
        );
        assert_eq!(r.status, 204);
        assert!(r.header("content-length").is_none());
        assert_eq!(
            gh.dispatches(),
            vec![json!({"event_type": "model-promoted", "client_payload": {"model": "m1"}})]
        );
        assert_eq!(c.post("/repos/o/r/dispatches", json!({})).status, 422);

        let r = c.post("/hooks/services/T/B/X", json!({"text": "promoted"}));
        assert_eq!((r.status, r.body.as_str()), (200, "ok"));
        assert_eq!(gh.webhooks(), vec![json!({"text": "promoted"})]);
        let form = "payload=%7B%22text%22%3A%22form+post%22%7D";
        let raw = format!(
            "POST /hooks/x HTTP/1.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{form}",
            form.len()
        );
        assert_eq!(c.raw(raw.as_bytes(), false).status, 200);
        assert_eq!(gh.webhooks()[1], json!({"text": "form post"}));
        assert_eq!(c.send("POST", "/hooks/x", Some("not json")).status, 400);

        gh.seed_pull(7);
        let r = c.post(
            "/repos/o/r/issues/7/comments",
            json!({"body": "Plan: promote m1"}),
        );
        assert_eq!(r.status, 201);
        let comment = r.json();
        let id = comment["id"].as_u64().unwrap();
        assert_eq!(
            comment["html_url"],
            format!("https://github.com/o/r/pull/7#issuecomment-{id}")
        );
        assert_eq!(
            comment["issue_url"],
            format!("{}/repos/o/r/issues/7", gh.url())
        );
        c.post("/repos/o/r/issues/7/comments", json!({"body": "second"}));
        let list = c.get("/repos/o/r/issues/7/comments?per_page=1&page=2");
        assert_eq!(list.json()[0]["body"], "second");
        assert!(list.header("link").unwrap().contains("rel=\"prev\""));
        assert_eq!(c.get("/repos/o/r/issues/7").json()["comments"], 2);
        let r = c.send(
            "PATCH",
            &format!("/repos/o/r/issues/comments/{id}"),
            Some(r#"{"body":"Plan v2"}"#),
        );
        assert_eq!(
            (r.status, r.json()["body"].clone()),
            (200, json!("Plan v2"))
        );
        assert_ne!(r.json()["updated_at"], r.json()["created_at"]);
        assert_eq!(
            c.send("DELETE", &format!("/repos/o/r/issues/comments/{id}"), None)
                .status,
            204
        );
        assert_eq!(
            c.send("DELETE", &format!("/repos/o/r/issues/comments/{id}"), None)
                .status,
            404
        );
        assert_eq!(gh.comments(7).len(), 1);
        assert_eq!(gh.comments(7)[0]["body"], "second");
        assert_eq!(gh.issues()[0]["comments"], 1);
        // Issue labels.
        let r = c.post(
            "/repos/o/r/issues/7/labels",
            json!({"labels": ["needs review", "x"]}),
        );
        assert_eq!(r.json().as_array().unwrap().len(), 2);
        let r = c.send("DELETE", "/repos/o/r/issues/7/labels/needs%20review", None);
        assert_eq!(r.json()[0]["name"], "x");
    }

    #[test]
    fn fake_github_drop_stops_server_and_closes_connections() {
        let gh = FakeGitHub::start();
        let url = gh.url();
        let mut c = Client::new(&gh);
        assert_eq!(c.get("/repos/o/r/issues").status, 200);
        drop(gh);
        let mut rest = Vec::new();
        assert_eq!(c.reader.read_to_end(&mut rest).unwrap_or(0), 0);
        assert!(TcpStream::connect(url.trim_start_matches("http://")).is_err());
    }

    #[test]
    fn fake_github_concurrent_clients() {
        let gh = FakeGitHub::start();
        std::thread::scope(|s| {
            for t in 0..6 {
                let gh = &gh;
                s.spawn(move || {
                    let mut c = Client::new(gh);
                    for i in 0..10 {
                        let r = c.post("/repos/o/r/issues", json!({"title": format!("t{t}-{i}")}));
                        assert_eq!(r.status, 201);
                        assert_eq!(c.get("/repos/o/r/issues?per_page=1").status, 200);
                    }
                });
            }
        });
        let mut numbers: Vec<u64> = gh
            .issues()
            .iter()
            .map(|i| i["number"].as_u64().unwrap())
            .collect();
        numbers.dedup();
        assert_eq!(numbers, (1..=60).collect::<Vec<u64>>());
        assert_eq!(gh.requests().len(), 120);
    }
}
