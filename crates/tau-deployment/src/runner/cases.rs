//! The per-case report of a run, from which the CLI builds JUnit and CI annotations.

use crate::cycle::{case_key, CaseResult, Disposition};
use crate::driver::{ErrorCode, Outcome};
use crate::events::ReasonCode;
use crate::fixture::Case;
use crate::sym::Sym;

/// One case this run evaluated, for CI reports (JUnit, annotations).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseReport {
    pub case_id: Sym,
    pub blueprint_id: Sym,
    pub deploy_target: Sym,
    pub runtime_profile: Sym,
    /// The contract held: the response matched the fixture's expectation (an expected rejection
    /// or an expected retryable failure passes).
    pub passed: bool,
    /// `applied`, `rejected`, `retries_exhausted` or `contract_expectation_mismatch`.
    pub disposition: &'static str,
    pub outcome: Outcome,
    pub status_code: u16,
    pub error_code: Option<ErrorCode>,
    pub attempts: u32,
    /// For a case that broke its contract or is still failing: what happened, naming the case
    /// and its blueprint.
    pub message: Option<String>,
}

pub(super) fn case_report(result: &CaseResult<'_>) -> CaseReport {
    let case = &*result.case;
    let response = &result.response;
    let message = match &result.disposition {
        Disposition::ContractMismatch(diffs) => Some(format!(
            "case {} (blueprint {}) broke its contract: {}",
            case.case_id,
            case.blueprint_id,
            diffs.join("; ")
        )),
        Disposition::RetriesExhausted => Some(format!(
            "case {} (blueprint {}) still failing after {} attempt(s) with status {} {}",
            case.case_id,
            case.blueprint_id,
            result.attempts,
            response.status_code,
            response.error_code.map_or("", ErrorCode::as_str)
        )),
        Disposition::Applied | Disposition::Rejected => None,
    };
    CaseReport {
        case_id: case.case_id.clone(),
        blueprint_id: case.blueprint_id.clone(),
        deploy_target: case.deploy_target.clone(),
        runtime_profile: case.runtime_profile.clone(),
        passed: !matches!(result.disposition, Disposition::ContractMismatch(_)),
        disposition: result.disposition.as_str(),
        outcome: response.outcome,
        status_code: response.status_code,
        error_code: response.error_code,
        attempts: result.attempts,
        message,
    }
}

/// A fixture case this run did not evaluate, for the CI reports: one testcase per fixture case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SkippedCase {
    pub case_id: Sym,
    pub blueprint_id: Sym,
    pub deploy_target: Sym,
    pub runtime_profile: Sym,
    /// `duplicate_cases_skipped` (applied by an earlier run) or `queue_backpressure_applied`
    /// (beyond the queue limit; it comes in a later run).
    pub reason: ReasonCode,
}

/// The cases of `all` that are not in `queued` (by case id, unique within a fixture), each with
/// why it was skipped.
pub(super) fn skipped_cases<'c>(
    all: &[Case],
    queued: impl Iterator<Item = &'c Case>,
    is_processed: impl Fn(&str) -> bool,
) -> Vec<SkippedCase> {
    let queued: rustc_hash::FxHashSet<&str> = queued.map(|c| &*c.case_id).collect();
    all.iter()
        .filter(|c| !queued.contains(&*c.case_id))
        .map(|c| SkippedCase {
            case_id: c.case_id.clone(),
            blueprint_id: c.blueprint_id.clone(),
            deploy_target: c.deploy_target.clone(),
            runtime_profile: c.runtime_profile.clone(),
            reason: if is_processed(&case_key(c)) {
                ReasonCode::DuplicateCasesSkipped
            } else {
                ReasonCode::QueueBackpressureApplied
            },
        })
        .collect()
}
