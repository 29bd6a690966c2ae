//! A run's per-case output ([`Lane`]s), each produced on a thread of its own.
//!
//! What an evaluated case leaves behind (its rollout record and history line, its processed-key
//! digest, its two channel-store lines) is most of the bytes a run writes, and rendering them on
//! the thread that evaluates the cases made that thread the whole run's bottleneck. Here the
//! runner hands each case's item to a lane's thread in batches; the thread renders into one buffer
//! per file and sends each full buffer back, which the runner passes to the transaction as it is
//! ([`Transaction::append_owned`]). Buffers come back in the order they filled and no two lanes
//! write the same file, so each file still receives its lines in queue order.
//!
//! A failure on a thread (a counter that would overflow) stops it; the runner sees it at the next
//! batch it hands over, or at [`Renderer::finish`], always before anything is committed.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use tau_durable::journal::Transaction;

use super::output::{Full, Lane};
use crate::Result;

/// Results per hand-over: enough to make the channel's cost per case negligible, few enough that
/// a batch's lines are small next to a file's buffer.
const BATCH: usize = 256;

/// Batches on their way to the thread; a bound on the cases (and lines) in flight.
const IN_FLIGHT: usize = 8;

/// What a lane's thread ends with: its last buffers and what the run keeps.
type Finished<L> = (Full, <L as Lane>::Kept);

/// The runner's side of one lane's thread.
pub(super) struct Renderer<'scope, L: Lane> {
    batch: Vec<L::Item>,
    jobs: Option<SyncSender<Vec<L::Item>>>,
    full: Receiver<Full>,
    /// Emptied buffers on their way back to the thread.
    spare: Sender<Vec<u8>>,
    thread: Option<ScopedJoinHandle<'scope, Result<Finished<L>>>>,
}

impl<'scope, L: Lane + 'scope> Renderer<'scope, L> {
    /// Starts the thread of `lane` in `scope`.
    pub(super) fn spawn(scope: &'scope Scope<'scope, '_>, mut lane: L) -> Self {
        let (jobs, inbox) = mpsc::sync_channel::<Vec<L::Item>>(IN_FLIGHT);
        let (done, full) = mpsc::channel::<Full>();
        let (spare, spent) = mpsc::channel::<Vec<u8>>();
        let thread = scope.spawn(move || {
            for batch in inbox {
                while let Ok(buf) = spent.try_recv() {
                    lane.recycle(buf);
                }
                let mut filled = Vec::new();
                // The items (the cases among them) are freed here, off the runner's thread.
                for item in batch {
                    lane.take(item, &mut filled)?;
                }
                if !filled.is_empty() && done.send(filled).is_err() {
                    break;
                }
            }
            Ok(lane.finish())
        });
        Renderer {
            batch: Vec::with_capacity(BATCH),
            jobs: Some(jobs),
            full,
            spare,
            thread: Some(thread),
        }
    }

    /// Queues `item`, appending to `tx` every buffer the thread has filled so far.
    pub(super) fn push(&mut self, item: L::Item, tx: &mut Transaction) -> Result<()> {
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
        while let Ok(full) = self.full.try_recv() {
            self.append(full, tx)?;
        }
        Ok(())
    }

    /// Sends the last batch, appends every buffer still to come and returns what the run keeps.
    pub(super) fn finish(mut self, tx: &mut Transaction) -> Result<L::Kept> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            if let Some(jobs) = &self.jobs {
                // A send that fails means the thread stopped; joining it says why.
                let _ = jobs.send(batch);
            }
        }
        self.jobs = None;
        let (rest, kept) = self.join()?;
        while let Ok(full) = self.full.try_recv() {
            self.append(full, tx)?;
        }
        self.append(rest, tx)?;
        Ok(kept)
    }

    /// Waits for the thread (its inbox closed or its failure) and returns its result.
    fn join(&mut self) -> Result<Finished<L>> {
        self.jobs = None;
        let thread = self.thread.take().ok_or_else(gone)?;
        thread.join().map_err(|_| gone())?
    }

    fn append(&mut self, full: Full, tx: &mut Transaction) -> Result<()> {
        for (file, bytes) in full {
            let emptied = tx.append_owned(file, bytes)?;
            // The thread may have finished; the buffer is then simply freed.
            let _ = self.spare.send(emptied);
        }
        Ok(())
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
