//! Build and push through the container engine (`tau-engine`). The digest kept is the one the
//! registry answered for the push, not the engine's local image id: only the former names the
//! same bytes on every host that pulls it.

use tau_engine::{Credentials, Engine, Reference};
use tracing::Instrument;

use crate::config::RegistryConfig;
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

/// The login for the configured registry: `<credentials_env_prefix>_USERNAME`/`_PASSWORD` when
/// both are set, else the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
/// credential helpers included), else anonymous. See [`tau_engine::auth`].
pub fn registry_credentials(config: &RegistryConfig) -> Result<Option<Credentials>> {
    tau_engine::auth::lookup(&config.url, config.credentials_env_prefix.as_deref())
        .map_err(engine_error)
}

/// Pushes `image` with `credentials`; returns the manifest digest the registry holds for it.
pub async fn push(
    engine: &Engine,
    image: &str,
    credentials: Option<&Credentials>,
) -> Result<String> {
    let span = tracing::info_span!(
        "deploy.push",
        image,
        login = credentials.map_or("anonymous", |c| c.origin())
    );
    let reference = Reference::parse(image).map_err(engine_error)?;
    engine
        .push(&reference, credentials)
        .instrument(span)
        .await
        .map_err(|e| match e {
            // Say which login was refused (its source, never its secret).
            tau_engine::Error::Unauthorized { .. } => Error::RegistryUnauthorized(format!(
                "{e} [login used: {}]",
                credentials.map_or("none (anonymous)", |c| c.origin())
            )),
            e => engine_error(e),
        })
}

pub(crate) fn engine_error(e: tau_engine::Error) -> Error {
    match e {
        tau_engine::Error::Unauthorized { .. } => Error::RegistryUnauthorized(e.to_string()),
        tau_engine::Error::Credentials { .. } => Error::RegistryCredentials(e.to_string()),
        e => Error::Engine(e.to_string()),
    }
}
