//! The rollout record of an applied case.

use crate::cycle::CaseResult;
use crate::driver::Accepted;
use crate::state::RolloutRecord;
use crate::sym::Sym;

/// The tool records targets, profiles and environments trimmed and lower-cased, ids and regions
/// trimmed; so does the rollout record, whatever spelling the fixture used.
fn normalized(text: &Sym, lower: bool) -> Sym {
    let trimmed = text.trim();
    let needs_lower = lower && trimmed.bytes().any(|b| b.is_ascii_uppercase());
    match (trimmed.len() == text.len(), needs_lower) {
        (true, false) => text.clone(),
        (_, true) => Sym::from(trimmed.to_ascii_lowercase()),
        (false, false) => Sym::from(trimmed),
    }
}

pub(super) fn rollout_record(
    result: &CaseResult<'_>,
    accepted: &Accepted,
    now: u64,
) -> RolloutRecord {
    let case = result.case;
    let artifact = &accepted.artifact;
    RolloutRecord {
        case_key: result.key.clone(),
        case_id: case.case_id.clone(),
        deploy_target: normalized(&case.deploy_target, true),
        runtime_profile: normalized(&case.runtime_profile, true),
        blueprint_id: normalized(&case.blueprint_id, false),
        environment: normalized(&case.environment, true),
        region: normalized(&case.region, false),
        artifact: artifact.reference.clone(),
        artifact_sha256: artifact.sha256.clone(),
        artifact_size_bytes: artifact.size_bytes,
        artifact_manifest: artifact.manifest.clone(),
        runtime_constraints: artifact.runtime_constraints.clone(),
        artifact_verified: artifact.verified,
        replicas: case.replicas,
        rollout_strategy: accepted.strategy,
        status_code: result.response.status_code,
        outcome: result.response.outcome,
        error_code: result.response.error_code,
        updated_unix_ms: now,
    }
}
