//! What types alone cannot say about a fixture: one pass over the parsed cases.

use rustc_hash::FxHashSet;

use super::{BodyMatch, Case, Fixture, Problem, SCHEMA_VERSION};
use crate::contract::{ErrorCode, Outcome};
use crate::request::SimulatedFailure;
use crate::sym::Sym;

/// The first control character in `text`, if any. Fixture strings end up in logs, `MEMORY.md`
/// and terminal output; refusing them here means no reader downstream has to escape them.
pub(super) fn control_char(text: &str, allow_layout: bool) -> Option<char> {
    // Fast path for the common all-printable text: C0 and DEL are single bytes, and C1 controls
    // (U+0080..U+009F) are the only characters encoded with a leading 0xC2 byte below 0xA0.
    let clean = text
        .as_bytes()
        .windows(2)
        .all(|w| !(w[0] == 0xC2 && w[1] < 0xA0))
        && text.bytes().all(|b| b >= 0x20 && b != 0x7f);
    if clean {
        return None;
    }
    text.chars()
        .find(|c| c.is_control() && !(allow_layout && matches!(c, '\n' | '\t')))
}

fn control_problem(c: char) -> String {
    format!("contains the control character {c:?}; use printable text only")
}

/// What is wrong with one string field of a case on its own, whatever the other fields say; the
/// slow path runs it on cases that did not deserialize, so their problems are listed too.
pub(super) fn text_problem(field: &str, value: &str) -> Option<String> {
    let required = matches!(
        field,
        "case_id" | "deploy_target" | "runtime_profile" | "blueprint_id" | "environment" | "region"
    );
    if required && value.trim().is_empty() {
        return Some("must not be empty".into());
    }
    if let Some(c) = control_char(value, false) {
        return Some(control_problem(c));
    }
    if field == "blueprint_id" {
        return crate::blueprint::check_id(value).err();
    }
    None
}

impl Fixture {
    /// Semantic checks that types alone cannot express.
    pub(super) fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut doc = |field: &str, message: String| {
            problems.push(Problem {
                case_index: None,
                case_id: None,
                field: field.to_string(),
                message,
            })
        };
        if self.schema_version != SCHEMA_VERSION {
            doc(
                "schema_version",
                format!(
                    "expected {SCHEMA_VERSION}, found {}; this build reads schema v{SCHEMA_VERSION} only",
                    self.schema_version
                ),
            );
        }
        if self.name.trim().is_empty() {
            doc("name", "must not be empty".into());
        }
        if let Some(c) = control_char(&self.name, false) {
            doc("name", control_problem(c));
        }
        if let Some(c) = self
            .description
            .as_deref()
            .and_then(|d| control_char(d, true))
        {
            doc("description", control_problem(c));
        }
        if self.cases.is_empty() {
            doc("cases", "must hold at least one case".into());
        }
        problems.extend(case_problems(&self.cases));
        problems
    }
}

/// Below this many cases a second thread costs more than it saves.
const PARALLEL_FROM: usize = 8192;

/// The problems of every case, in case order. Large fixtures are checked in two parts at once
/// (a sixth of loading 100,000 cases ran on one core while the other waited).
fn case_problems(cases: &[Case]) -> Vec<Problem> {
    if cases.len() >= PARALLEL_FROM {
        if let Some(problems) = in_two_parts(cases) {
            return problems;
        }
    }
    let mut seen = FxHashSet::default();
    seen.reserve(cases.len());
    // Compared trimmed, as the dedupe key compares them.
    check(cases, 0, |case| seen.insert(case.case_id.trim()))
}

/// The problems of `part`, whose first case is number `from`; `unique` says whether a case's id
/// is the first of its kind.
fn check<'c>(
    part: &'c [Case],
    from: usize,
    mut unique: impl FnMut(&'c Case) -> bool,
) -> Vec<Problem> {
    let mut clean = CleanValues::default();
    let mut problems = Vec::new();
    for (offset, case) in part.iter().enumerate() {
        case.problems(from + offset, unique(case), &mut clean, &mut problems);
    }
    problems
}

/// Both parts are checked as if every case id were unique while the ids are compared; `None`
/// when an id repeats (only its later copies may be flagged, which takes the in-order check) or
/// when no thread can start (wasm32, exhausted limits).
fn in_two_parts(cases: &[Case]) -> Option<Vec<Problem>> {
    // The first part also compares every id, so it is the smaller one.
    let mid = cases.len() * 2 / 5;
    std::thread::scope(|scope| {
        let later = std::thread::Builder::new()
            .spawn_scoped(scope, || check(&cases[mid..], mid, |_| true))
            .ok()?;
        let mut problems = check(&cases[..mid], 0, |_| true);
        let mut seen = FxHashSet::default();
        seen.reserve(cases.len());
        let repeated = !cases.iter().all(|case| seen.insert(case.case_id.trim()));
        let later = later
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        problems.extend(later);
        (!repeated).then_some(problems)
    })
}

/// The shared field values already found clean, by field and storage.
///
/// A fixture repeats a few targets, environments, regions and blueprints across all its cases,
/// and checking each copy again was a sixth of loading a 100,000-case fixture, all of it after
/// the parse. Only immortal values (see [`crate::sym`]) are remembered: their storage is never
/// freed or reused, so its address names the text for the whole process, and values unique to a
/// case (its id) never fill the set.
#[derive(Default)]
pub(super) struct CleanValues(FxHashSet<(usize, usize)>);

impl CleanValues {
    /// Whether `value` of field number `field` has a problem of its own, checking it only once
    /// per shared value.
    fn problem(&mut self, field: usize, name: &str, value: &Sym) -> Option<String> {
        let key = (field, value.as_ptr() as usize);
        let shared = value.is_immortal();
        if shared && self.0.contains(&key) {
            return None;
        }
        let problem = text_problem(name, value);
        if shared && problem.is_none() {
            self.0.insert(key);
        }
        problem
    }
}

impl Case {
    pub(super) fn problems(
        &self,
        index: usize,
        unique_id: bool,
        clean: &mut CleanValues,
        out: &mut Vec<Problem>,
    ) {
        let mut push = |field: &str, message: String| {
            out.push(Problem {
                case_index: Some(index),
                case_id: Some(self.case_id.to_string()).filter(|id| !id.trim().is_empty()),
                field: field.to_string(),
                message,
            })
        };
        if self.schema_version != SCHEMA_VERSION {
            push(
                "schema_version",
                format!("expected {SCHEMA_VERSION}, found {}", self.schema_version),
            );
        }
        for (i, (field, value)) in [
            ("case_id", Some(&self.case_id)),
            ("deploy_target", Some(&self.deploy_target)),
            ("runtime_profile", Some(&self.runtime_profile)),
            ("blueprint_id", Some(&self.blueprint_id)),
            ("environment", Some(&self.environment)),
            ("region", Some(&self.region)),
            ("container_image", self.container_image.as_ref()),
            ("wasm_module", self.wasm_module.as_ref()),
            ("wasm_manifest", self.wasm_manifest.as_ref()),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(message) = value.and_then(|v| clean.problem(i, field, v)) {
                push(field, message);
            }
        }
        if !unique_id {
            push(
                "case_id",
                "duplicates an earlier case; case_ids must be unique".into(),
            );
        }
        if self.replicas == 0 {
            push("replicas", "must be at least 1".into());
        }
        let expected = &self.expected;
        let status = expected.status_code;
        match expected.outcome {
            Outcome::Success if !(200..=299).contains(&status) => push(
                "expected.status_code",
                format!("expected a 2xx status for outcome success, found {status}"),
            ),
            Outcome::MalformedInput | Outcome::RetryableFailure
                if !(400..=599).contains(&status) =>
            {
                push(
                    "expected.status_code",
                    format!(
                        "expected a status from 400 to 599 for outcome {}, found {status}",
                        expected.outcome.as_str()
                    ),
                )
            }
            _ => {}
        }
        match (expected.outcome, expected.error_code.is_empty()) {
            (Outcome::Success, false) => push(
                "expected.error_code",
                "must be empty when the outcome is success".into(),
            ),
            (Outcome::Success, true) => {}
            (_, true) => push(
                "expected.error_code",
                format!(
                    "must name the error for outcome {}",
                    expected.outcome.as_str()
                ),
            ),
            (_, false) => {
                if ErrorCode::parse(&expected.error_code).is_none() {
                    push(
                        "expected.error_code",
                        format!(
                            "unknown error code {:?}; expected one of {}",
                            expected.error_code,
                            ErrorCode::ALL.map(ErrorCode::as_str).join(", ")
                        ),
                    );
                }
            }
        }
        // A case that can never meet its own expectation is a fixture bug, not a finding.
        match (self.simulate_retryable_failure, expected.outcome) {
            (SimulatedFailure::Always, outcome) if outcome != Outcome::RetryableFailure => push(
                "simulate_retryable_failure",
                format!(
                    "is true, so every attempt fails, but the expected outcome is {}",
                    outcome.as_str()
                ),
            ),
            (SimulatedFailure::Never, Outcome::RetryableFailure) => push(
                "expected.outcome",
                "is retryable_failure but simulate_retryable_failure is not set".into(),
            ),
            _ => {}
        }
        if expected.response_body.is_none() && expected.response_body_match == BodyMatch::Subset {
            push(
                "expected.response_body_match",
                "is subset but there is no response_body to match".into(),
            );
        }
    }
}
