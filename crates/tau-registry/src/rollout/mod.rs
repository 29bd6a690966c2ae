//! Rollout and rollback by tag, through a [`Deployer`] (the Deploy Agent).
//!
//! `rollout`: the tag's history row becomes `staged` and `pinned_tag` points at it; the image is
//! deployed as `repo:tag@digest` with a W3C `traceparent` carrying the row's `trace_id`; the new
//! image must then be seen running through the agent's status for the verify period. Then the row
//! is `active`. On a failure, or when the new tag is not verified by `timeout` minus the rollback's
//! share ([`Options::rollback_reserve`]), both measured from the deploy call, the row
//! becomes `failed`, the last `active` tag is deployed again and `pinned_tag` restored: the result
//! is `rolled_back`. A failed or rolled-back tag is refused afterwards unless forced, so automation
//! never redeploys the tag it just backed out of.
//!
//! `rollback`: the pinned (active) tag's row becomes `rolled_back` and the newest other `active`
//! tag is deployed and pinned.
//!
//! A rollout holds the agent's store lock from first read to last write, so two rollouts of one
//! agent (in any processes) serialize.

mod agent;
mod back;
mod deployer;
mod run;
#[cfg(test)]
mod tests;

use std::time::Duration;

use serde::Serialize;

/// Now, in Unix milliseconds (report fields that are explicitly times).
pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub use agent::AgentDeployer;
pub use back::rollback;
pub use deployer::{DeployError, DeployRequest, Deployer, Observed};
pub use run::rollout;

use crate::policy::Environment;

/// How a rollout runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub verify: Duration,
    pub timeout: Duration,
    /// Asked for by a person: allowed when `autodeploy_enabled` is false.
    pub manual: bool,
    /// Deploy a tag that failed or was rolled back before.
    pub force: bool,
    /// Overrides the environment the tag implies (`dev-…` → dev, `vX.Y.Z` → prod).
    pub environment: Option<Environment>,
    /// How often the agent's status is read while verifying.
    pub poll: Duration,
}

impl Options {
    /// The part of `timeout` kept for going back to the last active tag: half of what the verify
    /// period leaves (15 s of the default 60 s with a 30 s verify). The new tag must be verified
    /// by `timeout - reserve`, so a failed rollout, rollback included, still ends within `timeout`.
    pub fn rollback_reserve(&self) -> Duration {
        self.timeout.saturating_sub(self.verify) / 2
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verify: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
            manual: false,
            force: false,
            environment: None,
            poll: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Active,
    RolledBack,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Active => "active",
            Outcome::RolledBack => "rolled_back",
            Outcome::Failed => "failed",
        }
    }
}

/// One step of a rollout, as it happened; every event carries the rollout's trace id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub at_ms: u64,
    pub event: &'static str,
    pub tag: String,
    pub trace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What a rollout or rollback did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub agent: String,
    pub tag: String,
    pub image: String,
    pub trace_id: String,
    pub environment: Environment,
    pub result: Outcome,
    pub previous_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// From the deploy call to the final state (`active`, or the rollback finished).
    pub elapsed_ms: u64,
    /// Wall-clock window (Unix ms) in which this rollout held the agent's lock: two rollouts of
    /// one agent never have overlapping windows.
    pub locked_from_unix_ms: u64,
    pub locked_until_unix_ms: u64,
    pub events: Vec<Event>,
}
