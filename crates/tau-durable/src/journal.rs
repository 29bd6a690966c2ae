//! An undo journal that makes "append to logs, then commit state" exactly-once.
//!
//! A run that extends append-only logs and then replaces a state file has a window in which the
//! logs hold entries the state does not account for. If the process dies there, the next run would
//! process the same work again and append the same entries twice. The journal closes that window:
//!
//! 1. [`Transaction::begin`] first records, atomically, the length of every log it is about to
//!    extend (the *intent*), together with the generation the state commit will carry;
//! 2. the caller appends, [`Transaction::sync`]s, and commits its state file with that generation;
//! 3. [`Transaction::finish`] removes the intent.
//!
//! [`recover`] runs before the next transaction. If the intent's generation is newer than the
//! committed one, the commit never happened and every log is cut back to its recorded length
//! (a file the transaction created is removed). Either way the intent lists the *derived* files the
//! caller should regenerate from committed state, because those are written after the commit.
//!
//! The logs are line logs. One whose last line lost its newline (a torn write from before tau
//! kept a journal, a hand edit) gets a newline before the first new record, so the new record
//! never glues onto the torn one; the rollback length still covers it. No log is written through
//! a symlink ([`crate::guard`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::writer::{Opened, Writer};
use crate::{Error, Result};

#[path = "appender.rs"]
mod appender;
use appender::lent_error;
pub use appender::Appender;

/// The journal's file name inside the state dir.
pub const INTENT_FILE: &str = ".commit-intent.json";

/// What a transaction promised to do, as persisted before it did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The generation the state commit carries once it lands.
    pub generation: u64,
    /// Log path (relative to the state dir) -> its length before the append; `None` when the
    /// transaction creates the file.
    pub appends: BTreeMap<String, Option<u64>>,
    /// Caller-defined names of derived outputs to regenerate after a crash.
    pub derived: Vec<String>,
}

/// What [`recover`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// No transaction was interrupted.
    Clean,
    /// A transaction died before its commit; its appends were cut back.
    RolledBack { derived: Vec<String> },
    /// A transaction committed but died before cleaning up; its appends stand.
    Completed { derived: Vec<String> },
}

impl Recovery {
    /// The derived outputs the caller should regenerate from committed state.
    pub fn derived(&self) -> &[String] {
        match self {
            Recovery::Clean => &[],
            Recovery::RolledBack { derived } | Recovery::Completed { derived } => derived,
        }
    }
}

/// Brings `dir` back to a committed state. `committed` is the generation of the state file that is
/// on disk now. Must be called under the state-dir lock.
pub fn recover(dir: &Path, committed: u64) -> Result<Recovery> {
    let path = dir.join(INTENT_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Recovery::Clean),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let intent: Intent = serde_json::from_slice(&bytes).map_err(|e| Error::Journal {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let recovery = if intent.generation > committed {
        for (rel, before) in &intent.appends {
            cut_back(&dir.join(checked_relative(&path, rel)?), *before)?;
        }
        Recovery::RolledBack {
            derived: intent.derived,
        }
    } else {
        Recovery::Completed {
            derived: intent.derived,
        }
    };
    remove_intent(dir)?;
    Ok(recovery)
}

/// Flush a file's buffer to disk once it holds this much. A producer that fills its own buffers
/// for [`Transaction::append_owned`] hands them over at this size too.
pub const CHUNK: usize = 64 * 1024;

/// The first this many files of a transaction keep their handle open between flushes; opening
/// and closing a log per flush was a third of a run's system time. The rest (a fixture with
/// thousands of blueprints) reopen per flush rather than run out of descriptors.
const OPEN_HANDLES: usize = 256;

/// A set of appends made exactly-once by the intent written when it begins.
///
/// Appends stream: each file has a bounded buffer that is handed to a writer thread (no fsync)
/// when full, so memory stays flat however many entries a run writes and the copying into the
/// page cache runs beside the caller's work. A log that grows past a megabyte is fsynced early by
/// another thread, so the disk works while the run does.
/// [`sync`](Self::sync) flushes the rest, waits for those, and fsyncs every file once more.
/// A producer on another thread can instead borrow some files ([`lend`](Self::lend)) and append
/// to them itself through an [`Appender`] until it gives them back.
#[derive(Debug)]
pub struct Transaction {
    dir: Arc<Path>,
    files: Vec<Pending>,
    writer: Writer,
    /// Directories with entries this transaction created: fsynced once each in `sync`, however
    /// many new logs they hold.
    new_entries: BTreeSet<PathBuf>,
    /// Handles (and new directories) of files that were lent to an [`Appender`], for `sync`.
    returned: Opened,
}

#[derive(Debug)]
struct Pending {
    path: Arc<Path>,
    buf: Vec<u8>,
    /// Written through the writer thread, which opens it once and keeps it open; otherwise
    /// opened, written and closed here at each flush.
    keep_open: bool,
    created: bool,
    touched: bool,
    /// The existing file does not end in a newline; one goes in before the first append.
    torn_tail: bool,
    /// Lent to an [`Appender`]: the transaction writes nothing to it until it is taken back.
    lent: bool,
}

/// How a log is opened for its first append: what has to happen before the first byte.
#[derive(Debug, Clone)]
pub(crate) struct Opening {
    /// The state dir; directories are created below it, never above.
    root: Arc<Path>,
    /// The transaction creates the file: create its missing directories first.
    create_dirs: bool,
    /// Write the newline that ends a torn last line before anything else.
    torn_tail: bool,
}

impl Opening {
    pub(crate) fn new(root: Arc<Path>, create_dirs: bool, torn_tail: bool) -> Self {
        Opening {
            root,
            create_dirs,
            torn_tail,
        }
    }

    /// How the file opens once its first append is done: nothing more to prepare.
    pub(crate) fn after_first(&self) -> Self {
        Opening::new(Arc::clone(&self.root), false, false)
    }
}

/// Opens the log at `path` for appending as `opening` says, noting directories that got new
/// entries in `new_entries`.
pub(crate) fn open_log(
    path: &Path,
    opening: &Opening,
    new_entries: &mut BTreeSet<PathBuf>,
) -> Result<fs::File> {
    if opening.create_dirs {
        create_dirs(&opening.root, atomic::parent_of(path), new_entries)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("open for append", path, e))?;
    if opening.torn_tail {
        (&file)
            .write_all(b"\n")
            .map_err(|e| Error::io("append to", path, e))?;
    }
    Ok(file)
}

/// A file of a [`Transaction`], in the order given to [`Transaction::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId(pub usize);

impl Transaction {
    /// Records the intent to append to `appends` (paths relative to `dir`, `/`-separated) and to
    /// regenerate `derived`, with `generation` as the state commit that will account for them.
    /// File ids follow the order of `appends`. Must be called under the state-dir lock, after
    /// [`recover`].
    pub fn begin(
        dir: &Path,
        generation: u64,
        appends: &[String],
        derived: &[String],
    ) -> Result<Self> {
        let intent_path = dir.join(INTENT_FILE);
        let mut lengths = BTreeMap::new();
        let mut files = Vec::with_capacity(appends.len());
        for rel in appends {
            let relative = checked_relative(&intent_path, rel)?;
            crate::guard::refuse_symlinks(dir, &relative)?;
            let path = dir.join(relative);
            let before = match fs::metadata(&path) {
                Ok(meta) => Some(meta.len()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io("inspect", &path, e)),
            };
            let torn_tail = match before {
                Some(len) if len > 0 => last_byte(&path, len)? != b'\n',
                _ => false,
            };
            lengths.insert(rel.clone(), before);
            files.push(Pending {
                path: Arc::from(path),
                buf: Vec::new(),
                keep_open: files.len() < OPEN_HANDLES,
                created: before.is_none(),
                touched: false,
                torn_tail,
                lent: false,
            });
        }
        let intent = Intent {
            generation,
            appends: lengths,
            derived: derived.to_vec(),
        };
        let bytes = serde_json::to_vec(&intent).expect("intent serializes");
        atomic::write(&intent_path, &bytes)?;
        Ok(Transaction {
            dir: Arc::from(dir),
            files,
            writer: Writer::default(),
            new_entries: BTreeSet::new(),
            returned: Opened::default(),
        })
    }

    /// Appends what `fill` writes to file `id`.
    pub fn append(&mut self, id: FileId, fill: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        if self.files[id.0].lent {
            return Err(lent_error(&self.files[id.0].path));
        }
        fill(&mut self.files[id.0].buf);
        self.flush_if_full(id.0)
    }

    /// Appends a whole buffer that the caller filled, handing it to the writer as it is once it
    /// holds [`CHUNK`] bytes instead of copying it; returns an empty buffer for the caller to fill
    /// next. A producer on another thread renders into its own buffers this way, and the bytes it
    /// wrote are never copied again on the way to the file.
    pub fn append_owned(&mut self, id: FileId, mut bytes: Vec<u8>) -> Result<Vec<u8>> {
        let file = &mut self.files[id.0];
        if file.lent {
            return Err(lent_error(&file.path));
        }
        if file.buf.is_empty() {
            std::mem::swap(&mut file.buf, &mut bytes);
        } else {
            // Bytes already pending for the file go first.
            file.buf.extend_from_slice(&bytes);
            bytes.clear();
        }
        self.flush_if_full(id.0)?;
        // After a flush the file holds the buffer the writer gave back: it goes to the caller,
        // who fills the next one, and the file keeps the smaller.
        let file = &mut self.files[id.0];
        if file.buf.is_empty() && bytes.capacity() < file.buf.capacity() {
            std::mem::swap(&mut file.buf, &mut bytes);
        }
        Ok(bytes)
    }

    /// Hands file `index`'s buffer to the writer once it holds a chunk.
    fn flush_if_full(&mut self, index: usize) -> Result<()> {
        self.flush_from(index, CHUNK)
    }

    /// Hands file `index`'s buffer to the writer if it holds at least `at_least` bytes.
    fn flush_from(&mut self, index: usize, at_least: usize) -> Result<()> {
        let file = &mut self.files[index];
        if file.buf.len() < at_least {
            return Ok(());
        }
        flush(
            &self.dir,
            index,
            file,
            &mut self.writer,
            &mut self.new_entries,
        )
    }

    /// Writes every buffered byte and fsyncs each appended file and each new directory entry.
    /// After this returns the caller commits its state, then calls [`finish`](Self::finish).
    pub fn sync(&mut self) -> Result<()> {
        if let Some(file) = self.files.iter().find(|f| f.lent) {
            return Err(lent_error(&file.path));
        }
        for index in 0..self.files.len() {
            self.flush_from(index, 0)?;
        }
        let mut opened = self.writer.finish()?;
        opened.merge(std::mem::take(&mut self.returned));
        self.new_entries.append(&mut opened.new_dirs);
        let mut touched = Vec::new();
        for (index, file) in self.files.iter_mut().enumerate() {
            if !file.touched {
                continue;
            }
            let handle = match opened.take(index) {
                Some(handle) => handle,
                None => Arc::new(
                    OpenOptions::new()
                        .append(true)
                        .open(&file.path)
                        .map_err(|e| Error::io("open for fsync", &*file.path, e))?,
                ),
            };
            if file.created {
                self.new_entries
                    .insert(atomic::parent_of(&file.path).to_path_buf());
            }
            touched.push((&*file.path, handle));
        }
        // Concurrent fsyncs share journal commits; one after another, each waits for its own.
        // The new directory entries are independent of the files' data, so they go in the same
        // batch rather than a round of commits of their own.
        let durable: Vec<Durable> = touched
            .into_iter()
            .map(|(path, handle)| Durable::Data(path, handle))
            .chain(self.new_entries.iter().map(|dir| Durable::Entries(dir)))
            .collect();
        atomic::in_parallel(&durable, |item| match item {
            Durable::Data(path, handle) => {
                handle.sync_data().map_err(|e| Error::io("fsync", *path, e))
            }
            Durable::Entries(dir) => atomic::sync_dir(dir),
        })
    }

    /// Removes the intent once the state commit and the derived outputs are on disk.
    pub fn finish(self) -> Result<()> {
        remove_intent(&self.dir)
    }
}

/// What [`Transaction::sync`] makes durable: a log's data, or a directory's new entries.
enum Durable<'a> {
    Data(&'a Path, Arc<fs::File>),
    Entries(&'a Path),
}

fn flush(
    root: &Arc<Path>,
    index: usize,
    file: &mut Pending,
    writer: &mut Writer,
    new_entries: &mut BTreeSet<PathBuf>,
) -> Result<()> {
    if file.buf.is_empty() {
        return Ok(());
    }
    let opening = file.opening(root);
    file.touched = true;
    if file.keep_open {
        let full = std::mem::take(&mut file.buf);
        file.buf = writer.write(index, &file.path, opening, full)?;
    } else {
        append_reopened(&file.path, &opening, &file.buf, new_entries)?;
        file.buf.clear();
    }
    Ok(())
}

impl Pending {
    /// How the file opens for its next append. What a first append needs (directories, the
    /// newline after a torn line) happens once, with the file's first bytes, so nothing of it can
    /// be ahead of the newline.
    fn opening(&self, root: &Arc<Path>) -> Opening {
        Opening::new(
            Arc::clone(root),
            self.created && !self.touched,
            self.torn_tail && !self.touched,
        )
    }
}

/// Opens a log that is not kept open, appends `bytes` and returns the handle.
pub(crate) fn append_reopened(
    path: &Path,
    opening: &Opening,
    bytes: &[u8],
    new_entries: &mut BTreeSet<PathBuf>,
) -> Result<fs::File> {
    let handle = open_log(path, opening, new_entries)?;
    (&handle)
        .write_all(bytes)
        .map_err(|e| Error::io("append to", path, e))?;
    Ok(handle)
}

fn last_byte(path: &Path, len: u64) -> Result<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    file.seek(SeekFrom::Start(len - 1))
        .map_err(|e| Error::io("seek in", path, e))?;
    let mut byte = [0u8];
    file.read_exact(&mut byte)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(byte[0])
}

fn remove_intent(dir: &Path) -> Result<()> {
    let path = dir.join(INTENT_FILE);
    match fs::remove_file(&path) {
        Ok(()) => atomic::sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", &path, e)),
    }
}

fn cut_back(path: &Path, before: Option<u64>) -> Result<()> {
    match before {
        None => match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove uncommitted", path, e)),
        },
        Some(len) => {
            let file = match OpenOptions::new().write(true).open(path) {
                Ok(file) => file,
                // A log that vanished (rotated away, removed by hand) holds nothing to undo.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(Error::io("open for rollback", path, e)),
            };
            let current = file
                .metadata()
                .map_err(|e| Error::io("inspect", path, e))?
                .len();
            if current > len {
                file.set_len(len)
                    .map_err(|e| Error::io("truncate uncommitted tail of", path, e))?;
                file.sync_all().map_err(|e| Error::io("fsync", path, e))?;
            }
            Ok(())
        }
    }
}

/// Creates `target` (inside `root`), adding the parent of each newly created level to
/// `new_entries` so `sync` makes it durable.
fn create_dirs(root: &Path, target: &Path, new_entries: &mut BTreeSet<PathBuf>) -> Result<()> {
    if target.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut cursor = target;
    while !cursor.is_dir() && cursor != root {
        missing.push(cursor.to_path_buf());
        match cursor.parent() {
            Some(parent) => cursor = parent,
            None => break,
        }
    }
    fs::create_dir_all(target).map_err(|e| Error::io("create directory", target, e))?;
    for dir in &missing {
        new_entries.insert(atomic::parent_of(dir).to_path_buf());
    }
    Ok(())
}

/// Journal paths come from our own intent file, but a hand-edited one must not reach outside.
fn checked_relative(intent: &Path, rel: &str) -> Result<PathBuf> {
    let path = Path::new(rel);
    let safe = !rel.is_empty()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if safe {
        Ok(path.to_path_buf())
    } else {
        Err(Error::Journal {
            path: intent.to_path_buf(),
            message: format!("path {rel:?} is not relative to the state dir"),
        })
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
