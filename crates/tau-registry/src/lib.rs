//! Image tags, the agent catalog, tag history, rollout and automatic rollback.
//!
//! Place in the data flow: `tau registry …` (the CLI) → this crate → a [`store::Store`] (the
//! state dir's files through `tau-durable`, or PostgreSQL) and, for rollouts, a
//! [`rollout::Deployer`] (the Deploy Agent's client) that reaches the host's container engine.
//!
//! - [`policy`]: tag, agent-name, routing-key, credential-reference and trace-id rules, and the
//!   secret detector that keeps token-looking values out of every store, message and log.
//! - [`model`]: the seed's four tables (`registry_accounts`, `agent_catalog`,
//!   `image_tag_history`, `k8s_pull_secret_links`), same columns.
//! - [`apply`]: the declarative catalog file.
//! - [`digest`]: what digest a registry answers for a tag.
//! - [`record`], [`rollout`]: history rows and the rollout/rollback state machine.
//! - [`manifests`]: the Kubernetes Deployment of a catalog entry.
//!
//! The library never prints and never exits; the binary formats what it returns.

pub mod apply;
pub mod digest;
mod error;
pub mod manifests;
#[cfg(test)]
mod manifests_tests;
pub mod model;
pub mod policy;
pub mod record;
pub mod rollout;
pub mod store;
pub mod time;

pub use error::{Error, Result};
