//! One writer per state dir.
//!
//! The lock is an advisory OS lock (`flock` on Unix) on `<dir>/.lock`, so it is released by the
//! kernel when the holder exits for any reason, `kill -9` included: there is no stale lock file to
//! clean up. The file's contents name the holder, only to tell a waiting user who they wait for.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The name of the lock file inside a state dir.
pub const LOCK_FILE: &str = ".lock";

/// What to do when another process holds the lock.
pub enum Wait<'a> {
    /// Block until the lock is free; `on_wait` is told who holds it, once, before blocking.
    Block(&'a mut dyn FnMut(&str)),
    /// Return [`Error::Locked`] at once.
    FailFast,
}

/// A held state-dir lock; dropping it releases the lock.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    dir: PathBuf,
}

impl DirLock {
    /// Takes the single-writer lock of `dir`, creating the directory if needed.
    pub fn acquire(dir: &Path, wait: Wait<'_>) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create state dir", dir, e))?;
        let path = dir.join(LOCK_FILE);
        // Opening for write follows a symlink, and taking the lock rewrites the file: a planted
        // `.lock -> elsewhere` would truncate whatever it points at.
        crate::guard::refuse_symlinks(dir, Path::new(LOCK_FILE))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                match wait {
                    Wait::FailFast => {
                        return Err(Error::Locked {
                            dir: dir.to_path_buf(),
                            holder,
                        })
                    }
                    Wait::Block(on_wait) => {
                        on_wait(&holder);
                        file.lock().map_err(|e| Error::io("lock", &path, e))?;
                    }
                }
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
        }
        let me = format!("pid {}", std::process::id());
        // Best effort: the holder note is informational, the OS lock is what protects the dir.
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()));
        Ok(DirLock {
            file,
            dir: dir.to_path_buf(),
        })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.take(128).read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "holder unknown".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_symlinked_lock_file_is_refused_and_its_target_untouched() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("state");
        fs::create_dir(&dir).unwrap();
        let victim = outer.path().join("victim.txt");
        fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(LOCK_FILE)).unwrap();
        let err = DirLock::acquire(&dir, Wait::FailFast).unwrap_err();
        assert!(matches!(err, Error::Symlink { .. }), "{err}");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn second_writer_fails_fast_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _held = DirLock::acquire(dir.path(), Wait::FailFast).unwrap();
        let err = DirLock::acquire(dir.path(), Wait::FailFast).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("locked by another tau process"),
            "{message}"
        );
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
    }

    #[test]
    fn lock_is_free_again_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        drop(DirLock::acquire(dir.path(), Wait::FailFast).unwrap());
        DirLock::acquire(dir.path(), Wait::FailFast).unwrap();
    }

    #[test]
    fn waiting_writer_is_told_and_proceeds_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let held = DirLock::acquire(dir.path(), Wait::FailFast).unwrap();
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let mut told = None;
            let mut note = |holder: &str| told = Some(holder.to_string());
            let _lock = DirLock::acquire(&path, Wait::Block(&mut note)).unwrap();
            told
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(held);
        let told = waiter.join().unwrap();
        assert!(told.unwrap().starts_with("pid "));
    }
}
