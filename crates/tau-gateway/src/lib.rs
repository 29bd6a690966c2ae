//! The tau gateway: the rollout gate and health of a deployment state dir, over HTTP.
//!
//! Fly.io's health check calls `GET /gateway/status`, scrapers read `/metrics`, and orchestrators
//! probe `/gateway/health/live` and `/gateway/health/ready`. Every answer is computed by the same
//! `tau-deployment` code as `tau --deployment-status-inspect`, from committed state only, so the
//! HTTP gate and the CLI gate can never disagree.
//!
//! ```text
//! socket ──conn (limit + reserve, idle/header clocks)──▶ server (routes, request timeout)
//! state.json ──snapshot (cached, re-read on change)──▶ status / metrics handlers ──▶ HTTP
//! fly.toml + Dockerfile ──fly::check──▶ one verdict per deployment contract rule
//! ```
//!
//! The crate never prints and never exits; the `tau` binary binds, logs and handles signals.

mod conn;
pub mod fly;
pub mod metrics;
pub mod server;
mod snapshot;

pub use server::{serve, Config};
