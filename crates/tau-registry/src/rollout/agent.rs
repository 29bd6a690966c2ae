//! The real [`Deployer`]: the Deploy Agent's typed client (`tau_agent::client`).

use tau_agent::client::Client;

use tau_agent::client::ClientError;

use super::{DeployError, DeployRequest, Deployer, Observed};

/// Deploys through a Deploy Agent.
pub struct AgentDeployer {
    client: Client,
}

impl AgentDeployer {
    /// `base_url` is the agent's (`https://…`, or `http://127.0.0.1:PORT`); the service token
    /// comes from the caller (the CLI reads `CF_ACCESS_CLIENT_ID`/`CF_ACCESS_CLIENT_SECRET`).
    pub fn new(base_url: &str, client_id: &str, secret: &str) -> crate::Result<AgentDeployer> {
        let client = Client::new(base_url, client_id, secret)
            .map_err(|e| crate::Error::Deploy(e.to_string()))?;
        Ok(AgentDeployer { client })
    }
}

impl Deployer for AgentDeployer {
    async fn deploy(
        &self,
        request: &DeployRequest,
        traceparent: &str,
        idempotency_key: &str,
    ) -> Result<(), DeployError> {
        match self
            .client
            .deploy(request, Some(traceparent), Some(idempotency_key))
            .await
        {
            Ok(_) => Ok(()),
            Err(e @ ClientError::Unreachable { .. }) => Err(DeployError::Unreached(e.to_string())),
            Err(e) => Err(DeployError::Failed(e.to_string())),
        }
    }

    async fn status(&self) -> Result<Observed, String> {
        let s = self.client.status().await.map_err(|e| e.to_string())?;
        Ok(Observed {
            running: s.running,
            image: s.image,
        })
    }
}
