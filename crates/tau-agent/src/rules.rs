//! The request rules a deploy must pass before the agent takes the host lock.
//!
//! Each refusal is a 4xx with a reason that names the field and what the agent expected, so the
//! caller can fix the request without reading the agent's config.

use tau_engine::Reference;

use crate::config::Config;
use crate::wire::DeployRequest;

/// A refused request: HTTP status and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
}

fn refuse(reason: String) -> Refusal {
    Refusal {
        status: 422,
        reason,
    }
}

/// Checks `request` against `config`; returns the parsed image reference.
pub fn check(config: &Config, request: &DeployRequest) -> Result<Reference, Refusal> {
    if request.container_name != config.container_name {
        return Err(refuse(format!(
            "container_name {:?} is not the container this agent manages ({:?})",
            request.container_name, config.container_name
        )));
    }
    if request.environment != config.environment {
        return Err(refuse(format!(
            "environment {:?} does not match this agent's environment {:?}: a {} agent never deploys {}",
            request.environment.as_str(),
            config.environment.as_str(),
            config.environment,
            request.environment
        )));
    }
    let image = Reference::parse(request.image.trim()).map_err(|e| {
        refuse(format!(
            "image {:?} is not a valid image reference: {e}",
            request.image
        ))
    })?;
    let name = match image.registry() {
        Some(registry) => format!("{registry}/{}", image.repository()),
        None => image.repository().to_string(),
    };
    let allowed = config
        .image_repositories
        .iter()
        .any(|prefix| name == *prefix || name.starts_with(&format!("{prefix}/")));
    if !allowed {
        return Err(refuse(format!(
            "image repository {name:?} is not under an allowed repository ({})",
            config.image_repositories.join(", ")
        )));
    }
    match (image.tag(), image.digest()) {
        (Some("latest"), _) => {
            return Err(refuse(format!(
                "image {:?} uses the tag `latest`, which names no fixed image: deploy a version tag or a digest",
                request.image
            )))
        }
        (None, None) => {
            return Err(refuse(format!(
                "image {:?} has no tag or digest: name the exact version (REPO:TAG or REPO@sha256:...)",
                request.image
            )))
        }
        _ => {}
    }
    for (volume, path) in &request.volumes {
        match config.volumes.get(volume) {
            None => {
                return Err(refuse(format!(
                    "volume {volume:?} is not configured on this agent (configured: {})",
                    list(config.volumes.keys())
                )))
            }
            Some(configured) if configured != path => {
                return Err(refuse(format!(
                    "volume {volume:?} must be mounted at {configured:?}, not {path:?}"
                )))
            }
            Some(_) => {}
        }
    }
    for key in request.env.keys() {
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            return Err(refuse(format!(
                "env key {key:?} is not a valid variable name (non-empty, no '=')"
            )));
        }
    }
    Ok(image)
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
