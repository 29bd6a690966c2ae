//! Starts writing a transaction's logs to disk while the run is still producing them.
//!
//! A contract run appends some 100 MB per 100,000 cases and used to fsync all of it at the end,
//! so the whole write-back happened while nothing else could. Here a log that has grown by
//! [`EARLY_SYNC_BYTES`] since its last sync is handed (as a duplicated descriptor) to one worker
//! thread that fsyncs it, overlapping the disk with the run's own work. This only moves work
//! earlier: [`crate::journal::Transaction::sync`] still fsyncs every log before the commit, and a
//! failed early fsync fails the transaction.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};

use crate::{Error, Result};

/// How much a log grows between early fsyncs.
pub(crate) const EARLY_SYNC_BYTES: u64 = 1 << 20;

type Failure = Option<(PathBuf, io::Error)>;

/// The worker and the way to it; started on the first request.
#[derive(Debug, Default)]
pub(crate) struct EarlySync {
    sender: Option<Sender<(PathBuf, File)>>,
    worker: Option<JoinHandle<Failure>>,
}

impl EarlySync {
    /// Asks for `file` (the log at `path`) to be fsynced soon.
    pub(crate) fn request(&mut self, path: &Path, file: &File) -> Result<()> {
        if self.worker.is_none() {
            let (sender, receiver) = mpsc::channel::<(PathBuf, File)>();
            let spawned = thread::Builder::new()
                .name("tau-early-fsync".into())
                .spawn(move || {
                    let mut failure: Failure = None;
                    for (path, file) in receiver {
                        if failure.is_none() {
                            if let Err(e) = file.sync_data() {
                                failure = Some((path, e));
                            }
                        }
                    }
                    failure
                });
            match spawned {
                Ok(worker) => {
                    self.sender = Some(sender);
                    self.worker = Some(worker);
                }
                // No thread, no early start: the final fsync does all of it, as it always could.
                Err(_) => return Ok(()),
            }
        }
        let dup = file
            .try_clone()
            .map_err(|e| Error::io("duplicate handle of", path, e))?;
        if let Some(sender) = &self.sender {
            // A worker that is gone has recorded why; `finish` reports it.
            let _ = sender.send((path.to_path_buf(), dup));
        }
        Ok(())
    }

    /// Waits for every requested fsync; the first that failed fails the transaction.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.sender = None;
        let Some(worker) = self.worker.take() else {
            return Ok(());
        };
        match worker.join() {
            Ok(None) => Ok(()),
            Ok(Some((path, e))) => Err(Error::io("fsync", &path, e)),
            Err(_) => Err(Error::io(
                "fsync",
                Path::new("<early fsync worker>"),
                io::Error::other("the early fsync worker panicked"),
            )),
        }
    }
}

impl Drop for EarlySync {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
