//! The seam between a rollout and whatever starts containers: the Deploy Agent's client in
//! production, a scripted fake in the state machine's tests.

/// What a rollout asks the agent to run (`POST /v1/deploy`): the agent's wire body itself, so the
/// two cannot drift. Its `image` is `repo:tag@sha256:…`: the tag for people, the digest for the
/// engine; its `Debug` shows env names only, since values may be secrets.
pub use tau_agent::wire::DeployRequest;

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
