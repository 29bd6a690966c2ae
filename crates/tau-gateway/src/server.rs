//! Routes, request accounting and graceful shutdown.

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
use tau_deployment::health::HealthState;
use tau_deployment::status::{self, Gate};
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};
use crate::snapshot::{Cache, Snapshot};

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
}

impl Config {
    pub fn new(state_dir: PathBuf) -> Self {
        Config {
            state_dir,
            status_cache: Duration::from_millis(1000),
            max_age_ms: None,
            body_limit_bytes: 64 * 1024,
            drain: Duration::from_secs(5),
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
    metrics: Metrics,
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
        metrics: Metrics::default(),
        config: config.clone(),
    });
    let app = Router::new()
        .route("/gateway/status", get(gateway_status))
        .route("/gateway/health/live", get(live))
        .route("/gateway/health/ready", get(ready))
        .route("/metrics", get(prometheus))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), account))
        .with_state(shared);

    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        let _ = signalled_tx.send(());
    };
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(graceful)
            .await
    });
    let server_abort = server.abort_handle();
    let mut server = server;
    tokio::select! {
        result = &mut server => {
            result.map_err(std::io::Error::other)??;
            return Ok(Stopped::Drained);
        }
        _ = signalled_rx => {}
    }
    match tokio::time::timeout(config.drain, &mut server).await {
        Ok(result) => {
            result.map_err(std::io::Error::other)??;
            Ok(Stopped::Drained)
        }
        Err(_) => {
            server_abort.abort();
            Ok(Stopped::DrainTimedOut)
        }
    }
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
        _ => next.run(request).await,
    };
    shared
        .metrics
        .record(route, response.status().as_u16(), started.elapsed());
    response
}

fn uptime_ms(shared: &Shared) -> u64 {
    shared.started.elapsed().as_millis() as u64
}

/// `GET /gateway/status`: the rollout gate. Unauthenticated by design (it is the platform health
/// check), so it carries no paths and nothing secret.
async fn gateway_status(State(shared): State<Arc<Shared>>) -> Response {
    let snapshot = shared.cache.get().await;
    let health = match &*snapshot {
        Snapshot::Health(health) => *health,
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
    let verdict = status::verdict(
        health.as_ref(),
        tau_deployment::now_unix_ms(),
        shared.config.max_age_ms,
    );
    let h = health.unwrap_or_default();
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
    let mut out = String::with_capacity(4096);
    shared.metrics.render_requests(&mut out);
    metrics::gauge(
        &mut out,
        "tau_gateway_uptime_seconds",
        "Seconds since the gateway started.",
        shared.started.elapsed().as_secs_f64(),
    );
    let health = match &*snapshot {
        Snapshot::Health(health) => *health,
        Snapshot::Unreadable(_) => None,
    };
    let readable = matches!(&*snapshot, Snapshot::Health(_));
    metrics::gauge(
        &mut out,
        "tau_deployment_state_readable",
        "1 when state.json could be read.",
        u8::from(readable),
    );
    let verdict = status::verdict(
        health.as_ref(),
        tau_deployment::now_unix_ms(),
        shared.config.max_age_ms,
    );
    let pass = readable && verdict.rollout_gate == Gate::Pass;
    metrics::gauge(
        &mut out,
        "tau_deployment_rollout_gate",
        "1 when rollout_gate=pass, 0 when it holds.",
        u8::from(pass),
    );
    out.push_str("# HELP tau_deployment_health_state 1 for the current health state.\n# TYPE tau_deployment_health_state gauge\n");
    for state in [
        HealthState::Healthy,
        HealthState::Degraded,
        HealthState::Failing,
    ] {
        let current = readable && verdict.classification.state == state;
        out.push_str(&format!(
            "tau_deployment_health_state{{state=\"{}\"}} {}\n",
            state.as_str(),
            u8::from(current)
        ));
    }
    let h = health.unwrap_or_default();
    metrics::gauge(
        &mut out,
        "tau_deployment_failure_streak",
        "Consecutive runs with failed cases.",
        h.failure_streak,
    );
    metrics::gauge(
        &mut out,
        "tau_deployment_queue_depth",
        "Cases still pending after the last run.",
        h.queue_depth,
    );
    let age = verdict.state_age_ms.map_or(-1.0, |ms| ms as f64 / 1000.0);
    metrics::gauge(
        &mut out,
        "tau_deployment_state_age_seconds",
        "Seconds since the last run (-1 before any run).",
        age,
    );
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
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
