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
    let image_digest = match Reference::parse(&container.image) {
        Ok(reference) => match reference.digest() {
            Some(d) => Some(d.to_string()),
            None => agent.engine.image_digest(&reference).await.ok().flatten(),
        },
        Err(_) => None,
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
