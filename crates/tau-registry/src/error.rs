use std::path::PathBuf;

/// Everything the registry can refuse or fail at. Messages name the input (file or command
/// argument), the field and what was expected; a value that looks like a secret is never part of
/// a message (see [`crate::policy::secret`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value broke a policy rule (tag, agent name, credential reference, routing key, ...).
    #[error("{source_name}: {field}: {message}")]
    Policy {
        source_name: String,
        field: String,
        message: String,
    },
    /// A value looked like a secret; only its kind is reported, never the value.
    #[error(
        "{source_name}: {field} looks like a secret ({kind}) and was refused; it was not stored. \
         Store a reference instead (k8s:<namespace>/<secret> or vault:<path>, or {{secret_env: NAME}} for env)"
    )]
    SecretRefused {
        source_name: String,
        field: String,
        kind: &'static str,
    },
    /// An apply file does not parse.
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// A named record does not exist.
    #[error("{kind} {name} is not in the registry{hint}")]
    NotFound {
        kind: &'static str,
        name: String,
        hint: String,
    },
    /// The registry answers another digest for a tag than the one recorded.
    #[error(
        "tag_digest_changed: {agent} tag {tag} was recorded with digest {recorded} but the registry now answers {current}; \
         a tag must not move. Push a new tag and record it"
    )]
    TagDigestChanged {
        agent: String,
        tag: String,
        recorded: String,
        current: String,
    },
    /// A rollout was refused before anything was deployed.
    #[error("{code}: {message}")]
    Refused { code: &'static str, message: String },
    /// The image registry could not be asked or answered badly.
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
    /// The Deploy Agent refused or failed a request.
    #[error("deploy agent: {0}")]
    Deploy(String),
    /// The embedded store's files.
    #[error(transparent)]
    Durable(#[from] tau_durable::Error),
    /// The embedded store holds something it cannot read; it was left untouched.
    #[error("{}: {message}; the file was left untouched", path.display())]
    Corrupt { path: PathBuf, message: String },
    /// PostgreSQL.
    #[error("postgresql: {0}")]
    Postgres(String),
}

impl Error {
    pub(crate) fn policy(
        source_name: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Policy {
            source_name: source_name.into(),
            field: field.into(),
            message: crate::policy::secret::redact(&message.into()),
        }
    }

    pub(crate) fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Error::Refused {
            code,
            message: message.into(),
        }
    }

    /// A stable snake_case code for scripts (`--json` error objects).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Policy { .. } => "policy_violation",
            Error::SecretRefused { .. } => "secret_refused",
            Error::Input { .. } => "input_invalid",
            Error::NotFound { .. } => "not_found",
            Error::TagDigestChanged { .. } => "tag_digest_changed",
            Error::Refused { code, .. } => code,
            Error::Registry { .. } => "registry_unreachable",
            Error::Deploy(_) => "deploy_failed",
            Error::Durable(_) | Error::Corrupt { .. } => "store_failed",
            Error::Postgres(_) => "store_failed",
        }
    }

    /// Whether the caller's input or the registry's rules said no (as opposed to a failure of a
    /// store, the network or the agent).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Policy { .. }
                | Error::SecretRefused { .. }
                | Error::Input { .. }
                | Error::NotFound { .. }
                | Error::TagDigestChanged { .. }
                | Error::Refused { .. }
        )
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        // The server's message can quote a value from a failed statement: redact before keeping it.
        let text = match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        };
        Error::Postgres(crate::policy::secret::redact(&text))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
