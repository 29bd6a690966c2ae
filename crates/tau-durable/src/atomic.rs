//! Whole-file replacement that survives a crash at any instruction.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Replaces `path` with what `fill` writes, atomically and durably.
///
/// The bytes go to a temporary file beside `path`, which is flushed and fsynced, then renamed over
/// `path`, and the directory is fsynced so the rename itself survives power loss. If `fill` fails
/// the temporary file is removed and `path` is untouched.
pub fn write_with<E>(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<Error>,
{
    stage_with(path, fill)?.commit().map_err(E::from)
}

/// The first half of [`write_with`]: the new contents of `path`, written and fsynced beside it,
/// not yet in place. A caller that must not replace `path` before something else is durable (a
/// state file before the logs it accounts for) prepares it meanwhile and commits it afterwards.
pub fn stage_with<E>(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<Staged, E>
where
    E: From<Error>,
{
    let dir = parent_of(path);
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let staged = Staged::beside(path);
    let tmp = staged.tmp();
    let file = create_fresh(tmp)?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    fill(&mut writer)?;
    let file = writer
        .into_inner()
        .map_err(|e| Error::io("write", tmp, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io("fsync", tmp, e))?;
    Ok(staged)
}

/// A whole-file replacement written and fsynced beside its target, waiting for
/// [`commit`](Self::commit); dropped uncommitted, it removes its temporary file and the target
/// keeps its old contents.
#[derive(Debug)]
#[must_use = "a staged file replaces nothing until it is committed"]
pub struct Staged {
    path: PathBuf,
    /// `None` once renamed into place.
    tmp: Option<PathBuf>,
}

impl Staged {
    /// A replacement of `path` whose temporary file is yet to be written.
    pub(crate) fn beside(path: &Path) -> Self {
        Staged {
            path: path.to_path_buf(),
            tmp: Some(temp_path(path)),
        }
    }

    /// The temporary file (the target itself once committed).
    pub(crate) fn tmp(&self) -> &Path {
        self.tmp.as_deref().unwrap_or(&self.path)
    }

    /// Renames the new contents over the target and makes the rename durable.
    pub fn commit(mut self) -> Result<()> {
        self.rename()?;
        sync_dir(parent_of(&self.path))
    }

    /// Renames the new contents over the target, without the directory fsync.
    pub(crate) fn rename(&mut self) -> Result<()> {
        if let Some(tmp) = self.tmp.take() {
            fs::rename(&tmp, &self.path).map_err(|e| {
                let _ = fs::remove_file(&tmp);
                Error::io("rename into place", &self.path, e)
            })?;
        }
        Ok(())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Replaces `path` with `bytes`, atomically and durably.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| {
        w.write_all(bytes).map_err(|e| Error::io("write", path, e))
    })
}

/// Like [`write`], but leaves `path` alone when it already holds exactly `bytes`; returns whether it
/// wrote. Content-addressed files are rewritten on every repackage otherwise, paying two fsyncs to
/// change nothing.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    if let Ok(meta) = fs::metadata(path) {
        if meta.len() == bytes.len() as u64 && fs::read(path).is_ok_and(|current| current == bytes)
        {
            return Ok(false);
        }
    }
    write(path, bytes)?;
    Ok(true)
}

/// Makes a directory's entries (new files, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(|e| Error::io("open directory", dir, e))?;
        handle
            .sync_all()
            .map_err(|e| Error::io("fsync directory", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes temp files that a killed writer left in `dir` (those of other processes). Only safe
/// under the state-dir lock, which guarantees no other writer is mid-write. Returns how many.
pub fn remove_stale_temps(dir: &Path) -> Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mine = format!(".tmp-{}", std::process::id());
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = name.starts_with('.')
            && name
                .rsplit_once(".tmp-")
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
            && !name.ends_with(&mine);
        if stale {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| Error::io("remove stale temp file", &path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The pid keeps two processes that ignore the lock from clobbering each other's temp file.
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[path = "atomic_many.rs"]
mod many;
pub(crate) use many::in_parallel;
pub use many::{stage_many, write_many, StagedMany};

/// Creates `tmp` as a new file. Whatever stands at that name (a leftover, or a symlink planted
/// to redirect the write) is removed first, and `create_new` refuses to follow a symlink that
/// appears in between.
pub(crate) fn create_fresh(tmp: &Path) -> Result<File> {
    match fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("remove stale temp", tmp, e)),
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|e| Error::io("create", tmp, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_the_temp_name_is_replaced_not_followed() {
        let outer = tempfile::tempdir().unwrap();
        let victim = outer.path().join("victim.txt");
        fs::write(&victim, "precious").unwrap();
        let path = outer.path().join("state.json");
        std::os::unix::fs::symlink(&victim, temp_path(&path)).unwrap();
        write(&path, b"{}").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read(&path).unwrap(), b"{}");
        assert!(!fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write(&path, b"first version, longer").unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temp file left behind");
    }

    #[test]
    fn failed_fill_keeps_previous_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write(&path, b"good").unwrap();
        let result: Result<()> = write_with(&path, |w| {
            w.write_all(b"half").unwrap();
            Err(Error::io(
                "serialize",
                "state.json",
                std::io::Error::other("boom"),
            ))
        });
        assert!(result.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"good");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_staged_file_replaces_nothing_until_committed_and_leaves_nothing_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write(&path, b"old").unwrap();
        let staged: Staged = stage_with(&path, |w| {
            w.write_all(b"new")
                .map_err(|e| Error::io("write", "state.json", e))
        })
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"old");
        drop(staged);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp left behind"
        );
        let staged: Staged = stage_with(&path, |w| {
            w.write_all(b"new")
                .map_err(|e| Error::io("write", "state.json", e))
        })
        .unwrap();
        staged.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp left behind"
        );
    }

    #[test]
    fn unchanged_files_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wasm");
        assert!(write_if_changed(&path, b"abc").unwrap());
        assert!(!write_if_changed(&path, b"abc").unwrap());
        assert!(write_if_changed(&path, b"abd").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"abd");
    }

    #[test]
    fn stale_temp_files_of_other_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".state.json.tmp-1"), b"half").unwrap();
        fs::write(dir.path().join("keep.tmp-1"), b"not ours").unwrap();
        fs::write(
            dir.path().join(format!(".x.tmp-{}", std::process::id())),
            b"mine",
        )
        .unwrap();
        assert_eq!(remove_stale_temps(dir.path()).unwrap(), 1);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        assert_eq!(remove_stale_temps(&dir.path().join("missing")).unwrap(), 0);
    }

    #[test]
    fn write_creates_missing_parent_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.json");
        write(&path, b"{}").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{}");
    }
}
