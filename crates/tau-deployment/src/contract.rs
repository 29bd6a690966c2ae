//! The contract's vocabulary: outcomes, error codes, targets, profiles and rollout strategies.
//!
//! Fixtures, drivers and state all speak it, so it depends on nothing else in the crate; that is
//! what lets `fixture`, `driver` and `artifacts` point one way instead of in a cycle.

use serde::{Deserialize, Serialize};

/// The class of a case's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    MalformedInput,
    RetryableFailure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::MalformedInput => "malformed_input",
            Outcome::RetryableFailure => "retryable_failure",
        }
    }
}

/// Why a deployment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ErrorCode {
    #[serde(rename = "deployment_invalid_blueprint")]
    InvalidBlueprint,
    #[serde(rename = "deployment_unsupported_runtime")]
    UnsupportedRuntime,
    #[serde(rename = "deployment_missing_artifact")]
    MissingArtifact,
    #[serde(rename = "deployment_backend_unavailable")]
    BackendUnavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 4] = [
        ErrorCode::InvalidBlueprint,
        ErrorCode::UnsupportedRuntime,
        ErrorCode::MissingArtifact,
        ErrorCode::BackendUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidBlueprint => "deployment_invalid_blueprint",
            ErrorCode::UnsupportedRuntime => "deployment_unsupported_runtime",
            ErrorCode::MissingArtifact => "deployment_missing_artifact",
            ErrorCode::BackendUnavailable => "deployment_backend_unavailable",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }
}

/// Deployment targets the contract knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Container,
    Kubernetes,
    Wasm,
}

impl Target {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        [Target::Container, Target::Kubernetes, Target::Wasm]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Container => "container",
            Target::Kubernetes => "kubernetes",
            Target::Wasm => "wasm",
        }
    }

    /// Cloud targets run container images; the rest run WASM.
    pub fn is_cloud(self) -> bool {
        !matches!(self, Target::Wasm)
    }
}

/// Runtime profiles the contract knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Native,
    WasmWasi,
    ChannelAutomationWasi,
}

impl Profile {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        [
            Profile::Native,
            Profile::WasmWasi,
            Profile::ChannelAutomationWasi,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(text))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Native => "native",
            Profile::WasmWasi => "wasm_wasi",
            Profile::ChannelAutomationWasi => "channel_automation_wasi",
        }
    }
}

/// How a target replaces running instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Canary,
    Rolling,
    Recreate,
}

impl Strategy {
    pub fn for_target(target: Target) -> Self {
        match target {
            Target::Wasm => Strategy::Canary,
            Target::Kubernetes => Strategy::Rolling,
            Target::Container => Strategy::Recreate,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Canary => "canary",
            Strategy::Rolling => "rolling",
            Strategy::Recreate => "recreate",
        }
    }
}

/// The environment as the contract compares and echoes it: trimmed and lower-cased, as the
/// runbook's tool does, or `None` when it is not one the contract deploys to.
pub fn environment(text: &str) -> Option<&'static str> {
    let text = text.trim();
    ["staging", "production"]
        .into_iter()
        .find(|e| e.eq_ignore_ascii_case(text))
}
