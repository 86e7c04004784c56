//! The HTTP API of `modelgate serve` (axum): predictions, the served models, health,
//! readiness, Prometheus metrics and the OpenAPI description; the middleware (body limit,
//! timeout, concurrency limit with load shedding, bearer-token auth, access log); and the
//! watcher that swaps the served revision atomically.
//!
//! Bad input is a 4xx JSON answer `{"error":{"code","message","column"}}`, never a panic.

use super::{LoadOptions, Served, predlog, split};
use crate::registry::types::Alias;
use arc_swap::ArcSwap;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    drift_share: prometheus::GaugeVec,
    log_rows: IntGaugeVec,
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
        let drift_share = prometheus::GaugeVec::new(
            Opts::new(
                "modelgate_serve_drift_share",
                "Share of features drifting in the live window of served rows.",
            ),
            &["model"],
        )?;
        let log_rows = IntGaugeVec::new(
            Opts::new(
                "modelgate_serve_log_rows",
                "Rows of the prediction log: accepted, dropped (the queue was full), written, failed.",
            ),
            &["model", "state"],
        )?;
        registry.register(Box::new(drift_share.clone()))?;
        registry.register(Box::new(log_rows.clone()))?;
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
            drift_share,
            log_rows,
        })
    }

    /// The handles of a served version's metrics under `alias` (see
    /// [`super::LoadedVersion::metrics`]).
    fn of_version<'v>(&self, v: &'v super::LoadedVersion, alias: Alias) -> &'v VersionMetrics {
        let slot = match alias {
            Alias::Champion => &v.metrics[0],
            Alias::Challenger => &v.metrics[1],
        };
        slot.get_or_init(|| {
            let version = v.target.version.to_string();
            let labels = [v.target.model.as_str(), version.as_str(), alias.as_str()];
            VersionMetrics {
                requests: self.requests.with_label_values(&labels),
                rows: self.rows.with_label_values(&labels),
                latency: self.latency.with_label_values(&labels),
            }
        })
    }

    fn served(&self, s: &Served) {
        self.loaded.set(s.models.len() as i64);
        self.failed.set(s.failed.len() as i64);
        self.revision.reset();
        self.revision.with_label_values(&[s.commit.as_str()]).set(1);
    }
}

/// The metrics of one version answering as one alias.
pub(crate) struct VersionMetrics {
    requests: IntCounter,
    rows: IntCounter,
    latency: prometheus::Histogram,
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

    /// Writes every prediction accepted so far into finished log files (graceful shutdown).
    pub fn flush_logs(&self) -> Vec<(String, anyhow::Result<()>)> {
        self.current()
            .models
            .iter()
            .filter_map(|(name, m)| m.log.as_ref().map(|l| (name.clone(), l.flush())))
            .collect()
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
        let before = app.current();
        match tokio::task::spawn_blocking(move || super::load(&c, &o, Some(&before))).await {
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
struct PredictRequest<'a> {
    #[serde(borrow)]
    row: Option<crate::scoring::JsonRow<'a>>,
    #[serde(borrow)]
    rows: Option<Vec<crate::scoring::JsonRow<'a>>>,
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
    mut req: Request,
) -> Response {
    let started = Instant::now();
    // The headers are moved out, not copied (as the `HeaderMap` extractor would).
    let headers = std::mem::take(req.headers_mut());
    let body = Bytes::from_request(req, &()).await;
    match predict_inner(&app, &reference, &headers, body, started) {
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

/// The text of a sticky field's value: a string as it is, anything else as JSON.
fn key_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Which version answers one row: the loaded version and the alias it answers as.
struct Route {
    serve: (Arc<super::LoadedVersion>, Alias),
    shadow: Option<(Arc<super::LoadedVersion>, Alias)>,
    key: Option<String>,
}

fn predict_inner(
    app: &App,
    reference: &str,
    headers: &HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
    started: Instant,
) -> Result<Response, ApiError> {
    let served = app.current();
    // Resolves the model (and, for `@alias` / `@vN`, the version) or says why not.
    let chosen = served
        .choose(reference)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "unknown_model", e.0))?;
    let name = reference.split('@').next().unwrap_or(reference);
    let explicit = reference.contains('@');
    let Some(m) = served.models.get(name) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_model",
            format!("the model `{name}` is not served"),
        ));
    };
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
    // Every version of a model takes model.yaml's features: one encoding for all rows.
    let enc =
        crate::scoring::encode_json(&rows, &m.features, &req.id_fields).map_err(|e| ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: e.code,
            message: e.message,
            column: Some(e.column),
        })?;
    let n = m.features.len();
    // Route each row: a named alias or version answers all; else the model's split decides,
    // by the sticky key (a field of the row, or a header of the request).
    let header_key = match m.router.sticky() {
        Some(split::KeySource::Header(h)) => headers
            .get(h.as_str())
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        _ => None,
    };
    let version_of = |a: Alias| -> Result<Arc<super::LoadedVersion>, ApiError> {
        m.aliases
            .get(a.as_str())
            .and_then(|v| m.versions.get(v))
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    format!("`{name}` has no {a} to route to"),
                )
            })
    };
    let mut routes = Vec::with_capacity(rows.len());
    for row in &rows {
        let key = match m.router.sticky() {
            Some(split::KeySource::Field(f)) => row.get(f).and_then(key_text),
            Some(split::KeySource::Header(_)) => header_key.clone(),
            None => None,
        };
        let route = if explicit {
            // Only aliased versions are loaded, so a chosen version always has its alias.
            let alias = chosen.alias.unwrap_or(Alias::Champion);
            Route {
                serve: (chosen.version.clone(), alias),
                shadow: None,
                key,
            }
        } else {
            let d = m.router.route(key.as_deref().map(str::as_bytes));
            Route {
                serve: (version_of(d.serve)?, d.serve),
                shadow: d
                    .shadow
                    .map(|a| version_of(a).map(|v| (v, a)))
                    .transpose()?,
                key,
            }
        };
        routes.push(route);
    }
    // Score each version's rows in one call.
    let score_rows = |v: &super::LoadedVersion, idx: &[usize]| -> Result<Vec<f64>, ApiError> {
        let mut matrix = Vec::with_capacity(idx.len() * n);
        for &i in idx {
            matrix.extend_from_slice(&enc.matrix[i * n..(i + 1) * n]);
        }
        v.pool.score(matrix, idx.len(), n).map_err(|e| {
            log::error!(
                "serve: scoring {} v{}: {e:#}",
                v.target.model,
                v.target.version
            );
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "scoring_failed",
                format!("scoring failed: {e:#}"),
            )
        })
    };
    let mut scores = vec![0f64; rows.len()];
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, r) in routes.iter().enumerate() {
        groups.entry(r.serve.0.target.version).or_default().push(i);
    }
    for idx in groups.values() {
        // A group holds at least the row that made it: idx[0] exists.
        let v = &routes[idx[0]].serve.0;
        for (i, s) in idx.iter().zip(score_rows(v, idx)?) {
            scores[*i] = s;
        }
    }
    let shadow_idx: Vec<usize> = (0..rows.len())
        .filter(|i| routes[*i].shadow.is_some())
        .collect();
    let shadow_scores = match shadow_idx.first() {
        Some(&first) => {
            let v = &routes[first].shadow.as_ref().map(|s| s.0.clone());
            match v {
                Some(v) => score_rows(v, &shadow_idx)?,
                None => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let now = chrono::Utc::now();
    let mut predictions = Vec::with_capacity(rows.len());
    let mut ids: BTreeMap<u32, crate::batch::PredictionIds> = BTreeMap::new();
    let mut id_of = |t: &crate::batch::Target, key: &str| {
        ids.entry(t.version)
            .or_insert_with(|| crate::batch::PredictionIds::new(&t.model, t.version))
            .id(key)
    };
    if let Some(live) = &m.live {
        if let Ok(mut live) = live.lock() {
            static NULL: serde_json::Value = serde_json::Value::Null;
            for row in &rows {
                live.observe(m.features.iter().map(|f| row.get(&f.name).unwrap_or(&NULL)));
            }
        }
    }
    // The logged values of each row, moved out of the request (the rows are read no more); a
    // row scored in shadow too logs a copy.
    let mut rows = rows;
    let mut inputs = |i: usize| -> Vec<serde_json::Value> {
        m.log_columns
            .iter()
            .map(|c| rows[i].take(&c.name))
            .collect()
    };
    let mut shadow_inputs: BTreeMap<usize, Vec<serde_json::Value>> = BTreeMap::new();
    for (i, r) in routes.iter().enumerate() {
        let (v, alias) = &r.serve;
        let t = &v.target;
        let id = id_of(t, &enc.keys[i]);
        let prediction = crate::scoring::prediction(scores[i], served.threshold);
        if let Some(log) = &m.log {
            let logged = inputs(i);
            if r.shadow.is_some() {
                shadow_inputs.insert(i, logged.clone());
            }
            log.append(predlog::Served {
                inputs: logged,
                score: scores[i],
                prediction,
                prediction_id: id.clone(),
                version: t.version,
                alias: *alias,
                artifact_sha256: t.artifact_sha256.clone(),
                served_at: now,
                request_key: r.key.clone(),
                shadow: false,
            });
        }
        predictions.push(Prediction {
            prediction_id: id,
            model: &t.model,
            version: t.version,
            alias: Some(alias.as_str()),
            score: scores[i],
            prediction,
        });
    }
    if let Some(log) = &m.log {
        for (i, s) in shadow_idx.iter().zip(&shadow_scores) {
            if let Some((v, alias)) = &routes[*i].shadow {
                let t = &v.target;
                log.append(predlog::Served {
                    inputs: shadow_inputs.remove(i).unwrap_or_default(),
                    score: *s,
                    prediction: crate::scoring::prediction(*s, served.threshold),
                    prediction_id: id_of(t, &enc.keys[*i]),
                    version: t.version,
                    alias: *alias,
                    artifact_sha256: t.artifact_sha256.clone(),
                    served_at: now,
                    request_key: routes[*i].key.clone(),
                    shadow: true,
                });
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    for idx in groups.values() {
        let (v, alias) = &routes[idx[0]].serve;
        let m = app.metrics.of_version(v, *alias);
        m.requests.inc();
        m.rows.inc_by(idx.len() as u64);
        m.latency.observe(elapsed);
    }
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
                "split": m.router.view(),
                "drift": live_drift(m),
                "log": m.log.as_ref().map(|l| serde_json::json!({
                    "dir": l.dir(),
                    "stats": l.stats(),
                })),
                "notes": m.notes,
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

/// The live drift of a model: rows in the window, drift share and severity (`null` without
/// live drift).
fn live_drift(m: &super::ServedModel) -> serde_json::Value {
    let Some(live) = &m.live else {
        return serde_json::Value::Null;
    };
    let Ok(live) = live.lock() else {
        return serde_json::Value::Null;
    };
    match live.report() {
        Ok(Some(r)) => serde_json::json!({
            "rows": live.rows(),
            "drift_share": r.drift_share,
            "severity": r.severity,
        }),
        Ok(None) => serde_json::json!({"rows": 0, "drift_share": null, "severity": null}),
        Err(e) => serde_json::json!({"rows": live.rows(), "error": format!("{e:#}")}),
    }
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
    let served = app.current();
    app.metrics.drift_share.reset();
    app.metrics.log_rows.reset();
    for (name, m) in &served.models {
        if let Some(share) = m
            .live
            .as_ref()
            .and_then(|l| l.lock().ok().and_then(|l| l.drift_share()))
        {
            app.metrics
                .drift_share
                .with_label_values(&[name.as_str()])
                .set(share);
        }
        if let Some(log) = &m.log {
            let st = log.stats();
            for (state, v) in [
                ("accepted", st.accepted),
                ("dropped", st.dropped),
                ("written", st.written),
                ("failed", st.failed),
            ] {
                app.metrics
                    .log_rows
                    .with_label_values(&[name.as_str(), state])
                    .set(v as i64);
            }
        }
    }
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
async fn auth(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.config.token {
        let given = req
            .headers()
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

/// Turns the middleware's plain answers (a body over the limit, a timeout, an overload) into
/// the JSON error shape, and writes one structured access-log line a request (`log` target
/// `modelgate::serve::access`, when enabled). One layer for both: each layer costs every
/// request a boxed future.
async fn json_errors_and_access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let access = log::log_enabled!(target: "modelgate::serve::access", log::Level::Info)
        .then(|| (req.method().clone(), req.uri().path().to_string()));
    let r = json_errors(next.run(req).await);
    if let Some((method, path)) = access {
        log::info!(
            target: "modelgate::serve::access",
            "method={method} path={path} status={} duration_ms={:.3}",
            r.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    r
}

/// The JSON error shape of a plain error answer; JSON and successful answers are kept.
fn json_errors(r: Response) -> Response {
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

/// The routes with their middleware, as one service (serve it with
/// `axum::serve(listener, axum::ServiceExt::into_make_service(service))`).
///
/// The middleware wraps the router from outside rather than each route from inside
/// (`Router::layer`): a request clones the service it is given, and a stack of concrete layers
/// clones without an allocation a layer, where each route's boxed stack does not.
pub fn router(
    app: Arc<App>,
) -> impl tower::Service<
    Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    use axum::error_handling::HandleErrorLayer;
    use tower::ServiceBuilder;
    let v1 = Router::new()
        .route(ROUTES[0].1, post(predict))
        .route(ROUTES[1].1, get(models))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), auth));
    let routes = Router::new()
        .merge(v1)
        .route(ROUTES[2].1, get(healthz))
        .route(ROUTES[3].1, get(readyz))
        .route(ROUTES[4].1, get(metrics))
        .route(ROUTES[5].1, get(openapi))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(app.clone());
    ServiceBuilder::new()
        .layer(axum::middleware::from_fn(json_errors_and_access_log))
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .concurrency_limit(app.config.concurrency.max(1))
        .timeout(app.config.timeout)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            app.config.max_body_bytes,
        ))
        .service(routes)
}
