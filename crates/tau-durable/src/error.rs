use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while touching a state dir.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `op` says what was being done to `path`.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Another process holds the state-dir lock and the caller asked not to wait.
    #[error(
        "state dir {} is locked by another tau process ({holder}); wait for it to finish or drop the no-wait flag",
        dir.display()
    )]
    Locked { dir: PathBuf, holder: String },
    /// A shared JSON state file does not parse; it is left as it is.
    #[error(
        "state file {} does not parse ({message}); it was left untouched. Move it aside to start \
         from empty state, for example: mv {} {}.corrupt",
        path.display(), path.display(), path.display()
    )]
    Document { path: PathBuf, message: String },
    /// The commit journal exists but cannot be understood, so recovery would be a guess.
    #[error(
        "commit journal {} is unreadable ({message}); it was left untouched. Inspect it, then move it aside to continue",
        path.display()
    )]
    Journal { path: PathBuf, message: String },
    /// A path tau writes under a state dir is a symlink; following it could write anywhere.
    #[error(
        "{} is a symlink; tau does not write through symlinks in a state dir. Replace it with a \
         regular file or directory (or remove it) and run again",
        path.display()
    )]
    Symlink { path: PathBuf },
}

impl Error {
    /// A shared state file that does not parse (it is never overwritten).
    pub fn corrupt(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Document {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
