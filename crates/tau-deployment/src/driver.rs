//! The seam that decides a case's result.
//!
//! The queue, retries and state code only ever see a [`Driver`]. Today the [`ContractEvaluator`]
//! decides results from the fixture alone; a real deployment backend replaces it later without the
//! rest of the runner noticing.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use std::path::Path;

use crate::artifacts::Verifier;
use crate::fixture::Case;
use crate::sym::Sym;

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

/// Where a deployed artifact came from and what it is, as far as the driver verified it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Artifact {
    /// The image reference, module path or manifest path the case named.
    pub reference: Sym,
    pub sha256: Option<Sym>,
    pub size_bytes: Option<u64>,
    pub manifest: Option<Sym>,
    pub runtime_constraints: Option<std::sync::Arc<Value>>,
    /// `Some(false)` when the driver could not find the artifact and was allowed to go on.
    pub verified: Option<bool>,
}

/// What an accepted deployment rolled out; also the accepted response body.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub blueprint_id: Sym,
    pub deploy_target: Sym,
    pub runtime_profile: Sym,
    pub environment: Sym,
    pub region: Sym,
    pub artifact: Artifact,
    pub replicas: u16,
    pub strategy: Strategy,
}

/// A response body. Typed for the shapes the contract produces so a large run does not build a
/// JSON map per case; [`Body::Json`] carries whatever else a backend returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Accepted(Box<Accepted>),
    /// `{status, reason}`: `rejected` for refusals, `retryable` for transient failures.
    Refused {
        status: &'static str,
        reason: Cow<'static, str>,
    },
    Json(Map<String, Value>),
}

impl Body {
    /// The value of one top-level key, as JSON.
    pub fn get(&self, key: &str) -> Option<Value> {
        match self {
            Body::Accepted(a) => {
                let text = |s: &str| Some(Value::String(s.to_string()));
                match key {
                    "status" => text("accepted"),
                    "blueprint_id" => text(&a.blueprint_id),
                    "deploy_target" => text(&a.deploy_target),
                    "runtime_profile" => text(&a.runtime_profile),
                    "environment" => text(&a.environment),
                    "region" => text(&a.region),
                    "artifact" => text(&a.artifact.reference),
                    "replicas" => Some(a.replicas.into()),
                    "rollout_strategy" => text(a.strategy.as_str()),
                    "artifact_sha256" => a.artifact.sha256.as_deref().and_then(text),
                    "artifact_size_bytes" => a.artifact.size_bytes.map(Value::from),
                    "artifact_manifest" => a.artifact.manifest.as_deref().and_then(text),
                    "artifact_verified" => a.artifact.verified.map(Value::from),
                    _ => None,
                }
            }
            Body::Refused { status, reason } => match key {
                "status" => Some(Value::String(status.to_string())),
                "reason" => Some(Value::String(reason.to_string())),
                _ => None,
            },
            Body::Json(map) => map.get(key).cloned(),
        }
    }

    /// The `reason` of a refusal, if the body has one.
    pub fn reason(&self) -> Option<String> {
        match self.get("reason") {
            Some(Value::String(reason)) => Some(reason),
            _ => None,
        }
    }
}

/// The driver's answer for one attempt of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub outcome: Outcome,
    pub status_code: u16,
    pub error_code: Option<ErrorCode>,
    pub body: Body,
}

impl Response {
    /// What was rolled out, when the deployment was accepted.
    pub fn accepted(&self) -> Option<&Accepted> {
        match (&self.outcome, &self.body) {
            (Outcome::Success, Body::Accepted(a)) => Some(a),
            _ => None,
        }
    }
}

/// Decides the result of one attempt of one case.
pub trait Driver {
    /// `attempt` starts at 1 for each case in each run.
    fn deploy(&mut self, case: &Case, attempt: u32) -> Response;

    /// Which kind of evidence this driver's outcomes are; recorded with every run.
    fn kind(&self) -> crate::evidence::DriverKind;
}

/// Decides results from the fixture's own fields, in the contract's fixed order, and verifies
/// the WASM artifacts of accepted wasm cases.
#[derive(Debug, Default)]
pub struct ContractEvaluator {
    artifacts: Verifier,
}

impl ContractEvaluator {
    /// Artifacts named by cases are resolved under `fixture_dir`; see [`Verifier::new`].
    pub fn new(fixture_dir: &Path, require_artifacts: bool) -> Self {
        ContractEvaluator {
            artifacts: Verifier::new(fixture_dir, require_artifacts),
        }
    }
}

impl Driver for ContractEvaluator {
    fn kind(&self) -> crate::evidence::DriverKind {
        crate::evidence::DriverKind::Simulated
    }

    fn deploy(&mut self, case: &Case, attempt: u32) -> Response {
        let mut response = evaluate(case, attempt);
        if let Body::Accepted(accepted) = &mut response.body {
            if let (Some(Target::Wasm), Some(profile)) = (
                Target::parse(&case.deploy_target),
                Profile::parse(&case.runtime_profile),
            ) {
                match self.artifacts.verify(case, profile) {
                    Ok(artifact) => accepted.artifact = artifact,
                    Err(rejection) => return rejection,
                }
            }
        }
        response
    }
}

/// The contract: the first rule a case breaks decides its rejection.
pub fn evaluate(case: &Case, attempt: u32) -> Response {
    if case.simulate_retryable_failure.fails(attempt) {
        return refusal(
            Outcome::RetryableFailure,
            503,
            ErrorCode::BackendUnavailable,
            "retryable",
            "control_plane_unavailable",
        );
    }
    let Some(target) = Target::parse(&case.deploy_target) else {
        return rejected(400, ErrorCode::InvalidBlueprint, "unsupported_target");
    };
    let Some(profile) = Profile::parse(&case.runtime_profile) else {
        return rejected(
            400,
            ErrorCode::InvalidBlueprint,
            "unsupported_runtime_profile",
        );
    };
    let environment = case.environment.trim();
    if !environment.eq_ignore_ascii_case("staging")
        && !environment.eq_ignore_ascii_case("production")
    {
        return rejected(400, ErrorCode::InvalidBlueprint, "unsupported_environment");
    }
    let pair_ok = matches!(
        (target, profile),
        (Target::Container | Target::Kubernetes, Profile::Native)
            | (
                Target::Wasm,
                Profile::WasmWasi | Profile::ChannelAutomationWasi
            )
    );
    if !pair_ok {
        return rejected(
            422,
            ErrorCode::UnsupportedRuntime,
            "runtime_target_mismatch",
        );
    }
    let reference = match target {
        Target::Wasm => case.wasm_manifest.as_ref().or(case.wasm_module.as_ref()),
        _ => case.container_image.as_ref(),
    };
    let Some(reference) = reference else {
        let reason = match target {
            Target::Wasm => "missing_wasm_module",
            _ => "missing_container_image",
        };
        return rejected(400, ErrorCode::MissingArtifact, reason);
    };
    let artifact = Artifact {
        reference: reference.clone(),
        manifest: case
            .wasm_manifest
            .clone()
            .filter(|_| target == Target::Wasm),
        ..Artifact::default()
    };
    accepted(case, target, artifact)
}

/// The success response for an accepted case whose artifact is settled.
pub fn accepted(case: &Case, target: Target, artifact: Artifact) -> Response {
    Response {
        outcome: Outcome::Success,
        status_code: if target == Target::Wasm { 201 } else { 202 },
        error_code: None,
        body: Body::Accepted(Box::new(Accepted {
            blueprint_id: case.blueprint_id.clone(),
            deploy_target: case.deploy_target.clone(),
            runtime_profile: case.runtime_profile.clone(),
            environment: case.environment.clone(),
            region: case.region.clone(),
            artifact,
            replicas: case.replicas,
            strategy: Strategy::for_target(target),
        })),
    }
}

/// A deterministic refusal: the fixture itself is wrong for this deployment.
pub fn rejected(status_code: u16, code: ErrorCode, reason: &'static str) -> Response {
    refusal(
        Outcome::MalformedInput,
        status_code,
        code,
        "rejected",
        reason,
    )
}

fn refusal(
    outcome: Outcome,
    status_code: u16,
    code: ErrorCode,
    status: &'static str,
    reason: &'static str,
) -> Response {
    Response {
        outcome,
        status_code,
        error_code: Some(code),
        body: Body::Refused {
            status,
            reason: Cow::Borrowed(reason),
        },
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
