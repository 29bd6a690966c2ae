//! The slow path: a fixture that did not deserialize is re-read field by field, so every problem
//! is reported with its JSON path, including several in one case.

use rustc_hash::FxHashSet;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{BodyMatch, Case, ExpectedBody, Fixture, Problem};
use crate::contract::Outcome;
use crate::request::SimulatedFailure;

/// How one field is checked.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// An unsigned integer no larger than this.
    UInt(u64),
    Outcome,
    BodyMatch,
    Body,
    Simulated,
    Expected,
}

const DOC_FIELDS: &[(&str, Kind, bool)] = &[
    ("schema_version", Kind::UInt(u32::MAX as u64), true),
    ("name", Kind::Text, true),
    ("description", Kind::Text, false),
];

const CASE_FIELDS: &[(&str, Kind, bool)] = &[
    ("schema_version", Kind::UInt(u32::MAX as u64), false),
    ("case_id", Kind::Text, true),
    ("deploy_target", Kind::Text, true),
    ("runtime_profile", Kind::Text, true),
    ("blueprint_id", Kind::Text, true),
    ("environment", Kind::Text, true),
    ("region", Kind::Text, true),
    ("container_image", Kind::Text, false),
    ("wasm_module", Kind::Text, false),
    ("wasm_manifest", Kind::Text, false),
    ("replicas", Kind::UInt(u16::MAX as u64), false),
    ("simulate_retryable_failure", Kind::Simulated, false),
    ("expected", Kind::Expected, true),
];

const EXPECTED_FIELDS: &[(&str, Kind, bool)] = &[
    ("outcome", Kind::Outcome, true),
    ("status_code", Kind::UInt(u16::MAX as u64), true),
    ("error_code", Kind::Text, false),
    ("response_body", Kind::Body, false),
    ("response_body_match", Kind::BodyMatch, false),
];

/// Every problem of a document that did not deserialize.
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
    let cases = top.remove("cases");
    let mut problems = Vec::new();
    let mut found = Vec::new();
    check_object(&top, DOC_FIELDS, "", &mut found);
    for (field, message) in found {
        if field != "cases" {
            problems.push(doc_problem(&field, message));
        }
    }
    if problems.is_empty() {
        // Only the top-level fields' semantics: an empty case list is judged below.
        top.insert("cases".into(), Value::Array(Vec::new()));
        if let Ok(fixture) = serde_json::from_value::<Fixture>(Value::Object(top)) {
            problems.extend(
                fixture
                    .problems()
                    .into_iter()
                    .filter(|p| p.field != "cases"),
            );
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
        Some(other) => {
            problems.push(doc_problem(
                "cases",
                format!("expected an array of cases, found {}", type_name(&other)),
            ));
            return problems;
        }
    };
    if cases.is_empty() {
        problems.push(doc_problem("cases", "must hold at least one case".into()));
    }
    let mut seen = FxHashSet::default();
    let mut clean = super::check::CleanValues::default();
    for (index, raw) in cases.into_iter().enumerate() {
        let case_id = raw
            .get("case_id")
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty())
            .map(str::to_string);
        let unique = case_id
            .as_ref()
            .is_none_or(|id| seen.insert(id.trim().to_string()));
        let mut found = Vec::new();
        match &raw {
            Value::Object(map) => check_object(map, CASE_FIELDS, "", &mut found),
            other => found.push((
                String::new(),
                format!("expected a case object, found {}", type_name(other)),
            )),
        }
        if found.is_empty() {
            match serde_json::from_value::<Case>(raw) {
                Ok(case) => case.problems(index, unique, &mut clean, &mut problems),
                Err(e) => found.push((String::new(), e.to_string())),
            }
        } else {
            // The case did not deserialize, but its well-typed fields can still be judged alone.
            if let Value::Object(map) = &raw {
                for (name, kind, _) in CASE_FIELDS {
                    let value = map.get(*name);
                    let already = found.iter().any(|(f, _)| f == name);
                    match (kind, value) {
                        (Kind::Text, Some(Value::String(text))) if !already => {
                            if let Some(message) = super::check::text_problem(name, text) {
                                found.push((name.to_string(), message));
                            }
                        }
                        (Kind::UInt(_), Some(v))
                            if *name == "replicas" && v.as_u64() == Some(0) =>
                        {
                            found.push((name.to_string(), "must be at least 1".into()));
                        }
                        _ => {}
                    }
                }
            }
        }
        if !found.is_empty() && !unique {
            found.push((
                "case_id".into(),
                "duplicates an earlier case; case_ids must be unique".into(),
            ));
        }
        problems.extend(found.into_iter().map(|(field, message)| Problem {
            case_index: Some(index),
            case_id: case_id.clone(),
            field,
            message,
        }));
    }
    problems
}

/// Checks every field of `map` against `fields`, pushing `(path, message)` for each problem.
fn check_object(
    map: &Map<String, Value>,
    fields: &[(&str, Kind, bool)],
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    let known: Vec<&str> = fields.iter().map(|(name, _, _)| *name).collect();
    for (key, value) in map {
        let path = format!("{prefix}{key}");
        match fields.iter().find(|(name, _, _)| name == key) {
            Some((_, kind, _)) => check_value(value, *kind, &path, out),
            None if prefix.is_empty() && key == "cases" => {}
            None => out.push((
                path,
                format!("unknown field; expected one of {}", known.join(", ")),
            )),
        }
    }
    for (name, _, required) in fields {
        if *required && !map.contains_key(*name) {
            out.push((format!("{prefix}{name}"), "missing; it is required".into()));
        }
    }
}

fn check_value(value: &Value, kind: Kind, path: &str, out: &mut Vec<(String, String)>) {
    let problem = match kind {
        Kind::Text => {
            (!value.is_string()).then(|| format!("expected a string, found {}", type_name(value)))
        }
        Kind::UInt(max) => uint_problem(value, max),
        Kind::Outcome => typed::<Outcome>(value),
        Kind::BodyMatch => typed::<BodyMatch>(value),
        Kind::Body => typed::<Option<ExpectedBody>>(value),
        Kind::Simulated => typed::<SimulatedFailure>(value),
        Kind::Expected => {
            match value {
                Value::Object(map) => check_object(map, EXPECTED_FIELDS, &format!("{path}."), out),
                other => out.push((
                    path.to_string(),
                    format!("expected an object, found {}", type_name(other)),
                )),
            }
            None
        }
    };
    if let Some(message) = problem {
        out.push((path.to_string(), message));
    }
}

fn typed<T: DeserializeOwned>(value: &Value) -> Option<String> {
    T::deserialize(value).err().map(|e| e.to_string())
}

/// Numbers are checked against their real range so that an overflow is a named error, never a
/// wrapped or saturated value.
fn uint_problem(value: &Value, max: u64) -> Option<String> {
    match value {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(v), _) if v <= max => None,
            (Some(v), _) => Some(format!(
                "{v} is out of range; expected an integer from 0 to {max}"
            )),
            (None, Some(v)) => Some(format!(
                "{v} is negative; expected an integer from 0 to {max}"
            )),
            (None, None) => Some(format!(
                "{n} is not a whole number; expected an integer from 0 to {max}"
            )),
        },
        other => Some(format!(
            "expected an integer from 0 to {max}, found {}",
            type_name(other)
        )),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
