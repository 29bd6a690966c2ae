//! One applied case as `state.json` and the rollout history record it.
//!
//! The record is written in the shape the runbook's tool reads: every field it requires is
//! present with its type, and "absent" is written the way its reader expects (`""`, `0`, `[]`),
//! never `null`, which would make the tool drop the whole file and re-apply every case. What the
//! tool has no field for (the full runtime-constraint profile, whether the artifact was verified)
//! goes in extra fields, which its reader ignores.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::driver::{ErrorCode, Outcome, Strategy};
use crate::sym::{self, Sym};

/// One applied case.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutRecord {
    pub case_key: Sym,
    pub case_id: Sym,
    /// Trimmed and lower-cased, as the tool records it.
    pub deploy_target: Sym,
    /// Trimmed and lower-cased, as the tool records it.
    pub runtime_profile: Sym,
    pub blueprint_id: Sym,
    /// Trimmed and lower-cased, as the tool records it.
    pub environment: Sym,
    pub region: Sym,
    pub artifact: Sym,
    pub artifact_sha256: Option<Sym>,
    pub artifact_size_bytes: Option<u64>,
    pub artifact_manifest: Option<Sym>,
    /// The runtime-constraint profile (an object), or the tool's list of constraint names.
    /// Shared: every rollout of one runtime profile carries the same constraints.
    pub runtime_constraints: Option<Arc<Value>>,
    pub artifact_verified: Option<bool>,
    pub replicas: u16,
    pub rollout_strategy: Strategy,
    pub status_code: u16,
    pub outcome: Outcome,
    pub error_code: Option<ErrorCode>,
    pub updated_unix_ms: u64,
}

/// Rollouts are listed by case id, then case key: the order in which a run queues cases, so a
/// run's new rollouts merge into the list without sorting.
pub fn rollout_order(a: &RolloutRecord, b: &RolloutRecord) -> std::cmp::Ordering {
    (&a.case_id, &a.case_key).cmp(&(&b.case_id, &b.case_key))
}

/// The constraint names the tool's `runtime_constraints: [String]` field holds: a profile's
/// required feature gates, or the list itself when that is what was recorded.
fn constraint_names(value: Option<&Value>) -> Vec<&str> {
    let list = match value {
        Some(Value::Array(list)) => list,
        Some(Value::Object(profile)) => match profile.get("required_feature_gates") {
            Some(Value::Array(list)) => list,
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    list.iter().filter_map(Value::as_str).collect()
}

#[derive(Serialize)]
struct Out<'a> {
    case_key: &'a str,
    case_id: &'a str,
    deploy_target: &'a str,
    runtime_profile: &'a str,
    blueprint_id: &'a str,
    environment: &'a str,
    region: &'a str,
    artifact: &'a str,
    artifact_sha256: &'a str,
    artifact_size_bytes: u64,
    artifact_manifest: &'a str,
    runtime_constraints: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_constraint_profile: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_verified: Option<bool>,
    replicas: u16,
    rollout_strategy: Strategy,
    status_code: u16,
    outcome: Outcome,
    error_code: &'a str,
    updated_unix_ms: u64,
}

impl Serialize for RolloutRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let constraints = self.runtime_constraints.as_deref();
        Out {
            case_key: &self.case_key,
            case_id: &self.case_id,
            deploy_target: &self.deploy_target,
            runtime_profile: &self.runtime_profile,
            blueprint_id: &self.blueprint_id,
            environment: &self.environment,
            region: &self.region,
            artifact: &self.artifact,
            artifact_sha256: self.artifact_sha256.as_deref().unwrap_or(""),
            artifact_size_bytes: self.artifact_size_bytes.unwrap_or(0),
            artifact_manifest: self.artifact_manifest.as_deref().unwrap_or(""),
            runtime_constraints: constraint_names(constraints),
            runtime_constraint_profile: constraints.filter(|v| v.is_object()),
            artifact_verified: self.artifact_verified,
            replicas: self.replicas,
            rollout_strategy: self.rollout_strategy,
            status_code: self.status_code,
            outcome: self.outcome,
            error_code: self.error_code.map_or("", ErrorCode::as_str),
            updated_unix_ms: self.updated_unix_ms,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct In {
    #[serde(deserialize_with = "sym::unique")]
    case_key: Sym,
    #[serde(deserialize_with = "sym::unique")]
    case_id: Sym,
    deploy_target: Sym,
    runtime_profile: Sym,
    blueprint_id: Sym,
    environment: Sym,
    region: Sym,
    artifact: Sym,
    #[serde(default)]
    artifact_sha256: Option<Sym>,
    #[serde(default)]
    artifact_size_bytes: Option<u64>,
    #[serde(default)]
    artifact_manifest: Option<Sym>,
    #[serde(default)]
    runtime_constraints: Option<Value>,
    #[serde(default)]
    runtime_constraint_profile: Option<Value>,
    #[serde(default)]
    artifact_verified: Option<bool>,
    replicas: u16,
    rollout_strategy: Strategy,
    status_code: u16,
    outcome: Outcome,
    error_code: String,
    updated_unix_ms: u64,
}

impl<'de> Deserialize<'de> for RolloutRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = In::deserialize(d)?;
        let error_code = match r.error_code.as_str() {
            "" => None,
            text => Some(ErrorCode::parse(text).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown error_code {text:?}; expected one of {}",
                    ErrorCode::ALL.map(ErrorCode::as_str).join(", ")
                ))
            })?),
        };
        let non_empty = |s: Option<Sym>| s.filter(|s| !s.is_empty());
        // The tool writes `[]` for "no constraints"; ours wrote the profile object under this name
        // before it moved to `runtime_constraint_profile`.
        let constraints = r
            .runtime_constraint_profile
            .or(match r.runtime_constraints {
                Some(Value::Array(list)) if list.is_empty() => None,
                Some(Value::Null) | None => None,
                other => other,
            });
        Ok(RolloutRecord {
            case_key: r.case_key,
            case_id: r.case_id,
            deploy_target: r.deploy_target,
            runtime_profile: r.runtime_profile,
            blueprint_id: r.blueprint_id,
            environment: r.environment,
            region: r.region,
            artifact: r.artifact,
            artifact_sha256: non_empty(r.artifact_sha256),
            artifact_size_bytes: r.artifact_size_bytes.filter(|n| *n > 0),
            artifact_manifest: non_empty(r.artifact_manifest),
            runtime_constraints: constraints.map(Arc::new),
            artifact_verified: r.artifact_verified,
            replicas: r.replicas,
            rollout_strategy: r.rollout_strategy,
            status_code: r.status_code,
            outcome: r.outcome,
            error_code,
            updated_unix_ms: r.updated_unix_ms,
        })
    }
}

#[path = "rollout_line.rs"]
pub mod line;

#[cfg(test)]
#[path = "rollout_tests.rs"]
pub(crate) mod tests;
