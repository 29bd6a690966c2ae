//! Fixture schema v1: the deployment cases a contract run replays.
//!
//! Parsing has two speeds. A well-formed fixture is deserialized straight into typed cases, which is
//! what keeps a 100,000-case run inside its budget. Only when that fails do we re-read the document
//! field by field, so the error lists *every* problem with its JSON path instead of the first one
//! serde tripped over.
//!
//! A [`Case`] is a [`Request`] (what a driver is asked to deploy) plus an [`Expectation`] (what the
//! fixture says must come back). Drivers only ever see the request.

use std::fmt;
use std::ops::Deref;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::Outcome;
use crate::evidence::FixtureDigest;
use crate::request::{Request, SimulatedFailure};
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
    pub sha256: FixtureDigest,
}

/// One deployment case: the request and what it must produce.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(from = "RawCase")]
pub struct Case {
    #[serde(flatten)]
    pub request: Request,
    pub expected: Expectation,
}

/// A case reads as its request (`case.blueprint_id`): the request is what identifies the case in
/// keys, logs and state; the expectation is only consulted when judging.
impl Deref for Case {
    type Target = Request;
    fn deref(&self) -> &Request {
        &self.request
    }
}

/// The case as written in the fixture, before the expectation is split off.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    #[serde(default = "schema_v1")]
    schema_version: u32,
    #[serde(deserialize_with = "sym::unique")]
    case_id: Sym,
    deploy_target: Sym,
    runtime_profile: Sym,
    blueprint_id: Sym,
    environment: Sym,
    region: Sym,
    #[serde(default, deserialize_with = "sym::nonblank")]
    container_image: Option<Sym>,
    #[serde(default, deserialize_with = "sym::nonblank")]
    wasm_module: Option<Sym>,
    #[serde(default, deserialize_with = "sym::nonblank")]
    wasm_manifest: Option<Sym>,
    #[serde(default = "one_replica")]
    replicas: u16,
    #[serde(default)]
    simulate_retryable_failure: SimulatedFailure,
    expected: Expectation,
}

impl From<RawCase> for Case {
    fn from(raw: RawCase) -> Self {
        Case {
            request: Request {
                schema_version: raw.schema_version,
                case_id: raw.case_id,
                deploy_target: raw.deploy_target,
                runtime_profile: raw.runtime_profile,
                blueprint_id: raw.blueprint_id,
                environment: raw.environment,
                region: raw.region,
                container_image: raw.container_image,
                wasm_module: raw.wasm_module,
                wasm_manifest: raw.wasm_manifest,
                replicas: raw.replicas,
                simulate_retryable_failure: raw.simulate_retryable_failure,
            },
            expected: raw.expected,
        }
    }
}

/// What the fixture says the case must produce.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub outcome: Outcome,
    pub status_code: u16,
    /// Trimmed, as the runbook's tool compares it; empty for success.
    #[serde(default, deserialize_with = "sym::trimmed")]
    pub error_code: Sym,
    /// `None` when the fixture does not pin the body down; then only outcome, status and error
    /// code are compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<ExpectedBody>,
    #[serde(default, skip_serializing_if = "BodyMatch::is_exact")]
    pub response_body_match: BodyMatch,
}

/// How `expected.response_body` is compared with the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyMatch {
    /// The response body has exactly these keys with these values, as the runbook's tool checks.
    #[default]
    Exact,
    /// Every listed key must be present and equal; the response may carry more. Opt-in, because
    /// a subset lets a response grow fields nobody looked at.
    Subset,
}

impl BodyMatch {
    pub fn is_exact(&self) -> bool {
        *self == BodyMatch::Exact
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
    /// Dotted path of the offending field inside its case or the document
    /// (`expected.status_code`), or empty for the document itself.
    pub field: String,
    pub message: String,
}

impl Problem {
    /// The JSON path of the offending value: `cases[3].expected.status_code`, `name`, or `$` for
    /// the whole document.
    pub fn path(&self) -> String {
        match (self.case_index, self.field.is_empty()) {
            (Some(i), true) => format!("cases[{i}]"),
            (Some(i), false) => format!("cases[{i}].{}", self.field),
            (None, true) => "$".to_string(),
            (None, false) => self.field.clone(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.path())?;
        if let Some(id) = &self.case_id {
            // Debug formatting escapes control characters, so an id never reaches a log raw.
            write!(f, " (case_id {id:?})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Fixture {
    /// Reads and validates the fixture at `path`.
    ///
    /// A valid fixture is streamed in chunks ([`stream`]), so its text is never held whole next
    /// to its cases. Anything the stream refuses is read again whole and judged by [`parse`],
    /// which lists every problem; an invalid fixture costs a second read, a valid one does not.
    ///
    /// [`parse`]: Self::parse
    pub fn load(path: &Path) -> Result<Self, Error> {
        let io = |op| {
            move |source| Error::Io {
                op,
                path: path.to_path_buf(),
                source,
            }
        };
        let file = std::fs::File::open(path).map_err(io("read fixture"))?;
        let size = file.metadata().map_err(io("read fixture"))?.len();
        let invalid = |problems| Error::FixtureInvalid {
            path: path.to_path_buf(),
            problems,
        };
        match sym::scope(|| stream::parse(file, size)).map_err(io("read fixture"))? {
            stream::Outcome::Parsed(fixture) => {
                let problems = fixture.problems();
                if problems.is_empty() {
                    Ok(fixture)
                } else {
                    Err(invalid(problems))
                }
            }
            stream::Outcome::Invalid => {
                let bytes = std::fs::read(path).map_err(io("read fixture"))?;
                Self::parse(&bytes).map_err(invalid)
            }
        }
    }

    /// Parses and validates fixture bytes, returning every problem found.
    pub fn parse(bytes: &[u8]) -> Result<Self, Vec<Problem>> {
        match sym::scope(|| serde_json::from_slice::<Fixture>(bytes)) {
            Ok(mut fixture) => {
                let problems = fixture.problems();
                if problems.is_empty() {
                    fixture.sha256 = FixtureDigest::ready(crate::evidence::fixture_digest(bytes));
                    Ok(fixture)
                } else {
                    Err(problems)
                }
            }
            Err(strict) => {
                let mut problems = loose::loose_problems(bytes);
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

#[path = "fixture_body.rs"]
mod body;
pub use body::{Expected, ExpectedBody};

#[path = "fixture_check.rs"]
mod check;

#[path = "fixture_loose.rs"]
mod loose;

#[path = "fixture_stream.rs"]
mod stream;

#[cfg(test)]
#[path = "fixture_tests.rs"]
mod tests;

#[cfg(test)]
impl Case {
    /// A valid case for tests: container and kubernetes cases name `img:1`, wasm cases `m.wasm`.
    pub(crate) fn example(id: &str, target: &str, profile: &str) -> Case {
        let wasm = target.trim().eq_ignore_ascii_case("wasm");
        Case {
            request: Request {
                schema_version: SCHEMA_VERSION,
                case_id: Sym::new(id),
                deploy_target: Sym::new(target),
                runtime_profile: Sym::new(profile),
                blueprint_id: Sym::new("bp"),
                environment: Sym::new("staging"),
                region: Sym::new("r"),
                container_image: Some(Sym::new("img:1")),
                wasm_module: Some(Sym::new("m.wasm")),
                wasm_manifest: None,
                replicas: 1,
                simulate_retryable_failure: SimulatedFailure::Never,
            },
            expected: Expectation {
                outcome: Outcome::Success,
                status_code: if wasm { 201 } else { 202 },
                error_code: Sym::default(),
                response_body: None,
                response_body_match: BodyMatch::Exact,
            },
        }
    }
}
