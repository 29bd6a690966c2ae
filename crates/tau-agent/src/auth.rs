//! Who is calling: Cloudflare Access service tokens, checked in process and in constant time
//! through `tau-access`, and, when `[cloudflare_access]` is configured, the Access JWT too.
//!
//! Checking in process means a misconfigured tunnel (Access policy off) does not open the agent.
//! Missing credentials answer 401, wrong ones 403; the answer never says which part was wrong.

use axum::http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::client::JWT_ASSERTION_HEADER;
use crate::config::{CloudflareAccess, Config, JwksSource};
use crate::error::{Error, Result};

/// A refused caller: the HTTP status (401 or 403) and a reason safe to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub status: u16,
    pub reason: String,
}

/// Checks callers against the configured service tokens and Access JWT settings.
pub struct Auth {
    tokens: tau_access::Policy,
    jwt: Option<JwtVerifier>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("tokens", &self.tokens)
            .field("jwt", &self.jwt.is_some())
            .finish()
    }
}

impl Auth {
    /// Reads the token secrets and, if configured, a JWKS file or URL.
    pub async fn from_config(config: &Config) -> Result<Auth> {
        let pairs = config.load_secrets()?;
        let tokens = tau_access::Policy::new(pairs).map_err(|e| Error::Config {
            file: config.file.clone(),
            message: format!("key `service_tokens`: {e}"),
        })?;
        let jwt = match &config.cloudflare_access {
            None => None,
            Some(access) => Some(JwtVerifier::new(access, load_jwks(&access.jwks).await?)),
        };
        Ok(Auth { tokens, jwt })
    }

    /// The caller's identity for the audit log: the token's client id, or the JWT's subject
    /// when one is verified.
    pub fn check(&self, headers: &HeaderMap) -> Result<String, Denied> {
        let pairs = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        let client_id = self
            .tokens
            .check_headers(pairs)
            .map_err(|denial| match denial {
                tau_access::Denial::MissingHeaders => Denied {
                    status: 401,
                    reason: format!(
                        "missing {} or {} header",
                        tau_access::CLIENT_ID_HEADER,
                        tau_access::CLIENT_SECRET_HEADER
                    ),
                },
                tau_access::Denial::InvalidToken => Denied {
                    status: 403,
                    reason: "service token not accepted".into(),
                },
            })?
            .to_string();
        let Some(jwt) = &self.jwt else {
            return Ok(client_id);
        };
        let Some(assertion) = headers
            .get(JWT_ASSERTION_HEADER)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(Denied {
                status: 401,
                reason: format!("missing {JWT_ASSERTION_HEADER} header"),
            });
        };
        let subject = jwt.verify(assertion).map_err(|why| Denied {
            status: 403,
            reason: format!("{JWT_ASSERTION_HEADER} not accepted: {why}"),
        })?;
        Ok(subject.unwrap_or(client_id))
    }
}

async fn load_jwks(source: &JwksSource) -> Result<JwkSet> {
    let (name, bytes) = match source {
        JwksSource::File(path) => (
            path.display().to_string(),
            std::fs::read(path).map_err(|e| Error::io("read JWKS file", path, e))?,
        ),
        JwksSource::Url(url) => {
            let fetch = async {
                let response = reqwest::get(url).await?.error_for_status()?;
                response.bytes().await
            };
            let bytes = fetch.await.map_err(|e| Error::Jwks {
                source_name: url.clone(),
                message: e.to_string(),
            })?;
            (url.clone(), bytes.to_vec())
        }
    };
    let set: JwkSet = serde_json::from_slice(&bytes).map_err(|e| Error::Jwks {
        source_name: name.clone(),
        message: format!("expected a JSON Web Key Set {{\"keys\": [...]}}: {e}"),
    })?;
    if set.keys.is_empty() {
        return Err(Error::Jwks {
            source_name: name,
            message: "the key set has no keys".into(),
        });
    }
    Ok(set)
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    /// Service-token JWTs carry the token's client id here and an empty `sub`.
    #[serde(default)]
    common_name: Option<String>,
}

/// Verifies Cloudflare Access JWTs: RS256, key chosen by `kid`, `aud`, `iss`, `exp`.
pub struct JwtVerifier {
    keys: JwkSet,
    validation: Validation,
}

impl JwtVerifier {
    pub fn new(access: &CloudflareAccess, keys: JwkSet) -> JwtVerifier {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&access.audience]);
        validation.set_issuer(&[access.issuer()]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        // Access tokens are short-lived; a minute of clock skew is plenty.
        validation.leeway = 60;
        JwtVerifier { keys, validation }
    }

    /// The token's subject (or service-token common name), if it verifies.
    pub fn verify(&self, token: &str) -> Result<Option<String>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("malformed ({e})"))?;
        if header.alg != Algorithm::RS256 {
            return Err(format!(
                "algorithm {:?} where RS256 was expected",
                header.alg
            ));
        }
        let kid = header.kid.ok_or("no `kid` in the JWT header")?;
        let jwk = self
            .keys
            .find(&kid)
            .ok_or_else(|| format!("no key with kid {kid:?} in the configured JWKS"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key {kid:?} unusable ({e})"))?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| describe(&e))?;
        let claims = data.claims;
        Ok(claims
            .sub
            .filter(|s| !s.is_empty())
            .or(claims.common_name.filter(|s| !s.is_empty())))
    }
}

fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::InvalidAudience => "wrong audience (aud)".into(),
        ErrorKind::InvalidIssuer => "wrong issuer (iss)".into(),
        ErrorKind::InvalidSignature => "signature does not verify".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("missing claim `{c}`"),
        ErrorKind::ImmatureSignature => "not valid yet (nbf)".into(),
        _ => format!("invalid ({e})"),
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
