//! The seam that decides a case's result.
//!
//! The queue, retries and state code only ever see a [`Driver`]. It receives a case's
//! [`Request`], never the expectation it is judged against, and either answers with a
//! [`Response`] (which may be a refused deployment) or fails with a [`DriverError`] (the driver
//! itself could not answer: the run stops and commits nothing). Today the
//! [`crate::simulated::ContractEvaluator`] decides results from the request alone; a live backend
//! replaces it without the rest of the runner noticing.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};

pub use crate::contract::{ErrorCode, Outcome, Profile, Strategy, Target};
use crate::request::Request;
use crate::sym::Sym;

/// Decides the result of one attempt of one case.
pub trait Driver {
    /// `attempt` starts at 1 for each case in each run.
    fn deploy(&mut self, request: &Request, attempt: u32) -> Result<Response, DriverError>;

    /// Which kind of evidence this driver's outcomes are; recorded with every run.
    fn kind(&self) -> crate::evidence::DriverKind;
}

/// The driver could not produce an answer (a crashed backend, a protocol error). Distinct from a
/// refused deployment, which is a [`Response`] with a non-success outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    pub message: String,
}

impl DriverError {
    pub fn new(message: impl Into<String>) -> Self {
        DriverError {
            message: message.into(),
        }
    }
}

/// Where a deployed artifact came from and what it is, as far as the driver verified it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Artifact {
    /// The image reference, the module path, or a manifest's artifact path, trimmed.
    pub reference: Sym,
    pub sha256: Option<Sym>,
    pub size_bytes: Option<u64>,
    /// The manifest path as the case named it, when the artifact came from a manifest.
    pub manifest: Option<Sym>,
    /// The full runtime constraint profile the artifact was checked against.
    pub runtime_constraints: Option<Arc<Value>>,
    /// The manifest's `capability_constraints`: what the runbook's tool answers as
    /// `runtime_constraints`.
    pub capability_constraints: Option<Arc<[String]>>,
    /// `Some(true)` when the driver read and checked the artifact's bytes.
    pub verified: Option<bool>,
}

/// What an accepted deployment rolled out; also the accepted response body. Values are
/// normalized (targets, profiles and environments lower-cased, everything trimmed), as the
/// runbook's tool echoes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub blueprint_id: Sym,
    pub deploy_target: Sym,
    pub runtime_profile: Sym,
    pub environment: Sym,
    pub region: Sym,
    pub artifact: Artifact,
    pub replicas: u16,
    pub strategy: Strategy,
}

/// The keys of an accepted body, in the tool's order; the manifest keys only for manifest cases.
const ACCEPTED_KEYS: [&str; 9] = [
    "status",
    "blueprint_id",
    "deploy_target",
    "runtime_profile",
    "environment",
    "region",
    "replicas",
    "rollout_strategy",
    "artifact",
];
const MANIFEST_KEYS: [&str; 4] = [
    "artifact_sha256",
    "artifact_size_bytes",
    "artifact_manifest",
    "runtime_constraints",
];

/// A response body. Typed for the shapes the contract produces so a large run does not build a
/// JSON map per case; [`Body::Json`] carries whatever else a backend returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Accepted(Box<Accepted>),
    /// `{status, reason}`: `rejected` for refusals, `retryable` for transient failures.
    Refused {
        status: &'static str,
        reason: Cow<'static, str>,
    },
    Json(Map<String, Value>),
}

/// One value of a body, borrowed, so comparing with a fixture allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    Text(&'a str),
    Number(u64),
    Texts(&'a [String]),
    Json(&'a Value),
}

impl Field<'_> {
    /// Whether this value equals `want` as JSON.
    pub fn equals(self, want: &Value) -> bool {
        match self {
            Field::Text(s) => want.as_str() == Some(s),
            Field::Number(n) => want.as_u64() == Some(n),
            Field::Texts(list) => want.as_array().is_some_and(|w| {
                w.len() == list.len() && w.iter().zip(list).all(|(w, s)| w.as_str() == Some(s))
            }),
            Field::Json(v) => v == want,
        }
    }

    pub fn to_value(self) -> Value {
        match self {
            Field::Text(s) => Value::String(s.to_string()),
            Field::Number(n) => Value::from(n),
            Field::Texts(list) => Value::from(list.to_vec()),
            Field::Json(v) => v.clone(),
        }
    }
}

impl Body {
    /// The keys this body has, in order.
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Body::Accepted(a) => {
                let mut keys = ACCEPTED_KEYS.to_vec();
                if a.artifact.manifest.is_some() {
                    keys.extend(MANIFEST_KEYS);
                }
                keys
            }
            Body::Refused { .. } => vec!["status", "reason"],
            Body::Json(map) => map.keys().map(String::as_str).collect(),
        }
    }

    /// How many keys the body has.
    pub fn len(&self) -> usize {
        match self {
            Body::Accepted(a) if a.artifact.manifest.is_some() => {
                ACCEPTED_KEYS.len() + MANIFEST_KEYS.len()
            }
            Body::Accepted(_) => ACCEPTED_KEYS.len(),
            Body::Refused { .. } => 2,
            Body::Json(map) => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of one top-level key.
    pub fn field(&self, key: &str) -> Option<Field<'_>> {
        match self {
            Body::Accepted(a) => {
                let art = &a.artifact;
                let manifest = art.manifest.as_deref();
                match key {
                    "status" => Some(Field::Text("accepted")),
                    "blueprint_id" => Some(Field::Text(&a.blueprint_id)),
                    "deploy_target" => Some(Field::Text(&a.deploy_target)),
                    "runtime_profile" => Some(Field::Text(&a.runtime_profile)),
                    "environment" => Some(Field::Text(&a.environment)),
                    "region" => Some(Field::Text(&a.region)),
                    "replicas" => Some(Field::Number(a.replicas.into())),
                    "rollout_strategy" => Some(Field::Text(a.strategy.as_str())),
                    "artifact" => Some(Field::Text(&art.reference)),
                    "artifact_manifest" => manifest.map(Field::Text),
                    "artifact_sha256" if manifest.is_some() => {
                        Some(Field::Text(art.sha256.as_deref().unwrap_or("")))
                    }
                    "artifact_size_bytes" if manifest.is_some() => {
                        Some(Field::Number(art.size_bytes.unwrap_or(0)))
                    }
                    "runtime_constraints" if manifest.is_some() => Some(Field::Texts(
                        art.capability_constraints.as_deref().unwrap_or(&[]),
                    )),
                    _ => None,
                }
            }
            Body::Refused { status, reason } => match key {
                "status" => Some(Field::Text(status)),
                "reason" => Some(Field::Text(reason)),
                _ => None,
            },
            Body::Json(map) => map.get(key).map(Field::Json),
        }
    }

    /// The value of one top-level key, as JSON.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.field(key).map(Field::to_value)
    }

    /// The `reason` of a refusal, if the body has one.
    pub fn reason(&self) -> Option<String> {
        match self.field("reason") {
            Some(Field::Text(reason)) => Some(reason.to_string()),
            Some(Field::Json(Value::String(reason))) => Some(reason.clone()),
            _ => None,
        }
    }
}

/// The driver's answer for one attempt of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub outcome: Outcome,
    pub status_code: u16,
    pub error_code: Option<ErrorCode>,
    pub body: Body,
}

impl Response {
    /// What was rolled out, when the deployment was accepted.
    pub fn accepted(&self) -> Option<&Accepted> {
        match (&self.outcome, &self.body) {
            (Outcome::Success, Body::Accepted(a)) => Some(a),
            _ => None,
        }
    }

    /// A deterministic refusal: the request itself is wrong for this deployment.
    pub fn rejected(status_code: u16, code: ErrorCode, reason: &'static str) -> Self {
        Response::refusal(
            Outcome::MalformedInput,
            status_code,
            code,
            "rejected",
            reason,
        )
    }

    pub fn refusal(
        outcome: Outcome,
        status_code: u16,
        code: ErrorCode,
        status: &'static str,
        reason: &'static str,
    ) -> Self {
        Response {
            outcome,
            status_code,
            error_code: Some(code),
            body: Body::Refused {
                status,
                reason: Cow::Borrowed(reason),
            },
        }
    }
}
