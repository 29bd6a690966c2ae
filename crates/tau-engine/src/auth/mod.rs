//! Registry credentials: one lookup for every place tau speaks to an image registry (the
//! engine's push and pull, and tau-registry's digest resolution).
//!
//! For a registry host the lookup tries, in order:
//! 1. explicit environment variables `<PREFIX>_USERNAME` and `<PREFIX>_PASSWORD`, when the caller
//!    names a prefix (cloud deploy's `credentials_env_prefix`, `tau registry
//!    --registry-credentials-env`); both or neither must be set;
//! 2. the Docker client config, `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`):
//!    `credHelpers.<host>`, else `credsStore`, run as `docker-credential-<name> get` with the
//!    server on stdin (Docker's credential-helper protocol), else `auths.<host>` (`auth`, the
//!    base64 of `user:password`, or `identitytoken`);
//! 3. anonymous (`None`).
//!
//! A secret is never part of an error or of `Debug` output: errors name the file, field or
//! variable and what was expected, never the value.

mod docker_config;
mod helper;

use std::path::PathBuf;

use bollard::auth::DockerCredentials;

use crate::Error;

pub use docker_config::decode_auth;

/// A login for one registry. `Debug` shows the username and where the login came from, never
/// the password or token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    secret: Secret,
    origin: String,
}

#[derive(Clone, PartialEq, Eq)]
enum Secret {
    Password {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`docker login` against a registry with an identity provider).
    IdentityToken {
        username: Option<String>,
        token: String,
    },
}

impl Credentials {
    /// A username and password; `origin` says where they came from, for messages.
    pub fn password(username: &str, password: &str, origin: impl Into<String>) -> Credentials {
        Credentials {
            secret: Secret::Password {
                username: username.to_owned(),
                password: password.to_owned(),
            },
            origin: origin.into(),
        }
    }

    /// An identity (refresh) token, as `docker login` stores for token-auth registries.
    pub fn identity_token(
        username: Option<&str>,
        token: &str,
        origin: impl Into<String>,
    ) -> Credentials {
        Credentials {
            secret: Secret::IdentityToken {
                username: username.map(str::to_owned),
                token: token.to_owned(),
            },
            origin: origin.into(),
        }
    }

    pub fn username(&self) -> Option<&str> {
        match &self.secret {
            Secret::Password { username, .. } => Some(username),
            Secret::IdentityToken { username, .. } => username.as_deref(),
        }
    }

    /// The username and password, for HTTP Basic; `None` for an identity token.
    pub fn basic(&self) -> Option<(&str, &str)> {
        match &self.secret {
            Secret::Password { username, password } => Some((username, password)),
            Secret::IdentityToken { .. } => None,
        }
    }

    /// The identity (refresh) token, when that is what this login is.
    pub fn refresh_token(&self) -> Option<&str> {
        match &self.secret {
            Secret::IdentityToken { token, .. } => Some(token),
            Secret::Password { .. } => None,
        }
    }

    /// Where the login came from (`environment variables REG_USERNAME/REG_PASSWORD`, a config
    /// file's path, `docker-credential-pass`), for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// What the engine's `X-Registry-Auth` header carries for `server`.
    pub(crate) fn to_docker(&self, server: &str) -> DockerCredentials {
        let mut out = DockerCredentials {
            serveraddress: Some(server.to_owned()),
            ..DockerCredentials::default()
        };
        match &self.secret {
            Secret::Password { username, password } => {
                out.username = Some(username.clone());
                out.password = Some(password.clone());
            }
            Secret::IdentityToken { username, token } => {
                out.username = username.clone();
                out.identitytoken = Some(token.clone());
            }
        }
        out
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.secret {
            Secret::Password { .. } => "password",
            Secret::IdentityToken { .. } => "identity token",
        };
        f.debug_struct("Credentials")
            .field("username", &self.username())
            .field(kind, &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

/// Where the lookup reads from; the process environment in [`lookup`], a map in tests.
pub(crate) trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// The login for registry `host` (`ghcr.io`, `127.0.0.1:5000`; Docker Hub as `docker.io`,
/// `index.docker.io` or `registry-1.docker.io`), by the order in the module doc. `Ok(None)`
/// means anonymous. A malformed config file, a half-set variable pair or a failing credential
/// helper is an error naming the file, variable or helper.
pub fn lookup(host: &str, env_prefix: Option<&str>) -> Result<Option<Credentials>, Error> {
    lookup_in(&ProcessEnv, host, env_prefix)
}

pub(crate) fn lookup_in(
    env: &dyn Env,
    host: &str,
    env_prefix: Option<&str>,
) -> Result<Option<Credentials>, Error> {
    if let Some(prefix) = env_prefix {
        if let Some(found) = from_env(env, prefix)? {
            return Ok(Some(found));
        }
    }
    let Some(path) = docker_config_path(env) else {
        return Ok(None);
    };
    docker_config::lookup(&path, host, env.var("PATH").as_deref())
}

fn from_env(env: &dyn Env, prefix: &str) -> Result<Option<Credentials>, Error> {
    let user_var = format!("{prefix}_USERNAME");
    let pass_var = format!("{prefix}_PASSWORD");
    let origin = format!("environment variables {user_var}/{pass_var}");
    match (env.var(&user_var), env.var(&pass_var)) {
        (Some(user), Some(pass)) => Ok(Some(Credentials::password(&user, &pass, origin))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::Credentials {
            origin,
            message: format!("{user_var} is set but {pass_var} is not; set both or neither"),
        }),
        (None, Some(_)) => Err(Error::Credentials {
            origin,
            message: format!("{pass_var} is set but {user_var} is not; set both or neither"),
        }),
    }
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
fn docker_config_path(env: &dyn Env) -> Option<PathBuf> {
    if let Some(dir) = env.var("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    env.var("HOME")
        .map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// The key a registry host is known by in the Docker config: lowercase, without scheme or path;
/// Docker Hub's names all become `docker.io`.
pub fn canonical_host(host: &str) -> String {
    let host = host
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or("").to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_owned()
        }
        _ => host,
    }
}

/// The server address Docker uses for `host` when it talks to credential helpers and engines.
pub fn server_address(host: &str) -> String {
    match canonical_host(host).as_str() {
        "docker.io" => "https://index.docker.io/v1/".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests;
