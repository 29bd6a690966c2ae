use std::path::{Path, PathBuf};

use crate::escape_controls;
use crate::profile::Finding;
use crate::validate::Invalid;

/// A path as it appears in a message: control characters escaped, so a crafted file name cannot
/// forge or garble the line it is printed on.
fn shown(path: &Path) -> String {
    escape_controls(&path.display().to_string())
}

/// Why a module cannot be packaged or a manifest cannot be inspected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {op} {}: {source}", shown(path))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid WebAssembly binary: {invalid}", shown(path))]
    Invalid { path: PathBuf, invalid: Invalid },
    #[error("{} does not meet runtime profile {profile_id}: {}", shown(path),
        findings.iter().map(|f| format!("{} ({})", f.code.as_str(), f.detail)).collect::<Vec<_>>().join("; "))]
    NonCompliant {
        path: PathBuf,
        profile_id: String,
        findings: Vec<Finding>,
    },
    #[error(
        "{role} {} is a {found}; only a regular file that is not a symlink is accepted",
        shown(path)
    )]
    NotRegularFile {
        role: &'static str,
        path: PathBuf,
        found: &'static str,
    },
    #[error("blueprint id {id:?} is refused: {reason}")]
    BlueprintId { id: String, reason: String },
    #[error("manifest {} is invalid: {}", shown(path), escape_controls(message))]
    Manifest { path: PathBuf, message: String },
    #[error(transparent)]
    Durable(#[from] tau_durable::Error),
}
