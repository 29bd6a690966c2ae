//! Writing a package's files so that no failure, and no kill, leaves debris.
//!
//! Each file is written to a temp file beside its final name (`.<name>.tmp-<pid>`), fsynced, and
//! renamed into place only when every file of the package is staged. A staged file that is never
//! committed removes its temp file when dropped, so every error path cleans up; a commit that has
//! to be undone removes the final file it created. A process killed mid-write leaves its temp
//! file behind; the next packaging run into the same directory sweeps temp files whose writer is
//! gone.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::fsx;
use crate::Error;

const TEMP_MARK: &str = ".tmp-";

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { op, path, source }
}

/// A file written to its temp name and not yet renamed into place (or found already in place).
#[derive(Debug)]
pub(crate) struct Staged {
    /// `None` when the target already holds exactly the bytes: nothing to write or rename.
    temp: Option<PathBuf>,
    target: PathBuf,
}

/// A file renamed into place; [`Committed::undo`] removes it again if this run created it.
#[derive(Debug)]
pub(crate) struct Committed {
    target: PathBuf,
    created: bool,
}

impl Staged {
    /// Writes `bytes` to a temp file beside `target` and fsyncs it. `target` itself must not be a
    /// symlink (the rename would replace the link, but the unchanged-content check would read
    /// through it).
    pub(crate) fn write(target: &Path, bytes: &[u8]) -> Result<Staged, Error> {
        fsx::refuse_symlink(target, "package output")?;
        // Content-addressed files are usually repackaged unchanged; rewriting them would cost two
        // fsyncs to change nothing.
        if holds(target, bytes) {
            return Ok(Staged {
                temp: None,
                target: target.to_path_buf(),
            });
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}{TEMP_MARK}{}", std::process::id()));
        let staged = Staged {
            temp: Some(temp.clone()),
            target: target.to_path_buf(),
        };
        // A leftover of ours (pid reuse) or a planted link goes first; create_new then refuses to
        // follow anything put there in between.
        let _ = fs::remove_file(&temp);
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io("create temp file", &temp))?;
        file.write_all(bytes).map_err(io("write", &temp))?;
        file.sync_all().map_err(io("fsync", &temp))?;
        Ok(staged)
    }

    /// Renames the temp file over the target.
    pub(crate) fn commit(mut self) -> Result<Committed, Error> {
        let Some(temp) = self.temp.take() else {
            return Ok(Committed {
                target: self.target.clone(),
                created: false,
            });
        };
        let existed = fs::symlink_metadata(&self.target).is_ok();
        if let Err(source) = fs::rename(&temp, &self.target) {
            let _ = fs::remove_file(&temp);
            return Err(io("rename into place", &self.target)(source));
        }
        Ok(Committed {
            target: self.target.clone(),
            created: !existed,
        })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

impl Committed {
    /// Removes the file if this run created it; an existing identical file stays.
    pub(crate) fn undo(self) {
        if self.created {
            let _ = fs::remove_file(&self.target);
        }
    }
}

/// Whether `path` is a regular file holding exactly `bytes`.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() && u64::try_from(bytes.len()) == Ok(meta.len()) => {
            fs::read(path).is_ok_and(|current| current == bytes)
        }
        _ => false,
    }
}

/// The pid in a temp file name written by [`Staged::write`], if `name` is one.
fn temp_pid(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let (_, pid) = name.rsplit_once(TEMP_MARK)?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process with this pid may still be writing. Without a way to tell, assume it is
/// gone: the caller holds the state-dir lock that every packager takes.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    cfg!(target_os = "linux") && Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the temp files that killed packaging runs left in `dir`; returns how many.
pub(crate) fn sweep(dir: &Path) -> Result<usize, Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io("list", dir)(e)),
    };
    let mut removed = 0usize;
    for entry in entries {
        let entry = entry.map_err(io("list", dir))?;
        let name = entry.file_name();
        let Some(pid) = temp_pid(&name.to_string_lossy()) else {
            continue;
        };
        let is_file = entry
            .file_type()
            .is_ok_and(|t| t.is_file() || t.is_symlink());
        if is_file && !alive(pid) {
            let path = entry.path();
            fs::remove_file(&path).map_err(io("remove stale temp file", &path))?;
            removed = removed.saturating_add(1);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No pid reaches this on Linux (`pid_max` is at most 2^22).
    const DEAD_PID: u32 = 999_999_999;

    #[test]
    fn a_dropped_stage_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let staged = Staged::write(&dir.path().join("a.wasm"), b"bytes").unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(staged);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces_and_undo_removes_only_what_it_created() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.wasm");
        let created = Staged::write(&target, b"one").unwrap().commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"one");
        let again = Staged::write(&target, b"one").unwrap().commit().unwrap();
        again.undo();
        assert!(
            target.exists(),
            "an identical file that was already there stays"
        );
        created.undo();
        assert!(!target.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn sweep_removes_temps_of_dead_writers_only() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(format!(".a.wasm{TEMP_MARK}{DEAD_PID}"));
        let live = dir
            .path()
            .join(format!(".b.wasm{TEMP_MARK}{}", std::process::id()));
        let other = dir.path().join("c.wasm.tmp-1");
        for path in [&stale, &live, &other] {
            fs::write(path, b"x").unwrap();
        }
        assert_eq!(sweep(dir.path()).unwrap(), 1);
        assert!(!stale.exists() && live.exists() && other.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_output_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, b"keep").unwrap();
        let target = dir.path().join("a.wasm");
        std::os::unix::fs::symlink(&outside, &target).unwrap();
        let err = Staged::write(&target, b"keep").unwrap_err().to_string();
        assert!(err.contains("symlink"), "{err}");
        assert_eq!(fs::read(&outside).unwrap(), b"keep");
    }
}
