//! A typed client of the Deploy Agent's API, for everything in tau that deploys through an agent
//! (registry rollouts, cloud deploy's `local` target, the `deploy-agent` runner driver).
//!
//! It sends the Cloudflare Access service-token headers on every request and, when given, a W3C
//! `traceparent` and an `Idempotency-Key`. Any answer but 200 is an error carrying the HTTP status
//! and the agent's own `reason`, so callers can show a person what to fix.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};

use crate::wire::{DeployRequest, Deployed, ErrorBody, Status};

/// Header carrying the request's idempotency key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
/// W3C trace context header; the agent records its trace id in the audit log.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Cloudflare Access's signed identity assertion.
pub const JWT_ASSERTION_HEADER: &str = "Cf-Access-Jwt-Assertion";

/// Why a call to the agent did not give the expected answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The agent answered, with a non-200 status and its `{status:"error", reason}` body.
    #[error("agent answered HTTP {status}: {reason}")]
    Agent {
        status: u16,
        reason: String,
        /// The swap step that failed, when a deploy failed inside the swap.
        step: Option<String>,
        /// Whether the old container was restored, when a deploy failed after stopping it.
        restored: Option<bool>,
    },
    /// The agent answered, but not with the agent's JSON (a proxy page, a truncated body).
    #[error(
        "agent at {url} answered HTTP {status} with a body that is not the agent's JSON: {detail}"
    )]
    Protocol {
        url: String,
        status: u16,
        detail: String,
    },
    /// No connection: refused, unresolvable, TLS failure. Nothing reached the agent. (A request
    /// that was sent and then timed out is a `Protocol` error with status 0.)
    #[error("agent at {url} could not be reached: {detail}")]
    Unreachable { url: String, detail: String },
    /// The base URL or a header value cannot be used.
    #[error("agent client: {0}")]
    Setup(String),
}

impl ClientError {
    /// The HTTP status the agent answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            // Status 0: the request went out but no complete answer came back.
            ClientError::Agent { status, .. } | ClientError::Protocol { status, .. } => {
                Some(*status).filter(|s| *s != 0)
            }
            _ => None,
        }
    }

    /// The agent's own reason, if it answered with one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ClientError::Agent { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// A Deploy Agent client. Cheap to clone; the secret never appears in `Debug`.
#[derive(Clone)]
pub struct Client {
    base_url: String,
    client_id: String,
    http: reqwest::Client,
    auth: HeaderMap,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, ClientError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| ClientError::Setup(format!("{name} is not a valid header value")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Whether `authority` (`host[:port]`) names this host: an address in 127.0.0.0/8, `[::1]` or
/// `localhost`.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

impl Client {
    /// A client of the agent at `base_url` (`https://dev.example.com` or `http://127.0.0.1:PORT`;
    /// a trailing slash is ignored), authenticating with a Cloudflare Access service token.
    pub fn new(base_url: &str, client_id: &str, secret: &str) -> Result<Client, ClientError> {
        let base = base_url.trim().trim_end_matches('/');
        // The service token travels in headers: plain HTTP only where nothing leaves the host.
        let plain_ok = base
            .strip_prefix("http://")
            .is_some_and(|rest| is_loopback_authority(rest.split('/').next().unwrap_or("")));
        if !(base.starts_with("https://") || plain_ok) {
            return Err(ClientError::Setup(format!(
                "base URL {base:?} must start with https:// (http:// only for a loopback address: 127.0.0.1, [::1], localhost)"
            )));
        }
        let mut auth = HeaderMap::new();
        auth.insert(
            tau_access::CLIENT_ID_HEADER,
            header_value("client id", client_id)?,
        );
        auth.insert(
            tau_access::CLIENT_SECRET_HEADER,
            header_value("client secret", secret)?,
        );
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A deploy pulls an image and waits for the settle time: minutes, not seconds.
            .timeout(Duration::from_secs(600))
            // A redirect would carry CF-Access-Client-Secret to wherever it points (reqwest
            // strips only Authorization and Cookie): the agent never redirects, so never follow.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Setup(format!("HTTP client: {e}")))?;
        Ok(Client {
            base_url: base.to_string(),
            client_id: client_id.to_string(),
            http,
            auth,
        })
    }

    /// Also sends a Cloudflare Access JWT (`Cf-Access-Jwt-Assertion`), for agents that verify it.
    pub fn with_access_jwt(mut self, jwt: &str) -> Result<Client, ClientError> {
        self.auth
            .insert(JWT_ASSERTION_HEADER, header_value("access JWT", jwt)?);
        Ok(self)
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /v1/deploy`. Only a 200 is `Ok`.
    pub async fn deploy(
        &self,
        request: &DeployRequest,
        traceparent: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Deployed, ClientError> {
        let url = format!("{}/v1/deploy", self.base_url);
        let mut headers = self.auth.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(tp) = traceparent {
            headers.insert(TRACEPARENT_HEADER, header_value("traceparent", tp)?);
        }
        if let Some(key) = idempotency_key {
            headers.insert(
                IDEMPOTENCY_KEY_HEADER,
                header_value("idempotency key", key)?,
            );
        }
        let body = serde_json::to_vec(request)
            .map_err(|e| ClientError::Setup(format!("encode deploy request: {e}")))?;
        let answer = self
            .http
            .post(&url)
            .headers(headers)
            .body(body)
            .send()
            .await;
        Self::read(&url, answer).await
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<Status, ClientError> {
        let url = format!("{}/v1/status", self.base_url);
        let answer = self.http.get(&url).headers(self.auth.clone()).send().await;
        Self::read(&url, answer).await
    }

    async fn read<T: serde::de::DeserializeOwned>(
        url: &str,
        answer: reqwest::Result<reqwest::Response>,
    ) -> Result<T, ClientError> {
        let unreachable = |e: reqwest::Error| ClientError::Unreachable {
            url: url.to_string(),
            detail: e.without_url().to_string(),
        };
        // Only a connection that never opened proves the agent did nothing; a request that was
        // sent and then timed out or broke may be deploying right now.
        let response = answer.map_err(|e| {
            if e.is_connect() {
                unreachable(e)
            } else {
                ClientError::Protocol {
                    url: url.to_string(),
                    status: 0,
                    detail: format!("no complete answer: {}", e.without_url()),
                }
            }
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(unreachable)?;
        let protocol = |detail: String| ClientError::Protocol {
            url: url.to_string(),
            status,
            detail,
        };
        if status == 200 {
            return serde_json::from_slice(&bytes).map_err(|e| protocol(e.to_string()));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Agent {
                status,
                reason: body.reason,
                step: body.step,
                restored: body.restored,
            }),
            Err(e) => Err(protocol(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn plain_http_is_refused_for_anything_but_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9/",
            "https://dev.example.com",
        ] {
            assert!(Client::new(ok, "id", "secret").is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com:80",
            "http://10.0.0.5:8080",
            "http://127.0.0.1.example.com",
            "ftp://127.0.0.1",
        ] {
            let e = Client::new(bad, "id", "secret").unwrap_err().to_string();
            assert!(
                e.contains("https://") && !e.contains("secret\""),
                "{bad}: {e}"
            );
        }
    }
    use super::*;

    #[test]
    fn the_secret_never_shows_in_debug() {
        let client = Client::new("http://127.0.0.1:1/", "ci.access", "s3cret-value").unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("s3cret-value"), "{shown}");
        assert_eq!(client.base_url(), "http://127.0.0.1:1");
    }

    #[test]
    fn a_base_url_without_a_scheme_is_refused() {
        let err = Client::new("agent.example.com", "id", "secret").unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_agent_is_named_with_its_url() {
        // Port 1 on loopback: nothing listens there.
        let client = Client::new("http://127.0.0.1:1", "id", "secret").unwrap();
        let err = client.status().await.unwrap_err();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1:1/v1/status"), "{err}");
        assert_eq!(err.status(), None);
    }
}
