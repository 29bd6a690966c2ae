//! What each provider accepts for names, regions and sizes.

use super::fields::{quote, Problems};
use super::{AwsService, Target};

pub(crate) fn is_service_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

pub(crate) fn is_registry_host(s: &str) -> bool {
    let (host, port) = s.rsplit_once(':').map_or((s, None), |(h, p)| (h, Some(p)));
    !host.is_empty()
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0))
}

pub(crate) fn is_repository(s: &str) -> bool {
    s.split('/').all(|part| {
        !part.is_empty()
            && part.bytes().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
            })
            && part.as_bytes()[0].is_ascii_alphanumeric()
            && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
    })
}

pub(crate) fn is_env_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

pub(crate) fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

pub(crate) fn is_http_path(s: &str) -> bool {
    s.starts_with('/')
        && s.bytes()
            .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\')
}

pub(crate) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

pub(crate) fn is_project_id(s: &str) -> bool {
    (6..=30).contains(&s.len())
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-')
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

pub(crate) fn is_quantity(s: &str, units: &[&str]) -> bool {
    units.iter().any(|u| {
        s.strip_suffix(u)
            .is_some_and(|n| n.parse::<f64>().is_ok_and(|x| x > 0.0) && !n.starts_with('+'))
    })
}

pub(crate) fn is_cpu(s: &str) -> bool {
    let n = s.strip_suffix('m').unwrap_or(s);
    !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) && n.parse::<u64>().is_ok_and(|x| x > 0)
}

pub(crate) fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|c| c.is_ascii_hexdigit()))
}

pub(crate) fn is_resource_group(s: &str) -> bool {
    (1..=90).contains(&s.len())
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

/// Provider name rules beyond the common grammar: App Runner's ServiceName pattern (botocore:
/// `[A-Za-z0-9][A-Za-z0-9-_]{3,39}`) and Container Apps' documented rule (2 to 32 characters, no
/// `--`). Found by checking generated requests against the published schemas.
pub(super) fn service_name(p: &mut Problems, service: &str, target: &Target) {
    let rule = match target {
        Target::Aws(aws)
            if matches!(aws.service, AwsService::AppRunner(_)) && service.len() < 4 =>
        {
            Some("at least 4 characters with provider aws (App Runner's ServiceName)")
        }
        Target::Azure(_) if service.len() < 2 || service.contains("--") => Some(
            "at least 2 characters and no \"--\" with provider azure (Container Apps' app name)",
        ),
        _ => None,
    };
    if let Some(expected) = rule {
        p.add("deployment.service", expected, Some(quote(service)));
    }
}
