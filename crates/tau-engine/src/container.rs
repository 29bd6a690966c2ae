//! Containers: create, start, stop, rename, remove, inspect, list and exec.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ExecConfig, HostConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    RenameContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::{Engine, Error, Reference, IMAGE_LABEL};

/// What to create. `Debug` shows env names only: the values are secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: Reference,
    pub env: BTreeMap<String, String>,
    /// Named volume → path in the container. The volumes must exist (see [`Engine::volume_exists`]).
    pub volumes: BTreeMap<String, String>,
    /// Container port (TCP) → host port, published on 127.0.0.1 only.
    pub ports: BTreeMap<u16, u16>,
    pub labels: BTreeMap<String, String>,
    /// Overrides the image's CMD.
    pub cmd: Option<Vec<String>>,
}

impl fmt::Debug for ContainerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContainerSpec")
            .field("name", &self.name)
            .field("image", &self.image)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("volumes", &self.volumes)
            .field("ports", &self.ports)
            .field("labels", &self.labels)
            .field("cmd", &self.cmd)
            .finish()
    }
}

/// A container as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    /// Without the leading `/` the API adds.
    pub name: String,
    /// The reference the container was asked to run (from [`IMAGE_LABEL`]), else `Config.Image`.
    pub image: String,
    pub image_id: String,
    pub running: bool,
    pub restart_count: i64,
    /// RFC 3339; `None` when never started.
    pub started_at: Option<String>,
    /// `None` while running or never started.
    pub exit_code: Option<i64>,
    pub labels: BTreeMap<String, String>,
}

/// The result of [`Engine::exec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
}

impl Engine {
    /// Creates (does not start) a container; returns its id. A taken name is [`Error::NameTaken`].
    pub async fn create(&self, spec: &ContainerSpec) -> Result<String, Error> {
        // Refused here, so the engine never gets to quote a malformed variable back.
        if let Some(key) = spec
            .env
            .keys()
            .find(|k| k.is_empty() || k.contains(['=', '\0']))
        {
            return Err(Error::Failed {
                op: "create",
                what: spec.name.clone(),
                message: format!("environment variable name {key:?} is empty or holds '=' or NUL"),
            });
        }
        let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
        labels.insert(IMAGE_LABEL.to_owned(), spec.image.to_string());
        let binds = spec
            .volumes
            .iter()
            .map(|(volume, path)| format!("{volume}:{path}"))
            .collect::<Vec<_>>();
        let port_bindings = spec
            .ports
            .iter()
            .map(|(container, host)| {
                let binding = PortBinding {
                    host_ip: Some("127.0.0.1".to_owned()),
                    host_port: Some(host.to_string()),
                };
                (format!("{container}/tcp"), Some(vec![binding]))
            })
            .collect::<HashMap<_, _>>();
        let body = ContainerCreateBody {
            image: Some(spec.image.to_string()),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(labels),
            cmd: spec.cmd.clone(),
            exposed_ports: Some(port_bindings.keys().cloned().collect()),
            host_config: Some(HostConfig {
                binds: Some(binds),
                port_bindings: Some(port_bindings),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| scrub(self.err("create", &spec.name, e), &spec.env))?;
        Ok(created.id)
    }

    /// Starts a container. The engine answers before a failing process exits: check its state
    /// over time afterwards.
    pub async fn start(&self, name: &str) -> Result<(), Error> {
        self.docker
            .start_container(
                name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .or_else(not_modified)
            .map_err(|e| self.err("start", name, e))
    }

    /// Stops a container, killing it after `timeout` (always passed explicitly: engines differ on
    /// the default). A container already stopped is Ok.
    pub async fn stop(&self, name: &str, timeout: Duration) -> Result<(), Error> {
        let t = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::default().t(t).build();
        self.docker
            .stop_container(name, Some(options))
            .await
            .or_else(not_modified)
            .map_err(|e| self.err("stop", name, e))
    }

    pub async fn rename(&self, from: &str, to: &str) -> Result<(), Error> {
        let options = RenameContainerOptionsBuilder::default().name(to).build();
        self.docker
            .rename_container(from, options)
            .await
            .map_err(|e| self.err("rename", from, e))
    }

    /// Removes a container, running or not. A missing one is Ok. Volumes are never removed.
    pub async fn remove(&self, name: &str) -> Result<(), Error> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(false)
            .build();
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) => match self.err("remove", name, e) {
                Error::NotFound { .. } => Ok(()),
                // Podman sometimes answers 500 for a container that is already gone.
                other if self.inspect(name).await?.is_none() => {
                    drop(other);
                    Ok(())
                }
                other => Err(other),
            },
        }
    }

    /// The container called `name` (or with that id), `None` when there is none.
    pub async fn inspect(&self, name: &str) -> Result<Option<Container>, Error> {
        // Podman reports `stopped` for a container whose process has exited but whose cleanup
        // has not finished; bollard's state enum has no such variant. The state is transient
        // (it becomes `exited`), so ask again for a while before calling it an engine failure.
        let mut attempts = 0;
        loop {
            let answer = self
                .docker
                .inspect_container(
                    name,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
                .await;
            match answer {
                Ok(found) => return Ok(Some(container_from(found))),
                Err(e) if attempts < TRANSIENT_STATE_RETRIES && is_transient_state(&e) => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    return match self.err("inspect", name, e) {
                        Error::NotFound { .. } => Ok(None),
                        other => Err(other),
                    }
                }
            }
        }
    }

    /// Every container, in any state, whose name starts with `name_prefix`, sorted by name.
    pub async fn list(&self, name_prefix: &str) -> Result<Vec<Container>, Error> {
        let filters = HashMap::from([("name".to_owned(), vec![name_prefix.to_owned()])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.err("list", name_prefix, e))?;
        let mut found = Vec::new();
        for summary in summaries {
            // The engine's name filter matches anywhere in the name; we want a prefix.
            let matches = summary
                .names
                .iter()
                .flatten()
                .any(|n| n.trim_start_matches('/').starts_with(name_prefix));
            let Some(id) = summary.id.filter(|_| matches) else {
                continue;
            };
            // A container removed between the list and the inspect is simply gone.
            if let Some(container) = self.inspect(&id).await? {
                found.push(container);
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Runs `cmd` inside the running container `name`; returns its exit code and stdout.
    pub async fn exec(&self, name: &str, cmd: &[&str]) -> Result<ExecOutput, Error> {
        let config = ExecConfig {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(cmd.iter().map(|s| (*s).to_owned()).collect()),
            ..Default::default()
        };
        let exec = self
            .docker
            .create_exec(name, config)
            .await
            .map_err(|e| self.err("exec", name, e))?;
        let started = self
            .docker
            .start_exec(
                &exec.id,
                Some(StartExecOptions {
                    detach: false,
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| self.err("exec", name, e))?;
        let mut stdout = Vec::new();
        if let StartExecResults::Attached { mut output, .. } = started {
            while let Some(chunk) = output.next().await {
                match chunk.map_err(|e| self.err("exec", name, e))? {
                    bollard::container::LogOutput::StdOut { message } => {
                        stdout.extend_from_slice(&message)
                    }
                    bollard::container::LogOutput::Console { message } => {
                        stdout.extend_from_slice(&message)
                    }
                    _ => {}
                }
            }
        }
        let inspected = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(|e| self.err("exec", name, e))?;
        Ok(ExecOutput {
            exit_code: inspected.exit_code.unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
        })
    }
}

/// Replaces any env value the engine's answer might quote, so it never reaches a log or a response.
fn scrub(error: Error, env: &BTreeMap<String, String>) -> Error {
    let clean = |mut message: String| {
        for value in env.values().filter(|v| v.len() >= 4) {
            message = message.replace(value.as_str(), "[redacted]");
        }
        message
    };
    match error {
        Error::Api {
            op,
            what,
            status,
            message,
        } => Error::Api {
            op,
            what,
            status,
            message: clean(message),
        },
        Error::Failed { op, what, message } => Error::Failed {
            op,
            what,
            message: clean(message),
        },
        Error::NotFound { op, what, message } => Error::NotFound {
            op,
            what,
            message: clean(message),
        },
        Error::Unreachable { url, message } => Error::Unreachable {
            url,
            message: clean(message),
        },
        other => other,
    }
}

/// 304 (already started / already stopped) is success for start and stop.
fn not_modified(e: bollard::errors::Error) -> Result<(), bollard::errors::Error> {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 304, ..
        } => Ok(()),
        other => Err(other),
    }
}

/// How many times `inspect` asks again while Podman reports a state bollard cannot read (100 ms
/// apart: 5 s in all).
const TRANSIENT_STATE_RETRIES: u32 = 50;

fn is_transient_state(e: &bollard::errors::Error) -> bool {
    e.to_string().contains("unknown variant `stopped`")
}

fn container_from(found: ContainerInspectResponse) -> Container {
    let labels: BTreeMap<String, String> = found
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let config_image = found
        .config
        .as_ref()
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let state = found.state.unwrap_or_default();
    let running = state.running.unwrap_or(false);
    // Engines report the zero time for a container never started.
    let started_at = state
        .started_at
        .filter(|t| !t.is_empty() && !t.starts_with("0001-01-01"));
    let exit_code = if running || started_at.is_none() {
        None
    } else {
        state.exit_code
    };
    Container {
        id: found.id.unwrap_or_default(),
        name: found
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        image: labels.get(IMAGE_LABEL).cloned().unwrap_or(config_image),
        image_id: found.image.unwrap_or_default(),
        running,
        restart_count: found.restart_count.unwrap_or(0),
        started_at,
        exit_code,
        labels,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn podmans_transient_stopped_state_is_recognised_as_worth_asking_again() {
        let parse = serde_json::from_str::<ContainerInspectResponse>(
            r#"{"State":{"Status":"stopped","Running":false}}"#,
        )
        .unwrap_err();
        assert!(is_transient_state(&bollard::errors::Error::from(parse)));
        let other = serde_json::from_str::<ContainerInspectResponse>(r#"{"State":{"Status":7}}"#)
            .unwrap_err();
        assert!(!is_transient_state(&bollard::errors::Error::from(other)));
    }
    use super::*;

    #[test]
    fn engine_messages_quoting_an_env_value_are_scrubbed() {
        let env = BTreeMap::from([("TOKEN".to_owned(), "hunter2-secret".to_owned())]);
        let e = Error::Api {
            op: "create",
            what: "app".into(),
            status: 500,
            message: "bad env TOKEN=hunter2-secret".into(),
        };
        let shown = scrub(e, &env).to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("TOKEN=[redacted]"), "{shown}");
    }

    #[test]
    fn spec_debug_never_shows_env_values() {
        let spec = ContainerSpec {
            name: "app".into(),
            image: Reference::parse("r.io/app:v1").unwrap(),
            env: BTreeMap::from([("DATABASE_URL".into(), "postgres://u:hunter2@db".into())]),
            volumes: BTreeMap::new(),
            ports: BTreeMap::new(),
            labels: BTreeMap::new(),
            cmd: None,
        };
        let debug = format!("{spec:?}");
        assert!(debug.contains("DATABASE_URL"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
