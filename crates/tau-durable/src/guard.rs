//! Refusing symlinks inside a state dir.
//!
//! Every path a tau command writes under a state dir is built from the dir and names it chose. A
//! symlink planted at one of those names (the events log, a blueprint's channel-store directory)
//! would redirect appends and rewrites to any file the user can write, so a write never follows
//! one: the path is checked component by component from the state dir down, under the state-dir
//! lock, before it is opened.

use std::path::{Component, Path};

use crate::{Error, Result};

/// Fails with [`Error::Symlink`] if any existing component of `rel` below `root` is a symlink.
/// Components that do not exist yet are fine: the writer creates them as plain entries.
pub fn refuse_symlinks(root: &Path, rel: &Path) -> Result<()> {
    let mut path = root.to_path_buf();
    for component in rel.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        path.push(name);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Error::Symlink { path });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("inspect", &path, e)),
        }
    }
    Ok(())
}

/// [`refuse_symlinks`] for an absolute `path` inside `root`; a path outside `root` is checked
/// from its own parent only.
pub fn refuse_symlinks_at(root: &Path, path: &Path) -> Result<()> {
    match path.strip_prefix(root) {
        Ok(rel) => refuse_symlinks(root, rel),
        Err(_) => match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => refuse_symlinks(parent, Path::new(name)),
            _ => Ok(()),
        },
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_file_or_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("x"), dir.path().join("log")).unwrap();
        let err = refuse_symlinks(dir.path(), Path::new("log")).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        std::fs::create_dir(dir.path().join("store")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("store/bp")).unwrap();
        assert!(refuse_symlinks(dir.path(), Path::new("store/bp/log.jsonl")).is_err());
    }

    #[test]
    fn plain_and_missing_paths_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("store")).unwrap();
        std::fs::write(dir.path().join("store/log"), b"").unwrap();
        refuse_symlinks(dir.path(), Path::new("store/log")).unwrap();
        refuse_symlinks(dir.path(), Path::new("store/new/deeper")).unwrap();
    }
}
