//! Everything a run writes or keeps for one evaluated case, decided from its result alone.
//!
//! An applied case becomes a rollout record: counted in the totals, appended to the history (its
//! constraint profile stored once), kept in the recent window `state.json` holds. A completed case
//! leaves its key digest in the processed-key history and its key in the recent window
//! ([`History`]). Every case leaves a log entry and a context line in its blueprint's channel
//! store (a [`Channel`] each). None of this feeds back into how the next case is evaluated,
//! which is what lets [`super::render`] do each on a thread of its own; the bytes are those the
//! runner would have written itself, in the same order per file.
//!
//! Each file's lines go into a buffer of its own ([`Buffers`]); a full one ([`CHUNK`] bytes) is
//! appended by the lane's thread itself and then refilled in place.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use tau_durable::journal::{Appender, FileId, CHUNK};

use super::migrate::Files as HistoryFiles;
use crate::cycle::{CaseResult, Disposition};
use crate::history;
use crate::rollout::line::{self, LineCache};
use crate::state::{RolloutRecord, ROLLOUT_WINDOW};
use crate::sym::Sym;
use crate::totals::Totals;
use crate::Result;

/// One kind of per-case output, produced and written on a render thread.
pub(super) trait Lane: Send {
    /// What the runner gets back once every case is out.
    type Kept: Send;
    /// Renders `result`, appending each buffer that filled up through `out`.
    fn take(&mut self, result: &CaseResult<'static>, out: &mut Appender) -> Result<()>;
    /// Appends every line still buffered and returns what the run keeps.
    fn finish(self, out: &mut Appender) -> Result<Self::Kept>;
}

/// One buffer per file, by file id.
#[derive(Default)]
pub(super) struct Buffers {
    bufs: Vec<Vec<u8>>,
}

impl Buffers {
    /// The buffer of file `id`, made on first use with room for a chunk and the line that
    /// completes it, so it never grows by copying.
    fn of(&mut self, id: FileId) -> &mut Vec<u8> {
        if self.bufs.len() <= id.0 {
            self.bufs.resize_with(id.0 + 1, Vec::new);
        }
        let buf = &mut self.bufs[id.0];
        if buf.capacity() == 0 {
            buf.reserve_exact(CHUNK + CHUNK / 8);
        }
        buf
    }

    /// Appends the buffer of `id` once it holds a chunk, keeping it for the lines to come.
    fn write_if_full(&mut self, id: FileId, out: &mut Appender) -> Result<()> {
        let buf = &mut self.bufs[id.0];
        if buf.len() >= CHUNK {
            out.append(id, buf)?;
            buf.clear();
        }
        Ok(())
    }

    fn finish(self, out: &mut Appender) -> Result<()> {
        for (index, buf) in self.bufs.iter().enumerate() {
            out.append(FileId(index), buf)?;
        }
        Ok(())
    }
}

/// How one channel-store file renders a case's line.
pub(super) type Render = fn(&mut Vec<u8>, &CaseResult<'_>, u64);

/// One kind of channel-store line of every case: the log entries or the context lines. The two
/// are separate lanes because together they were the busiest thread of a run, one core's worth
/// while the other core had room; each case goes to both, shared.
pub(super) struct Channel {
    now: u64,
    /// The file of this kind of each touched blueprint.
    files: FxHashMap<Sym, FileId>,
    render: Render,
    bufs: Buffers,
}

impl Channel {
    pub(super) fn new(now: u64, files: FxHashMap<Sym, FileId>, render: Render) -> Self {
        Channel {
            now,
            files,
            render,
            bufs: Buffers::default(),
        }
    }

    /// The files this lane writes.
    pub(super) fn file_ids(&self) -> Vec<FileId> {
        self.files.values().copied().collect()
    }
}

impl Lane for Channel {
    type Kept = ();

    fn take(&mut self, result: &CaseResult<'static>, out: &mut Appender) -> Result<()> {
        let file = self.files[result.case.blueprint_id.as_str()];
        (self.render)(self.bufs.of(file), result, self.now);
        self.bufs.write_if_full(file, out)
    }

    fn finish(self, out: &mut Appender) -> Result<()> {
        self.bufs.finish(out)
    }
}

/// What the run keeps once every case is out: the totals and the windows for `state.json`.
#[derive(Debug)]
pub(super) struct Kept {
    pub totals: Totals,
    pub recent_rollouts: VecDeque<RolloutRecord>,
    pub recent_keys: VecDeque<Sym>,
}

/// The history lines, totals and recent windows of every case.
pub(super) struct History {
    /// The time every rollout record of the run is stamped with.
    now: u64,
    files: HistoryFiles,
    line_cache: LineCache,
    profile_line: Vec<u8>,
    kept: Kept,
    /// The processed-key window holds at most this many keys.
    cap: usize,
    bufs: Buffers,
}

impl History {
    /// `totals` are those of the history before this run; `cap` bounds the processed-key window;
    /// `queued` cases are to come.
    pub(super) fn new(
        now: u64,
        files: HistoryFiles,
        line_cache: LineCache,
        totals: Totals,
        cap: usize,
        queued: usize,
    ) -> Self {
        History {
            now,
            files,
            line_cache,
            profile_line: Vec::new(),
            kept: Kept {
                totals,
                recent_rollouts: VecDeque::with_capacity(queued.min(ROLLOUT_WINDOW)),
                recent_keys: VecDeque::with_capacity(queued.min(cap)),
            },
            cap,
            bufs: Buffers::default(),
        }
    }
}

impl Lane for History {
    type Kept = Kept;

    fn take(&mut self, result: &CaseResult<'static>, out: &mut Appender) -> Result<()> {
        let files = self.files;
        if let (Disposition::Applied, Some(accepted)) =
            (&result.disposition, result.response.accepted())
        {
            let record = super::record::rollout_record(result, accepted, self.now);
            self.kept.totals.add_rollout(&record)?;
            line::write_line(
                self.bufs.of(files.rollouts),
                &mut self.profile_line,
                &record,
                &mut self.line_cache,
            );
            if !self.profile_line.is_empty() {
                self.bufs.of(files.profiles).append(&mut self.profile_line);
                self.bufs.write_if_full(files.profiles, out)?;
            }
            self.bufs.write_if_full(files.rollouts, out)?;
            let window = &mut self.kept.recent_rollouts;
            if window.len() == ROLLOUT_WINDOW {
                window.pop_front();
            }
            window.push_back(record);
        }
        if result.disposition.is_completed() {
            self.kept.totals.add_processed(1)?;
            self.bufs
                .of(files.processed)
                .extend_from_slice(&history::key_digest(&result.key));
            self.bufs.write_if_full(files.processed, out)?;
            let window = &mut self.kept.recent_keys;
            if window.len() == self.cap {
                window.pop_front();
            }
            window.push_back(result.key.clone());
        }
        Ok(())
    }

    fn finish(self, out: &mut Appender) -> Result<Kept> {
        self.bufs.finish(out)?;
        Ok(self.kept)
    }
}
