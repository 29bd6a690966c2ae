use thiserror::Error;

/// What a caller can do about an [`Error`]: the agent maps these to HTTP classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is wrong (bad reference, bad URL): fix the input.
    Invalid,
    /// Something named does not exist (image, tag, volume, container): a refusal, nothing changed.
    NotFound,
    /// A container name is already taken.
    Conflict,
    /// The engine (or the registry behind it) could not be reached.
    Unreachable,
    /// The engine answered with a failure.
    Engine,
    /// The registry refused the login (or asked for one and none was given).
    Unauthorized,
}

/// Every failure of the engine client. Messages name the operation and the object; they never
/// carry a container's environment values, because none are ever put into one.
#[derive(Debug, Error)]
pub enum Error {
    #[error("invalid image reference {input:?}: expected {expected}")]
    BadReference { input: String, expected: String },

    #[error("invalid engine address {url:?}: expected unix:///PATH, tcp://HOST:PORT or http://HOST:PORT")]
    BadUrl { url: String },

    #[error("cannot reach the container engine at {url}: {message}")]
    Unreachable { url: String, message: String },

    #[error("{op}: {what} not found: {message}")]
    NotFound {
        op: &'static str,
        what: String,
        message: String,
    },

    #[error("{op}: the container name {name:?} is already in use")]
    NameTaken { op: &'static str, name: String },

    #[error("{op} {what}: the engine answered {status}: {message}")]
    Api {
        op: &'static str,
        what: String,
        status: u16,
        message: String,
    },

    /// Registry credentials could not be read: `origin` names the file, field, variable or
    /// helper; the message never holds the secret.
    #[error("registry credentials ({origin}): {message}")]
    Credentials { origin: String, message: String },

    /// The registry refused the login, or wanted one and none was found.
    #[error("{op} {what}: the registry refused access ({message}); {hint}")]
    Unauthorized {
        op: &'static str,
        what: String,
        message: String,
        hint: String,
    },

    #[error("{op} {what}: {message}")]
    Failed {
        op: &'static str,
        what: String,
        message: String,
    },
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::BadReference { .. } | Error::BadUrl { .. } | Error::Credentials { .. } => {
                ErrorKind::Invalid
            }
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::NameTaken { .. } => ErrorKind::Conflict,
            Error::Unreachable { .. } => ErrorKind::Unreachable,
            Error::Api { .. } | Error::Failed { .. } => ErrorKind::Engine,
        }
    }

    /// True for refusals that left the engine unchanged and that the caller can fix
    /// (the agent answers these with a 4xx).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Invalid
                | ErrorKind::NotFound
                | ErrorKind::Conflict
                | ErrorKind::Unauthorized
        )
    }
}

/// Turns a bollard error of operation `op` on `what` into ours, recognising Podman's answers.
pub(crate) fn from_bollard(
    url: &str,
    op: &'static str,
    what: &str,
    e: bollard::errors::Error,
) -> Error {
    use bollard::errors::Error as B;
    match e {
        B::DockerResponseServerError {
            status_code,
            message,
        } => {
            let lower = message.to_ascii_lowercase();
            if status_code == 409 || (op == "create" && lower.contains("already in use")) {
                Error::NameTaken {
                    op,
                    name: what.to_owned(),
                }
            } else if status_code == 401 {
                stream_error(op, what, format!("unauthorized: {message}"))
            } else if status_code == 404 {
                Error::NotFound {
                    op,
                    what: what.to_owned(),
                    message,
                }
            } else {
                Error::Api {
                    op,
                    what: what.to_owned(),
                    status: status_code,
                    message,
                }
            }
        }
        B::DockerStreamError { error } => stream_error(op, what, error),
        B::SocketNotFoundError(path) => Error::Unreachable {
            url: url.to_owned(),
            message: format!("no socket at {path}"),
        },
        B::HyperResponseError { .. }
        | B::HyperLegacyError { .. }
        | B::IOError { .. }
        | B::RequestTimeoutError => Error::Unreachable {
            url: url.to_owned(),
            message: e.to_string(),
        },
        other => Error::Failed {
            op,
            what: what.to_owned(),
            message: other.to_string(),
        },
    }
}

/// An error line inside a progress stream (pull, push, build). Podman answers 200 and puts the
/// failure here, so "unknown tag" and "registry down" are told apart by the message only.
pub(crate) fn stream_error(op: &'static str, what: &str, message: String) -> Error {
    let lower = message.to_ascii_lowercase();
    let unauthorized = [
        "unauthorized",
        "authentication required",
        "invalid username/password",
        "access denied",
        "denied:",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    if unauthorized {
        return Error::Unauthorized {
            op,
            what: what.to_owned(),
            message,
            hint: "check the registry login (the credentials variables, or `docker login` for the Docker config)".to_owned(),
        };
    }
    let not_found = [
        "manifest unknown",
        "not found",
        "name unknown",
        "no such image",
        "does not exist",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    if not_found {
        Error::NotFound {
            op,
            what: what.to_owned(),
            message,
        }
    } else {
        Error::Failed {
            op,
            what: what.to_owned(),
            message,
        }
    }
}
