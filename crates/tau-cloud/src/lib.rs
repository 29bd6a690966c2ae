//! Cloud deploy: from the `deployment:` section of `tau.yaml` to a running service.
//!
//! Data flow: [`config`] (validated, every problem at once) → [`dockerfile`] (generated, byte
//! for byte reproducible) → [`context`] (a deterministic tar, `.dockerignore` honoured) → the
//! engine builds and pushes (in the binary, over `tau-engine`; the registry's digest is what is
//! kept) → [`providers`] run the service (local engine, AWS App Runner or ECS Express Mode, Cloud
//! Run, Container Apps; `secret_env` values go to the provider's secret manager first and the
//! service gets a reference) → [`records`] (`.tau/deployments.json`) remember it for `status`, `destroy` and the next
//! update.
//!
//! The library never prints or exits; `tau deploy …` in `tau-coding-agent` formats what it
//! returns. Spans `deploy.build`, `deploy.push` and `deploy.run` are emitted through `tracing`.

pub mod config;
pub mod context;
pub mod dockerfile;
mod error;
pub mod ignore;
pub mod image;
pub mod providers;
pub mod records;
pub mod tag;

pub use error::{Error, Result};
