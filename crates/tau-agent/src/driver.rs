//! The `deploy-agent` driver: the contract runner's cases deployed for real through a running
//! Deploy Agent, so the gate's evidence is live (`driver: deploy-agent` in `tau status`).
//!
//! A case first passes the contract's own rules (`tau_deployment::simulated::decide`: target,
//! profile, environment, artifact present, the fixture's simulated backend failures); a case the
//! contract refuses never reaches the agent. A container case the contract accepts becomes
//! `POST /v1/deploy` with the case's `container_image`, the agent's own container name (read from
//! `GET /v1/status` once), and the environment mapped `staging` → `dev`, `production` → `prod`.
//! The agent's answer decides the outcome: 200 is accepted (202, as the contract answers
//! container deploys, with the image digest the agent verified), a 4xx a `rejected` refusal, a 5xx
//! a `retryable` one, each with the agent's reason. Other targets (WASM, Kubernetes) are not
//! something an agent deploys: they stop the run with a driver error instead of being simulated
//! under a live label.

use std::borrow::Cow;
use std::io::Read;

use tau_deployment::contract::{ErrorCode, Outcome, Strategy, Target};
use tau_deployment::driver::{Accepted, Artifact, Body, Driver, DriverError, Response};
use tau_deployment::evidence::DriverKind;
use tau_deployment::request::Request;
use tau_deployment::simulated;
use tau_deployment::sym::Sym;

use crate::client::{Client, ClientError};
use crate::wire::{DeployRequest, Environment};

/// Replays container cases against the agent behind `client`.
#[derive(Debug)]
pub struct AgentDriver {
    client: Client,
    runtime: tokio::runtime::Runtime,
    container_name: String,
    /// Makes each run's idempotency keys its own, so a re-run deploys again instead of
    /// replaying an earlier run's answers.
    run_nonce: String,
}

impl AgentDriver {
    /// Connects to the agent and reads the container name it manages.
    pub fn connect(client: Client) -> Result<AgentDriver, DriverError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DriverError::new(format!("deploy-agent driver: async runtime: {e}")))?;
        let status = runtime.block_on(client.status()).map_err(|e| {
            DriverError::new(format!(
                "deploy-agent driver: GET {}/v1/status failed: {e}",
                client.base_url()
            ))
        })?;
        let mut nonce = [0u8; 8];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut nonce))
            .map_err(|e| DriverError::new(format!("deploy-agent driver: /dev/urandom: {e}")))?;
        Ok(AgentDriver {
            client,
            runtime,
            container_name: status.container_name,
            run_nonce: nonce.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

/// The agent environment a contract environment is deployed to.
pub fn agent_environment(contract_environment: &str) -> Option<Environment> {
    match contract_environment {
        "staging" => Some(Environment::Dev),
        "production" => Some(Environment::Prod),
        _ => None,
    }
}

impl Driver for AgentDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::DeployAgent
    }

    fn deploy(&mut self, request: &Request, attempt: u32) -> Result<Response, DriverError> {
        let decision = match simulated::decide(request, attempt) {
            Ok(decision) => decision,
            Err(refusal) => return Ok(refusal),
        };
        if decision.target != Target::Container {
            return Err(DriverError::new(format!(
                "case {}: the deploy-agent driver deploys container cases only; this case's target is {}",
                request.case_id.as_str(),
                decision.target.as_str()
            )));
        }
        let Some(environment) = agent_environment(decision.environment) else {
            return Err(DriverError::new(format!(
                "case {}: environment {} has no Deploy Agent environment (staging → dev, production → prod)",
                request.case_id.as_str(),
                decision.environment
            )));
        };
        let image = decision.reference.trim().to_string();
        let deploy = DeployRequest {
            container_name: self.container_name.clone(),
            image: image.clone(),
            environment,
            env: Default::default(),
            volumes: Default::default(),
        };
        let key = format!(
            "tau-run-{}-{}-{attempt}",
            self.run_nonce,
            request.case_id.as_str()
        );
        let answer = self
            .runtime
            .block_on(self.client.deploy(&deploy, None, Some(&key)));
        match answer {
            Ok(deployed) => {
                let accepted = Accepted {
                    blueprint_id: Sym::new(request.blueprint_id.trim()),
                    deploy_target: Sym::new(Target::Container.as_str()),
                    runtime_profile: Sym::new(decision.profile.as_str()),
                    environment: Sym::new(decision.environment),
                    region: Sym::new(request.region.trim()),
                    artifact: Artifact {
                        reference: Sym::new(&image),
                        sha256: deployed
                            .image_digest
                            .as_deref()
                            .map(|d| Sym::new(d.trim_start_matches("sha256:"))),
                        verified: Some(deployed.image_digest.is_some()),
                        ..Artifact::default()
                    },
                    replicas: request.replicas,
                    strategy: Strategy::for_target(Target::Container),
                };
                Ok(Response {
                    outcome: Outcome::Success,
                    status_code: 202,
                    error_code: None,
                    body: Body::Accepted(Box::new(accepted)),
                })
            }
            Err(ClientError::Agent {
                status,
                reason,
                step,
                ..
            }) if status != 401 && status != 403 => {
                let (outcome, code, label) = if status >= 500 {
                    (
                        Outcome::RetryableFailure,
                        ErrorCode::BackendUnavailable,
                        "retryable",
                    )
                } else if step.as_deref() == Some("pull") {
                    (
                        Outcome::MalformedInput,
                        ErrorCode::MissingArtifact,
                        "rejected",
                    )
                } else {
                    (
                        Outcome::MalformedInput,
                        ErrorCode::InvalidBlueprint,
                        "rejected",
                    )
                };
                Ok(Response {
                    outcome,
                    status_code: status,
                    error_code: Some(code),
                    body: Body::Refused {
                        status: label,
                        reason: Cow::Owned(reason),
                    },
                })
            }
            Err(e) => Err(DriverError::new(format!(
                "case {}: deploy-agent at {}: {e}",
                request.case_id.as_str(),
                self.client.base_url()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_environments_map_to_agent_environments() {
        assert_eq!(agent_environment("staging"), Some(Environment::Dev));
        assert_eq!(agent_environment("production"), Some(Environment::Prod));
        assert_eq!(agent_environment("dev"), None);
    }

    #[test]
    fn an_unreachable_agent_is_a_driver_error_not_a_refused_case() {
        let client = Client::new("http://127.0.0.1:1", "id", "secret").unwrap();
        let err = AgentDriver::connect(client).unwrap_err();
        assert!(err.message.contains("/v1/status"), "{}", err.message);
    }
}
