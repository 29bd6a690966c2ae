//! Fixture schema v1: the deployment cases a contract run replays.
//!
//! Parsing has two speeds. A well-formed fixture is deserialized straight into typed cases, which is
//! what keeps a 100,000-case run inside its budget. Only when that fails do we re-read the document
//! loosely, case by case, so the error can list *every* problem with its case and field instead of
//! the first one serde tripped over.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::driver::Outcome;
use crate::sym::{self, Sym};
use crate::Error;

/// The only fixture schema this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A parsed, validated fixture.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub schema_version: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cases: Vec<Case>,
    /// [`crate::evidence::fixture_digest`] of the bytes this fixture was parsed from; the run
    /// records it so a gate reader can prove which fixture its evidence came from.
    #[serde(skip)]
    pub sha256: String,
}

/// One deployment case.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    #[serde(deserialize_with = "sym::unique")]
    pub case_id: Sym,
    pub deploy_target: Sym,
    pub runtime_profile: Sym,
    pub blueprint_id: Sym,
    pub environment: Sym,
    pub region: Sym,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_image: Option<Sym>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm_module: Option<Sym>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm_manifest: Option<Sym>,
    #[serde(default = "one_replica")]
    pub replicas: u16,
    #[serde(default)]
    pub simulate_retryable_failure: SimulatedFailure,
    pub expected: Expectation,
}

/// What the fixture says the case must produce.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub outcome: Outcome,
    pub status_code: u16,
    #[serde(default)]
    pub error_code: Sym,
    #[serde(default)]
    pub response_body: ExpectedBody,
}

/// The part of the response body a case pins down: every key must be present and equal; the
/// response may carry more. Kept as a short list because fixtures name one to three keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpectedBody(pub Vec<(String, Value)>);

impl Serialize for ExpectedBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for ExpectedBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExpectedBody;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ExpectedBody, A::Error> {
                let mut pairs: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    if pairs.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    pairs.push((key, value));
                }
                Ok(ExpectedBody(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

/// How many attempts of a case the contract evaluator fails with a retryable error.
///
/// Fixtures say `true` (every attempt), `false`, or a count `N` (the first N attempts of each run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimulatedFailure {
    #[default]
    Never,
    Always,
    FirstAttempts(u32),
}

impl SimulatedFailure {
    /// Whether attempt number `attempt` (1-based) fails.
    pub fn fails(self, attempt: u32) -> bool {
        match self {
            SimulatedFailure::Never => false,
            SimulatedFailure::Always => true,
            SimulatedFailure::FirstAttempts(n) => attempt <= n,
        }
    }
}

impl Serialize for SimulatedFailure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SimulatedFailure::Never => s.serialize_bool(false),
            SimulatedFailure::Always => s.serialize_bool(true),
            SimulatedFailure::FirstAttempts(n) => s.serialize_u32(*n),
        }
    }
}

impl<'de> Deserialize<'de> for SimulatedFailure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SimulatedFailure;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean or a number of failing attempts")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(if v {
                    SimulatedFailure::Always
                } else {
                    SimulatedFailure::Never
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                match u32::try_from(v) {
                    Ok(0) => Ok(SimulatedFailure::Never),
                    Ok(n) => Ok(SimulatedFailure::FirstAttempts(n)),
                    Err(_) => Err(E::custom(format!("{v} failing attempts is too many"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(
                        "the number of failing attempts cannot be negative",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn schema_v1() -> u32 {
    SCHEMA_VERSION
}

fn one_replica() -> u16 {
    1
}

/// One thing wrong with a fixture, located as precisely as the document allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Index in `cases`, when the problem is inside a case.
    pub case_index: Option<usize>,
    pub case_id: Option<String>,
    /// Dotted path of the offending field (`expected.status_code`), or empty for the document.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (self.case_index, &self.case_id) {
            (Some(i), Some(id)) => write!(f, "cases[{i}] (case_id {id:?})")?,
            (Some(i), None) => write!(f, "cases[{i}]")?,
            _ => f.write_str("fixture")?,
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Fixture {
    /// Reads and validates the fixture at `path`.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            op: "read fixture",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes).map_err(|problems| Error::FixtureInvalid {
            path: path.to_path_buf(),
            problems,
        })
    }

    /// Parses and validates fixture bytes, returning every problem found.
    pub fn parse(bytes: &[u8]) -> Result<Self, Vec<Problem>> {
        match sym::scope(|| serde_json::from_slice::<Fixture>(bytes)) {
            Ok(mut fixture) => {
                fixture.sha256 = crate::evidence::fixture_digest(bytes);
                let problems = fixture.problems();
                if problems.is_empty() {
                    Ok(fixture)
                } else {
                    Err(problems)
                }
            }
            Err(strict) => {
                let mut problems = check::loose_problems(bytes);
                if problems.is_empty() {
                    problems.push(Problem {
                        case_index: None,
                        case_id: None,
                        field: String::new(),
                        message: strict.to_string(),
                    });
                }
                Err(problems)
            }
        }
    }
}

#[path = "fixture_check.rs"]
mod check;

#[cfg(test)]
#[path = "fixture_tests.rs"]
mod tests;
