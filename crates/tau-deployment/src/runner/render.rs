//! A run's per-case output ([`Lane`]s), each produced and written on a thread of its own.
//!
//! What an evaluated case leaves behind (its rollout record and history line, its processed-key
//! digest, its two channel-store lines) is most of the bytes a run writes, and rendering them on
//! the thread that evaluates the cases made that thread the whole run's bottleneck. Here the
//! runner collects the results into batches ([`Lanes`]) and hands every batch, shared, to each
//! lane's thread; the thread renders into one buffer per file and appends each full buffer
//! itself, through an [`Appender`] the transaction lent it for its files, then fills the same
//! buffer again while it is still in that core's cache. No two lanes write the same file, so each
//! file still receives its lines in queue order.
//!
//! A batch is shared, not each case: a reference count per case, touched by three threads, had
//! every lane stall on that count's cache line once per case (a locked instruction also waits for
//! the lane's own buffered stores), some 5% of a 100,000-case run's CPU time.
//!
//! A failure on a thread (a counter that would overflow, a write that fails) stops it; the runner
//! sees it at the next batch it hands over, or at [`Renderer::finish`], always before anything is
//! committed.

use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use tau_durable::journal::Appender;

use super::output::{Channel, History, Kept, Lane};
use crate::cycle::CaseResult;
use crate::Result;

/// Results per hand-over. Each hand-over can wake a sleeping thread, and at 256 those wake-ups
/// cost a 100,000-case run some 7 ms; a batch is still a few hundred kilobytes of cases.
const BATCH: usize = 1024;

/// Batches on their way to each thread; a bound on the cases (and lines) in flight.
const IN_FLIGHT: usize = 4;

/// Consecutive results, read by every lane and freed by the last one done with them.
pub(super) type Batch = Arc<Vec<CaseResult<'static>>>;

/// What a lane's thread ends with: the appender (to give back to the transaction) and what the
/// run keeps.
type Finished<L> = (Appender, <L as Lane>::Kept);

/// The runner's side of one lane's thread.
pub(super) struct Renderer<'scope, L: Lane> {
    jobs: Option<SyncSender<Batch>>,
    thread: Option<ScopedJoinHandle<'scope, Result<Finished<L>>>>,
}

impl<'scope, L: Lane + 'scope> Renderer<'scope, L> {
    /// Starts the thread of `lane` in `scope`, writing its files through `out`.
    pub(super) fn spawn(scope: &'scope Scope<'scope, '_>, mut lane: L, mut out: Appender) -> Self {
        let (jobs, inbox) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
        let thread = scope.spawn(move || {
            // The last lane done with a batch frees its cases, off the runner's thread.
            for batch in inbox {
                for result in batch.iter() {
                    lane.take(result, &mut out)?;
                }
            }
            let kept = lane.finish(&mut out)?;
            out.start_write_back()?;
            Ok((out, kept))
        });
        Renderer {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Hands `batch` to the thread.
    pub(super) fn send(&mut self, batch: &Batch) -> Result<()> {
        let sent = self
            .jobs
            .as_ref()
            .map(|jobs| jobs.send(Arc::clone(batch)).is_ok());
        if sent != Some(true) {
            // The thread stopped: its own error says why.
            return self.join().map(|_| ());
        }
        Ok(())
    }

    /// Waits until every line is written and returns the appender and what the run keeps.
    pub(super) fn finish(mut self) -> Result<Finished<L>> {
        self.join()
    }

    /// Waits for the thread (its inbox closed or its failure) and returns its result.
    fn join(&mut self) -> Result<Finished<L>> {
        self.jobs = None;
        let thread = self.thread.take().ok_or_else(gone)?;
        thread.join().map_err(|_| gone())?
    }
}

/// The three lanes of a run, fed one batch of [`BATCH`] results at a time.
pub(super) struct Lanes<'scope> {
    history: Renderer<'scope, History>,
    channels: [Renderer<'scope, Channel>; 2],
    open: Vec<CaseResult<'static>>,
}

impl<'scope> Lanes<'scope> {
    /// Starts the history lane and the two channel-store lanes, each writing through its
    /// appender.
    pub(super) fn spawn(
        scope: &'scope Scope<'scope, '_>,
        (history, history_out): (History, Appender),
        channels: [(Channel, Appender); 2],
    ) -> Self {
        Lanes {
            history: Renderer::spawn(scope, history, history_out),
            channels: channels.map(|(lane, out)| Renderer::spawn(scope, lane, out)),
            open: Vec::with_capacity(BATCH),
        }
    }

    /// Adds `result`, handing the batch it completes to every lane.
    pub(super) fn push(&mut self, result: CaseResult<'static>) -> Result<()> {
        self.open.push(result);
        if self.open.len() < BATCH {
            return Ok(());
        }
        self.hand_over()
    }

    fn hand_over(&mut self) -> Result<()> {
        let batch: Batch = Arc::new(std::mem::replace(&mut self.open, Vec::with_capacity(BATCH)));
        self.history.send(&batch)?;
        self.channels
            .iter_mut()
            .try_for_each(|lane| lane.send(&batch))
    }

    /// Hands over the last results, waits until every line is written and returns the lanes'
    /// appenders and what the history lane keeps.
    pub(super) fn finish(mut self) -> Result<(Vec<Appender>, Kept)> {
        if !self.open.is_empty() {
            self.hand_over()?;
        }
        let (history_out, kept) = self.history.finish()?;
        let mut outs = vec![history_out];
        for lane in self.channels {
            let (out, ()) = lane.finish()?;
            outs.push(out);
        }
        Ok((outs, kept))
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
