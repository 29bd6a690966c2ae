//! The registry's rules for names and references, as parsers: a value that does not parse is
//! refused naming the rule it broke.
//!
//! - `Tag`: dev `dev-YYYYMMDDHHmmss` (a real UTC time) or prod `vX.Y.Z`, optionally followed by
//!   `_` and a 7–12 character lowercase hex commit sha (`v1.4.2_3f9c2ab`). SemVer writes build
//!   metadata after `+`, which a Docker tag cannot hold; `-` would read as a SemVer pre-release,
//!   so the separator is `_`, which SemVer never uses. `latest` is never deployable.
//! - `AgentName`: `cogo-<domain>-<role>`.
//! - `CredentialRef`: `k8s:<namespace>/<secret>` or `vault:<path>`.
//! - `TraceId`: a W3C trace-context trace id (32 lowercase hex, not all zero).

pub mod secret;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::Utc;

/// Why a string is not a tag; the message names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule(pub &'static str);

pub const TAG_RULE: &str = "a tag is dev-YYYYMMDDHHmmss (a real UTC time) or vX.Y.Z, optionally followed by _<7-12 lowercase hex commit sha>";

/// A deployable image tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    Dev(Utc),
    Prod {
        major: u64,
        minor: u64,
        patch: u64,
        sha: Option<String>,
    },
}

/// Which environment a tag deploys to unless told otherwise: the Deploy Agent's own wire type,
/// so a rollout's target and the agent's request can never spell an environment differently.
pub use tau_agent::wire::Environment;

impl Tag {
    pub fn parse(text: &str) -> Result<Tag, Rule> {
        if text == "latest" {
            return Err(Rule(
                "`latest` is never deployable: it names no fixed image",
            ));
        }
        if let Some(stamp) = text.strip_prefix("dev-") {
            return parse_dev(stamp).ok_or(Rule(TAG_RULE));
        }
        if let Some(rest) = text.strip_prefix('v') {
            return parse_prod(rest).ok_or(Rule(TAG_RULE));
        }
        Err(Rule(TAG_RULE))
    }

    pub fn environment(&self) -> Environment {
        match self {
            Tag::Dev(_) => Environment::Dev,
            Tag::Prod { .. } => Environment::Prod,
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Dev(t) => write!(f, "dev-{}", t.compact()),
            Tag::Prod {
                major,
                minor,
                patch,
                sha,
            } => {
                write!(f, "v{major}.{minor}.{patch}")?;
                match sha {
                    Some(sha) => write!(f, "_{sha}"),
                    None => Ok(()),
                }
            }
        }
    }
}

fn parse_dev(stamp: &str) -> Option<Tag> {
    if stamp.len() != 14 || !stamp.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| stamp[r].parse::<u32>().ok();
    let t = Utc::new(
        i64::from(n(0..4)?),
        n(4..6)?,
        n(6..8)?,
        n(8..10)?,
        n(10..12)?,
        n(12..14)?,
    )?;
    Some(Tag::Dev(t))
}

fn parse_prod(rest: &str) -> Option<Tag> {
    let (version, sha) = match rest.split_once('_') {
        Some((v, sha)) => (v, Some(sha)),
        None => (rest, None),
    };
    let mut parts = version.split('.');
    let mut number = || -> Option<u64> {
        let p = parts.next()?;
        // SemVer: no leading zeros, digits only.
        if p.is_empty()
            || (p.len() > 1 && p.starts_with('0'))
            || !p.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        p.parse().ok()
    };
    let (major, minor, patch) = (number()?, number()?, number()?);
    if parts.next().is_some() {
        return None;
    }
    if let Some(sha) = sha {
        let ok = (7..=12).contains(&sha.len())
            && sha
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        if !ok {
            return None;
        }
    }
    Some(Tag::Prod {
        major,
        minor,
        patch,
        sha: sha.map(str::to_string),
    })
}

pub const AGENT_NAME_RULE: &str =
    "an agent name is cogo-<domain>-<role>: lowercase letters and digits in hyphen-separated words";

/// `cogo-<domain>-<role>`; the role is the last word, the domain everything between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentName {
    pub domain: String,
    pub role: String,
}

impl AgentName {
    pub fn parse(text: &str) -> Result<AgentName, Rule> {
        let rest = text.strip_prefix("cogo-").ok_or(Rule(AGENT_NAME_RULE))?;
        let (domain, role) = rest.rsplit_once('-').ok_or(Rule(AGENT_NAME_RULE))?;
        let word = |w: &str| {
            !w.is_empty()
                && w.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        };
        if text.len() > 63 || !domain.split('-').all(word) || !word(role) {
            return Err(Rule(AGENT_NAME_RULE));
        }
        Ok(AgentName {
            domain: domain.to_string(),
            role: role.to_string(),
        })
    }
}

pub const ROUTE_RULE: &str =
    "a routing-key part is lowercase letters, digits and hyphens, starting with a letter or digit";

/// The bus routing key `(service, role, shard, tenant?)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingKey {
    pub service: String,
    pub role: String,
    pub shard: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl RoutingKey {
    /// Checks each part; returns the name of the first bad field.
    pub fn check(&self) -> Result<(), (&'static str, Rule)> {
        for (field, value) in [
            ("service", Some(&self.service)),
            ("role", Some(&self.role)),
            ("tenant", self.tenant.as_ref()),
        ] {
            if let Some(v) = value {
                if !route_part(v) {
                    return Err((field, Rule(ROUTE_RULE)));
                }
            }
        }
        Ok(())
    }

    /// `service/role/shard[/tenant]`, as the bus writes routes.
    pub fn route(&self) -> String {
        match &self.tenant {
            Some(t) => format!("{}/{}/{}/{t}", self.service, self.role, self.shard),
            None => format!("{}/{}/{}", self.service, self.role, self.shard),
        }
    }
}

fn route_part(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && v.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

pub const CREDENTIAL_RULE: &str = "a credential_ref is k8s:<namespace>/<secret> (Kubernetes names) or vault:<path> (words of letters, digits, '_', '-', '.' separated by '/')";

/// Where a registry credential lives; never the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRef {
    K8s { namespace: String, secret: String },
    Vault { path: String },
}

/// Parses a credential reference. A value that looks like a secret is `Err(Ok(kind))` so the
/// caller reports it without the value; a malformed one is `Err(Err(rule))`.
pub fn parse_credential_ref(text: &str) -> Result<CredentialRef, Result<&'static str, Rule>> {
    if let Some(kind) = secret::detect(text) {
        return Err(Ok(kind));
    }
    if let Some(rest) = text.strip_prefix("k8s:") {
        let (ns, name) = rest.split_once('/').ok_or(Err(Rule(CREDENTIAL_RULE)))?;
        if dns_label(ns) && dns_subdomain(name) {
            return Ok(CredentialRef::K8s {
                namespace: ns.to_string(),
                secret: name.to_string(),
            });
        }
        return Err(Err(Rule(CREDENTIAL_RULE)));
    }
    if let Some(path) = text.strip_prefix("vault:") {
        let ok = !path.is_empty()
            && path.len() <= 512
            && path.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
            });
        if ok {
            return Ok(CredentialRef::Vault {
                path: path.to_string(),
            });
        }
    }
    Err(Err(Rule(CREDENTIAL_RULE)))
}

/// A Kubernetes DNS-1123 label (namespaces, container names).
pub fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Kubernetes DNS-1123 subdomain (Secret names).
pub fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns_label)
}

/// A W3C trace-context trace id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceId(String);

impl TraceId {
    pub fn parse(text: &str) -> Result<TraceId, Rule> {
        let ok = text.len() == 32
            && text
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            && text.bytes().any(|c| c != b'0');
        if ok {
            Ok(TraceId(text.to_string()))
        } else {
            Err(Rule(
                "a trace id is 32 lowercase hex characters, not all zero (W3C trace context)",
            ))
        }
    }

    pub fn random() -> TraceId {
        TraceId(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A `traceparent` header for a new span of this trace (version 00, sampled).
    pub fn traceparent(&self) -> String {
        let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
        format!("00-{}-{span}-01", self.0)
    }
}

/// `SUPABASE_SERVICE_ROLE_KEY` → `supabase-service-role-key`: the Secret key of an env variable.
pub fn kebab_case(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

#[cfg(test)]
mod tests;
