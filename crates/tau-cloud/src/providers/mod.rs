//! Where the service runs. Each cloud provider is described as the exact HTTP requests of its
//! documented REST API (built here, signed in [`http`]), so a dry run can print them and tests
//! can compare them byte for byte against a recording server; [`local`] drives the container
//! engine on this host.
//!
//! Deploy is create-or-update: with a record from `.tau/deployments.json` the service is updated
//! in place; without one it is created, and a provider that answers "already exists" gets the
//! update instead, so `run` never fails on a service that is already there.

pub mod agent;
pub mod auth;
pub mod aws;
pub mod aws_secrets;
pub mod azure;
pub mod ecs;
pub mod gcp;
pub mod gcp_secrets;
pub mod http;
pub mod local;
pub mod secrets;

use serde::Serialize;

use crate::config::{AwsService, DeploymentConfig, EnvValue, ProviderKind, Target};
use crate::records::Record;
use crate::{Error, Result};

/// One API request, as a dry run prints it and as it is sent (credentials are added at send time
/// and never appear here; secret values appear only when resolved for a real deploy).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiRequest {
    /// What the request does, for people (`create service`).
    pub action: &'static str,
    pub method: &'static str,
    pub url: String,
    /// Headers that carry meaning for the API (content type, operation name), not auth.
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

/// What to run: the deploy-time view of the config plus the pushed image.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub service: String,
    /// The reference the provider pulls, pinned by digest when known.
    pub image: String,
    pub port: u16,
    pub health_check_path: String,
    pub env: Vec<(String, EnvVar)>,
    /// Registry login for providers that pull with credentials (`credentials_env_prefix`).
    pub registry_login: Option<RegistryLogin>,
}

#[derive(Debug, Clone)]
pub enum EnvVar {
    Plain(String),
    /// From the deploying process's variable `from`; `value` is `None` in a dry run, which
    /// prints a placeholder instead.
    Secret {
        from: String,
        value: Option<String>,
    },
    /// A secret in the provider's secret manager, by the reference the provider resolves (an
    /// ARN, `projects/P/secrets/S/versions/V`, a Key Vault URL). Only the reference is sent.
    Ref(String),
}

#[derive(Debug, Clone)]
pub struct RegistryLogin {
    pub server: String,
    pub username: String,
    pub password_env: String,
    pub password: Option<String>,
}

impl EnvVar {
    /// The value to send, or the placeholder a dry run shows; a reference is the reference.
    pub fn wire_value(&self) -> String {
        match self {
            EnvVar::Plain(v) | EnvVar::Ref(v) => v.clone(),
            EnvVar::Secret { value: Some(v), .. } => v.clone(),
            EnvVar::Secret { from, value: None } => placeholder(from),
        }
    }

    /// For providers that take secrets by reference only: the reference, never a value (a
    /// `secret_env` not yet written to the secret manager shows as its placeholder, which the
    /// provider would refuse, rather than leak).
    pub(crate) fn reference(&self) -> Option<String> {
        match self {
            EnvVar::Plain(_) => None,
            EnvVar::Ref(r) => Some(r.clone()),
            EnvVar::Secret { from, .. } => Some(placeholder(from)),
        }
    }

    pub(crate) fn is_secret(&self) -> bool {
        !matches!(self, EnvVar::Plain(_))
    }
}

pub(crate) fn placeholder(var: &str) -> String {
    format!("<secret from ${var}>")
}

impl ServiceSpec {
    /// The spec for `config` and `image`. With `resolve`, secret references are read from the
    /// environment (a missing one is an error naming the variable); without, they stay
    /// placeholders.
    pub fn new(config: &DeploymentConfig, image: &str, resolve: bool) -> Result<Self> {
        let read = |var: &str, what: String| -> Result<Option<String>> {
            if !resolve {
                return Ok(None);
            }
            std::env::var(var).map(Some).map_err(|_| Error::MissingEnv {
                what,
                name: var.to_string(),
                hint: format!("export {var} in the deploying environment (its value is sent to the provider and never printed or stored)"),
            })
        };
        let mut env = Vec::new();
        for (name, value) in &config.environment {
            env.push((
                name.clone(),
                match value {
                    EnvValue::Plain(v) => EnvVar::Plain(v.clone()),
                    EnvValue::SecretEnv(var) => EnvVar::Secret {
                        from: var.clone(),
                        value: read(var, format!("deployment.environment.{name}"))?,
                    },
                    EnvValue::SecretRef(id) => EnvVar::Ref(id.clone()),
                },
            ));
        }
        let registry_login = match &config.registry.credentials_env_prefix {
            Some(prefix) => {
                let user_var = format!("{prefix}_USERNAME");
                let pass_var = format!("{prefix}_PASSWORD");
                let username = if resolve {
                    read(
                        &user_var,
                        "deployment.registry.credentials_env_prefix".into(),
                    )?
                    .unwrap_or_default()
                } else {
                    std::env::var(&user_var).unwrap_or_else(|_| format!("${user_var}"))
                };
                Some(RegistryLogin {
                    server: config.registry.url.clone(),
                    username,
                    password: read(
                        &pass_var,
                        "deployment.registry.credentials_env_prefix".into(),
                    )?,
                    password_env: pass_var,
                })
            }
            None => None,
        };
        Ok(ServiceSpec {
            service: config.service.clone(),
            image: image.to_string(),
            port: config.port,
            health_check_path: config.health_check_path().to_string(),
            env,
            registry_login,
        })
    }
}

/// What a provider reports about a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    pub service_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub state: State,
    /// The provider's own word for the state (`RUNNING`, `CONDITION_SUCCEEDED`, `Succeeded`).
    pub provider_state: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Ready,
    Pending,
    Failed,
    Missing,
}

/// A cloud API described as requests and answers; [`http::Client`] runs the conversation.
pub trait CloudApi {
    fn kind(&self) -> ProviderKind;
    /// The request that creates the service.
    fn create(&self, spec: &ServiceSpec) -> ApiRequest;
    /// The request that updates the service `id` to `spec`.
    fn update(&self, spec: &ServiceSpec, id: &str) -> ApiRequest;
    fn get(&self, id: &str) -> ApiRequest;
    fn delete(&self, id: &str) -> ApiRequest;
    /// The service id a create or update answered with (or that the spec determines).
    fn id_after_deploy(&self, spec: &ServiceSpec, answer: &serde_json::Value) -> Option<String>;
    /// Reads a `get` answer.
    fn observe(&self, id: &str, answer: &serde_json::Value) -> Observed;
    /// Whether a failed create means the service already exists, and its id if so. `None` by
    /// default: for a provider whose create never conflicts (a PUT that updates) or whose
    /// conflict answer lacks the id, the error tells the user to record the service instead.
    fn existing_on_conflict(
        &self,
        _spec: &ServiceSpec,
        _status: u16,
        _answer: &serde_json::Value,
    ) -> Option<String> {
        None
    }
    /// The secret manager `secret_env` values are written to before the service refers to
    /// them; `None` when the provider keeps them itself (Container Apps).
    fn secret_store(&self) -> Option<Box<dyn secrets::SecretStore + Send + Sync>> {
        None
    }
}

/// The cloud API of a config's target; `None` for `local`.
pub fn cloud_api(target: &Target) -> Option<Box<dyn CloudApi + Send + Sync>> {
    match target {
        Target::Local(_) => None,
        Target::Aws(t) => match &t.service {
            AwsService::AppRunner(ar) => Some(Box::new(aws::AppRunner::new(t, ar))),
            AwsService::EcsExpress(ecs) => Some(Box::new(ecs::EcsExpress::new(t, ecs))),
        },
        Target::Gcp(t) => Some(Box::new(gcp::CloudRun::new(t))),
        Target::Azure(t) => Some(Box::new(azure::ContainerApps::new(t))),
    }
}

/// The requests a deploy makes, in order: the secret-manager writes of `secret_env` values
/// (placeholders instead of values when `spec` is unresolved), the update of the recorded
/// service or the create, then the read of its state.
pub fn deploy_plan(
    api: &dyn CloudApi,
    spec: &ServiceSpec,
    existing: Option<&Record>,
) -> Vec<ApiRequest> {
    let (mut plan, spec) = match api.secret_store() {
        Some(store) => secrets::plan(store.as_ref(), spec, existing),
        None => (Vec::new(), spec.clone()),
    };
    match existing {
        Some(r) => plan.extend([api.update(&spec, &r.service_id), api.get(&r.service_id)]),
        None => {
            let create = api.create(&spec);
            let id = api.id_after_deploy(&spec, &serde_json::Value::Null);
            let get = api.get(id.as_deref().unwrap_or("<id from the create answer>"));
            plan.extend([create, get]);
        }
    }
    plan
}

impl ApiRequest {
    /// A REST call whose body, when there is one, is JSON (Cloud Run, Container Apps).
    pub(crate) fn rest(
        action: &'static str,
        method: &'static str,
        url: String,
        body: Option<serde_json::Value>,
    ) -> ApiRequest {
        let headers = if body.is_some() {
            vec![("content-type".into(), "application/json".into())]
        } else {
            Vec::new()
        };
        ApiRequest {
            action,
            method,
            url,
            headers,
            body,
        }
    }
}

/// A service's public URL from an answer's host or URL field; an absent or empty one is none
/// yet. `https` is prefixed when the provider answers a bare host name (App Runner, Container
/// Apps, ECS Express).
pub(crate) fn public_url(field: &serde_json::Value, bare_host: bool) -> Option<String> {
    let text = field.as_str().filter(|u| !u.is_empty())?;
    Some(
        if bare_host && !text.starts_with("https://") && !text.starts_with("http://") {
            format!("https://{text}")
        } else {
            text.to_string()
        },
    )
}

/// A base URL from the environment (`TAU_CLOUD_<P>_ENDPOINT`), else the config's `endpoint`,
/// else the provider's public one. Tests point it at a local recording server.
pub(crate) fn endpoint(env_var: &str, configured: Option<&str>, default: String) -> String {
    let chosen = std::env::var(env_var)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| configured.map(str::to_string));
    chosen.unwrap_or(default).trim_end_matches('/').to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A spec with one plain and one secret variable (unresolved, as in a dry run).
    pub(crate) fn spec(image: &str) -> ServiceSpec {
        ServiceSpec {
            service: "svc".into(),
            image: image.into(),
            port: 8080,
            health_check_path: "/health".into(),
            env: vec![
                (
                    "API_TOKEN".into(),
                    EnvVar::Secret {
                        from: "SVC_TOKEN".into(),
                        value: None,
                    },
                ),
                ("MODE".into(), EnvVar::Plain("prod".into())),
            ],
            registry_login: None,
        }
    }
}
