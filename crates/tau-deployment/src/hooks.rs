//! How a run talks to the outside world without the library printing or owning a clock.

use std::time::Duration;

/// Points in a commit, reported as they are passed.
///
/// Crash tests use these to stop the process exactly between two durable steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The journal intent and every log append are on disk; `state.json` is not yet replaced.
    AppendsWritten,
    /// `state.json` is replaced: the run is committed.
    StateCommitted,
    /// The derived `MEMORY.md` files are rewritten.
    DerivedWritten,
    /// The events log is rotated (when it was due) and the journal intent removed.
    Finished,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::AppendsWritten => "appends_written",
            Phase::StateCommitted => "state_committed",
            Phase::DerivedWritten => "derived_written",
            Phase::Finished => "finished",
        }
    }
}

/// How many cases may finish between two progress calls. A bar redrawn per case cost more than
/// evaluating the case; nobody reads a count that changes 100,000 times a second.
pub const PROGRESS_EVERY: usize = 256;

/// Callbacks of a run. Every method has a sensible default.
pub trait Hooks {
    /// Waits before a retry.
    fn sleep(&mut self, delay: Duration) {
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }
    /// Called as queued cases finish with (cases done, cases queued): at least every
    /// [`PROGRESS_EVERY`] cases and after the last one.
    fn progress(&mut self, _done: usize, _total: usize) {}
    /// Another process holds the state dir; the run blocks until it is free.
    fn waiting_for_lock(&mut self, _holder: &str) {}
    /// A commit step completed.
    fn reached(&mut self, _phase: Phase) {}
}

/// Hooks that sleep for real and report nothing.
pub struct Quiet;
impl Hooks for Quiet {}
