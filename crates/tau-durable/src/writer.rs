//! Moves a transaction's `write(2)` calls, and the creation of its new logs, off the thread that
//! produces the bytes.
//!
//! Copying 100 MB of log text into the page cache was a fifth of a 100,000-case run, all of it on
//! the one thread that also evaluates and renders the cases. Here a full buffer is handed to one
//! worker thread that writes it and, once a log has grown by [`EARLY_SYNC_BYTES`], asks for an
//! early fsync; the producer carries on with a recycled buffer. The worker also opens each log on
//! its first buffer (creating it and its directories when the transaction is the first to write
//! it): on a fresh state dir that is some 200 files, and on a file system that has just deleted
//! as many, finding a free inode cost the producer a tenth of the run. One worker writes every
//! file, in the order the buffers were handed over, so each log receives its bytes in append
//! order. A failed open or write is kept and reported by [`Writer::finish`], which also waits for
//! every write and early fsync: nothing is durable-or-not behind the caller's back.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crate::early_sync::{EarlySync, EARLY_SYNC_BYTES};
use crate::journal::{open_log, Opening};
use crate::{Error, Result};

/// How many full buffers may wait for the worker: a bound on the memory a slow disk can pin.
const QUEUED: usize = 32;

struct Job {
    /// Which file of the transaction: the key of its handle and of its early-fsync accounting.
    index: usize,
    path: Arc<Path>,
    /// How to open the file when the worker has no handle for it yet (its first buffer).
    opening: Opening,
    bytes: Vec<u8>,
}

/// What the writes opened: each file's handle by index (for the final fsync) and the directories
/// that got new entries (to be fsynced too).
#[derive(Debug, Default)]
pub(crate) struct Opened {
    handles: Vec<Option<Arc<File>>>,
    pub(crate) new_dirs: BTreeSet<PathBuf>,
}

impl Opened {
    /// The handle of file `index`, if a write opened it.
    pub(crate) fn take(&mut self, index: usize) -> Option<Arc<File>> {
        self.handles.get_mut(index).and_then(Option::take)
    }

    pub(crate) fn merge(&mut self, mut other: Opened) {
        for (index, handle) in other.handles.iter_mut().enumerate() {
            if let Some(handle) = handle.take() {
                self.slot(index).get_or_insert(handle);
            }
        }
        self.new_dirs.append(&mut other.new_dirs);
    }

    /// The open handle of file `index`, if any.
    pub(crate) fn handle(&self, index: usize) -> Option<&Arc<File>> {
        self.handles.get(index).and_then(Option::as_ref)
    }

    /// Keeps `handle` as the open handle of file `index`.
    pub(crate) fn put(&mut self, index: usize, handle: Arc<File>) {
        *self.slot(index) = Some(handle);
    }

    fn slot(&mut self, index: usize) -> &mut Option<Arc<File>> {
        if self.handles.len() <= index {
            self.handles.resize(index + 1, None);
        }
        &mut self.handles[index]
    }

    /// Opens file `index` on its first use, then appends `bytes` to it.
    pub(crate) fn write(
        &mut self,
        index: usize,
        path: &Path,
        opening: &Opening,
        bytes: &[u8],
    ) -> Result<()> {
        let handle = match self.slot(index) {
            Some(handle) => Arc::clone(handle),
            None => {
                let handle = Arc::new(open_log(path, opening, &mut self.new_dirs)?);
                *self.slot(index) = Some(Arc::clone(&handle));
                handle
            }
        };
        (&*handle)
            .write_all(bytes)
            .map_err(|e| Error::io("append to", path, e))
    }
}

/// The worker, started on the first buffer handed over.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    jobs: Option<SyncSender<Job>>,
    spare: Option<Receiver<Vec<u8>>>,
    worker: Option<JoinHandle<Result<Opened>>>,
    /// Files written on this thread (no worker could start, or it stopped).
    inline: Opened,
}

impl Writer {
    /// Queues `bytes` to be appended to file number `index` of the transaction (at `path`, opened
    /// as `opening` says on its first buffer), returning an empty buffer to fill next. Writes
    /// inline when no thread can start.
    pub(crate) fn write(
        &mut self,
        index: usize,
        path: &Arc<Path>,
        opening: Opening,
        bytes: Vec<u8>,
    ) -> Result<Vec<u8>> {
        if self.worker.is_none() && !self.start() {
            return self.write_inline(index, path, &opening, bytes);
        }
        let capacity = bytes.capacity();
        let job = Job {
            index,
            path: Arc::clone(path),
            opening,
            bytes,
        };
        if let Some(jobs) = &self.jobs {
            if let Err(mpsc::SendError(job)) = jobs.send(job) {
                // The worker stopped on a failure, which `finish` reports; if it somehow stopped
                // without one, these bytes are still written, here.
                self.finish_worker()?;
                return self.write_inline(job.index, &job.path, &job.opening, job.bytes);
            }
        }
        let recycled = self.spare.as_ref().and_then(|spare| spare.try_recv().ok());
        Ok(recycled.unwrap_or_else(|| Vec::with_capacity(capacity)))
    }

    fn write_inline(
        &mut self,
        index: usize,
        path: &Path,
        opening: &Opening,
        mut bytes: Vec<u8>,
    ) -> Result<Vec<u8>> {
        self.inline.write(index, path, opening, &bytes)?;
        bytes.clear();
        Ok(bytes)
    }

    fn start(&mut self) -> bool {
        let (jobs, inbox) = mpsc::sync_channel::<Job>(QUEUED);
        let (give_back, spare) = mpsc::channel::<Vec<u8>>();
        let spawned = thread::Builder::new()
            .name("tau-log-writer".into())
            .spawn(move || work(inbox, give_back));
        match spawned {
            Ok(worker) => {
                self.jobs = Some(jobs);
                self.spare = Some(spare);
                self.worker = Some(worker);
                true
            }
            Err(_) => false,
        }
    }

    /// Waits for the worker and keeps what it opened.
    fn finish_worker(&mut self) -> Result<()> {
        self.jobs = None;
        self.spare = None;
        let Some(worker) = self.worker.take() else {
            return Ok(());
        };
        let opened = worker.join().unwrap_or_else(|_| {
            Err(Error::io(
                "append to",
                Path::new("<log writer>"),
                std::io::Error::other("the log writer thread panicked"),
            ))
        })?;
        self.inline.merge(opened);
        Ok(())
    }

    /// Waits until every queued buffer is written and every early fsync done, and hands over
    /// what was opened; the first failure fails the transaction. The writer can be used again
    /// afterwards.
    pub(crate) fn finish(&mut self) -> Result<Opened> {
        self.finish_worker()?;
        Ok(std::mem::take(&mut self.inline))
    }
}

impl Drop for Writer {
    /// A transaction dropped on an error path still waits for its writes, so no byte of it can
    /// land after a later recovery has cut the log back.
    fn drop(&mut self) {
        let _ = self.finish_worker();
    }
}

fn work(inbox: Receiver<Job>, give_back: Sender<Vec<u8>>) -> Result<Opened> {
    let mut early = EarlySync::default();
    let mut opened = Opened::default();
    let mut unsynced: Vec<u64> = Vec::new();
    let mut failure: Option<Error> = None;
    for job in inbox {
        let Job {
            index,
            path,
            opening,
            mut bytes,
        } = job;
        if failure.is_some() {
            continue;
        }
        if let Err(e) = opened.write(index, &path, &opening, &bytes) {
            failure = Some(e);
            continue;
        }
        if unsynced.len() <= index {
            unsynced.resize(index + 1, 0);
        }
        unsynced[index] += bytes.len() as u64;
        if unsynced[index] >= EARLY_SYNC_BYTES {
            unsynced[index] = 0;
            if let Some(file) = opened.handles[index].as_ref() {
                early.request(&path, file)?;
            }
        }
        bytes.clear();
        // The producer may have stopped taking buffers back; then this one is simply freed.
        let _ = give_back.send(bytes);
    }
    early.finish()?;
    match failure {
        None => Ok(opened),
        Some(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_land_in_order_in_files_the_worker_creates_and_hands_back() {
        let dir = tempfile::tempdir().unwrap();
        let root: Arc<Path> = Arc::from(dir.path());
        let good: Arc<Path> = Arc::from(dir.path().join("logs/a/good.log"));
        let mut writer = Writer::default();
        for i in 0..100 {
            let opening = Opening::new(Arc::clone(&root), i == 0, false);
            let buf = writer
                .write(3, &good, opening, format!("{i}\n").into_bytes())
                .unwrap();
            assert!(buf.is_empty());
        }
        let mut opened = writer.finish().unwrap();
        let expected: String = (0..100).map(|i| format!("{i}\n")).collect();
        assert_eq!(std::fs::read_to_string(&good).unwrap(), expected);
        assert!(opened.take(3).is_some(), "the worker's handle comes back");
        assert!(opened.take(0).is_none());
        let new_dirs: Vec<_> = opened.new_dirs.iter().cloned().collect();
        assert_eq!(
            new_dirs,
            vec![dir.path().to_path_buf(), dir.path().join("logs")],
            "each directory that got a new entry is named once"
        );
    }

    #[test]
    fn a_log_that_cannot_be_opened_fails_finish_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let root: Arc<Path> = Arc::from(dir.path());
        std::fs::write(dir.path().join("plain"), b"").unwrap();
        // Its "directory" is a regular file: the worker's open fails, and finish reports it.
        let bad: Arc<Path> = Arc::from(dir.path().join("plain/bad.log"));
        let mut writer = Writer::default();
        writer
            .write(0, &bad, Opening::new(root, false, false), b"x\n".to_vec())
            .unwrap();
        let err = writer.finish().unwrap_err().to_string();
        assert!(err.contains("bad.log"), "{err}");
    }
}
