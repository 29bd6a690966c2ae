//! Credentials from each provider's standard chain ([`aws`], [`gcp`], [`azure`]).
//!
//! Every chain walks its sources in the provider's documented order. A source that is not set
//! up (its variables are unset, no metadata service answers) is skipped and noted; a source that
//! is set up but fails stops the chain, as the providers' SDKs do, because silently falling
//! through to another identity would deploy as someone else. When nothing is found, the error
//! lists every source tried, in order, with why it was skipped and how to fix it.
//!
//! A credential's value is never part of a message, a log line or a `Debug` rendering.

/// One source of a chain, in the function that walks it: returns from that function with what
/// the source found (through `|found| expr` when given, else `Ok(found)`) or with the error of a
/// source that is set up but failed; a source that is not set up is noted in `$tried` and the
/// walk goes on. Defined before the chain modules so that they can use it.
macro_rules! chain_step {
    ($tried:ident, $hint:expr, $name:expr, $attempt:expr, |$found:ident| $on_found:expr) => {
        match $attempt {
            Ok($crate::providers::auth::Step::Found($found)) => return $on_found,
            Ok($crate::providers::auth::Step::Skipped(why)) => $tried.skipped($name, why),
            Err(why) => return Err($tried.failed($name, why, $hint)),
        }
    };
    ($tried:ident, $hint:expr, $name:expr, $attempt:expr) => {
        chain_step!($tried, $hint, $name, $attempt, |found| Ok(found))
    };
}

pub mod aws;
mod aws_metadata;
mod aws_profile;
pub mod azure;
mod azure_cert;
pub mod gcp;
mod gcp_external;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::Error;

/// The environment a chain reads: the process's variables, or a fixed set in tests (so tests
/// never change the process environment other tests share).
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// This process's environment.
    pub fn process() -> Env {
        Env {
            vars: std::env::vars().collect(),
        }
    }

    /// Exactly these variables and no others.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable's value; an empty one counts as unset, as in the providers' SDKs.
    pub fn get(&self, key: &str) -> Option<String> {
        self.vars.get(key).filter(|v| !v.is_empty()).cloned()
    }

    fn is_true(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }

    fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }

    /// `name` found in one of `PATH`'s directories.
    fn which(&self, name: &str) -> Option<PathBuf> {
        let path = self.get("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    }

    pub(crate) fn vars(&self) -> impl Iterator<Item = (&String, &String)> {
        self.vars.iter()
    }
}

/// A bearer token and where it came from. `Debug` never shows the value.
#[derive(Clone)]
pub struct Token {
    secret: String,
    /// The chain source that produced it (`metadata server`, `workload identity`, …).
    pub source: &'static str,
    pub expires_at: Option<SystemTime>,
}

impl Token {
    pub(crate) fn new(
        secret: String,
        source: &'static str,
        expires_at: Option<SystemTime>,
    ) -> Self {
        Token {
            secret,
            source,
            expires_at,
        }
    }

    /// The value to send in `Authorization: Bearer`.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("secret", &"** redacted **")
            .field("source", &self.source)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What happened at one source of a chain that did not produce a credential.
enum Step<T> {
    Found(T),
    /// Not set up here; the reason says what was looked for.
    Skipped(String),
}

/// The record of a chain walk, for the error when nothing is found.
struct Tried {
    provider: &'static str,
    steps: Vec<(&'static str, String)>,
}

impl Tried {
    fn new(provider: &'static str) -> Self {
        Tried {
            provider,
            steps: Vec::new(),
        }
    }

    fn skipped(&mut self, source: &'static str, why: String) {
        self.steps.push((source, why));
    }

    fn listing(&self) -> String {
        self.steps
            .iter()
            .enumerate()
            .map(|(i, (source, why))| format!("{}. {source}: {why}", i + 1))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Nothing in the chain produced a credential.
    fn none_found(&self, hint: &str) -> Error {
        Error::Credentials {
            provider: self.provider,
            message: format!(
                "no source in the chain has them (tried, in order: {})",
                self.listing()
            ),
            hint: hint.to_string(),
        }
    }

    /// `source` is set up but failed; the chain stops there.
    fn failed(&self, source: &'static str, why: String, hint: &str) -> Error {
        let before = if self.steps.is_empty() {
            String::new()
        } else {
            format!(" (skipped before it: {})", self.listing())
        };
        Error::Credentials {
            provider: self.provider,
            message: format!("{source} is set up but failed: {why}{before}"),
            hint: hint.to_string(),
        }
    }
}

/// The client for link-local metadata services and container endpoints: a short connect timeout
/// so a laptop without them moves on in about a second, and never a proxy.
fn metadata_client() -> std::result::Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(1000))
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())
}

/// A request's outcome as the chains need it: the status and body, or why there was none.
/// The body may hold a credential, so callers never put it in a message.
async fn fetch(req: reqwest::RequestBuilder) -> std::result::Result<(u16, String), String> {
    let answer = req.send().await.map_err(|e| describe_transport(&e))?;
    let status = answer.status().as_u16();
    let text = answer.text().await.map_err(|e| describe_transport(&e))?;
    Ok((status, text))
}

fn describe_transport(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "could not connect".into()
    } else if e.is_timeout() {
        "no answer in time".into()
    } else {
        // reqwest's message names the URL and the failure, never a header or body.
        e.to_string()
    }
}

/// POSTs an OAuth 2 form and returns the JSON answer; a refusal keeps only the OAuth `error` and
/// `error_description` fields, which describe the failure and never echo the secret.
async fn post_form(
    http: &reqwest::Client,
    uri: &str,
    form: &[(&str, String)],
) -> std::result::Result<Value, String> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = http
        .post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    let (status, text) = fetch(req).await.map_err(|e| format!("{uri}: {e}"))?;
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        Ok(json)
    } else {
        Err(format!(
            "{uri} answered HTTP {status}: {} {}",
            json["error"].as_str().unwrap_or(""),
            json["error_description"].as_str().unwrap_or("")
        )
        .trim_end()
        .to_string())
    }
}

/// The OAuth `access_token` of an answer and its expiry from `expires_in`.
fn oauth_token(answer: &Value, source: &'static str) -> std::result::Result<Token, String> {
    let secret = answer["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no access_token")?;
    let expires_at = answer["expires_in"]
        .as_u64()
        .or_else(|| answer["expires_in"].as_str().and_then(|s| s.parse().ok()))
        .map(|s| SystemTime::now() + Duration::from_secs(s));
    Ok(Token::new(secret.to_string(), source, expires_at))
}

/// An RFC 3339 time (`2026-05-01T12:00:00Z`), as AWS and Google write expiries.
fn parse_time(text: &str) -> Option<SystemTime> {
    let t =
        aws_smithy_types::DateTime::from_str(text, aws_smithy_types::date_time::Format::DateTime)
            .ok()?;
    SystemTime::try_from(t).ok()
}

fn epoch_seconds(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `application/x-www-form-urlencoded` value encoding.
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Reads a token or key file a variable names; the error names the variable and the path.
fn read_named_file(env_var: &str, path: &str) -> std::result::Result<String, String> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_string())
        .map_err(|e| format!("{env_var}={path} cannot be read ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(form_encode("a b/c+d=e&"), "a%20b%2Fc%2Bd%3De%26");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let env = Env::from_pairs([("A", ""), ("B", "x")]);
        assert_eq!((env.get("A"), env.get("B").as_deref()), (None, Some("x")));
    }

    #[test]
    fn a_token_debug_rendering_never_shows_the_value() {
        let t = Token::new("ya29.very-secret".into(), "test", None);
        assert!(!format!("{t:?}").contains("very-secret"));
    }

    #[test]
    fn rfc3339_expiries_are_read() {
        assert_eq!(parse_time("1970-01-01T00:01:40Z"), Some(epoch_seconds(100)));
        assert_eq!(parse_time("tomorrow"), None);
    }

    #[test]
    fn the_error_lists_every_source_in_order() {
        let mut tried = Tried::new("aws");
        tried.skipped("environment", "AWS_ACCESS_KEY_ID is not set".into());
        tried.skipped("IMDS", "disabled".into());
        let text = tried.none_found("do x").to_string();
        assert!(
            text.contains("1. environment: AWS_ACCESS_KEY_ID is not set; 2. IMDS: disabled")
                && text.ends_with("do x"),
            "{text}"
        );
    }
}
