//! What types alone cannot say about a fixture, and the slow path that finds every problem in a
//! fixture that did not even deserialize.

use std::collections::HashSet;

use serde_json::Value;

use super::{Case, Fixture, Problem, SCHEMA_VERSION};
use crate::driver::{ErrorCode, Outcome};

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
        if self.cases.is_empty() {
            doc("cases", "must hold at least one case".into());
        }
        let mut seen = HashSet::with_capacity(self.cases.len());
        for (index, case) in self.cases.iter().enumerate() {
            let mut first_seen = true;
            // Compared trimmed, as the dedupe key compares them.
            if !seen.insert(case.case_id.trim()) {
                first_seen = false;
            }
            case.problems(index, first_seen, &mut problems);
        }
        problems
    }
}

impl Case {
    fn problems(&self, index: usize, unique_id: bool, out: &mut Vec<Problem>) {
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
        for (field, value) in [
            ("case_id", &self.case_id),
            ("deploy_target", &self.deploy_target),
            ("runtime_profile", &self.runtime_profile),
            ("blueprint_id", &self.blueprint_id),
            ("environment", &self.environment),
            ("region", &self.region),
        ] {
            if value.trim().is_empty() {
                push(field, "must not be empty".into());
            }
        }
        if !unique_id {
            push(
                "case_id",
                "duplicates an earlier case; case_ids must be unique".into(),
            );
        }
        if let Err(why) = crate::blueprint::check_id(&self.blueprint_id) {
            if !self.blueprint_id.trim().is_empty() {
                push("blueprint_id", why);
            }
        }
        for (field, value) in [
            ("container_image", &self.container_image),
            ("wasm_module", &self.wasm_module),
            ("wasm_manifest", &self.wasm_manifest),
        ] {
            if value.as_deref().is_some_and(|v: &str| v.trim().is_empty()) {
                push(
                    field,
                    "must not be empty when present; omit it instead".into(),
                );
            }
        }
        if self.replicas == 0 {
            push("replicas", "must be at least 1".into());
        }
        let expected = &self.expected;
        if !(100..=599).contains(&expected.status_code) {
            push(
                "expected.status_code",
                format!(
                    "expected an HTTP status from 100 to 599, found {}",
                    expected.status_code
                ),
            );
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
    }
}

/// Slow path: find every problem in a document that did not deserialize.
pub(super) fn loose_problems(bytes: &[u8]) -> Vec<Problem> {
    let doc_problem = |field: &str, message: String| Problem {
        case_index: None,
        case_id: None,
        field: field.to_string(),
        message,
    };
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(e) => return vec![doc_problem("", format!("not valid JSON: {e}"))],
    };
    let Value::Object(mut top) = value else {
        return vec![doc_problem(
            "",
            "expected a JSON object at the top level".into(),
        )];
    };
    let mut problems = Vec::new();
    let cases = top.remove("cases");
    // Check the top level with a placeholder case list so only its own fields are judged.
    top.insert("cases".into(), Value::Array(Vec::new()));
    match serde_path_to_error::deserialize::<_, Fixture>(Value::Object(top)) {
        Ok(fixture) => problems.extend(
            fixture
                .problems()
                .into_iter()
                .filter(|p| p.field != "cases"),
        ),
        Err(e) => {
            let (field, message) = located(&e);
            problems.push(doc_problem(&field, message));
        }
    }
    let cases = match cases {
        None => {
            problems.push(doc_problem(
                "cases",
                "missing; expected an array of cases".into(),
            ));
            return problems;
        }
        Some(Value::Array(cases)) => cases,
        Some(_) => {
            problems.push(doc_problem("cases", "expected an array of cases".into()));
            return problems;
        }
    };
    if cases.is_empty() {
        problems.push(doc_problem("cases", "must hold at least one case".into()));
    }
    let mut seen = HashSet::new();
    for (index, raw) in cases.into_iter().enumerate() {
        let case_id = raw
            .get("case_id")
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty())
            .map(str::to_string);
        match serde_path_to_error::deserialize::<_, Case>(raw) {
            Ok(case) => {
                let unique = seen.insert(case.case_id.trim().to_string());
                case.problems(index, unique, &mut problems);
            }
            Err(e) => {
                let duplicate = case_id
                    .as_ref()
                    .is_some_and(|id| !seen.insert(id.trim().to_string()));
                let (field, message) = located(&e);
                problems.push(Problem {
                    case_index: Some(index),
                    case_id: case_id.clone(),
                    field,
                    message,
                });
                if duplicate {
                    problems.push(Problem {
                        case_index: Some(index),
                        case_id,
                        field: "case_id".into(),
                        message: "duplicates an earlier case; case_ids must be unique".into(),
                    });
                }
            }
        }
    }
    problems
}

/// The field a deserialization error is about, and its message. serde reports a missing field on
/// its parent object, so that field's name is taken from the message.
fn located(e: &serde_path_to_error::Error<serde_json::Error>) -> (String, String) {
    let message = e.inner().to_string();
    let path = e.path().to_string();
    if path != "." {
        return (path, message);
    }
    let field = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.find('`').map(|end| rest[..end].to_string()))
        .unwrap_or_default();
    (field, message)
}
