//! Build and push through the container engine (`tau-engine`). The digest kept is the one the
//! registry answered for the push, not the engine's local image id: only the former names the
//! same bytes on every host that pulls it.

use tau_engine::{Engine, Reference};
use tracing::Instrument;

use crate::context::Context;
use crate::{Error, Result};

/// Builds `context` as `image` (`registry/repository:tag`); returns the engine's image id.
pub async fn build(engine: &Engine, context: &Context, image: &str) -> Result<String> {
    let span = tracing::info_span!("deploy.build", image, context_digest = %context.digest, files = context.files.len());
    engine
        .build(context.tar.clone(), image)
        .instrument(span)
        .await
        .map_err(engine_error)
}

/// Pushes `image`; returns the manifest digest the registry holds for it.
pub async fn push(engine: &Engine, image: &str) -> Result<String> {
    let span = tracing::info_span!("deploy.push", image);
    let reference = Reference::parse(image).map_err(engine_error)?;
    engine
        .push(&reference)
        .instrument(span)
        .await
        .map_err(engine_error)
}

pub(crate) fn engine_error(e: tau_engine::Error) -> Error {
    Error::Engine(e.to_string())
}
