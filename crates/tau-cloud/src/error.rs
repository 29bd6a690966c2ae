use std::path::PathBuf;

use crate::config::Problem;

/// Everything that can go wrong between reading `tau.yaml` and a running service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Every problem found in the config, not only the first.
    #[error("{} is not a valid deployment config ({} problem{}):\n{}", path.display(), problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },

    #[error("build context {}: {message}", path.display())]
    Context { path: PathBuf, message: String },

    /// A secret or credential the config refers to is not in the environment. The value is
    /// never part of the message, only the variable's name.
    #[error("{what}: environment variable {name} is not set; {hint}")]
    MissingEnv {
        what: String,
        name: String,
        hint: String,
    },

    #[error("{provider} credentials not found: {message}; {hint}")]
    Credentials {
        provider: &'static str,
        message: String,
        hint: String,
    },

    #[error("{provider} API {method} {url}: HTTP {status}: {message}")]
    Api {
        provider: &'static str,
        method: String,
        url: String,
        status: u16,
        message: String,
    },

    #[error("{provider} API {method} {url}: {message}")]
    Transport {
        provider: &'static str,
        method: String,
        url: String,
        message: String,
    },

    #[error("{provider}: {message}")]
    Provider {
        provider: &'static str,
        message: String,
    },

    /// The image tag cannot be computed (no commit for git-sha, a tag the policy refuses).
    #[error("image tag: {0}")]
    Tag(String),

    #[error("container engine: {0}")]
    Engine(String),

    /// The registry refused the push's login, or wanted one and none was found.
    #[error("registry: {0}")]
    RegistryUnauthorized(String),

    /// The registry login could not be read (half-set variables, a malformed Docker config, a
    /// failing credential helper); never holds the secret.
    #[error("{0}")]
    RegistryCredentials(String),

    #[error("deployment records {}: {message}", path.display())]
    Records { path: PathBuf, message: String },

    #[error(transparent)]
    Durable(#[from] tau_durable::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
