//! Answering a registry's `401`: `Basic` gets the login itself; `Bearer` gets a token from the
//! challenge's realm (with `service` and `scope`), asked with the login when there is one
//! (HTTP Basic, or an OAuth2 refresh-token grant for an identity token), anonymously when not.
//!
//! The login comes from [`tau_engine::auth::lookup`], the same lookup the engine's push and pull
//! use. A refused login is `registry_unauthorized`, naming the registry and where the login came
//! from, never the secret.

use tau_engine::Credentials;

use super::base_url;
use super::challenge::{self, Challenge};
use crate::{Error, Result};

/// What to send with the retried request.
pub(super) enum Authorization {
    Basic(Credentials),
    Bearer(String),
}

pub(super) fn unauthorized(host: &str, message: String) -> Error {
    Error::refused(
        "registry_unauthorized",
        format!("registry {host}: {message}"),
    )
}

/// Where to put a login, for messages about a missing one.
pub(super) const LOGIN_HINT: &str = "give one with --registry-credentials-env PREFIX \
    (PREFIX_USERNAME and PREFIX_PASSWORD) or `docker login` (the Docker config)";

/// The authorization for a retry after a `401` with `header` as its `WWW-Authenticate`.
pub(super) async fn answer(
    http: &reqwest::Client,
    host: &str,
    name: &str,
    header: &str,
    login: Option<&Credentials>,
) -> Result<Authorization> {
    let challenges = challenge::parse(header);
    if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
        return bearer_token(http, host, name, bearer, login)
            .await
            .map(Authorization::Bearer);
    }
    if challenges.iter().any(|c| c.scheme == "basic") {
        return match login {
            Some(c) if c.basic().is_some() => Ok(Authorization::Basic(c.clone())),
            Some(c) => Err(unauthorized(
                host,
                format!(
                    "asks for a username and password, but the login from {} is an identity token",
                    c.origin()
                ),
            )),
            None => Err(unauthorized(
                host,
                format!("asks for a login (HTTP Basic) and none was found; {LOGIN_HINT}"),
            )),
        };
    }
    let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
    Err(Error::Registry {
        registry: host.to_string(),
        message: format!(
            "answered 401 with an authentication scheme tau does not speak ({}); expected Basic or Bearer",
            if schemes.is_empty() { "none".to_string() } else { schemes.join(", ") }
        ),
    })
}

async fn bearer_token(
    http: &reqwest::Client,
    host: &str,
    name: &str,
    challenge: &Challenge,
    login: Option<&Credentials>,
) -> Result<String> {
    let realm = challenge.param("realm").ok_or_else(|| Error::Registry {
        registry: host.to_string(),
        message: "answered 401 with a Bearer challenge without a realm".into(),
    })?;
    let realm_url = reqwest::Url::parse(realm).map_err(|_| Error::Registry {
        registry: host.to_string(),
        message: format!("answered a Bearer realm that is not a URL: {realm}"),
    })?;
    // A login goes only over TLS, or to a token service on this machine.
    let realm_host = realm_url.host_str().unwrap_or("");
    let plain_ok = realm_url.scheme() == "https"
        || (realm_url.scheme() == "http" && base_url(realm_host).starts_with("http://"));
    if login.is_some() && !plain_ok {
        return Err(unauthorized(
            host,
            format!("its token service {realm} is not HTTPS; the login was not sent"),
        ));
    }
    let service = challenge.param("service").map(str::to_string);
    let scope = challenge
        .param("scope")
        .map_or_else(|| format!("repository:{name}:pull"), str::to_string);
    let mut query = vec![("scope", scope.clone())];
    if let Some(s) = &service {
        query.push(("service", s.clone()));
    }
    let request = match login {
        Some(c) => match (c.basic(), c.refresh_token()) {
            (Some((user, pass)), _) => http.get(realm).query(&query).basic_auth(user, Some(pass)),
            (None, Some(token)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("client_id", "tau".to_string()),
                    ("refresh_token", token.to_string()),
                    ("scope", scope),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                http.post(realm).form(&form)
            }
            (None, None) => http.get(realm).query(&query),
        },
        None => http.get(realm).query(&query),
    };
    let response = request.send().await.map_err(|e| Error::Registry {
        registry: host.to_string(),
        message: format!("token request to {realm} failed: {}", e.without_url()),
    })?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(unauthorized(host, match login {
            Some(c) => format!("its token service {realm} refused the login from {} ({status})", c.origin()),
            None => format!("its token service {realm} wants a login ({status}) and none was found; {LOGIN_HINT}"),
        }));
    }
    if !status.is_success() {
        return Err(Error::Registry {
            registry: host.to_string(),
            message: format!("token request to {realm} answered {status}"),
        });
    }
    let answer: serde_json::Value = response.json().await.map_err(|_| Error::Registry {
        registry: host.to_string(),
        message: format!("token answer from {realm} is not JSON"),
    })?;
    answer
        .get("token")
        .or_else(|| answer.get("access_token"))
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::Registry {
            registry: host.to_string(),
            message: format!("token answer from {realm} holds no token"),
        })
}
