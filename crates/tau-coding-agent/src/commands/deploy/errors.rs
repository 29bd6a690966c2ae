//! `tau-cloud` errors as the CLI's refusals: a stable code, the exit status and the structured
//! detail (`problems` of an invalid config, the missing variable, the provider).

use tau_cloud::Error as E;

use crate::failure::{Refusal, REFUSED, USAGE};

pub fn refusal(err: E) -> anyhow::Error {
    let message = err.to_string();
    let r = match &err {
        E::Invalid { path, problems } => Refusal::new(USAGE, "deploy_config_invalid", message)
            .with("path", path.display().to_string())
            .with(
                "problems",
                serde_json::to_value(problems).unwrap_or_default(),
            ),
        E::Read { path, .. } => Refusal::new(USAGE, "config_unreadable", message)
            .with("path", path.display().to_string()),
        E::Context { path, .. } => Refusal::new(USAGE, "build_context_invalid", message)
            .with("path", path.display().to_string()),
        E::MissingEnv { name, .. } => {
            Refusal::new(USAGE, "secret_missing", message).with("variable", name.clone())
        }
        E::Credentials { provider, .. } => {
            Refusal::new(USAGE, "credentials_missing", message).with("provider", *provider)
        }
        E::Api {
            provider, status, ..
        } => Refusal::new(USAGE, "provider_api_error", message)
            .with("provider", *provider)
            .with("http_status", *status),
        E::Transport { provider, .. } => {
            Refusal::new(USAGE, "provider_unreachable", message).with("provider", *provider)
        }
        E::Provider { provider, .. } => {
            Refusal::new(REFUSED, "deploy_failed", message).with("provider", *provider)
        }
        E::Tag(_) => Refusal::new(USAGE, "tag_unavailable", message),
        E::Engine(_) => Refusal::new(USAGE, "engine_error", message),
        E::RegistryUnauthorized(_) => Refusal::new(USAGE, "registry_unauthorized", message),
        E::RegistryCredentials(_) => Refusal::new(USAGE, "registry_credentials_invalid", message),
        E::Records { path, .. } => Refusal::new(USAGE, "state_unreadable", message)
            .with("path", path.display().to_string()),
        E::Durable(_) => Refusal::new(USAGE, "state_unwritable", message),
    };
    r.into()
}
