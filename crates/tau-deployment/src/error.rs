use std::path::PathBuf;

use crate::fixture::Problem;

/// Everything the deployment library can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("fixture {} is invalid ({} problem{}):\n{}", path.display(), problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    FixtureInvalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
    #[error(
        "state file {} has schema_version {found}; this build reads schema_version {expected}",
        path.display()
    )]
    StateVersion {
        path: PathBuf,
        found: u64,
        expected: u32,
    },
    #[error("{name} must be at least 1")]
    ZeroLimit { name: &'static str },
    #[error("the driver failed on case {case_id:?} (blueprint {blueprint_id}), attempt {attempt}: {source}")]
    Driver {
        case_id: String,
        blueprint_id: String,
        attempt: u32,
        #[source]
        source: crate::driver::DriverError,
    },
    #[error("counter {counter} would exceed {max}; the state dir has outgrown what one counter can hold", max = u64::MAX)]
    CounterOverflow { counter: &'static str },
    #[error(transparent)]
    Durable(#[from] tau_durable::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
