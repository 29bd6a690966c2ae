use std::path::PathBuf;

use crate::profile::Finding;
use crate::validate::Invalid;

/// Why a module cannot be packaged or a manifest cannot be inspected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid WebAssembly binary: {invalid}", path.display())]
    Invalid { path: PathBuf, invalid: Invalid },
    #[error("{} does not meet runtime profile {profile_id}: {}", path.display(),
        findings.iter().map(|f| format!("{} ({})", f.code.as_str(), f.detail)).collect::<Vec<_>>().join("; "))]
    NonCompliant {
        path: PathBuf,
        profile_id: String,
        findings: Vec<Finding>,
    },
    #[error("blueprint id {id:?} is refused: {reason}")]
    BlueprintId { id: String, reason: String },
    #[error("manifest {} is invalid: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error(transparent)]
    Durable(#[from] tau_durable::Error),
}
