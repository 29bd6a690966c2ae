//! The `local` target through the host's Deploy Agent (`tau agent serve`): the agent swaps the
//! container itself (pull, create, stop the old one, start, settle, health, restore on failure)
//! and audits it, so tau only asks. The agent's API has no remove call: `destroy` says so
//! instead of going around the agent.

use serde_json::json;
use tau_agent::{Client, DeployRequest, Environment};
use tracing::Instrument;

use super::{ApiRequest, Observed, ServiceSpec, State};
use crate::config::AgentTarget;
use crate::{Error, Result};

fn environment(target: &AgentTarget) -> Environment {
    if target.environment == "prod" {
        Environment::Prod
    } else {
        Environment::Dev
    }
}

fn request(target: &AgentTarget, spec: &ServiceSpec) -> DeployRequest {
    DeployRequest {
        container_name: target.container_name.clone(),
        image: spec.image.clone(),
        environment: environment(target),
        env: spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.wire_value()))
            .collect(),
        volumes: Default::default(),
    }
}

/// The agent call a deploy makes, for dry runs (service-token headers are not shown).
pub fn plan(target: &AgentTarget, spec: &ServiceSpec) -> Vec<ApiRequest> {
    let body = request(target, spec);
    vec![ApiRequest {
        action: "deploy through the Deploy Agent",
        method: "POST",
        url: format!("{}/v1/deploy", target.url.trim_end_matches('/')),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(json!({
            "container_name": body.container_name,
            "image": body.image,
            "environment": body.environment,
            "env": body.env,
            "volumes": body.volumes,
        })),
    }]
}

/// A client of the agent named by `target`, with the service token's secret from its variable.
pub fn client(target: &AgentTarget) -> Result<Client> {
    let secret = std::env::var(&target.secret_env).map_err(|_| Error::MissingEnv {
        what: "deployment.target.local.agent.secret_env".into(),
        name: target.secret_env.clone(),
        hint: "export the Deploy Agent service token's secret under that name".into(),
    })?;
    Client::new(&target.url, &target.client_id, &secret).map_err(|e| agent_error(&e))
}

fn agent_error(e: &tau_agent::ClientError) -> Error {
    Error::Provider {
        provider: "local",
        message: format!("Deploy Agent: {e}"),
    }
}

/// Asks the agent to run `spec`; the agent answers once the new container is healthy (or the old
/// one is restored, which is an error here).
pub async fn deploy(client: &Client, target: &AgentTarget, spec: &ServiceSpec) -> Result<Observed> {
    let span = tracing::info_span!("deploy.run", provider = "local", agent = %target.url, service = %spec.service);
    let deployed = client
        .deploy(&request(target, spec), None, None)
        .instrument(span)
        .await
        .map_err(|e| agent_error(&e))?;
    Ok(Observed {
        service_id: deployed.container_name,
        url: None,
        state: State::Ready,
        provider_state: format!("deployed through the agent at {}", target.url),
    })
}

/// What the agent reports about the container it manages.
pub async fn status(client: &Client) -> Result<Observed> {
    let status = client.status().await.map_err(|e| agent_error(&e))?;
    let state = match (status.running, status.image.is_some()) {
        (true, _) => State::Ready,
        (false, true) => State::Failed,
        (false, false) => State::Missing,
    };
    Ok(Observed {
        service_id: status.container_name,
        url: None,
        state,
        provider_state: match &status.image {
            Some(image) if status.running => format!("running {image}"),
            Some(image) => format!("stopped ({image})"),
            None => "no container".into(),
        },
    })
}

/// The agent has no remove call, so tau never stops the container behind its back: `destroy`
/// only forgets a service the agent no longer runs, and otherwise says what to do.
pub async fn destroy(client: &Client, target: &AgentTarget) -> Result<()> {
    let seen = status(client).await?;
    if seen.state == State::Missing {
        return Ok(());
    }
    Err(Error::Provider {
        provider: "local",
        message: format!(
            "the Deploy Agent at {} still runs {} and its API has no remove call; remove the container on that host, then run `tau deploy destroy` again to drop the record",
            target.url, target.container_name
        ),
    })
}
