//! One line per case a run evaluated, for the CI reports, built from the runner's own per-case
//! report ([`runner::CaseReport`]) so the reports judge exactly as the runner did.

use tau_deployment::runner::{CaseReport, SkippedCase};

/// What one evaluated case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLine {
    pub case_id: String,
    pub blueprint_id: String,
    pub deploy_target: String,
    pub runtime_profile: String,
    /// The contract held: applied, or refused, as the fixture expected.
    pub passed: bool,
    /// `applied`, `rejected`, `retries_exhausted` or `contract_expectation_mismatch`.
    pub disposition: String,
    pub outcome: String,
    pub status_code: u16,
    /// The response's error code: the reason code a failure is reported under.
    pub error_code: Option<String>,
    pub attempts: u32,
    /// What went wrong, naming the case and its blueprint (empty when passed).
    pub differences: Vec<String>,
    /// Why the run did not evaluate this fixture case (`duplicate_cases_skipped`,
    /// `queue_backpressure_applied`); `None` for an evaluated case.
    pub skipped: Option<String>,
}

impl From<&CaseReport> for CaseLine {
    fn from(c: &CaseReport) -> Self {
        CaseLine {
            case_id: c.case_id.to_string(),
            blueprint_id: c.blueprint_id.to_string(),
            deploy_target: c.deploy_target.to_string(),
            runtime_profile: c.runtime_profile.to_string(),
            passed: c.passed,
            disposition: c.disposition.to_string(),
            outcome: c.outcome.as_str().to_string(),
            status_code: c.status_code,
            error_code: c.error_code.map(|code| code.as_str().to_string()),
            attempts: c.attempts,
            differences: c.message.iter().cloned().collect(),
            skipped: None,
        }
    }
}

impl From<&SkippedCase> for CaseLine {
    fn from(c: &SkippedCase) -> Self {
        CaseLine {
            case_id: c.case_id.to_string(),
            blueprint_id: c.blueprint_id.to_string(),
            deploy_target: c.deploy_target.to_string(),
            runtime_profile: c.runtime_profile.to_string(),
            passed: true,
            disposition: "skipped".to_string(),
            outcome: String::new(),
            status_code: 0,
            error_code: None,
            attempts: 0,
            differences: Vec::new(),
            skipped: Some(c.reason.as_str().to_string()),
        }
    }
}

impl CaseLine {
    /// The reason code a failure is reported under: the error code, else the disposition.
    pub fn reason_code(&self) -> &str {
        self.error_code.as_deref().unwrap_or(&self.disposition)
    }

    /// The disposition, the reason code and what broke the expectation, on one line.
    pub fn failure_message(&self) -> String {
        let mut parts = vec![self.disposition.clone()];
        if let Some(code) = &self.error_code {
            parts.push(format!("error_code={code}"));
        }
        parts.push(format!(
            "outcome={} status_code={} attempts={}",
            self.outcome, self.status_code, self.attempts
        ));
        parts.extend(self.differences.iter().cloned());
        parts.join("; ")
    }
}
