//! Opening the files tau reads (modules, manifests, artifacts): regular files only, never through a
//! symlink. A symlinked artifact would let inspect hash whatever the link points at (say
//! `/etc/hostname`) and call it the deliverable; a FIFO or device would hang or never end.

use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::Error;

/// What kind of non-regular file `meta` describes, for the error message.
fn kind_of(meta: &Metadata) -> &'static str {
    let ty = meta.file_type();
    if ty.is_symlink() {
        "symlink"
    } else if ty.is_dir() {
        "directory"
    } else {
        "special file (device, FIFO or socket)"
    }
}

/// Opens `path` for reading if it is a regular file and not a symlink; `role` names it in
/// errors (`module`, `manifest`, `artifact`). `Ok(None)` when it does not exist.
pub(crate) fn open_regular(path: &Path, role: &'static str) -> Result<Option<File>, Error> {
    let io = |op: &'static str| {
        move |source| Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    };
    let before = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("inspect")(e)),
    };
    if !before.file_type().is_file() {
        return Err(Error::NotRegularFile {
            role,
            path: path.to_path_buf(),
            found: kind_of(&before),
        });
    }
    let file = File::open(path).map_err(io("open"))?;
    // The path could be swapped for a symlink between the check and the open; the opened file must
    // be the very one that was checked.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let after = file.metadata().map_err(io("inspect"))?;
        if (after.dev(), after.ino()) != (before.dev(), before.ino()) {
            return Err(Error::NotRegularFile {
                role,
                path: path.to_path_buf(),
                found: "file replaced while it was opened",
            });
        }
    }
    Ok(Some(file))
}

/// Like [`open_regular`], but a missing file is an error too.
pub(crate) fn open_existing(path: &Path, role: &'static str) -> Result<File, Error> {
    open_regular(path, role)?.ok_or_else(|| Error::Io {
        op: "open",
        path: path.to_path_buf(),
        source: std::io::Error::from(ErrorKind::NotFound),
    })
}

/// Reads at most `limit` bytes of `file`; `Ok(None)` when it holds more.
pub(crate) fn read_capped(
    mut file: File,
    limit: u64,
    path: &Path,
    op: &'static str,
) -> Result<Option<Vec<u8>>, Error> {
    let io = |source| Error::Io {
        op,
        path: path.to_path_buf(),
        source,
    };
    let size = file.metadata().map_err(io)?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
    // One byte past the limit tells "exactly at the limit" from "over it"; at u64::MAX no file can
    // be over, so saturating is exact here.
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > limit) {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// Refuses `path` when it exists as a symlink: an output written through a planted link would
/// land outside the output directory.
pub(crate) fn refuse_symlink(path: &Path, role: &'static str) -> Result<(), Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::NotRegularFile {
            role,
            path: path.to_path_buf(),
            found: "symlink",
        }),
        _ => Ok(()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn symlinks_fifos_and_directories_are_refused_naming_the_role() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.wasm");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link.wasm");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_regular(&link, "artifact").unwrap_err().to_string();
        assert!(err.contains("artifact") && err.contains("symlink"), "{err}");
        let err = open_regular(dir.path(), "manifest")
            .unwrap_err()
            .to_string();
        assert!(err.contains("directory"), "{err}");
        let err = open_regular(Path::new("/dev/null"), "module")
            .unwrap_err()
            .to_string();
        assert!(err.contains("special file"), "{err}");
        assert!(open_regular(&target, "artifact").unwrap().is_some());
        assert!(open_regular(&dir.path().join("nope"), "artifact")
            .unwrap()
            .is_none());
    }

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [7u8; 10]).unwrap();
        let read = |limit| read_capped(File::open(&path).unwrap(), limit, &path, "read").unwrap();
        assert_eq!(read(10).unwrap().len(), 10);
        assert!(read(9).is_none());
        assert_eq!(read(u64::MAX).unwrap().len(), 10);
    }
}
