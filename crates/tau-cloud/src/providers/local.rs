//! The `local` target: the service as a container on this host's engine, its port published on
//! 127.0.0.1 only. Readiness is probed over HTTP from here, because healthchecks declared in an
//! image never run under an engine without systemd (Podman here), and an engine answers a start
//! before a failing process has exited.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tau_engine::{Engine, Reference};
use tracing::Instrument;

use super::{ApiRequest, EnvVar, Observed, ServiceSpec, State};
use crate::image::engine_error;
use crate::{Error, Result};

/// Containers of deployed services are named `tau-deploy-<service>`.
pub const NAME_PREFIX: &str = "tau-deploy-";
/// How long a new container must stay running before its health path is asked (the swap then
/// gives it at least 5 s to answer).
pub const SETTLE: Duration = Duration::from_secs(3);
/// The label that marks a container as a deployed service.
pub const SERVICE_LABEL: &str = "io.tau.deploy.service";

pub fn container_name(service: &str) -> String {
    format!("{NAME_PREFIX}{service}")
}

/// The engine requests a deploy makes, for dry runs (the Docker Engine API paths).
pub fn plan(
    engine_url: &str,
    spec: &ServiceSpec,
    host_port: u16,
    existing: bool,
) -> Vec<ApiRequest> {
    let base = format!("{}/v1.41", engine_url.trim_end_matches('/'));
    let name = container_name(&spec.service);
    let temp = format!("{name}.tau-next-<id>");
    let mut out = Vec::new();
    out.push(ApiRequest {
        action: "pull the image",
        method: "POST",
        url: format!("{base}/images/create?fromImage={}", spec.image),
        headers: Vec::new(),
        body: None,
    });
    let env: Vec<String> = spec
        .env
        .iter()
        .map(|(k, v)| format!("{k}={}", v.wire_value()))
        .collect();
    let port_key = format!("{}/tcp", spec.port);
    let host = if host_port == 0 {
        "<a free port>".to_string()
    } else {
        host_port.to_string()
    };
    out.push(ApiRequest {
        action: "create the new container under a temporary name",
        method: "POST",
        url: format!("{base}/containers/create?name={temp}"),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(json!({
            "Image": spec.image,
            "Env": env,
            "Labels": { SERVICE_LABEL: spec.service, tau_engine::IMAGE_LABEL: spec.image },
            "ExposedPorts": { &port_key: {} },
            "HostConfig": { "PortBindings": { &port_key: [{ "HostIp": "127.0.0.1", "HostPort": host }] } },
        })),
    });
    if existing {
        out.push(ApiRequest {
            action: "stop the previous container (it is started again if anything below fails)",
            method: "POST",
            url: format!("{base}/containers/{name}/stop?t=10"),
            headers: Vec::new(),
            body: None,
        });
    }
    out.push(ApiRequest {
        action: "start the new container, then require it running and healthy",
        method: "POST",
        url: format!("{base}/containers/{temp}/start"),
        headers: Vec::new(),
        body: None,
    });
    if existing {
        out.push(ApiRequest {
            action: "remove the previous container",
            method: "DELETE",
            url: format!("{base}/containers/{name}?force=true"),
            headers: Vec::new(),
            body: None,
        });
    }
    out.push(ApiRequest {
        action: "rename the new container",
        method: "POST",
        url: format!("{base}/containers/{temp}/rename?name={name}"),
        headers: Vec::new(),
        body: None,
    });
    out
}

pub struct Local {
    pub engine: Engine,
    http: reqwest::Client,
}

impl Local {
    pub fn new(engine: Engine) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Local { engine, http }
    }

    /// Replaces the service's container with one running `spec`, on `host_port` of 127.0.0.1
    /// (0: a free port), through the Deploy Agent's atomic swap: pull first, create under a
    /// temporary name, stop the old one, start the new one, require it to stay up for
    /// [`SETTLE`] (at most `wait`) and its health path to answer; only then remove the old one.
    /// Any failure starts the previous container again, so a bad image never leaves the service
    /// down. `journal` is the swap's journal: a `tau deploy` killed mid-swap is finished or undone
    /// by the next one.
    pub async fn deploy(
        &self,
        spec: &ServiceSpec,
        host_port: u16,
        wait: Duration,
        journal: &Path,
    ) -> Result<Observed> {
        let span = tracing::info_span!("deploy.run", provider = "local", service = %spec.service);
        async {
            if spec
                .env
                .iter()
                .any(|(_, v)| matches!(v, EnvVar::Secret { value: None, .. }))
            {
                return Err(Error::Provider {
                    provider: "local",
                    message: "secret values were not resolved".into(),
                });
            }
            let name = container_name(&spec.service);
            let image = Reference::parse(&spec.image).map_err(engine_error)?;
            let port = if host_port == 0 {
                free_port()?
            } else {
                host_port
            };
            let plan = tau_agent::swap::Plan {
                container_name: name.clone(),
                image,
                env: spec
                    .env
                    .iter()
                    .map(|(k, v)| (k.clone(), v.wire_value()))
                    .collect(),
                volumes: BTreeMap::new(),
                ports: BTreeMap::from([(spec.port, port)]),
                settle: wait.min(SETTLE),
                stop_timeout: Duration::from_secs(10),
                // The container's own port: the swap probes it through the published host port.
                health_url: Some(format!(
                    "http://127.0.0.1:{}{}",
                    spec.port, spec.health_check_path
                )),
                labels: BTreeMap::from([(SERVICE_LABEL.to_string(), spec.service.clone())]),
            };
            tau_agent::swap::replace(&self.engine, journal, &plan)
                .await
                .map_err(|failure| Error::Provider {
                    provider: "local",
                    message: failure.reason,
                })?;
            let url = format!("http://127.0.0.1:{port}");
            self.status(&name, Some(&url), &spec.health_check_path)
                .await
        }
        .instrument(span)
        .await
    }

    /// The container's state; running and answering `health` on `url` is ready.
    pub async fn status(&self, name: &str, url: Option<&str>, health: &str) -> Result<Observed> {
        let Some(c) = self.engine.inspect(name).await.map_err(engine_error)? else {
            return Ok(Observed {
                service_id: name.to_string(),
                url: None,
                state: State::Missing,
                provider_state: "no such container".into(),
            });
        };
        let (state, provider_state) = if !c.running {
            (
                State::Failed,
                format!("exited with code {}", c.exit_code.unwrap_or(-1)),
            )
        } else {
            let healthy = match url {
                Some(url) => self
                    .http
                    .get(format!("{url}{health}"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success()),
                None => false,
            };
            if healthy {
                (State::Ready, "running, healthy".to_string())
            } else {
                (
                    State::Pending,
                    "running, health check not answering yet".to_string(),
                )
            }
        };
        Ok(Observed {
            service_id: c.name,
            url: url.map(str::to_string),
            state,
            provider_state,
        })
    }

    /// Stops and removes the container; one already gone counts as removed.
    pub async fn destroy(&self, name: &str) -> Result<()> {
        if self
            .engine
            .inspect(name)
            .await
            .map_err(engine_error)?
            .is_none()
        {
            return Ok(());
        }
        self.engine
            .stop(name, Duration::from_secs(10))
            .await
            .map_err(engine_error)?;
        self.engine.remove(name).await.map_err(engine_error)
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Provider {
        provider: "local",
        message: format!("cannot find a free port on 127.0.0.1: {e}"),
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Provider {
            provider: "local",
            message: e.to_string(),
        })
}
