//! The `deployment:` section of `tau.yaml`: what to build, where to push it and where to run it.
//!
//! Parsing walks the YAML tree by hand instead of deriving `Deserialize`, because serde stops at
//! the first bad field and a user fixing a config wants every problem at once (file, field,
//! expected). Values are checked against what each provider's API accepts, so a typo fails here
//! rather than half-way through a deploy.

mod aws;
mod fields;
mod parse;
mod provider;
mod rules;
pub mod secret_ref;
mod target;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use provider::{
    AgentTarget, AppRunnerTarget, AwsService, AwsTarget, AzureTarget, EcsExpressTarget, GcpTarget,
    LocalTarget, ProviderKind, Target,
};

use crate::{Error, Result};

/// One thing wrong with a config: the dotted field path, what was expected, and what was found
/// (never the value of a field that may hold a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: String,
    pub expected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: expected {}", self.field, self.expected)?;
        if let Some(found) = &self.found {
            write!(f, ", found {found}")?;
        }
        Ok(())
    }
}

/// A validated deployment config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentConfig {
    /// The config file, so relative paths and messages can name it.
    pub file: PathBuf,
    /// Service name on every provider (a DNS label all of them accept).
    pub service: String,
    pub registry: RegistryConfig,
    pub target: Target,
    pub port: u16,
    pub environment: BTreeMap<String, EnvValue>,
    pub build: BuildConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryConfig {
    /// Registry host, with an optional port and no scheme (`ghcr.io`, `127.0.0.1:5000`).
    pub url: String,
    pub repository: String,
    pub tag_strategy: TagStrategy,
    /// The tag itself with `custom`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_tag: Option<String>,
    /// The release version with `semver` (`1.4.0` gives the tag `v1.4.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `PREFIX_USERNAME` and `PREFIX_PASSWORD` hold the registry login; absent means anonymous.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_env_prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagStrategy {
    Semver,
    GitSha,
    Timestamp,
    Custom,
}

/// An environment variable of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvValue {
    Plain(String),
    /// A variable of the deploying process, read at deploy time and never printed or stored by
    /// tau. On aws and gcp it is first written to the provider's secret manager and the service
    /// refers to it there; on azure it goes into the app's secret store.
    SecretEnv(String),
    /// A secret already in the provider's secret manager; only this reference is sent (checked
    /// per provider by [`secret_ref`]).
    SecretRef(String),
}

impl EnvValue {
    /// Whether the value is a secret (by variable or by reference).
    pub fn is_secret(&self) -> bool {
        !matches!(self, EnvValue::Plain(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildConfig {
    /// The build context directory (relative paths are against the config file's directory).
    pub context: PathBuf,
    pub source: BuildSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildSource {
    /// tau writes the Dockerfile from these.
    Generated {
        base_image: String,
        command: Vec<String>,
    },
    /// An existing Dockerfile, relative to the context.
    Dockerfile(PathBuf),
}

impl DeploymentConfig {
    /// Reads and validates `path`; every problem is reported in one error.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Validates `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        parse::parse(path, text).map_err(|problems| Error::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }

    /// The health check path of the target (also baked into the generated Dockerfile).
    pub fn health_check_path(&self) -> &str {
        self.target.health_check_path()
    }

    /// The build context as a path usable from the current directory.
    pub fn context_dir(&self) -> PathBuf {
        let base = self.file.parent().unwrap_or(Path::new(""));
        base.join(&self.build.context)
    }
}

#[cfg(test)]
mod tests;
