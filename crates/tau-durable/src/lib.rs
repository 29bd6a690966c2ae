//! Crash-safe file primitives for tau state directories.
//!
//! Every tau command that writes under a state dir (`.tau/deployment` and friends) goes through this
//! crate, so that the guarantees users rely on live in one place:
//!
//! - [`atomic`]: a file is replaced whole or not at all (temp file, fsync, rename, fsync of the
//!   directory). A reader never sees half a `state.json`.
//! - [`lock`]: one writer per state dir. A second writer waits or fails fast; it never interleaves.
//! - [`journal`]: append-only logs (`runtime-events.jsonl`, the channel store) are extended before
//!   the state file that accounts for them is committed. The journal remembers each log's length
//!   before the append, so a run killed between the two is rolled back to exactly the committed
//!   bytes and the next run cannot duplicate an entry.
//!
//! - [`guard`]: no write under a state dir follows a symlink out of it.
//! - [`document`]: one top-level key of a shared JSON state file is replaced while every other
//!   key keeps its text and order, so commands that share `state.json` never undo each other.
//!
//! The crate knows nothing about deployments; `tau-deployment` decides what is written and when.

pub mod atomic;
pub mod document;
mod early_sync;
mod error;
pub mod guard;
pub mod journal;
pub mod lock;
pub mod name;
mod writer;

pub use error::{Error, Result};
