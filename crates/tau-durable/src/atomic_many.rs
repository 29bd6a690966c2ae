//! Many small whole-file replacements at once, as durable as [`crate::atomic::write`] each.
//!
//! A run regenerates one `MEMORY.md` per blueprint it touched. Written one after another, each
//! paid two fsyncs in turn (file, then directory), and on a busy disk those 128 serial flushes for
//! 64 blueprints took longer than evaluating 100,000 cases. Here every file is written first, the
//! fsyncs are issued from a few threads at once (the filesystem folds concurrent flushes into
//! shared journal commits), then every file is renamed and each directory fsynced once.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{parent_of, sync_dir, Staged};
use crate::{Error, Result};

/// At most this many fsyncs in flight.
const WORKERS: usize = 8;

/// Replaces each `(path, bytes)` atomically and durably. When it fails, files already renamed
/// keep their new contents and the others their old ones; no temp file is left behind.
pub fn write_many(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    stage_many(files)?.commit()
}

/// The first half of [`write_many`]: every file written and fsynced beside its target, none yet
/// in place.
pub fn stage_many(files: &[(PathBuf, Vec<u8>)]) -> Result<StagedMany> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let dir = parent_of(path);
        fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        let file = Staged::beside(path);
        let tmp = file.tmp();
        crate::atomic::create_fresh(tmp).and_then(|mut handle| {
            std::io::Write::write_all(&mut handle, bytes).map_err(|e| Error::io("write", tmp, e))
        })?;
        staged.push(file);
    }
    in_parallel(&staged, |file| {
        File::open(file.tmp())
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io("fsync", file.tmp(), e))
    })?;
    Ok(StagedMany(staged))
}

/// Whole-file replacements written and fsynced beside their targets, waiting for
/// [`commit`](Self::commit); dropped uncommitted, they remove their temporary files.
#[derive(Debug)]
#[must_use = "staged files replace nothing until they are committed"]
pub struct StagedMany(Vec<Staged>);

impl StagedMany {
    /// Renames every file into place, then fsyncs each directory once. When a rename fails, the
    /// files before it keep their new contents and the others their old ones.
    pub fn commit(mut self) -> Result<()> {
        for file in &mut self.0 {
            file.rename()?;
        }
        let dirs: BTreeSet<&Path> = self.0.iter().map(|file| parent_of(file.path())).collect();
        let dirs: Vec<&Path> = dirs.into_iter().collect();
        in_parallel(&dirs, |dir| sync_dir(dir))
    }
}

/// Runs `op` on every item from up to [`WORKERS`] threads; the first error wins.
pub(crate) fn in_parallel<T: Sync>(
    items: &[T],
    op: impl Fn(&T) -> Result<()> + Sync,
) -> Result<()> {
    if items.len() <= 1 {
        return items.iter().try_for_each(op);
    }
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(items.len()) {
            scope.spawn(|| {
                while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(e) = op(item) {
                        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_replaced_and_no_temp_file_remains() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Vec<u8>)> = (0..20)
            .map(|i| {
                let path = dir.path().join(format!("bp-{}/m{i}.md", i % 7));
                (path, format!("memory {i}\n").into_bytes())
            })
            .collect();
        fs::create_dir_all(dir.path().join("bp-0")).unwrap();
        fs::write(&files[0].0, b"old").unwrap();
        write_many(&files).unwrap();
        for (path, bytes) in &files {
            assert_eq!(&fs::read(path).unwrap(), bytes);
        }
        for entry in walk(dir.path()) {
            assert!(!entry.contains(".tmp-"), "{entry}");
        }
    }

    #[test]
    fn a_file_that_cannot_be_written_fails_the_batch_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // A regular file where a directory must go: the second entry cannot be staged.
        fs::write(dir.path().join("blocker"), b"x").unwrap();
        let files = vec![
            (dir.path().join("ok/MEMORY.md"), b"a".to_vec()),
            (dir.path().join("blocker/MEMORY.md"), b"b".to_vec()),
        ];
        assert!(write_many(&files).is_err());
        assert!(!dir.path().join("ok/MEMORY.md").exists());
        for entry in walk(dir.path()) {
            assert!(!entry.contains(".tmp-"), "{entry}");
        }
    }

    #[test]
    fn staged_files_stay_beside_their_targets_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Vec<u8>)> = (0..3)
            .map(|i| (dir.path().join(format!("bp-{i}/MEMORY.md")), vec![b'0' + i]))
            .collect();
        fs::create_dir_all(dir.path().join("bp-0")).unwrap();
        fs::write(&files[0].0, b"old").unwrap();
        let staged = stage_many(&files).unwrap();
        assert_eq!(fs::read(&files[0].0).unwrap(), b"old");
        assert!(!files[1].0.exists());
        drop(staged);
        assert_eq!(fs::read(&files[0].0).unwrap(), b"old");
        assert!(walk(dir.path()).iter().all(|e| !e.contains(".tmp-")));
        stage_many(&files).unwrap().commit().unwrap();
        for (path, bytes) in &files {
            assert_eq!(&fs::read(path).unwrap(), bytes);
        }
        assert!(walk(dir.path()).iter().all(|e| !e.contains(".tmp-")));
    }

    fn walk(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            out.push(path.display().to_string());
            if path.is_dir() {
                out.extend(walk(&path));
            }
        }
        out
    }
}
