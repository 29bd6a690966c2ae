//! The seed's four tables, one struct each with the same columns (serde names = column names),
//! plus the deploy settings a catalog entry carries for its rollouts and manifests.
//!
//! Ids are UUIDs in their canonical text form; times are RFC 3339 UTC to the second
//! ([`crate::time`]). The deploy settings live beside the seed's tables (`agent_deploy_specs`)
//! rather than as extra columns, so the four tables stay exactly the seed's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `registry_accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryAccount {
    pub id: String,
    pub provider: Provider,
    pub registry_url: String,
    pub namespace: String,
    pub credential_ref: Option<String>,
    pub read_only: bool,
    pub description: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Ghcr,
    Dockerhub,
    Ecr,
    Gcr,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Ghcr => "ghcr",
            Provider::Dockerhub => "dockerhub",
            Provider::Ecr => "ecr",
            Provider::Gcr => "gcr",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        [
            Provider::Ghcr,
            Provider::Dockerhub,
            Provider::Ecr,
            Provider::Gcr,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// `agent_catalog`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCatalog {
    pub id: String,
    pub agent_name: String,
    pub service: String,
    pub role: String,
    pub repo: String,
    pub default_tag: Option<String>,
    pub pinned_tag: Option<String>,
    pub registry_account_id: Option<String>,
    pub autodeploy_enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `image_tag_history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageTagHistory {
    pub id: String,
    pub agent_id: String,
    pub tag: String,
    pub digest: Option<String>,
    pub built_by: Option<String>,
    pub built_at: Option<String>,
    pub changelog_url: Option<String>,
    pub rollout_status: RolloutStatus,
    pub trace_id: String,
}

/// `image_tag_history.rollout_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStatus {
    Staged,
    Active,
    RolledBack,
    Failed,
}

impl RolloutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutStatus::Staged => "staged",
            RolloutStatus::Active => "active",
            RolloutStatus::RolledBack => "rolled_back",
            RolloutStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutStatus> {
        [Self::Staged, Self::Active, Self::RolledBack, Self::Failed]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// A tag that failed or was rolled back is never picked again without `--force`.
    pub fn is_bad(self) -> bool {
        matches!(self, RolloutStatus::Failed | RolloutStatus::RolledBack)
    }
}

/// `k8s_pull_secret_links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sPullSecretLink {
    pub id: String,
    pub registry_account_id: String,
    pub kube_namespace: String,
    pub secret_name: String,
    pub last_synced_at: Option<String>,
    pub managed_by: ManagedBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManagedBy {
    Manual,
    Controller,
}

impl ManagedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ManagedBy::Manual => "manual",
            ManagedBy::Controller => "controller",
        }
    }

    pub fn parse(s: &str) -> Option<ManagedBy> {
        [ManagedBy::Manual, ManagedBy::Controller]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// How a catalog entry is deployed: routing-key shard/tenant, env, volumes and the Kubernetes
/// Secret that holds its secret env values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySpec {
    #[serde(default)]
    pub shard: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    #[serde(default)]
    pub volumes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_secret: Option<String>,
}

/// An env value: a plain string (stored), or the name of a variable read at deploy time
/// (only the name is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvValue {
    Plain(String),
    Secret(SecretEnv),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretEnv {
    pub secret_env: String,
}

/// A catalog entry with everything a rollout or a manifest needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentEntry {
    pub catalog: AgentCatalog,
    pub deploy: DeploySpec,
    pub account: Option<RegistryAccount>,
    pub pull_secret_links: Vec<K8sPullSecretLink>,
}
