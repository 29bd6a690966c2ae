//! The deployment contract runtime behind `tau --deployment-contract-runner` and the inspect
//! commands.
//!
//! Data flow of a run, one module per step:
//!
//! ```text
//! fixture.json ──fixture──▶ cases ──cycle (driver, retries)──▶ results ──runner──▶ state dir
//!                                                                         │  state.json
//!                                                                         │  runtime-events.jsonl (events)
//!                                                                         └  channel-store/deployment/<blueprint>/ (channel)
//! state dir ──status / health──▶ rollout gate (pass | hold)
//! ```
//!
//! [`driver::Driver`] is the seam a real deployment backend plugs into (it sees a
//! [`request::Request`], never the fixture's expectation); [`simulated::ContractEvaluator`] is
//! the driver used today. Dependencies point one way: `contract` (the vocabulary) ← `request` ←
//! `fixture`; `driver` → `request`; `artifacts` → `driver`; `simulated` → `artifacts`; `cycle` →
//! `driver`, `fixture`. Everything durable goes through `tau-durable`. The library never prints
//! and never exits: the CLI formats what it returns.

pub mod artifacts;
pub mod blueprint;
pub mod channel;
pub mod contract;
pub mod cycle;
pub mod driver;
mod error;
pub mod events;
pub mod evidence;
pub mod fixture;
pub mod health;
pub mod history;
pub mod hooks;
mod jsonl;
mod processed;
pub mod request;
pub mod rollout;
pub mod runner;
pub mod simulated;
pub mod state;
pub mod status;
pub mod sym;
pub mod totals;

pub use error::{Error, Result};

/// The state file name inside a state dir.
pub const STATE_FILE: &str = "state.json";

/// The default state dir, relative to the working directory.
pub const DEFAULT_STATE_DIR: &str = ".tau/deployment";

/// Milliseconds since the Unix epoch; the only clock the library reads.
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
