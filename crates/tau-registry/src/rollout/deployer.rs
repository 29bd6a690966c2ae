//! The seam between a rollout and whatever starts containers: the Deploy Agent's client in
//! production, a scripted fake in the state machine's tests.

use std::collections::BTreeMap;
use std::fmt;

use crate::policy::Environment;

/// What a rollout asks the agent to run (`POST /v1/deploy`).
#[derive(Clone, PartialEq, Eq)]
pub struct DeployRequest {
    pub container_name: String,
    /// `repo:tag@sha256:…`: the tag for people, the digest for the engine.
    pub image: String,
    pub environment: Environment,
    pub env: BTreeMap<String, String>,
    pub volumes: BTreeMap<String, String>,
}

// Env values may be secrets resolved at deploy time: Debug shows their names only.
impl fmt::Debug for DeployRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeployRequest")
            .field("container_name", &self.container_name)
            .field("image", &self.image)
            .field("environment", &self.environment)
            .field("env_keys", &self.env.keys().collect::<Vec<_>>())
            .field("volumes", &self.volumes)
            .finish()
    }
}

/// What the agent reports running (`GET /v1/status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub running: bool,
    pub image: Option<String>,
}

/// Deploys and observes one host's container.
#[allow(async_fn_in_trait)]
pub trait Deployer {
    /// Asks for `request`; `Err` carries the agent's reason.
    async fn deploy(
        &self,
        request: &DeployRequest,
        traceparent: &str,
        idempotency_key: &str,
    ) -> Result<(), String>;
    async fn status(&self) -> Result<Observed, String>;
}
