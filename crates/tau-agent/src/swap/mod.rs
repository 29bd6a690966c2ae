//! The atomic replace of the host's one runtime container, journaled so that an agent killed at
//! any instruction recovers at start-up.
//!
//! The seed's stop, rm, run loses the old container when run fails. Here the order is: check every
//! volume exists (never create one) → pull (a failed pull changes nothing) → create the new
//! container under a temporary name `<name>.tau-next-<id>` → stop the old one (explicit timeout)
//! → start the new → settle (it must stay running, restart count and start time unchanged, for
//! `settle`) → health URL, if configured → remove the old → rename the new to the configured
//! name. A failure after the stop removes the new container and starts the old one again;
//! [`Failure::restored`] says whether it runs.
//!
//! Each step that changes the engine (create onwards) is written durably to the journal file (`tau-durable`'s atomic write) before it is
//! done. [`recover`] reads it at start-up: before the health verdict the swap is rolled back (the
//! old container runs); once the new container has passed settle and health it is rolled forward
//! (the new one runs under the configured name). Either way exactly one container whose name
//! starts with the configured one is left, running under the configured name.
//!
//! Test-only failure injection: with `TAU_AGENT_ABORT_AT=<step>` (a [`StepName`] in snake case,
//! e.g. `start_new`) in the environment, the process aborts, as `kill -9` would stop it, right
//! after journaling that step and before doing it. Never set it outside tests.

mod journal;
mod probe;
mod recover;
mod replace;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The label holding the registry digest the swap pulled for a container's image.
pub const DIGEST_LABEL: &str = "io.tau.image.digest";

pub use recover::recover;
pub use replace::replace;

/// What to run, as the agent validated it from the request and its configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Plan {
    pub container_name: String,
    pub image: tau_engine::Reference,
    /// Values are secrets: never logged, never in `Debug`, never in a journal.
    pub env: BTreeMap<String, String>,
    /// Named volume → container path. Every one must already exist.
    pub volumes: BTreeMap<String, String>,
    /// Container port → 127.0.0.1 host port.
    pub ports: BTreeMap<u16, u16>,
    pub settle: Duration,
    pub stop_timeout: Duration,
    /// Probed from inside the new container (busybox/`wget`), or through the host port when the
    /// URL's port is published in `ports`.
    pub health_url: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("container_name", &self.container_name)
            .field("image", &self.image)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("volumes", &self.volumes)
            .field("ports", &self.ports)
            .field("settle", &self.settle)
            .field("stop_timeout", &self.stop_timeout)
            .field("health_url", &self.health_url)
            .field("labels", &self.labels)
            .finish()
    }
}

/// The steps of a replace, in order (`Restore` only after a failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepName {
    CheckVolumes,
    Pull,
    Create,
    StopOld,
    StartNew,
    Settle,
    Health,
    RemoveOld,
    Rename,
    Restore,
}

impl StepName {
    pub const ALL: [StepName; 10] = [
        StepName::CheckVolumes,
        StepName::Pull,
        StepName::Create,
        StepName::StopOld,
        StepName::StartNew,
        StepName::Settle,
        StepName::Health,
        StepName::RemoveOld,
        StepName::Rename,
        StepName::Restore,
    ];

    /// The snake-case name used on the wire, in the journal and by `TAU_AGENT_ABORT_AT`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::CheckVolumes => "check_volumes",
            StepName::Pull => "pull",
            StepName::Create => "create",
            StepName::StopOld => "stop_old",
            StepName::StartNew => "start_new",
            StepName::Settle => "settle",
            StepName::Health => "health",
            StepName::RemoveOld => "remove_old",
            StepName::Rename => "rename",
            StepName::Restore => "restore",
        }
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub step: StepName,
    pub ok: bool,
    pub duration_ms: u64,
    pub detail: Option<String>,
}

/// A successful replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The registry digest the new image resolved to.
    pub image_digest: Option<String>,
    pub steps: Vec<Step>,
    /// The image the replaced container ran (as requested then), `None` on a first deploy.
    pub replaced: Option<String>,
}

/// Who is to blame, for the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The request named something that does not exist (image, tag, volume): a 4xx.
    Refused,
    /// The engine or the registry failed or could not be reached: a 502/503.
    Engine,
    /// The new container did not start, exited, restarted or failed its health check: a 5xx.
    Container,
}

/// A failed replace. Nothing was lost: `restored` says whether the old container runs again
/// (it is also true when the failure came before the old one was touched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct Failure {
    pub step: StepName,
    pub class: FailureClass,
    /// A sentence a person can act on, naming the step.
    pub reason: String,
    pub restored: bool,
    pub steps: Vec<Step>,
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    pub action: RecoveryAction,
    /// The step the interrupted swap had journaled, if one was interrupted.
    pub interrupted_at: Option<StepName>,
    /// The image (as requested) now running under the configured name.
    pub running_image: Option<String>,
    /// Temporary containers removed.
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryAction {
    /// No interrupted swap and no leftovers.
    Nothing,
    /// No interrupted swap, but temporary containers were removed.
    CleanedUp,
    /// The interrupted swap was undone: the old container runs.
    RolledBack,
    /// The interrupted swap was finished: the new container runs under the configured name.
    RolledForward,
}

/// Why [`recover`] (or the journal) failed.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("swap journal {}: {message}", path.display())]
    Journal { path: PathBuf, message: String },
    #[error("recovering container {name:?}: {source}")]
    Engine {
        name: String,
        #[source]
        source: tau_engine::Error,
    },
    #[error("recovering container {name:?}: {message}")]
    Unrecoverable { name: String, message: String },
}

/// Containers under a temporary name start with this after the configured name.
pub(crate) const TEMP_INFIX: &str = ".tau-next-";

/// `<name>.tau-next-<8 hex>`: starts with the configured name, unique per swap.
pub(crate) fn temp_name(name: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    format!("{name}{TEMP_INFIX}{:08x}", h.finish() as u32)
}

/// Test-only failure injection (see the module doc): abort like `kill -9` before `step`.
pub(crate) fn abort_if_asked(step: StepName) {
    if std::env::var("TAU_AGENT_ABORT_AT").is_ok_and(|v| v == step.as_str()) {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_start_with_the_configured_name_and_differ() {
        let a = temp_name("app");
        let b = temp_name("app");
        assert!(a.starts_with("app.tau-next-"), "{a}");
        assert_ne!(a, b);
    }
}
