//! The Deploy Agent: the only way a runtime container starts or stops on a host.
//!
//! Place in the data flow: CI (the deploy workflow), registry rollouts and cloud deploy call the
//! agent over HTTPS through Cloudflare Access with [`client::Client`]; the agent checks the
//! caller ([`auth`]), the request against its configuration ([`config`], [`rules`]), swaps the
//! container atomically through the engine ([`swap`], journaled so a killed agent recovers), and
//! appends a hash-chained record of every deploy to its audit log ([`audit`]). The
//! [`driver`] lets the contract runner replay a fixture's container cases against a live agent.

pub mod api;
pub mod audit;
pub mod auth;
pub mod client;
pub mod config;
pub mod driver;
mod error;
pub mod idempotency;
pub mod metrics;
pub mod rules;
pub mod server;
pub mod swap;
pub mod wire;

pub use client::{Client, ClientError};
pub use error::{Error, Result};
pub use server::Server;
pub use wire::{DeployRequest, Deployed, Environment, ErrorBody, Status, StepReport};
