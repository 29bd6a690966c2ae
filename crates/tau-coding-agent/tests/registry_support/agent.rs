//! A real Deploy Agent (`tau agent serve`) on the test lab, for rollout tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tau_testkit::engine::Lab;

#[path = "../agent_support/serve.rs"]
mod serve;

pub const CLIENT_ID: &str = "registry-rollout.access";
pub const SECRET_ENV: &str = "TAU_REGISTRY_TEST_AGENT_SECRET";
/// The agent's service-token secret; generated per process so no literal sits in the repo.
pub fn secret() -> String {
    format!("rt-{}-{}", std::process::id(), "agent-token")
}

/// A running `tau agent serve`; killed on drop.
pub struct Agent {
    child: Child,
    pub url: String,
    pub audit_log: PathBuf,
}

impl Agent {
    /// Starts a prod agent owning `container` with images under `REGISTRY/org`, settling for 1 s
    /// and stopping with a 2 s timeout.
    pub fn start(lab: &Lab, dir: &Path, container: &str) -> Agent {
        Self::start_tuned(
            lab,
            dir,
            container,
            "settle_seconds = 1\nstop_timeout_seconds = 2\n",
        )
    }

    /// As [`Agent::start`], with `tuning` (TOML lines: `settle_seconds`, `stop_timeout_seconds`,
    /// `health_url`) instead of the short defaults.
    pub fn start_tuned(lab: &Lab, dir: &Path, container: &str, tuning: &str) -> Agent {
        let config = dir.join("agent.toml");
        let audit_log = dir.join("agent-audit.jsonl");
        std::fs::write(
            &config,
            format!(
                r#"environment = "prod"
listen = "127.0.0.1:0"
container_name = "{container}"
image_repositories = ["{registry}/org"]
audit_log = "{audit}"
state_dir = "{state}"
engine = "{engine}"
{tuning}
[volumes]

[[service_tokens]]
client_id = "{CLIENT_ID}"
secret_env = "{SECRET_ENV}"
"#,
                registry = lab.registry(),
                audit = audit_log.display(),
                state = dir.join("agent-state").display(),
                engine = lab.docker_host(),
            ),
        )
        .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tau"));
        command
            .args(["agent", "serve", "--config"])
            .arg(&config)
            .env(SECRET_ENV, secret())
            .env_remove("TAU_JSON")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        let serve::Served { child, url, .. } = serve::serve(command);
        Agent {
            child,
            url,
            audit_log,
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
