//! What a driver is asked to deploy: one fixture case without what the fixture expects of it.
//!
//! Keeping the expectation out of the request is what makes the driver seam honest: a live
//! backend cannot peek at the answer it is graded against. The one exception is deliberate and
//! named: [`Request::simulate_retryable_failure`] is an instruction to the simulated driver (it
//! stands in for a flaky backend) and a live driver ignores it.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::sym::Sym;

/// One deployment request, as the fixture wrote it. Values are not normalized here: the driver
/// decides what `" WASM "` means, exactly as the runbook's tool does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub schema_version: u32,
    pub case_id: Sym,
    pub deploy_target: Sym,
    pub runtime_profile: Sym,
    pub blueprint_id: Sym,
    pub environment: Sym,
    pub region: Sym,
    /// Trimmed; an empty or blank string in the fixture reads as absent, as in the runbook's tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_image: Option<Sym>,
    /// Trimmed; blank reads as absent. A path relative to the fixture's directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm_module: Option<Sym>,
    /// Trimmed; blank reads as absent. A path relative to the fixture's directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm_manifest: Option<Sym>,
    pub replicas: u16,
    /// For the simulated driver only: how many attempts fail as if the backend were down.
    pub simulate_retryable_failure: SimulatedFailure,
}

/// How many attempts of a case the simulated driver fails with a retryable error.
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
                    Err(_) => Err(E::custom(format!(
                        "{v} failing attempts is out of range; expected at most {}",
                        u32::MAX
                    ))),
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
