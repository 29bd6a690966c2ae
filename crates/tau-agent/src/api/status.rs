use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tau_engine::Reference;

use super::{error, Agent};
use crate::wire::{ErrorBody, Status};

/// `GET /v1/status`: what runs under the configured name. CI uses it to verify, never to control.
pub(super) async fn status(State(agent): State<Arc<Agent>>, headers: HeaderMap) -> Response {
    if let Err(denied) = agent.auth.check(&headers) {
        return error(denied.status, ErrorBody::new(denied.reason));
    }
    agent.metrics.status_request();
    let name = &agent.config.container_name;
    let container = match agent.engine.inspect(name).await {
        Ok(c) => c,
        Err(e) => {
            return error(
                502,
                ErrorBody::new(format!("engine: cannot inspect container {name:?}: {e}")),
            )
        }
    };
    let Some(container) = container else {
        return Json(Status {
            running: false,
            container_name: name.clone(),
            image: None,
            started_at: None,
            image_digest: None,
        })
        .into_response();
    };
    let image_digest = match container.labels.get(crate::swap::DIGEST_LABEL) {
        Some(d) => Some(d.clone()),
        None => digest(&agent, &container.image, &container.image_id).await,
    };
    Json(Status {
        running: container.running,
        container_name: name.clone(),
        image: Some(container.image),
        started_at: container.started_at,
        image_digest,
    })
    .into_response()
}

/// The repository digest of the container's image. An image id names immutable content, so its
/// digest is looked up in the engine once and then served from memory: status is polled, and
/// every engine round trip it saves is latency CI does not wait for.
async fn digest(agent: &Agent, requested: &str, image_id: &str) -> Option<String> {
    let reference = Reference::parse(requested).ok()?;
    if let Some(d) = reference.digest() {
        return Some(d.to_string());
    }
    let cached = agent
        .digests
        .lock()
        .ok()
        .and_then(|m| m.get(image_id).cloned());
    if let Some(d) = cached {
        return Some(d);
    }
    // By the container's image id, not the requested tag: the tag may have moved since (a
    // re-pushed tag pulled by a later deploy that was then restored away).
    let found = agent
        .engine
        .running_digest(image_id, &reference)
        .await
        .ok()
        .flatten()?;
    if let Ok(mut m) = agent.digests.lock() {
        // Bounded: a host runs one container; old ids only pile up across many deploys.
        if m.len() > 64 {
            m.clear();
        }
        m.insert(image_id.to_string(), found.clone());
    }
    Some(found)
}
