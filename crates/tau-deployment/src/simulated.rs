//! The simulated driver: decides each case from its request alone, by the contract's rules, as the
//! runbook's tool does. Nothing is deployed; its runs are recorded as `simulated` evidence.
//!
//! Besides the request's deployment fields it reads one instruction meant only for it,
//! `simulate_retryable_failure`, which stands in for a backend that is down. WASM artifacts are
//! really read and verified (see [`crate::artifacts`]): a case whose module or manifest is missing
//! or broken is refused with `deployment_missing_artifact`.

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::artifacts::{self, Verifier};
use crate::contract::{self, ErrorCode, Outcome, Profile, Strategy, Target};
use crate::driver::{Accepted, Artifact, Body, Driver, DriverError, Response};
use crate::request::Request;
use crate::sym::Sym;

/// The simulated driver.
#[derive(Debug, Default)]
pub struct ContractEvaluator {
    artifacts: Verifier,
    /// Normalized spellings, shared so an accepted body costs no allocation per case.
    spellings: FxHashMap<&'static str, Sym>,
}

impl ContractEvaluator {
    /// Artifacts named by cases are resolved under `fixture_dir` with `options`.
    pub fn new(fixture_dir: &Path, options: artifacts::Options) -> Self {
        ContractEvaluator {
            artifacts: Verifier::new(fixture_dir, options),
            spellings: FxHashMap::default(),
        }
    }

    fn spelling(&mut self, text: &'static str) -> Sym {
        self.spellings
            .entry(text)
            .or_insert_with(|| Sym::immortal(text))
            .clone()
    }
}

impl Driver for ContractEvaluator {
    fn kind(&self) -> crate::evidence::DriverKind {
        crate::evidence::DriverKind::Simulated
    }

    fn deploy(&mut self, request: &Request, attempt: u32) -> Result<Response, DriverError> {
        let decision = match decide(request, attempt) {
            Ok(decision) => decision,
            Err(refusal) => return Ok(refusal),
        };
        let artifact = match decision.target {
            Target::Wasm => match self.artifacts.verify(
                request.wasm_manifest.as_ref(),
                request.wasm_module.as_ref(),
                decision.profile,
            ) {
                Ok(artifact) => artifact,
                Err(refusal) => return Ok(refusal),
            },
            _ => Artifact {
                reference: decision.reference.clone(),
                ..Artifact::default()
            },
        };
        let accepted = Accepted {
            blueprint_id: trimmed(&request.blueprint_id),
            deploy_target: self.spelling(decision.target.as_str()),
            runtime_profile: self.spelling(decision.profile.as_str()),
            environment: self.spelling(decision.environment),
            region: trimmed(&request.region),
            artifact,
            replicas: request.replicas,
            strategy: Strategy::for_target(decision.target),
        };
        Ok(Response {
            outcome: Outcome::Success,
            status_code: if decision.target == Target::Wasm {
                201
            } else {
                202
            },
            error_code: None,
            body: Body::Accepted(Box::new(accepted)),
        })
    }
}

fn trimmed(text: &Sym) -> Sym {
    if text.trim().len() == text.len() {
        text.clone()
    } else {
        Sym::new(text.trim())
    }
}

/// What the contract's rules settle before any artifact is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'r> {
    pub target: Target,
    pub profile: Profile,
    pub environment: &'static str,
    /// The container image or WASM reference the request named.
    pub reference: &'r Sym,
}

/// The contract: the first rule a request breaks decides its refusal.
pub fn decide(request: &Request, attempt: u32) -> Result<Decision<'_>, Response> {
    if request.simulate_retryable_failure.fails(attempt) {
        return Err(Response::refusal(
            Outcome::RetryableFailure,
            503,
            ErrorCode::BackendUnavailable,
            "retryable",
            "control_plane_unavailable",
        ));
    }
    let invalid = |reason| Response::rejected(400, ErrorCode::InvalidBlueprint, reason);
    let target =
        Target::parse(&request.deploy_target).ok_or_else(|| invalid("unsupported_target"))?;
    let profile = Profile::parse(&request.runtime_profile)
        .ok_or_else(|| invalid("unsupported_runtime_profile"))?;
    let environment = contract::environment(&request.environment)
        .ok_or_else(|| invalid("unsupported_environment"))?;
    let pair_ok = matches!(
        (target, profile),
        (Target::Container | Target::Kubernetes, Profile::Native)
            | (
                Target::Wasm,
                Profile::WasmWasi | Profile::ChannelAutomationWasi
            )
    );
    if !pair_ok {
        return Err(Response::rejected(
            422,
            ErrorCode::UnsupportedRuntime,
            "runtime_target_mismatch",
        ));
    }
    // Validation refuses empty blueprints and regions and zero replicas, so the tool's
    // `missing_blueprint_id`, `missing_region` and `invalid_replica_count` cannot arise here.
    let reference = match target {
        Target::Wasm => request
            .wasm_manifest
            .as_ref()
            .or(request.wasm_module.as_ref()),
        _ => request.container_image.as_ref(),
    };
    let Some(reference) = reference else {
        let reason = match target {
            Target::Wasm => "missing_wasm_module",
            _ => "missing_container_image",
        };
        return Err(Response::rejected(400, ErrorCode::MissingArtifact, reason));
    };
    Ok(Decision {
        target,
        profile,
        environment,
        reference,
    })
}

#[cfg(test)]
#[path = "simulated_tests.rs"]
mod tests;
