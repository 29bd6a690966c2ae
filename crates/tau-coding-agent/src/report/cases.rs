//! One line per case a run evaluated, for the CI reports.
//!
//! `runner::Report` carries only counters and the contract-failure messages, so the CLI watches
//! the driver instead: [`Recorder`] passes every attempt through unchanged and keeps the last
//! response of each case, judged by the library's own [`cycle::judge`]. When the runner reports
//! per-case results itself, these lines can be built from those instead.

use tau_deployment::cycle::{self, Disposition};
use tau_deployment::driver::{Driver, Response};
use tau_deployment::evidence::DriverKind;
use tau_deployment::fixture::Case;

/// What one evaluated case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLine {
    pub case_id: String,
    pub blueprint_id: String,
    pub deploy_target: String,
    pub runtime_profile: String,
    /// Applied or rejected as the fixture expected.
    pub passed: bool,
    /// `applied`, `rejected`, `retries_exhausted` or `contract_expectation_mismatch`.
    pub disposition: String,
    pub outcome: String,
    pub status_code: u16,
    pub error_code: Option<String>,
    pub attempts: u32,
    /// The refusal reason of the response, if any.
    pub reason: Option<String>,
    /// What broke the expectation (empty when passed).
    pub differences: Vec<String>,
}

impl CaseLine {
    fn new(case: &Case, attempt: u32, response: &Response) -> Self {
        let disposition = cycle::judge(case, response);
        let differences = match &disposition {
            Disposition::ContractMismatch(d) => d.clone(),
            _ => Vec::new(),
        };
        CaseLine {
            case_id: case.case_id.to_string(),
            blueprint_id: case.blueprint_id.to_string(),
            deploy_target: case.deploy_target.to_string(),
            runtime_profile: case.runtime_profile.to_string(),
            passed: disposition.is_completed(),
            disposition: disposition.as_str().to_string(),
            outcome: response.outcome.as_str().to_string(),
            status_code: response.status_code,
            error_code: response.error_code.map(|c| c.as_str().to_string()),
            attempts: attempt,
            reason: response.body.reason(),
            differences,
        }
    }

    /// The reason code a failure is reported under: the disposition, then the response reason.
    pub fn failure_message(&self) -> String {
        let mut parts = vec![self.disposition.clone()];
        if let Some(reason) = &self.reason {
            parts.push(format!("reason={reason}"));
        }
        parts.push(format!(
            "outcome={} status_code={} attempts={}",
            self.outcome, self.status_code, self.attempts
        ));
        parts.extend(self.differences.iter().cloned());
        parts.join("; ")
    }
}

/// A driver that forwards to another and, when asked, remembers each case's final attempt.
pub struct Recorder<'d> {
    inner: &'d mut dyn Driver,
    enabled: bool,
    lines: Vec<CaseLine>,
}

impl<'d> Recorder<'d> {
    /// With `enabled` false nothing is kept, so million-case runs without reports pay nothing.
    pub fn new(inner: &'d mut dyn Driver, enabled: bool) -> Self {
        Recorder {
            inner,
            enabled,
            lines: Vec::new(),
        }
    }

    pub fn into_lines(self) -> Vec<CaseLine> {
        self.lines
    }
}

impl Driver for Recorder<'_> {
    fn deploy(&mut self, case: &Case, attempt: u32) -> Response {
        let response = self.inner.deploy(case, attempt);
        if self.enabled {
            let line = CaseLine::new(case, attempt, &response);
            // The runner retries one case to the end before the next, so a later attempt
            // always belongs to the last line.
            match self.lines.last_mut() {
                Some(last) if attempt > 1 && last.case_id == line.case_id => *last = line,
                _ => self.lines.push(line),
            }
        }
        response
    }

    fn kind(&self) -> DriverKind {
        self.inner.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tau_deployment::driver::ContractEvaluator;
    use tau_deployment::fixture::Fixture;

    fn fixture(cases: &str) -> Fixture {
        Fixture::parse(format!(r#"{{"schema_version":1,"name":"t","cases":[{cases}]}}"#).as_bytes())
            .unwrap()
    }

    const PASS: &str = r#"{"case_id":"ok","deploy_target":"container","runtime_profile":"native",
        "blueprint_id":"bp","environment":"staging","region":"r","container_image":"img:1",
        "expected":{"outcome":"success","status_code":202}}"#;
    const WRONG: &str = r#"{"case_id":"wrong","deploy_target":"container","runtime_profile":"native",
        "blueprint_id":"bp","environment":"staging","region":"r","container_image":"img:1",
        "expected":{"outcome":"success","status_code":201}}"#;

    #[test]
    fn the_recorder_keeps_one_line_per_case_with_the_library_judgement() {
        let f = fixture(&format!("{PASS},{WRONG}"));
        let mut evaluator = ContractEvaluator::default();
        let mut recorder = Recorder::new(&mut evaluator, true);
        for case in &f.cases {
            recorder.deploy(case, 1);
        }
        recorder.deploy(&f.cases[1], 2);
        let lines = recorder.into_lines();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].passed);
        assert!(!lines[1].passed);
        assert_eq!(lines[1].attempts, 2);
        assert_eq!(lines[1].disposition, "contract_expectation_mismatch");
        assert!(lines[1]
            .failure_message()
            .contains("status_code: expected 201, got 202"));
    }

    #[test]
    fn a_disabled_recorder_keeps_nothing() {
        let f = fixture(PASS);
        let mut evaluator = ContractEvaluator::default();
        let mut recorder = Recorder::new(&mut evaluator, false);
        recorder.deploy(&f.cases[0], 1);
        assert!(recorder.into_lines().is_empty());
    }
}
