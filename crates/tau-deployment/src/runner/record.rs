//! The rollout record of an applied case.

use crate::cycle::CaseResult;
use crate::driver::Accepted;
use crate::state::RolloutRecord;

pub(super) fn rollout_record(
    result: &CaseResult<'_>,
    accepted: &Accepted,
    now: u64,
) -> RolloutRecord {
    let case = &*result.case;
    let artifact = &accepted.artifact;
    RolloutRecord {
        case_key: result.key.clone(),
        case_id: case.case_id.clone(),
        // The driver's answer holds the normalized spellings the tool records.
        deploy_target: accepted.deploy_target.clone(),
        runtime_profile: accepted.runtime_profile.clone(),
        blueprint_id: accepted.blueprint_id.clone(),
        environment: accepted.environment.clone(),
        region: accepted.region.clone(),
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
