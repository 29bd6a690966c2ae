//! The HTTP API (axum): `POST /v1/deploy`, `GET /v1/status`, `GET /healthz`, `GET /metrics`.
//!
//! Every non-200 answer is the seed's `{status: "error", reason}`; refusals are 4xx, failures of
//! the engine or the new container 5xx. Handlers share one [`Agent`]: the configuration, the
//! engine, the caller checks, the audit log, the idempotency store and the deploy lock.

mod deploy;
mod status;

use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tau_engine::Engine;

use crate::audit::AuditLog;
use crate::auth::Auth;
use crate::config::Config;
use crate::idempotency;
use crate::metrics::Metrics;
use crate::wire::ErrorBody;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Agent {
    pub config: Config,
    pub engine: Engine,
    pub auth: Auth,
    pub audit: Mutex<AuditLog>,
    pub idempotency: idempotency::Store,
    pub metrics: Metrics,
    /// Serializes deploys inside this process; the state dir's lock file serializes them
    /// between processes on the host.
    pub deploy_lock: tokio::sync::Mutex<()>,
}

pub fn router(agent: Arc<Agent>) -> Router {
    Router::new()
        .route("/v1/deploy", post(deploy::deploy))
        .route("/v1/status", get(status::status))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(agent)
}

pub(crate) fn error(status: u16, body: ErrorBody) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(body)).into_response()
}

async fn healthz() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn metrics(
    axum::extract::State(agent): axum::extract::State<Arc<Agent>>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = agent.auth.check(&headers) {
        return error(denied.status, ErrorBody::new(denied.reason));
    }
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        agent.metrics.encode(),
    )
        .into_response()
}

async fn not_found() -> Response {
    error(
        404,
        ErrorBody::new("no such endpoint: the agent serves POST /v1/deploy, GET /v1/status, GET /healthz and GET /metrics"),
    )
}

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), if well formed.
pub(crate) fn trace_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && hex(flags, 2);
    valid.then(|| trace.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(tp: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("traceparent", tp.parse().unwrap());
        h
    }

    #[test]
    fn a_w3c_traceparent_gives_its_trace_id_and_a_malformed_one_none() {
        assert_eq!(
            trace_id(&with(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            ))
            .as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f35-00f067aa0ba902b7-01",
            "garbage",
        ] {
            assert_eq!(trace_id(&with(bad)), None, "{bad}");
        }
    }
}
