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

/// AWS: App Runner (existing customers only since 2026-04-30) or ECS Express Mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsTarget {
    pub region: String,
    pub health_check_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Which AWS service runs it, with that service's own settings.
    pub service: AwsService,
}

/// `aws.service`: `app-runner` (the default, so configs written before ECS Express keep their
/// meaning) or `ecs-express`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AwsService {
    AppRunner(AppRunnerTarget),
    EcsExpress(EcsExpressTarget),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppRunnerTarget {
    /// `0.25 vCPU` … `4 vCPU`.
    pub cpu: String,
    /// `0.5 GB` … `12 GB`.
    pub memory: String,
    /// The role App Runner assumes to pull from a private ECR repository.
    pub ecr_role_arn: String,
    /// The role the running service assumes; App Runner reads referenced secrets with it, so it
    /// is required when the environment has any secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_role_arn: Option<String>,
}

/// ECS Express Mode (`CreateExpressGatewayService`): ECS provisions the load balancer, target
/// group, security groups and scaling itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcsExpressTarget {
    /// CPU units as the API takes them (`256` … `16384`).
    pub cpu: String,
    /// MiB as the API takes them (`512` …).
    pub memory: String,
    /// The task execution role: pulls the image and reads referenced secrets.
    pub execution_role_arn: String,
    /// The role ECS uses to create the load balancer and the rest on the account's behalf.
    pub infrastructure_role_arn: String,
    /// The role the application itself runs as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// The cluster (the account's `default` one when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub min_tasks: u32,
    pub max_tasks: u32,
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
    /// The identity that reads Key Vault secrets named by `secret_ref`: `system` (the app's
    /// system-assigned identity) or a user-assigned identity's resource id.
    pub key_vault_identity: String,
    pub health_check_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// App Runner's accepted instance sizes.
pub(crate) const AWS_CPU: &[&str] = &["0.25 vCPU", "0.5 vCPU", "1 vCPU", "2 vCPU", "4 vCPU"];
pub(crate) const AWS_MEMORY: &[&str] = &[
    "0.5 GB", "1 GB", "2 GB", "3 GB", "4 GB", "6 GB", "8 GB", "10 GB", "12 GB",
];
/// ECS task sizes (CPU units) and the memory range in MiB.
pub(crate) const ECS_CPU: &[&str] = &["256", "512", "1024", "2048", "4096", "8192", "16384"];
/// Container Apps' consumption-plan CPU steps (memory is twice the CPU in GiB).
pub(crate) const AZURE_CPU: &[&str] = &["0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75", "2"];
