//! The JSON of the Deploy Agent's API, shared by the server and the typed client so the two can
//! never disagree. Field names follow the Deploy Agent seed exactly; fields beyond the seed
//! (`image_digest`, `steps`, `trace_id`, ...) are added beside them, never instead of them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The environment an agent serves and a request targets. A dev agent refuses prod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Dev,
    Prod,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Prod => "prod",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /v1/deploy` body. Unknown fields are refused; `env` values are secrets (a
/// `DATABASE_URL`), so `Debug` shows only their keys.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    pub container_name: String,
    pub image: String,
    pub environment: Environment,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Volume name → container path.
    #[serde(default)]
    pub volumes: BTreeMap<String, String>,
}

impl fmt::Debug for DeployRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeployRequest")
            .field("container_name", &self.container_name)
            .field("image", &self.image)
            .field("environment", &self.environment)
            .field("env_keys", &self.env.keys().collect::<Vec<_>>())
            .field("volumes", &self.volumes)
            .finish()
    }
}

/// One step of a swap as the agent reports it (`check_volumes`, `pull`, `create`, `stop_old`,
/// `start_new`, `settle`, `health`, `remove_old`, `rename`, `restore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: String,
    pub ok: bool,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `POST /v1/deploy` 200 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// Always `"deployed"`.
    pub status: String,
    pub container_name: String,
    /// The reference as it was requested.
    pub image: String,
    pub environment: Environment,
    /// The repository digest (`sha256:…`) of the image now running, when the engine knows it.
    #[serde(default)]
    pub image_digest: Option<String>,
    /// The image of the container this deploy replaced, if one ran.
    #[serde(default)]
    pub replaced: Option<String>,
    #[serde(default)]
    pub steps: Vec<StepReport>,
    /// Time the agent spent outside the engine's steps, in milliseconds.
    #[serde(default)]
    pub agent_overhead_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// Every 4xx/5xx body: `{status: "error", reason}` plus, for a failed swap, the step that failed
/// and whether the old container was restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `"error"`.
    pub status: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepReport>,
}

impl ErrorBody {
    pub fn new(reason: impl Into<String>) -> Self {
        ErrorBody {
            status: "error".to_string(),
            reason: reason.into(),
            step: None,
            restored: None,
            steps: Vec::new(),
        }
    }
}

/// `GET /v1/status` body. With no container under the configured name, `running` is false and
/// `image`, `started_at` and `image_digest` are null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub running: bool,
    pub container_name: String,
    /// The reference as it was requested (from the container's label).
    pub image: Option<String>,
    /// RFC 3339.
    pub started_at: Option<String>,
    pub image_digest: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_request_debug_shows_env_keys_but_never_values() {
        let request = DeployRequest {
            container_name: "dreichor-runtime".into(),
            image: "ghcr.io/o/r/runtime:v1".into(),
            environment: Environment::Dev,
            env: BTreeMap::from([("DATABASE_URL".into(), "postgres://u:hunter2@db/x".into())]),
            volumes: BTreeMap::new(),
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("DATABASE_URL"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn an_unknown_request_field_is_refused_by_name() {
        let err = serde_json::from_str::<DeployRequest>(
            r#"{"container_name":"c","image":"i:1","environment":"dev","command":"sh"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("command"), "{err}");
    }

    #[test]
    fn environments_are_lowercase_on_the_wire_and_nothing_else_parses() {
        assert_eq!(
            serde_json::to_string(&Environment::Prod).unwrap(),
            "\"prod\""
        );
        assert!(serde_json::from_str::<Environment>("\"Prod\"").is_err());
        assert!(serde_json::from_str::<Environment>("\"staging\"").is_err());
    }
}
