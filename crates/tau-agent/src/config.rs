//! `tau agent serve --config PATH`: the agent's TOML configuration.
//!
//! Every required key has no default, and an unknown key refuses to start: an agent that guesses
//! deploys something nobody asked for. Relative paths are resolved against the config file's
//! directory, so a config means the same wherever the agent is started from. Secrets are never in
//! the file: each service token names the environment variable or file that holds its secret.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::wire::Environment;

/// Settle time when `settle_seconds` is not set: long enough to catch a container that crashes
/// right after start.
pub const DEFAULT_SETTLE_SECONDS: u64 = 5;
/// Stop timeout when `stop_timeout_seconds` is not set (Docker's own default).
pub const DEFAULT_STOP_TIMEOUT_SECONDS: u64 = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    environment: Environment,
    listen: String,
    container_name: String,
    image_repositories: Vec<String>,
    volumes: BTreeMap<String, String>,
    service_tokens: Vec<RawToken>,
    audit_log: PathBuf,
    state_dir: PathBuf,
    engine: Option<String>,
    settle_seconds: Option<u64>,
    health_url: Option<String>,
    ports: Option<BTreeMap<String, u16>>,
    stop_timeout_seconds: Option<u64>,
    cloudflare_access: Option<RawAccess>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    client_id: String,
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    team_domain: String,
    audience: String,
    jwks_file: Option<PathBuf>,
    jwks_url: Option<String>,
}

/// Where a service token's secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceToken {
    pub client_id: String,
    pub secret: SecretSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    File(PathBuf),
    Url(String),
}

/// `[cloudflare_access]`: verify the `Cf-Access-Jwt-Assertion` JWT too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudflareAccess {
    pub team_domain: String,
    pub audience: String,
    pub jwks: JwksSource,
}

impl CloudflareAccess {
    /// The `iss` claim Cloudflare Access puts in its JWTs.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.team_domain)
    }
}

/// A checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from, for error messages.
    pub file: PathBuf,
    pub environment: Environment,
    pub listen: SocketAddr,
    pub container_name: String,
    pub image_repositories: Vec<String>,
    /// Volume name → container path.
    pub volumes: BTreeMap<String, String>,
    pub service_tokens: Vec<ServiceToken>,
    pub audit_log: PathBuf,
    /// Holds the swap journal, the host lock and the idempotency records.
    pub state_dir: PathBuf,
    pub engine: Option<String>,
    pub settle: Duration,
    pub health_url: Option<String>,
    /// Container port → 127.0.0.1 host port.
    pub ports: BTreeMap<u16, u16>,
    pub stop_timeout: Duration,
    pub cloudflare_access: Option<CloudflareAccess>,
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read config", path, e))?;
        Config::parse(path, &text)
    }

    /// Checks `text` as if read from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Config> {
        let err = |message: String| Error::Config {
            file: file.to_path_buf(),
            message,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| err(describe_toml(text, &e)))?;
        let base = file.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let listen: SocketAddr = raw.listen.parse().map_err(|_| {
            err(format!(
                "key `listen`: expected an IP:PORT socket address such as \"127.0.0.1:8080\", got {:?}",
                raw.listen
            ))
        })?;
        check_container_name(&raw.container_name)
            .map_err(|m| err(format!("key `container_name`: {m}")))?;
        if raw.image_repositories.is_empty() {
            return Err(err(
                "key `image_repositories`: expected at least one allowed repository prefix".into(),
            ));
        }
        for (i, repo) in raw.image_repositories.iter().enumerate() {
            if repo.trim().is_empty() || repo.contains([':', '@']) && !looks_like_host_port(repo) {
                return Err(err(format!(
                    "key `image_repositories[{i}]`: expected a repository prefix like \"ghcr.io/owner/repo\" (no tag or digest), got {repo:?}"
                )));
            }
        }
        for (name, target) in &raw.volumes {
            if !target.starts_with('/') {
                return Err(err(format!(
                    "key `volumes.{name}`: expected an absolute container path, got {target:?}"
                )));
            }
        }
        if raw.service_tokens.is_empty() {
            return Err(err(
                "key `service_tokens`: expected at least one {client_id, secret_env | secret_file} table".into(),
            ));
        }
        let mut service_tokens = Vec::new();
        for (i, t) in raw.service_tokens.into_iter().enumerate() {
            if t.client_id.trim().is_empty() {
                return Err(err(format!(
                    "key `service_tokens[{i}].client_id`: must not be empty"
                )));
            }
            let secret = match (t.secret_env, t.secret_file) {
                (Some(var), None) => SecretSource::Env(var),
                (None, Some(p)) => SecretSource::File(resolve(&p)),
                _ => {
                    return Err(err(format!(
                        "key `service_tokens[{i}]` ({:?}): expected exactly one of `secret_env` or `secret_file`",
                        t.client_id
                    )))
                }
            };
            service_tokens.push(ServiceToken {
                client_id: t.client_id,
                secret,
            });
        }
        let mut ports = BTreeMap::new();
        for (container, host) in raw.ports.unwrap_or_default() {
            let port: u16 = container.parse().map_err(|_| {
                err(format!(
                    "key `ports.{container}`: expected a container port number as the key"
                ))
            })?;
            ports.insert(port, host);
        }
        let cloudflare_access = match raw.cloudflare_access {
            None => None,
            Some(a) => {
                let jwks = match (a.jwks_file, a.jwks_url) {
                    (Some(p), None) => JwksSource::File(resolve(&p)),
                    (None, Some(u)) => JwksSource::Url(u),
                    _ => {
                        return Err(err(
                            "key `cloudflare_access`: expected exactly one of `jwks_file` or `jwks_url`".into(),
                        ))
                    }
                };
                if a.team_domain.trim().is_empty() || a.team_domain.contains('/') {
                    return Err(err(format!(
                        "key `cloudflare_access.team_domain`: expected a host name like \"team.cloudflareaccess.com\", got {:?}",
                        a.team_domain
                    )));
                }
                Some(CloudflareAccess {
                    team_domain: a.team_domain,
                    audience: a.audience,
                    jwks,
                })
            }
        };
        if let Some(url) = &raw.health_url {
            if !url.starts_with("http://127.0.0.1") && !url.starts_with("http://localhost") {
                return Err(err(format!(
                    "key `health_url`: expected a loopback URL (http://127.0.0.1:PORT/...) probed inside the container or through a published port, got {url:?}"
                )));
            }
        }
        Ok(Config {
            file: file.to_path_buf(),
            environment: raw.environment,
            listen,
            container_name: raw.container_name,
            image_repositories: raw
                .image_repositories
                .into_iter()
                .map(|r| r.trim().trim_end_matches('/').to_string())
                .collect(),
            volumes: raw.volumes,
            service_tokens,
            audit_log: resolve(&raw.audit_log),
            state_dir: resolve(&raw.state_dir),
            engine: raw.engine,
            settle: Duration::from_secs(raw.settle_seconds.unwrap_or(DEFAULT_SETTLE_SECONDS)),
            health_url: raw.health_url,
            ports,
            stop_timeout: Duration::from_secs(
                raw.stop_timeout_seconds
                    .unwrap_or(DEFAULT_STOP_TIMEOUT_SECONDS),
            ),
            cloudflare_access,
        })
    }

    /// Reads every service token's secret. A missing or empty one refuses to start, naming the
    /// token and the variable or file, never a value.
    pub fn load_secrets(&self) -> Result<Vec<(String, String)>> {
        let mut pairs = Vec::new();
        for token in &self.service_tokens {
            let secret_err = |message: String| Error::Secret {
                file: self.file.clone(),
                client_id: token.client_id.clone(),
                message,
            };
            let secret = match &token.secret {
                SecretSource::Env(var) => match std::env::var(var) {
                    Ok(v) if !v.trim().is_empty() => v,
                    Ok(_) => {
                        return Err(secret_err(format!(
                            "environment variable {var} (secret_env) is empty"
                        )))
                    }
                    Err(_) => {
                        return Err(secret_err(format!(
                            "environment variable {var} (secret_env) is not set"
                        )))
                    }
                },
                SecretSource::File(path) => match std::fs::read_to_string(path) {
                    Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
                    Ok(_) => {
                        return Err(secret_err(format!(
                            "secret_file {} is empty",
                            path.display()
                        )))
                    }
                    Err(e) => {
                        return Err(secret_err(format!(
                            "secret_file {} cannot be read: {}",
                            path.display(),
                            e.kind()
                        )))
                    }
                },
            };
            pairs.push((token.client_id.clone(), secret));
        }
        Ok(pairs)
    }

    /// The swap journal's path inside the state dir.
    pub fn journal_path(&self) -> PathBuf {
        self.state_dir.join("swap-journal.json")
    }
}

fn looks_like_host_port(repo: &str) -> bool {
    // `127.0.0.1:5000/org/app`: a colon is allowed in the first component (a registry port).
    match repo.split_once('/') {
        Some((host, rest)) => !rest.contains([':', '@']) && !host.contains('@'),
        None => false,
    }
}

/// Docker's container name rule, so a bad name is refused at start-up instead of at the first
/// deploy.
fn check_container_name(name: &str) -> std::result::Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        Ok(())
    } else {
        Err(format!("expected [a-zA-Z0-9][a-zA-Z0-9_.-]*, got {name:?}"))
    }
}

/// toml's message already names the key ("missing field `listen`", "unknown field `x`"); add
/// the line so an operator finds it.
fn describe_toml(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().to_string();
    let missing = message.starts_with("missing field");
    match e.span() {
        // A missing key has no line of its own; toml points at the whole table.
        Some(_) if missing => format!("{message} (required, no default)"),
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{message} (line {line})")
        }
        None => message,
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
