//! The channel-store lines of a run, rendered on a second thread.
//!
//! Each evaluated case leaves two lines in its blueprint's channel store (the log entry and the
//! context line): well over half of the bytes a run writes, rendered on the same thread that
//! evaluates the cases, decides the rollouts and writes their history. Here the runner hands each
//! result, with its case, to a render thread in batches and appends what comes back; the thread
//! also frees the cases. Batches come back in the order they went out, so each log still receives
//! its lines in queue order, and the bytes are exactly those the runner would have rendered itself.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::Scope;

use tau_durable::journal::{FileId, Transaction};

use crate::channel;
use crate::cycle::CaseResult;
use crate::Result;

/// Results per hand-over: enough to make the channel's cost per case negligible, few enough that
/// the lines of a batch are small next to a log's write buffer.
const BATCH: usize = 256;

/// Batches on their way to the thread; a bound on the cases (and lines) in flight.
const IN_FLIGHT: usize = 8;

/// One result and the two logs its lines go to.
type Item = (FileId, FileId, CaseResult<'static>);

/// The lines of one batch: the bytes, and where each line ends and which log it belongs to.
struct Lines {
    bytes: Vec<u8>,
    ends: Vec<(FileId, usize)>,
}

/// The runner's side of the render thread.
pub(super) struct Renderer {
    batch: Vec<Item>,
    jobs: Option<SyncSender<Vec<Item>>>,
    lines: Receiver<Lines>,
    /// Rendered batches not yet taken; each is taken once, in order.
    pending: usize,
}

impl Renderer {
    /// Starts the render thread in `scope`; `now_ms` stamps every line, as the runner's would.
    pub(super) fn spawn<'scope>(scope: &'scope Scope<'scope, '_>, now_ms: u64) -> Self {
        let (jobs, inbox) = mpsc::sync_channel::<Vec<Item>>(IN_FLIGHT);
        let (done, lines) = mpsc::channel::<Lines>();
        scope.spawn(move || {
            let mut capacity = 0;
            for batch in inbox {
                let mut out = Lines {
                    bytes: Vec::with_capacity(capacity),
                    ends: Vec::with_capacity(batch.len() * 2),
                };
                for (log, context, result) in &batch {
                    channel::write_log_entry(&mut out.bytes, result, now_ms);
                    out.ends.push((*log, out.bytes.len()));
                    channel::write_context_line(&mut out.bytes, result, now_ms);
                    out.ends.push((*context, out.bytes.len()));
                }
                capacity = capacity.max(out.bytes.len());
                // The cases are freed here, off the runner's thread.
                drop(batch);
                if done.send(out).is_err() {
                    break;
                }
            }
        });
        Renderer {
            batch: Vec::with_capacity(BATCH),
            jobs: Some(jobs),
            lines,
            pending: 0,
        }
    }

    /// Queues the lines of `result` for the logs `log` and `context`, appending to `tx` whatever
    /// the thread has rendered so far.
    pub(super) fn push(
        &mut self,
        log: FileId,
        context: FileId,
        result: CaseResult<'static>,
        tx: &mut Transaction,
    ) -> Result<()> {
        self.batch.push((log, context, result));
        if self.batch.len() < BATCH {
            return Ok(());
        }
        self.send()?;
        while self.pending > 0 {
            match self.lines.try_recv() {
                Ok(lines) => self.append(lines, tx)?,
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// Sends the last batch and appends every line still to come.
    pub(super) fn finish(mut self, tx: &mut Transaction) -> Result<()> {
        if !self.batch.is_empty() {
            self.send()?;
        }
        self.jobs = None;
        while self.pending > 0 {
            let lines = self.lines.recv().map_err(|_| gone())?;
            self.append(lines, tx)?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<()> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(batch).map_err(|_| gone())?;
        self.pending += 1;
        Ok(())
    }

    fn append(&mut self, lines: Lines, tx: &mut Transaction) -> Result<()> {
        self.pending -= 1;
        let mut start = 0;
        for (file, end) in lines.ends {
            let line = &lines.bytes[start..end];
            tx.append(file, |buf| buf.extend_from_slice(line))?;
            start = end;
        }
        Ok(())
    }
}

/// The render thread only stops early by panicking, which the scope then reports; this error is
/// what the runner sees first.
fn gone() -> crate::Error {
    crate::Error::Io {
        op: "render channel-store lines",
        path: std::path::PathBuf::from("<render thread>"),
        source: std::io::Error::other("the render thread stopped"),
    }
}
