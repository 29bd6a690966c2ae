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

/// Why a deploy call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployError {
    /// The agent never answered (unreachable, connection refused): nothing was deployed, so the
    /// tag is not to blame and is not marked failed.
    Unreached(String),
    /// The agent answered with a refusal or a failure (its reason).
    Failed(String),
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeployError::Unreached(r) | DeployError::Failed(r) => f.write_str(r),
        }
    }
}

/// Deploys and observes one host's container.
#[allow(async_fn_in_trait)]
pub trait Deployer {
    /// Asks for `request`.
    async fn deploy(
        &self,
        request: &DeployRequest,
        traceparent: &str,
        idempotency_key: &str,
    ) -> Result<(), DeployError>;
    async fn status(&self) -> Result<Observed, String>;
}
