//! The container engine client of tau.
//!
//! The Deploy Agent (`tau-agent`) and cloud deploy's build/push drive a Docker-compatible engine
//! through this crate only, so the engine's surprises are handled in one place. It speaks the
//! Docker Engine API through `bollard`, pinned to API 1.41 (what Podman 4.3 serves), and smooths
//! over what Podman does differently from Docker:
//!
//! - a failed pull, push or build answers 200 with the error inside the progress stream: every
//!   stream is read to its end and an error line becomes an `Err`;
//! - a taken container name answers 500, not 409: recognised as [`Error::NameTaken`];
//! - a missing named volume is created silently on mount: [`Engine::volume_exists`] only looks;
//! - `name:tag@sha256:…` loses its tag in `Config.Image`: [`Engine::create`] keeps the requested
//!   reference in the [`IMAGE_LABEL`] label, and [`Container::image`] reads it back;
//! - the stop timeout is always passed explicitly.
//!
//! Registry logins for push and pull come from [`auth::lookup`] (explicit variables, the Docker
//! config and its credential helpers) and travel as the `X-Registry-Auth` header.
//!
//! Data flow: agent request → [`Reference`] (validated) → `Engine` → engine socket.

pub mod auth;
mod container;
mod error;
mod image;
mod reference;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::{ClientVersion, Docker};

pub use auth::Credentials;
pub use container::{Container, ContainerSpec, ExecOutput};
pub use error::{Error, ErrorKind};
pub use reference::Reference;

/// The label under which [`Engine::create`] records the reference a container was asked to run.
pub const IMAGE_LABEL: &str = "io.tau.image";

/// Podman 4.3's Docker-compatible API version; newer paths are not served.
const API_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};

/// Requests (pulls and builds included) that take longer than this fail as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

/// A connection to one container engine.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    url: String,
    /// Reference → the digest its last pull through this client resolved to.
    pulled: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("url", &self.url).finish()
    }
}

impl Engine {
    /// Connects to `url` (`unix:///PATH`, `tcp://127.0.0.1:N`, `http://127.0.0.1:N`), or to
    /// `DOCKER_HOST` when `None`, or to `/var/run/docker.sock` when that is unset too. Nothing is
    /// sent yet; [`Engine::ping`] checks the engine answers.
    pub fn connect(url: Option<&str>) -> Result<Engine, Error> {
        let url = match url {
            Some(url) => url.to_owned(),
            None => std::env::var("DOCKER_HOST")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned()),
        };
        let timeout = REQUEST_TIMEOUT.as_secs();
        let docker = if let Some(path) = url.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(Error::BadUrl { url });
            }
            Docker::connect_with_unix(&url, timeout, &API_VERSION)
        } else if url.starts_with("tcp://") || url.starts_with("http://") {
            Docker::connect_with_http(&url, timeout, &API_VERSION)
        } else {
            return Err(Error::BadUrl { url });
        };
        let docker = docker.map_err(|e| error::from_bollard(&url, "connect", &url, e))?;
        Ok(Engine {
            docker,
            url,
            pulled: Arc::default(),
        })
    }

    /// The address this engine was reached at.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Checks the engine answers `GET /_ping`.
    pub async fn ping(&self) -> Result<(), Error> {
        self.docker.ping().await.map(|_| ()).map_err(|e| {
            match error::from_bollard(&self.url, "ping", "engine", e) {
                Error::Api {
                    status, message, ..
                } => Error::Unreachable {
                    url: self.url.clone(),
                    message: format!("answered {status}: {message}"),
                },
                other => other,
            }
        })
    }

    fn err(&self, op: &'static str, what: &str, e: bollard::errors::Error) -> Error {
        error::from_bollard(&self.url, op, what, e)
    }
}
