//! Shared by the `agent_*` integration tests: a real lab (Podman + registry on loopback), the
//! real `tau agent serve` binary, and helpers to talk to it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tau_agent::{Client, DeployRequest, Environment};

mod serve;
use tau_testkit::engine::Lab;

pub const CLIENT_ID: &str = "deploy-ci.access";
pub const SECRET: &str = "s3cret-agent-test-token";
pub const SECRET_ENV: &str = "TAU_AGENT_TEST_SECRET";
pub const DB_URL: &str = "postgres://runtime:hunter2-db-password@127.0.0.1:5432/runtime";
pub const EVENTS_VOLUME: &str = "dreichor-audit-events";
pub const EVENTS_PATH: &str = "/var/lib/dreichor/audit-events";

pub fn tau() -> &'static str {
    env!("CARGO_BIN_EXE_tau")
}

/// A lab with a container name, a repository under the lab registry, a pre-existing volume and
/// a work dir for the agent's config, state and audit log.
pub struct Setup {
    pub lab: Lab,
    pub container: String,
    /// `127.0.0.1:PORT/org/app-…`
    pub repository: String,
    repo_path: String,
    pub dir: tempfile::TempDir,
}

impl Setup {
    pub fn start() -> Option<Setup> {
        let lab = Lab::start()?;
        let container = lab.unique("rt");
        let repo_path = format!("org/{}", lab.unique("app"));
        let repository = format!("{}/{repo_path}", lab.registry());
        lab.create_volume(EVENTS_VOLUME);
        Some(Setup {
            lab,
            container,
            repository,
            repo_path,
            dir: tempfile::tempdir().unwrap(),
        })
    }

    /// Pushes a busybox image `repository:tag` running `cmd`; returns the full reference.
    pub fn push(&self, tag: &str, cmd: &[&str]) -> String {
        self.lab.push_busybox(&self.repo_path, tag, cmd);
        format!("{}:{tag}", self.repository)
    }

    /// A long-running image.
    pub fn push_sleeper(&self, tag: &str) -> String {
        self.push(tag, &["sleep", "3600"])
    }

    /// Writes an agent config (`extra` is appended verbatim) and returns its path.
    /// A dev agent with the plain config `name` and no extra environment.
    pub fn dev_agent(&self, name: &str) -> Agent {
        Agent::spawn(&self.config(name, "dev", ""), &[])
    }

    pub fn config(&self, name: &str, environment: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.toml"));
        let text = format!(
            r#"environment = "{environment}"
listen = "127.0.0.1:0"
container_name = "{container}"
image_repositories = ["{registry}/org"]
audit_log = "{name}-audit.jsonl"
state_dir = "{name}-state"
engine = "{engine}"
settle_seconds = 1
stop_timeout_seconds = 2
{extra}
[volumes]
{EVENTS_VOLUME} = "{EVENTS_PATH}"
unmade-volume = "/var/lib/unmade"

[[service_tokens]]
client_id = "{CLIENT_ID}"
secret_env = "{SECRET_ENV}"
"#,
            container = self.container,
            registry = self.lab.registry(),
            engine = self.lab.docker_host(),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn audit_log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}-audit.jsonl"))
    }

    pub fn request(&self, image: &str) -> DeployRequest {
        DeployRequest {
            container_name: self.container.clone(),
            image: image.to_string(),
            environment: Environment::Dev,
            env: [
                ("DATABASE_URL".to_string(), DB_URL.to_string()),
                ("EXECUTION_PLANE".to_string(), "paper".to_string()),
            ]
            .into(),
            volumes: [(EVENTS_VOLUME.to_string(), EVENTS_PATH.to_string())].into(),
        }
    }

    /// `"<name> running"` or `"<name> <state>"` for every container (any state) whose name
    /// starts with the configured one.
    pub fn containers(&self) -> Vec<String> {
        let out = self.lab.podman_ok(&["ps", "--all", "--format", "json"]);
        let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap_or_default();
        let mut found: Vec<String> = list
            .iter()
            .filter_map(|c| {
                let name = c["Names"][0].as_str()?;
                let state = c["State"].as_str().unwrap_or("?");
                name.starts_with(&self.container)
                    .then(|| format!("{name} {state}"))
            })
            .collect();
        found.sort();
        found
    }
}

/// A running `tau agent serve`; killed on drop.
pub struct Agent {
    pub child: Child,
    pub url: String,
    pub first_line: String,
}

impl Agent {
    pub fn spawn(config: &Path, envs: &[(&str, &str)]) -> Agent {
        let mut command = Command::new(tau());
        command
            .args(["agent", "serve", "--config"])
            .arg(config)
            .env(SECRET_ENV, SECRET)
            .env_remove("TAU_JSON")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        let serve::Served {
            child,
            first_line,
            url,
        } = serve::serve(command);
        Agent {
            child,
            url,
            first_line,
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, CLIENT_ID, SECRET).unwrap()
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit on its own (e.g. the test-only abort hook).
    pub fn wait_exit(mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP client for requests the typed client never sends (wrong content type, bad JSON).
pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `tau agent audit verify PATH --json`: (exit code, JSON).
pub fn audit_verify(path: &Path) -> (i32, serde_json::Value) {
    let out = Command::new(tau())
        .args(["agent", "audit", "verify"])
        .arg(path)
        .arg("--json")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}
