//! The per-case report of a run, from which the CLI builds JUnit and CI annotations.

use crate::cycle::{CaseResult, Disposition};
use crate::driver::{ErrorCode, Outcome};
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
    let case = result.case;
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
