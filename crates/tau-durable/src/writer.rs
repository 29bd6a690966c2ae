//! Moves a transaction's `write(2)` calls off the thread that produces the bytes.
//!
//! Copying 100 MB of log text into the page cache was a fifth of a 100,000-case run, all of it on
//! the one thread that also evaluates and renders the cases. Here a full buffer is handed to one
//! worker thread that writes it and, once a log has grown by [`EARLY_SYNC_BYTES`], asks for an
//! early fsync; the producer carries on with a recycled buffer. One worker writes every file, in
//! the order the buffers were handed over, so each log receives its bytes in append order. A
//! failed write is kept and reported by [`Writer::finish`], which also waits for every write and
//! early fsync: nothing is durable-or-not behind the caller's back.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crate::early_sync::{EarlySync, EARLY_SYNC_BYTES};
use crate::{Error, Result};

/// How many full buffers may wait for the worker: a bound on the memory a slow disk can pin.
const QUEUED: usize = 32;

struct Job {
    /// Which file of the transaction, for the per-file early-fsync accounting.
    index: usize,
    path: Arc<Path>,
    file: Arc<File>,
    bytes: Vec<u8>,
}

type Failure = Option<(PathBuf, io::Error)>;

/// The worker, started on the first buffer handed over.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    jobs: Option<SyncSender<Job>>,
    spare: Option<Receiver<Vec<u8>>>,
    worker: Option<JoinHandle<Result<()>>>,
}

impl Writer {
    /// Queues `bytes` to be appended to `file` (file number `index` of the transaction, at
    /// `path`), returning an empty buffer to fill next. Writes inline when no thread can start.
    pub(crate) fn write(
        &mut self,
        index: usize,
        path: &Arc<Path>,
        file: &Arc<File>,
        bytes: Vec<u8>,
    ) -> Result<Vec<u8>> {
        if self.worker.is_none() && !self.start() {
            (&**file)
                .write_all(&bytes)
                .map_err(|e| Error::io("append to", &**path, e))?;
            let mut bytes = bytes;
            bytes.clear();
            return Ok(bytes);
        }
        let capacity = bytes.capacity();
        let job = Job {
            index,
            path: Arc::clone(path),
            file: Arc::clone(file),
            bytes,
        };
        if let Some(jobs) = &self.jobs {
            if let Err(mpsc::SendError(job)) = jobs.send(job) {
                // The worker stopped on a failure, which `finish` reports; if it somehow stopped
                // without one, these bytes are still written, here.
                self.finish()?;
                (&*job.file)
                    .write_all(&job.bytes)
                    .map_err(|e| Error::io("append to", &*job.path, e))?;
                let mut bytes = job.bytes;
                bytes.clear();
                return Ok(bytes);
            }
        }
        let recycled = self.spare.as_ref().and_then(|spare| spare.try_recv().ok());
        Ok(recycled.unwrap_or_else(|| Vec::with_capacity(capacity)))
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

    /// Waits until every queued buffer is written and every early fsync done; the first failure
    /// fails the transaction. The writer can be used again afterwards.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.jobs = None;
        self.spare = None;
        let Some(worker) = self.worker.take() else {
            return Ok(());
        };
        worker.join().unwrap_or_else(|_| {
            Err(Error::io(
                "append to",
                Path::new("<log writer>"),
                io::Error::other("the log writer thread panicked"),
            ))
        })
    }
}

impl Drop for Writer {
    /// A transaction dropped on an error path still waits for its writes, so no byte of it can
    /// land after a later recovery has cut the log back.
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

fn work(inbox: Receiver<Job>, give_back: Sender<Vec<u8>>) -> Result<()> {
    let mut early = EarlySync::default();
    let mut unsynced: Vec<u64> = Vec::new();
    let mut failure: Failure = None;
    for job in inbox {
        let Job {
            index,
            path,
            file,
            mut bytes,
        } = job;
        if failure.is_some() {
            continue;
        }
        if let Err(e) = (&*file).write_all(&bytes) {
            failure = Some((path.to_path_buf(), e));
            continue;
        }
        if unsynced.len() <= index {
            unsynced.resize(index + 1, 0);
        }
        unsynced[index] += bytes.len() as u64;
        if unsynced[index] >= EARLY_SYNC_BYTES {
            unsynced[index] = 0;
            early.request(&path, &file)?;
        }
        bytes.clear();
        // The producer may have stopped taking buffers back; then this one is simply freed.
        let _ = give_back.send(bytes);
    }
    early.finish()?;
    match failure {
        None => Ok(()),
        Some((path, e)) => Err(Error::io("append to", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_land_in_order_and_a_failed_write_fails_finish_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good: Arc<Path> = Arc::from(dir.path().join("good.log"));
        let file = Arc::new(File::create(&good).unwrap());
        let mut writer = Writer::default();
        for i in 0..100 {
            let buf = writer
                .write(0, &good, &file, format!("{i}\n").into_bytes())
                .unwrap();
            assert!(buf.is_empty());
        }
        writer.finish().unwrap();
        let expected: String = (0..100).map(|i| format!("{i}\n")).collect();
        assert_eq!(std::fs::read_to_string(&good).unwrap(), expected);

        // A handle opened read-only cannot be written: the worker's error comes back.
        let bad: Arc<Path> = Arc::from(dir.path().join("bad.log"));
        std::fs::write(&bad, b"").unwrap();
        let read_only = Arc::new(File::open(&bad).unwrap());
        writer.write(1, &bad, &read_only, b"x\n".to_vec()).unwrap();
        let err = writer.finish().unwrap_err().to_string();
        assert!(err.contains("bad.log"), "{err}");
    }
}
