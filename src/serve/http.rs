//! The HTTP API of `modelgate serve` (axum): predictions, the served models, health,
//! readiness, Prometheus metrics and the OpenAPI description; the middleware (body limit,
//! timeout, concurrency limit with load shedding, bearer-token auth, access log); and the
//! watcher that swaps the served revision atomically.
//!
//! Bad input is a 4xx JSON answer `{"error":{"code","message","column"}}`, never a panic.

use super::{LoadOptions, Served};
use arc_swap::ArcSwap;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every route: method and path, as the router and the OpenAPI document name them.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/models/{model}/predict"),
    ("get", "/v1/models"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

/// Limits and auth of the server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Most rows in one request.
    pub max_rows: usize,
    /// Longest a request may take.
    pub timeout: Duration,
    /// Requests handled at once; more are refused with 503 (back-pressure).
    pub concurrency: usize,
    /// The bearer token `/v1/` requests must carry, if any.
    pub token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body_bytes: 1 << 20,
            max_rows: 1000,
            timeout: Duration::from_secs(10),
            concurrency: 256,
            token: None,
        }
    }
}

/// The metrics of the server (Prometheus text format on /metrics).
pub struct Metrics {
    registry: prometheus::Registry,
    requests: IntCounterVec,
    rows: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    loaded: IntGauge,
    failed: IntGauge,
    revision: IntGaugeVec,
    swaps: IntCounter,
    swap_failures: IntCounter,
}

impl Metrics {
    fn new() -> prometheus::Result<Metrics> {
        let registry = prometheus::Registry::new();
        let labels = ["model", "version", "alias"];
        let requests = IntCounterVec::new(
            Opts::new(
                "modelgate_serve_requests_total",
                "Prediction requests answered, by model, version and alias.",
            ),
            &labels,
        )?;
        let rows = IntCounterVec::new(
            Opts::new("modelgate_serve_rows_total", "Rows scored."),
            &labels,
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "modelgate_serve_errors_total",
                "Prediction requests refused, by model reference and error code.",
            ),
            &["model", "code"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "modelgate_serve_request_duration_seconds",
                "Time to answer a prediction request.",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ]),
            &labels,
        )?;
        let loaded = IntGauge::new("modelgate_serve_models_loaded", "Models served.")?;
        let failed = IntGauge::new(
            "modelgate_serve_models_failed",
            "Models of the served revision that failed to load.",
        )?;
        let revision = IntGaugeVec::new(
            Opts::new(
                "modelgate_serve_revision_info",
                "The commit served (value 1).",
            ),
            &["commit"],
        )?;
        let swaps = IntCounter::new(
            "modelgate_serve_swaps_total",
            "Revisions swapped in after start.",
        )?;
        let swap_failures = IntCounter::new(
            "modelgate_serve_swap_failures_total",
            "Revisions refused (they did not validate or load).",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(rows.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(loaded.clone()))?;
        registry.register(Box::new(failed.clone()))?;
        registry.register(Box::new(revision.clone()))?;
        registry.register(Box::new(swaps.clone()))?;
        registry.register(Box::new(swap_failures.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            rows,
            errors,
            latency,
            loaded,
            failed,
            revision,
            swaps,
            swap_failures,
        })
    }

    fn served(&self, s: &Served) {
        self.loaded.set(s.models.len() as i64);
        self.failed.set(s.failed.len() as i64);
        self.revision.reset();
        self.revision.with_label_values(&[s.commit.as_str()]).set(1);
    }
}

/// The server's state: the served revision (swapped atomically: a request keeps the `Arc` it
/// started with, so in-flight requests finish on the old versions), the last refused
/// revision, metrics and limits.
pub struct App {
    current: ArcSwap<Served>,
    refused: Mutex<Option<Refused>>,
    metrics: Metrics,
    config: Config,
}

/// A revision that was not served, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    /// The commit.
    pub commit: String,
    /// Why.
    pub error: String,
}

impl App {
    /// A server state serving `served`.
    pub fn new(served: Served, config: Config) -> anyhow::Result<Arc<App>> {
        let metrics = Metrics::new()?;
        metrics.served(&served);
        Ok(Arc::new(App {
            current: ArcSwap::from_pointee(served),
            refused: Mutex::new(None),
            metrics,
            config,
        }))
    }

    /// The revision served now.
    pub fn current(&self) -> Arc<Served> {
        self.current.load_full()
    }

    /// Serves `served` from now on; requests in flight finish on what they started with.
    pub fn swap(&self, served: Served) {
        self.metrics.served(&served);
        self.current.store(Arc::new(served));
        self.metrics.swaps.inc();
        if let Ok(mut r) = self.refused.lock() {
            *r = None;
        }
    }

    /// Records a revision that was not served.
    pub fn refuse(&self, commit: &str, error: String) {
        self.metrics.swap_failures.inc();
        if let Ok(mut r) = self.refused.lock() {
            *r = Some(Refused {
                commit: commit.to_string(),
                error,
            });
        }
    }

    /// The last refused revision, if the served one has not moved since.
    pub fn refused(&self) -> Option<Refused> {
        self.refused.lock().ok().and_then(|r| r.clone())
    }
}

/// Polls `rev` every `interval` (or at once when `wake` is notified, e.g. on SIGHUP) and,
/// when it names a new commit, validates and loads that commit and swaps it in. A commit
/// that fails is not served (the old one stays), is recorded for /readyz and the log, and is
/// not retried until the ref moves again.
pub async fn watch(
    app: Arc<App>,
    opts: LoadOptions,
    rev: String,
    interval: Duration,
    wake: Arc<tokio::sync::Notify>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = wake.notified() => {}
        }
        let (repo, r) = (opts.repo.clone(), rev.clone());
        let commit =
            match tokio::task::spawn_blocking(move || super::resolve_commit(&repo, &r)).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    log::warn!("serve: watching `{rev}`: {e:#}");
                    continue;
                }
                Err(_) => continue,
            };
        if commit == app.current().commit || app.refused().is_some_and(|r| r.commit == commit) {
            continue;
        }
        log::info!("serve: `{rev}` moved to {commit}; loading it");
        let (o, c) = (opts.clone(), commit.clone());
        match tokio::task::spawn_blocking(move || super::load(&c, &o)).await {
            Ok(Ok(served)) => {
                log::info!(
                    "serve: now serving {commit} ({} models, {} failed)",
                    served.models.len(),
                    served.failed.len()
                );
                app.swap(served);
            }
            Ok(Err(e)) => {
                log::error!("serve: {commit} is not served: {e:#}");
                app.refuse(&commit, format!("{e:#}"));
            }
            Err(e) => {
                log::error!("serve: loading {commit} failed: {e}");
                app.refuse(&commit, e.to_string());
            }
        }
    }
}

/// A refused request: status, code, message and the column at fault.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    column: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            column: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {"code": self.code, "message": self.message, "column": self.column}
        });
        (self.status, Json(body)).into_response()
    }
}

/// A prediction request: one row or a batch of rows keyed by feature name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PredictRequest {
    row: Option<serde_json::Map<String, serde_json::Value>>,
    rows: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    /// Fields that identify a row (as `batch --id-column`); else its content does.
    #[serde(default)]
    id_fields: Vec<String>,
}

/// One scored row.
#[derive(Serialize)]
struct Prediction<'a> {
    prediction_id: String,
    model: &'a str,
    version: u32,
    alias: Option<&'a str>,
    score: f64,
    prediction: i32,
}

#[derive(Serialize)]
struct PredictResponse<'a> {
    revision: &'a str,
    predictions: Vec<Prediction<'a>>,
}

async fn predict(
    State(app): State<Arc<App>>,
    Path(reference): Path<String>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    match predict_inner(&app, &reference, body, started) {
        Ok(r) => r,
        Err(e) => {
            let name = reference.split('@').next().unwrap_or("");
            // Unknown names are not labels: a client cannot grow the metrics without bound.
            let label = if app.current().models.contains_key(name) {
                name
            } else {
                "_unknown"
            };
            app.metrics.errors.with_label_values(&[label, e.code]).inc();
            e.into_response()
        }
    }
}

fn predict_inner(
    app: &App,
    reference: &str,
    body: std::result::Result<Bytes, BytesRejection>,
    started: Instant,
) -> Result<Response, ApiError> {
    let served = app.current();
    let chosen = served
        .choose(reference)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "unknown_model", e.0))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than {} bytes",
                    app.config.max_body_bytes
                ),
            )
        } else {
            ApiError::new(e.status(), "bad_body", e.body_text())
        }
    })?;
    let req: PredictRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "the body is not a prediction request: {e}; expected {{\"rows\": [{{feature: value, …}}, …]}} or {{\"row\": {{…}}}}"
            ),
        )
    })?;
    let rows = match (req.row, req.rows) {
        (Some(r), None) => vec![r],
        (None, Some(rs)) if !rs.is_empty() => rs,
        (None, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "no_rows",
                "`rows` is empty: expected at least one row",
            ));
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "expected exactly one of `row` (an object) and `rows` (an array of objects)",
            ));
        }
    };
    if rows.len() > app.config.max_rows {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_rows",
            format!(
                "{} rows in one request; at most {} are scored at once",
                rows.len(),
                app.config.max_rows
            ),
        ));
    }
    let v = &chosen.version;
    let t = &v.target;
    let enc =
        crate::scoring::encode_json(&rows, &t.features, &req.id_fields).map_err(|e| ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: e.code,
            message: e.message,
            column: Some(e.column),
        })?;
    let n = t.features.len();
    let scores = v.pool.score(enc.matrix, rows.len(), n).map_err(|e| {
        log::error!("serve: scoring {} v{}: {e:#}", t.model, t.version);
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "scoring_failed",
            format!("scoring failed: {e:#}"),
        )
    })?;
    let alias = chosen.alias.as_deref();
    let id_of = crate::batch::PredictionIds::new(&t.model, t.version);
    let predictions: Vec<Prediction> = scores
        .iter()
        .zip(&enc.keys)
        .map(|(s, k)| Prediction {
            prediction_id: id_of.id(k),
            model: &t.model,
            version: t.version,
            alias,
            score: *s,
            prediction: crate::scoring::prediction(*s, served.threshold),
        })
        .collect();
    let version = t.version.to_string();
    let labels = [t.model.as_str(), version.as_str(), alias.unwrap_or("")];
    app.metrics.requests.with_label_values(&labels).inc();
    app.metrics
        .rows
        .with_label_values(&labels)
        .inc_by(rows.len() as u64);
    app.metrics
        .latency
        .with_label_values(&labels)
        .observe(started.elapsed().as_secs_f64());
    Ok(Json(PredictResponse {
        revision: &served.commit,
        predictions,
    })
    .into_response())
}

async fn models(State(app): State<Arc<App>>) -> Response {
    let s = app.current();
    let models: Vec<serde_json::Value> = s
        .models
        .iter()
        .map(|(name, m)| {
            serde_json::json!({
                "name": name,
                "aliases": m.aliases,
                "features": m.features.iter().map(|f| serde_json::json!({
                    "name": f.name,
                    "categories": f.categories,
                })).collect::<Vec<_>>(),
                "versions": m.versions.values().map(|v| serde_json::json!({
                    "version": v.target.version,
                    "artifact": v.target.artifact,
                    "artifact_sha256": v.target.artifact_sha256,
                    "sessions": v.pool.size(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(serde_json::json!({
        "revision": s.commit,
        "threshold": s.threshold,
        "models": models,
        "failed": s.failed,
    }))
    .into_response()
}

async fn healthz() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let s = app.current();
    let ready = !s.models.is_empty();
    let body = serde_json::json!({
        "ready": ready,
        "revision": s.commit,
        "models": s.models.keys().collect::<Vec<_>>(),
        "failed": s.failed,
        "refused_revision": app.refused(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    use prometheus::Encoder;
    let enc = prometheus::TextEncoder::new();
    let mut buf = Vec::new();
    match enc.encode(&app.metrics.registry.gather(), &mut buf) {
        Ok(()) => ([(header::CONTENT_TYPE, enc.format_type())], buf).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "metrics", e.to_string())
            .into_response(),
    }
}

async fn openapi() -> Response {
    Json(super::openapi::document()).into_response()
}

/// Bearer-token auth of `/v1/` (probes, metrics and the description stay open).
async fn auth(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    if let Some(token) = &app.config.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| {
            use sha2::Digest;
            // Compare digests: equal-length, so the time taken does not tell how much matched.
            sha2::Sha256::digest(g.as_bytes()) == sha2::Sha256::digest(token.as_bytes())
        });
        if !ok {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server needs `Authorization: Bearer <token>`",
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
    }
    next.run(req).await
}

/// One structured access-log line a request (`log` target `modelgate::serve::access`).
async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let r = next.run(req).await;
    log::info!(
        target: "modelgate::serve::access",
        "method={method} path={path} status={} duration_ms={:.3}",
        r.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    r
}

/// Turns the middleware's plain answers (a body over the limit, a timeout, an overload) into
/// the JSON error shape.
async fn json_errors(req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || r.status().is_success() {
        return r;
    }
    let (code, message) = match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took longer than the timeout"),
        StatusCode::SERVICE_UNAVAILABLE => ("overloaded", "too many requests at once; retry"),
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "wrong method"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "expected JSON"),
        _ => return r,
    };
    ApiError::new(r.status(), code, message).into_response()
}

async fn overloaded(e: tower::BoxError) -> Response {
    if e.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request took longer than the timeout",
        )
        .into_response()
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many requests at once; retry",
        )
        .into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        )
        .into_response()
    }
}

/// The router with its middleware.
pub fn router(app: Arc<App>) -> Router {
    use axum::error_handling::HandleErrorLayer;
    use tower::ServiceBuilder;
    let limits = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .concurrency_limit(app.config.concurrency.max(1))
        .timeout(app.config.timeout);
    let v1 = Router::new()
        .route(ROUTES[0].1, post(predict))
        .route(ROUTES[1].1, get(models))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), auth));
    Router::new()
        .merge(v1)
        .route(ROUTES[2].1, get(healthz))
        .route(ROUTES[3].1, get(readyz))
        .route(ROUTES[4].1, get(metrics))
        .route(ROUTES[5].1, get(openapi))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            app.config.max_body_bytes,
        ))
        .layer(limits)
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(access_log))
        .with_state(app)
}
