//! What digest a registry answers for `repo:tag`: `HEAD /v2/<name>/manifests/<tag>` with the
//! manifest media types in `Accept`, read from `Docker-Content-Digest`.
//!
//! A registry on a loopback address is spoken to over plain HTTP (the test registry has no TLS);
//! any other over HTTPS. The first request is anonymous; a `401` is answered by its
//! `WWW-Authenticate` challenge ([`challenge`], [`login`]): `Basic` with the login, `Bearer` with
//! a token asked from the realm (with the login when there is one, so public images on ghcr.io
//! and Docker Hub need none). The login is looked up only then, by [`tau_engine::auth::lookup`]:
//! `<PREFIX>_USERNAME`/`<PREFIX>_PASSWORD` when a prefix is given, else the Docker config. The
//! registry store keeps no login of its own, only references.

pub mod challenge;
mod login;

use std::time::Duration;

use login::{unauthorized, Authorization, LOGIN_HINT};

use crate::{Error, Result};

/// OCI and Docker manifest and index types, so the registry answers the digest a pull would use.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Resolves tags to digests; a trait so rollouts are tested without a registry.
#[allow(async_fn_in_trait)]
pub trait Resolver {
    async fn digest(&self, repo: &str, tag: &str) -> Result<String>;
}

/// Splits `repo` into the registry host and the repository name inside it.
pub fn split_repo(repo: &str) -> (String, String) {
    match repo.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        // Docker Hub: official images live under `library/`.
        Some(_) => ("registry-1.docker.io".to_string(), repo.to_string()),
        None => (
            "registry-1.docker.io".to_string(),
            format!("library/{repo}"),
        ),
    }
}

/// Whether `host[:port]` is a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost"
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback())
}

/// The registry base URL for `host`.
pub fn base_url(host: &str) -> String {
    let scheme = if is_loopback(host) { "http" } else { "https" };
    format!("{scheme}://{host}")
}

/// Asks real registries over HTTP(S).
pub struct HttpResolver {
    http: reqwest::Client,
    credentials_env: Option<String>,
}

impl HttpResolver {
    pub fn new() -> Result<HttpResolver> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| Error::Registry {
                registry: "-".into(),
                message: e.to_string(),
            })?;
        Ok(HttpResolver {
            http,
            credentials_env: None,
        })
    }

    /// Reads a registry's login from `<prefix>_USERNAME`/`<prefix>_PASSWORD` first (both or
    /// neither must be set), before the Docker config.
    pub fn with_credentials_env(mut self, prefix: Option<String>) -> HttpResolver {
        self.credentials_env = prefix;
        self
    }

    async fn login(&self, host: &str) -> Result<Option<tau_engine::Credentials>> {
        let host = host.to_string();
        let prefix = self.credentials_env.clone();
        let found =
            tokio::task::spawn_blocking(move || tau_engine::auth::lookup(&host, prefix.as_deref()))
                .await
                .map_err(|e| Error::refused("registry_credentials_invalid", e.to_string()))?;
        found.map_err(|e| Error::refused("registry_credentials_invalid", e.to_string()))
    }

    async fn head(
        &self,
        url: &str,
        auth: Option<&Authorization>,
    ) -> reqwest::Result<reqwest::Response> {
        let request = self.http.head(url).header(reqwest::header::ACCEPT, ACCEPT);
        let request = match auth {
            None => request,
            Some(Authorization::Bearer(token)) => request.bearer_auth(token),
            Some(Authorization::Basic(c)) => {
                let (user, pass) = c.basic().unwrap_or_default();
                request.basic_auth(user, Some(pass))
            }
        };
        request.send().await
    }
}

impl Resolver for HttpResolver {
    async fn digest(&self, repo: &str, tag: &str) -> Result<String> {
        let (host, name) = split_repo(repo);
        let url = format!("{}/v2/{name}/manifests/{tag}", base_url(&host));
        let err = |message: String| Error::Registry {
            registry: host.clone(),
            message,
        };
        let sent = |e: reqwest::Error| err(format!("HEAD {url}: {}", e.without_url()));
        let mut response = self.head(&url, None).await.map_err(sent)?;
        let mut login = None;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            let challenge = response
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            login = self.login(&host).await?;
            let auth = login::answer(&self.http, &host, &name, &challenge, login.as_ref()).await?;
            response = self.head(&url, Some(&auth)).await.map_err(sent)?;
        }
        match response.status() {
            s if s.is_success() => {}
            reqwest::StatusCode::NOT_FOUND => {
                return Err(Error::refused(
                    "tag_not_found",
                    format!("{repo}:{tag} is not in registry {host} (HEAD {url} answered 404)"),
                ))
            }
            s @ (reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN) => {
                return Err(unauthorized(
                    &host,
                    match &login {
                        Some(c) => format!(
                            "refused the login from {} for {name} (HEAD {url} answered {s})",
                            c.origin()
                        ),
                        None => format!("HEAD {url} answered {s} without a login; {LOGIN_HINT}"),
                    },
                ))
            }
            s => return Err(err(format!("HEAD {url} answered {s}"))),
        }
        let digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                err(format!(
                    "HEAD {url} answered without a Docker-Content-Digest header"
                ))
            })?;
        if !is_digest(digest) {
            return Err(err(format!("HEAD {url} answered a malformed digest")));
        }
        Ok(digest.to_string())
    }
}

/// `sha256:` and 64 lowercase hex characters.
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

#[cfg(test)]
mod login_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_split_into_registry_and_name() {
        assert_eq!(
            split_repo("ghcr.io/my-org/app"),
            ("ghcr.io".into(), "my-org/app".into())
        );
        assert_eq!(
            split_repo("127.0.0.1:5000/org/app"),
            ("127.0.0.1:5000".into(), "org/app".into())
        );
        assert_eq!(
            split_repo("my-org/app"),
            ("registry-1.docker.io".into(), "my-org/app".into())
        );
        assert_eq!(
            split_repo("busybox"),
            ("registry-1.docker.io".into(), "library/busybox".into())
        );
    }

    #[test]
    fn only_loopback_registries_get_plain_http() {
        assert_eq!(base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(base_url("127.8.9.1"), "http://127.8.9.1");
        assert_eq!(base_url("localhost:5000"), "http://localhost:5000");
        assert_eq!(base_url("[::1]:5000"), "http://[::1]:5000");
        assert_eq!(base_url("ghcr.io"), "https://ghcr.io");
        assert_eq!(base_url("10.0.0.5:5000"), "https://10.0.0.5:5000");
        assert_eq!(base_url("128.0.0.1"), "https://128.0.0.1");
    }
}
