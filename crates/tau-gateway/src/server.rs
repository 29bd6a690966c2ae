//! Routes, request accounting and the request timeout; connections are `conn`'s.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tau_deployment::evidence::Requirements;
use tau_deployment::health::HealthState;
use tau_deployment::state::GateInputs;
use tau_deployment::status::{self, Gate};
use tokio::net::TcpListener;

use crate::conn;
use crate::metrics::{self, Metrics};
use crate::snapshot::{Cache, Snapshot};

/// Default of [`Config::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: u32 = 512;
/// Default of [`Config::idle_timeout`], in milliseconds.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Default of [`Config::header_timeout`], in milliseconds.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 5_000;
/// Default of [`Config::request_timeout`], in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// How the gateway serves.
#[derive(Debug, Clone)]
pub struct Config {
    pub state_dir: PathBuf,
    /// How long a status snapshot is reused (default about a second).
    pub status_cache: Duration,
    /// Hold the gate as stale when the last run is older than this.
    pub max_age_ms: Option<u64>,
    /// Requests declaring a larger body get 413.
    pub body_limit_bytes: u64,
    /// After the shutdown signal, in-flight requests get this long to finish.
    pub drain: Duration,
    /// Connections served in full at once; more go to the reserve (see [`crate::conn`]'s policy).
    pub max_connections: usize,
    /// Connections beyond `max_connections` that still get one answer: 200 on
    /// `/gateway/health/live`, 503 `connection_limit` elsewhere. Beyond these, closed at once.
    pub reserved_connections: usize,
    /// A connection with no request for this long (from accept, or since its last response) is
    /// closed.
    pub idle_timeout: Duration,
    /// A request head not complete this long after its first byte (slowloris) closes the
    /// connection.
    pub header_timeout: Duration,
    /// A handler still running after this long is answered 503 `request_timeout`.
    pub request_timeout: Duration,
}

impl Config {
    pub fn new(state_dir: PathBuf) -> Self {
        Config {
            state_dir,
            status_cache: Duration::from_millis(1000),
            max_age_ms: None,
            body_limit_bytes: 64 * 1024,
            drain: Duration::from_secs(5),
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
            reserved_connections: 16,
            idle_timeout: Duration::from_millis(DEFAULT_IDLE_TIMEOUT_MS),
            header_timeout: Duration::from_millis(DEFAULT_HEADER_TIMEOUT_MS),
            request_timeout: Duration::from_millis(DEFAULT_REQUEST_TIMEOUT_MS),
        }
    }
}

/// How the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every connection finished within the drain period.
    Drained,
    /// The drain period ran out; remaining connections were dropped.
    DrainTimedOut,
}

struct Shared {
    config: Config,
    started: Instant,
    cache: Cache,
    metrics: Arc<Metrics>,
}

pub const SERVICE: &str = "tau-gateway";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Route labels for metrics: the known routes, and one label for everything else.
const ROUTES: [&str; 4] = [
    "/gateway/status",
    "/gateway/health/live",
    "/gateway/health/ready",
    "/metrics",
];

/// Serves on `listener` until `shutdown` resolves, then drains for at most `config.drain`.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Stopped> {
    // Created up front so a fresh volume is ready at once; failure is reported by /ready.
    let _ = std::fs::create_dir_all(&config.state_dir);
    let shared = Arc::new(Shared {
        cache: Cache::new(config.state_dir.clone(), config.status_cache),
        started: Instant::now(),
        metrics: Arc::new(Metrics::default()),
        config: config.clone(),
    });
    let (full, reserve) = (routes(&shared), reserve_routes(&shared));
    let plan = conn::Plan {
        full,
        reserve,
        max_connections: config.max_connections,
        reserved_connections: config.reserved_connections,
        clocks: conn::Clocks {
            idle: config.idle_timeout,
            header: config.header_timeout,
        },
        drain: config.drain,
        metrics: shared.metrics.clone(),
    };
    Ok(conn::serve(listener, plan, shutdown).await)
}

/// The routes of a connection under the limit.
fn routes(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route("/gateway/status", get(gateway_status))
        .route("/gateway/health/live", get(live))
        .route("/gateway/health/ready", get(ready))
        .route("/metrics", get(prometheus))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), account))
        .with_state(shared.clone())
}

/// The routes of a reserve connection (over the limit): liveness, and 503 for the rest.
fn reserve_routes(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route("/gateway/health/live", get(live))
        .fallback(at_capacity)
        .layer(middleware::from_fn_with_state(shared.clone(), account))
        .with_state(shared.clone())
}

/// Counts and times every request, and refuses oversized bodies before any handler runs.
async fn account(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = ROUTES
        .iter()
        .find(|r| **r == request.uri().path())
        .copied()
        .unwrap_or("unmatched");
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = shared.config.body_limit_bytes;
    let response = match declared {
        Some(len) if len > limit => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({ "error": "payload_too_large", "limit_bytes": limit })),
        )
            .into_response(),
        _ => match tokio::time::timeout(shared.config.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "request_timeout" })),
            )
                .into_response(),
        },
    };
    shared
        .metrics
        .record(route, response.status().as_u16(), started.elapsed());
    response
}

/// The one place the gateway asks `tau-deployment` for the gate, so HTTP and CLI decide alike.
fn verdict(shared: &Shared, inputs: Option<&GateInputs>) -> status::Verdict {
    let requirements = Requirements {
        max_age_ms: shared.config.max_age_ms,
        ..Requirements::default()
    };
    let empty = GateInputs::default();
    status::gate(
        inputs.unwrap_or(&empty),
        tau_deployment::now_unix_ms(),
        &requirements,
    )
}

fn uptime_ms(shared: &Shared) -> u64 {
    u64::try_from(shared.started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// `GET /gateway/status`: the rollout gate. Unauthenticated by design (it is the platform health
/// check), so it carries no paths and nothing secret.
async fn gateway_status(State(shared): State<Arc<Shared>>) -> Response {
    let snapshot = shared.cache.get().await;
    let inputs = match &*snapshot {
        Snapshot::Gate(inputs) => inputs.as_deref().cloned(),
        Snapshot::Unreadable(reason) => {
            let body = json!({
                "service": SERVICE,
                "version": VERSION,
                "uptime_ms": uptime_ms(&shared),
                "health_state": HealthState::Failing,
                "health_reason": reason,
                "rollout_gate": Gate::Hold,
                "gate_reasons": [reason],
            });
            return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        }
    };
    let verdict = verdict(&shared, inputs.as_ref());
    let h = inputs.and_then(|i| i.health).unwrap_or_default();
    let body = json!({
        "service": SERVICE,
        "version": VERSION,
        "uptime_ms": uptime_ms(&shared),
        "health_state": verdict.classification.state,
        "health_reason": verdict.classification.reason,
        "rollout_gate": verdict.rollout_gate,
        "gate_reasons": verdict.gate_reasons,
        "state_age_ms": verdict.state_age_ms,
        "failure_streak": h.failure_streak,
        "queue_depth": h.queue_depth,
    });
    Json(body).into_response()
}

async fn live() -> Json<Value> {
    Json(json!({ "status": "live" }))
}

async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    let dir = shared.config.state_dir.clone();
    let readable = tokio::task::spawn_blocking(move || std::fs::read_dir(dir).is_ok())
        .await
        .unwrap_or(false);
    if readable {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "reason": "state_dir_unreadable" })),
        )
            .into_response()
    }
}

async fn prometheus(State(shared): State<Arc<Shared>>) -> Response {
    let snapshot = shared.cache.get().await;
    let (readable, inputs) = match &*snapshot {
        Snapshot::Gate(inputs) => (true, inputs.as_deref().cloned()),
        Snapshot::Unreadable(_) => (false, None),
    };
    let verdict = verdict(&shared, inputs.as_ref());
    let h = inputs.and_then(|i| i.health).unwrap_or_default();
    let deployment = metrics::Deployment {
        uptime_seconds: shared.started.elapsed().as_secs_f64(),
        state_readable: readable,
        gate_pass: readable && verdict.rollout_gate == Gate::Pass,
        health_state: readable.then(|| verdict.classification.state.as_str()),
        health_states: [
            HealthState::Healthy,
            HealthState::Degraded,
            HealthState::Failing,
        ]
        .map(HealthState::as_str)
        .to_vec(),
        failure_streak: h.failure_streak,
        queue_depth: h.queue_depth,
        // Milliseconds to seconds; precision beyond 2^53 ms (285,000 years) does not matter.
        state_age_seconds: verdict.state_age_ms.map(|ms| ms as f64 / 1000.0),
    };
    match shared.metrics.encode(&deployment) {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(metrics::CONTENT_TYPE),
            );
            response
        }
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "metrics_encoding_failed" })),
        )
            .into_response(),
    }
}

/// Every path but liveness on a reserve connection (over the connection limit).
async fn at_capacity() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": "connection_limit" })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response()
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "error": "method_not_allowed" })),
    )
        .into_response()
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
