//! A run's per-case output ([`Lane`]s), each produced and written on a thread of its own.
//!
//! What an evaluated case leaves behind (its rollout record and history line, its processed-key
//! digest, its two channel-store lines) is most of the bytes a run writes, and rendering them on
//! the thread that evaluates the cases made that thread the whole run's bottleneck. Here the
//! runner hands each case's item to a lane's thread in batches; the thread renders into one buffer
//! per file and appends each full buffer itself, through an [`Appender`] the transaction lent it
//! for its files, then fills the same buffer again while it is still in that core's cache. No two
//! lanes write the same file, so each file still receives its lines in queue order.
//!
//! A failure on a thread (a counter that would overflow, a write that fails) stops it; the runner
//! sees it at the next batch it hands over, or at [`Renderer::finish`], always before anything is
//! committed.

use std::sync::mpsc::{self, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use tau_durable::journal::Appender;

use super::output::Lane;
use crate::Result;

/// Results per hand-over. Each hand-over can wake a sleeping thread, and at 256 those wake-ups
/// cost a 100,000-case run some 7 ms; a batch is still a few hundred kilobytes of cases.
const BATCH: usize = 1024;

/// Batches on their way to the thread; a bound on the cases (and lines) in flight.
const IN_FLIGHT: usize = 4;

/// What a lane's thread ends with: the appender (to give back to the transaction) and what the
/// run keeps.
type Finished<L> = (Appender, <L as Lane>::Kept);

/// The runner's side of one lane's thread.
pub(super) struct Renderer<'scope, L: Lane> {
    batch: Vec<L::Item>,
    jobs: Option<SyncSender<Vec<L::Item>>>,
    thread: Option<ScopedJoinHandle<'scope, Result<Finished<L>>>>,
}

impl<'scope, L: Lane + 'scope> Renderer<'scope, L> {
    /// Starts the thread of `lane` in `scope`, writing its files through `out`.
    pub(super) fn spawn(scope: &'scope Scope<'scope, '_>, mut lane: L, mut out: Appender) -> Self {
        let (jobs, inbox) = mpsc::sync_channel::<Vec<L::Item>>(IN_FLIGHT);
        let thread = scope.spawn(move || {
            for batch in inbox {
                // The items (the cases among them) are freed here, off the runner's thread.
                for item in batch {
                    lane.take(item, &mut out)?;
                }
            }
            let kept = lane.finish(&mut out)?;
            out.start_write_back()?;
            Ok((out, kept))
        });
        Renderer {
            batch: Vec::with_capacity(BATCH),
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Queues `item` for the thread.
    pub(super) fn push(&mut self, item: L::Item) -> Result<()> {
        self.batch.push(item);
        if self.batch.len() < BATCH {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(batch).is_ok());
        if sent != Some(true) {
            // The thread stopped: its own error says why.
            return self.join().map(|_| ());
        }
        Ok(())
    }

    /// Sends the last batch, waits until every line is written and returns the appender and
    /// what the run keeps.
    pub(super) fn finish(mut self) -> Result<Finished<L>> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            if let Some(jobs) = &self.jobs {
                // A send that fails means the thread stopped; joining it says why.
                let _ = jobs.send(batch);
            }
        }
        self.join()
    }

    /// Waits for the thread (its inbox closed or its failure) and returns its result.
    fn join(&mut self) -> Result<Finished<L>> {
        self.jobs = None;
        let thread = self.thread.take().ok_or_else(gone)?;
        thread.join().map_err(|_| gone())?
    }
}

/// The render thread only stops without an error of its own by panicking, which the scope then
/// reports; this error is what the runner sees first.
fn gone() -> crate::Error {
    crate::Error::Io {
        op: "render a run's output",
        path: std::path::PathBuf::from("<render thread>"),
        source: std::io::Error::other("the render thread stopped"),
    }
}
