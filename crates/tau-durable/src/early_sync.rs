//! Starts writing a transaction's logs to disk while the run is still producing them.
//!
//! A contract run appends some 100 MB per 100,000 cases and used to fsync all of it at the end,
//! so the whole write-back happened while nothing else could. Here a log that has grown by
//! [`EARLY_SYNC_BYTES`] since its last request is handed to one worker thread that starts its
//! write-back (on Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`, which queues the dirty pages for
//! the disk without waiting for them or flushing the disk's cache; elsewhere an fsync), so the disk
//! works while the run does. The threshold is small because most of a run's bytes go to many
//! small logs: at 1 MB per log and an fsync each, the channel-store logs of a 64-blueprint run
//! (half a megabyte each) never qualified, and the final fsync wrote all 60 MB of them while the
//! run waited. This only moves work earlier: [`crate::journal::Transaction::sync`] still fsyncs
//! every log before the commit, and a failed request fails the transaction.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crate::{Error, Result};

/// How much a log grows between write-back requests.
#[cfg(target_os = "linux")]
pub(crate) const EARLY_SYNC_BYTES: u64 = 128 << 10;
/// Where each request is a whole fsync, fewer of them.
#[cfg(not(target_os = "linux"))]
pub(crate) const EARLY_SYNC_BYTES: u64 = 1 << 20;

type Failure = Option<(PathBuf, io::Error)>;

/// The worker and the way to it; started on the first request.
#[derive(Debug, Default)]
pub(crate) struct EarlySync {
    sender: Option<Sender<(PathBuf, Arc<File>)>>,
    worker: Option<JoinHandle<Failure>>,
}

impl EarlySync {
    /// Asks for the write-back of `file` (the log at `path`) to start soon.
    pub(crate) fn request(&mut self, path: &Path, file: &Arc<File>) -> Result<()> {
        if self.worker.is_none() {
            let (sender, receiver) = mpsc::channel::<(PathBuf, Arc<File>)>();
            let spawned = thread::Builder::new()
                .name("tau-early-fsync".into())
                .spawn(move || {
                    let mut failure: Failure = None;
                    for (path, file) in receiver {
                        if failure.is_none() {
                            if let Err(e) = start_write_back(&file) {
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
        if let Some(sender) = &self.sender {
            // A worker that is gone has recorded why; `finish` reports it.
            let _ = sender.send((path.to_path_buf(), Arc::clone(file)));
        }
        Ok(())
    }

    /// Waits for every request; the first that failed fails the transaction.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.sender = None;
        let Some(worker) = self.worker.take() else {
            return Ok(());
        };
        match worker.join() {
            Ok(None) => Ok(()),
            Ok(Some((path, e))) => Err(Error::io("start the write-back of", &path, e)),
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

/// Queues every dirty page of `file` for the disk without waiting for it.
#[cfg(target_os = "linux")]
pub(crate) fn start_write_back(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on a descriptor that `file` keeps open for its duration; offset
    // 0 and length 0 mean the whole file.
    let rc = unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Without `sync_file_range`, an fsync is the way to get the disk started.
#[cfg(not(target_os = "linux"))]
pub(crate) fn start_write_back(file: &File) -> io::Result<()> {
    file.sync_data()
}
