//! The `target:` block: which provider runs the service, with that provider's own settings.
//! Defaults follow the seed's (and the providers' documented) defaults.

use serde::Serialize;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Local,
    Aws,
    Gcp,
    Azure,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [Self::Local, Self::Aws, Self::Gcp, Self::Azure];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum Target {
    Local(LocalTarget),
    Aws(AwsTarget),
    Gcp(GcpTarget),
    Azure(AzureTarget),
}

impl Target {
    pub fn kind(&self) -> ProviderKind {
        match self {
            Target::Local(_) => ProviderKind::Local,
            Target::Aws(_) => ProviderKind::Aws,
            Target::Gcp(_) => ProviderKind::Gcp,
            Target::Azure(_) => ProviderKind::Azure,
        }
    }

    pub fn health_check_path(&self) -> &str {
        match self {
            Target::Local(t) => &t.health_check_path,
            Target::Aws(t) => &t.health_check_path,
            Target::Gcp(t) => &t.health_check_path,
            Target::Azure(t) => &t.health_check_path,
        }
    }
}

/// This host, through the container engine (`--engine`/`DOCKER_HOST`), or through the host's
/// Deploy Agent when `agent` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalTarget {
    pub health_check_path: String,
    /// Publish the service port on 127.0.0.1:`host_port` (0 lets the engine choose).
    pub host_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentTarget>,
}

/// A Deploy Agent that runs the service: its URL, the container it manages, and the service
/// token to call it with (the secret by environment variable only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentTarget {
    pub url: String,
    pub container_name: String,
    /// `dev` or `prod`: a dev agent refuses prod.
    pub environment: String,
    pub client_id: String,
    pub secret_env: String,
}

/// AWS App Runner (existing customers only since 2026-04-30).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsTarget {
    pub region: String,
    /// `0.25 vCPU` … `4 vCPU`.
    pub cpu: String,
    /// `0.5 GB` … `12 GB`.
    pub memory: String,
    /// The role App Runner assumes to pull from a private ECR repository.
    pub ecr_role_arn: String,
    pub health_check_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// Google Cloud Run (Admin API v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcpTarget {
    pub project_id: String,
    pub region: String,
    pub memory: String,
    pub cpu: String,
    pub concurrency: u32,
    pub min_instances: u32,
    pub max_instances: u32,
    pub health_check_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// Azure Container Apps (Azure Resource Manager).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AzureTarget {
    pub subscription_id: String,
    pub resource_group: String,
    pub environment_name: String,
    pub location: String,
    pub cpu: String,
    pub memory: String,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub health_check_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// App Runner's accepted instance sizes.
pub(crate) const AWS_CPU: &[&str] = &["0.25 vCPU", "0.5 vCPU", "1 vCPU", "2 vCPU", "4 vCPU"];
pub(crate) const AWS_MEMORY: &[&str] = &[
    "0.5 GB", "1 GB", "2 GB", "3 GB", "4 GB", "6 GB", "8 GB", "10 GB", "12 GB",
];
/// Container Apps' consumption-plan CPU steps (memory is twice the CPU in GiB).
pub(crate) const AZURE_CPU: &[&str] = &["0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75", "2"];
