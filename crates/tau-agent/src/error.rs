use std::path::PathBuf;

/// Everything the agent library can fail with. The typed client has its own
/// [`crate::ClientError`], because its callers match on the agent's HTTP status and reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is missing a key, has an unknown one, or a value is not usable.
    #[error("{}: {message}", file.display())]
    Config { file: PathBuf, message: String },
    /// A service token's secret is missing or empty. Names the token and where the secret was
    /// expected, never the value.
    #[error("{}: service token {client_id:?}: {message}", file.display())]
    Secret {
        file: PathBuf,
        client_id: String,
        message: String,
    },
    /// The Cloudflare Access key set cannot be loaded.
    #[error("cloudflare_access JWKS from {source_name}: {message}")]
    Jwks {
        source_name: String,
        message: String,
    },
    /// The audit log is broken: a record was edited, removed or torn.
    #[error("{}: line {line}: {message}", path.display())]
    Audit {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A file operation failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The agent's state dir (lock, idempotency records) failed.
    #[error(transparent)]
    Durable(#[from] tau_durable::Error),
    /// The container engine is unusable at start-up (unreachable, or recovery failed).
    #[error("engine: {0}")]
    Engine(String),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
