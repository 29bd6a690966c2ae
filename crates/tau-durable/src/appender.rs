//! A transaction's logs appended directly by the thread that produces their bytes.
//!
//! The runner renders a run's per-case lines on threads of their own. Handing each full buffer
//! to the transaction's writer thread meant every byte crossed between cores twice (written by
//! the renderer, read by the writer's `write(2)`) in buffers that were cold on both sides; a
//! renderer that writes its own buffer, and fills it again while it is still in its cache, took
//! 15 ms off the 125 ms in which a 100,000-case run evaluates and writes its cases.
//!
//! [`Transaction::lend`](crate::journal::Transaction::lend) hands some of a transaction's files to
//! an [`Appender`], which may move to another thread; the transaction refuses to write those files
//! itself until [`Transaction::take_back`](crate::journal::Transaction::take_back) returns them.
//! Nothing about the journal changes: the intent recorded every file's length before the first
//! byte, so a crash rolls back what an appender wrote exactly as it rolls back the rest, and
//! [`Transaction::sync`](crate::journal::Transaction::sync) fsyncs these files with the others.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use super::{append_reopened, FileId, Opening, Transaction};
use crate::early_sync::{start_write_back, EARLY_SYNC_BYTES};
use crate::writer::Opened;
use crate::{Error, Result};

/// Appends to some files of a transaction from any thread.
#[derive(Debug)]
pub struct Appender {
    /// By file id; `None` for a file this appender was not lent.
    files: Vec<Option<Lent>>,
    opened: Opened,
}

#[derive(Debug)]
struct Lent {
    path: Arc<Path>,
    opening: Opening,
    /// Kept open between appends; otherwise opened per append (see the transaction's limit on
    /// open handles).
    keep_open: bool,
    /// Bytes appended since the disk was last asked to start writing this file back.
    unsynced: u64,
    written: bool,
}

impl Appender {
    pub(crate) fn new() -> Self {
        Appender {
            files: Vec::new(),
            opened: Opened::default(),
        }
    }

    /// Takes file `id` at `path`, opened as `opening` says on its first append unless `handle`
    /// is already open on it.
    pub(crate) fn lend(
        &mut self,
        id: FileId,
        path: Arc<Path>,
        opening: Opening,
        keep_open: bool,
        handle: Option<Arc<File>>,
    ) {
        if self.files.len() <= id.0 {
            self.files.resize_with(id.0 + 1, || None);
        }
        if let Some(handle) = handle {
            self.opened.put(id.0, handle);
        }
        self.files[id.0] = Some(Lent {
            path,
            opening,
            keep_open,
            unsynced: 0,
            written: false,
        });
    }

    /// Appends `bytes` to file `id`, which must have been lent to this appender. A file that has
    /// grown by a few hundred kilobytes since the last request is queued for write-back, as the
    /// transaction's own writer does, so its final fsync has little left to wait for.
    pub fn append(&mut self, id: FileId, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let Some(Some(lent)) = self.files.get_mut(id.0) else {
            return Err(Error::Journal {
                path: Path::new("<appender>").to_path_buf(),
                message: format!("file {} was not lent to this appender", id.0),
            });
        };
        let reopened;
        let handle: Option<&File> = if lent.keep_open {
            self.opened.write(id.0, &lent.path, &lent.opening, bytes)?;
            self.opened.handle(id.0).map(|h| &**h)
        } else {
            reopened =
                append_reopened(&lent.path, &lent.opening, bytes, &mut self.opened.new_dirs)?;
            lent.opening = lent.opening.after_first();
            Some(&reopened)
        };
        lent.written = true;
        lent.unsynced += bytes.len() as u64;
        if lent.unsynced >= EARLY_SYNC_BYTES {
            lent.unsynced = 0;
            if let Some(handle) = handle {
                start_write_back(handle)
                    .map_err(|e| Error::io("start the write-back of", &*lent.path, e))?;
            }
        }
        Ok(())
    }

    /// Asks the disk to start writing back every byte appended since the last request: called
    /// by a producer that has written its last bytes, so the tail of its files is on its way while
    /// the rest of the transaction finishes and its fsync has less left to wait for.
    pub fn start_write_back(&mut self) -> Result<()> {
        for (index, lent) in self.files.iter_mut().enumerate() {
            let Some(lent) = lent.as_mut().filter(|l| l.unsynced > 0) else {
                continue;
            };
            lent.unsynced = 0;
            if let Some(handle) = self.opened.handle(index) {
                start_write_back(handle)
                    .map_err(|e| Error::io("start the write-back of", &*lent.path, e))?;
            }
        }
        Ok(())
    }

    /// The ids of the lent files, whether each was written, and what was opened.
    pub(crate) fn into_parts(self) -> (Vec<(FileId, bool)>, Opened) {
        let files = self
            .files
            .iter()
            .enumerate()
            .filter_map(|(index, lent)| lent.as_ref().map(|l| (FileId(index), l.written)))
            .collect();
        (files, self.opened)
    }
}

impl Transaction {
    /// Lends files `ids` to an [`Appender`] that another thread can write them with. Whatever
    /// the transaction holds or has queued for them is written first, so they still receive
    /// their bytes in append order.
    pub fn lend(&mut self, ids: &[FileId]) -> Result<Appender> {
        // Queued buffers of these files must land before anything the appender writes.
        let written = self.writer.finish()?;
        self.returned.merge(written);
        let mut appender = Appender::new();
        for id in ids {
            let file = &mut self.files[id.0];
            if file.lent {
                return Err(lent_error(&file.path));
            }
            let opening = file.opening(&self.dir);
            let pending = std::mem::take(&mut file.buf);
            file.lent = true;
            let handle = self.returned.take(id.0);
            appender.lend(*id, Arc::clone(&file.path), opening, file.keep_open, handle);
            appender.append(*id, &pending)?;
        }
        Ok(appender)
    }

    /// Takes back the files of `appender`; `sync` then fsyncs them with the rest.
    pub fn take_back(&mut self, appender: Appender) {
        let (files, opened) = appender.into_parts();
        for (id, written) in files {
            let file = &mut self.files[id.0];
            file.lent = false;
            file.touched |= written;
        }
        self.returned.merge(opened);
    }
}

/// A file written while an [`Appender`] holds it would lose its append order.
pub(super) fn lent_error(path: &Path) -> Error {
    Error::Journal {
        path: path.to_path_buf(),
        message: "is lent to an appender; take it back before writing or syncing it".into(),
    }
}

#[cfg(test)]
#[path = "appender_tests.rs"]
mod tests;
