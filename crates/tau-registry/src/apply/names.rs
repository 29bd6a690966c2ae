//! Name grammars the apply file is checked against, and deploy-time env resolution.

use std::collections::BTreeMap;

use crate::model::EnvValue;
use crate::{Error, Result};

pub(crate) fn env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `host[:port]`: a hostname or IPv4 address, no scheme or path.
pub(crate) fn registry_host(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|c| c.is_ascii_digit()));
    port_ok
        && !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
}

pub(crate) fn repo_path(s: &str) -> bool {
    s.split('/').all(|c| {
        !c.is_empty()
            && c.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && c.as_bytes()[0].is_ascii_alphanumeric()
    })
}

/// An image repository: an optional registry host, then lowercase path components.
pub(crate) fn image_repo(s: &str) -> bool {
    let (first, rest) = match s.split_once('/') {
        Some(p) => p,
        None => return repo_path(s),
    };
    let first_is_host = first.contains('.') || first.contains(':') || first == "localhost";
    if first_is_host {
        registry_host(first) && repo_path(rest)
    } else {
        repo_path(s)
    }
}

/// Env values as a deploy request carries them: plain values as stored, `{secret_env}` read from
/// `lookup` now. A missing variable is an error naming the variable, never a value.
pub fn resolve_env(
    agent: &str,
    env: &BTreeMap<String, EnvValue>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>> {
    env.iter()
        .map(|(k, v)| match v {
            EnvValue::Plain(p) => Ok((k.clone(), p.clone())),
            EnvValue::Secret(s) => lookup(&s.secret_env)
                .filter(|v| !v.is_empty())
                .map(|v| (k.clone(), v))
                .ok_or_else(|| {
                    Error::refused(
                        "secret_env_missing",
                        format!("{agent}: deploy.env.{k} takes its value from the environment variable {}, which is not set or empty", s.secret_env),
                    )
                }),
        })
        .collect()
}
