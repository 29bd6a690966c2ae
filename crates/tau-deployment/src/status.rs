//! What operators and CI read: the transport-health snapshot and the status report with its
//! rollout gate.
//!
//! Both are computed from committed files only, without the writer lock: `state.json` is replaced
//! atomically, so a reader always sees one whole commit, and the events log is streamed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::driver::Target;
use crate::events::{self, History};
use crate::evidence::Requirements;
use crate::health::{self, HealthState};
use crate::state::{Health, State};
use crate::{Result, STATE_FILE};

/// Whether promotion may continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    Pass,
    Hold,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Pass => "pass",
            Gate::Hold => "hold",
        }
    }
}

/// Why the gate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateReason {
    /// No run has been recorded in this state dir.
    NoEvidence,
    /// The last run is older than the allowed age.
    StateStale,
    /// Cases are still queued: the fixture has not been fully evaluated.
    QueueBacklog,
    HealthDegraded,
    HealthFailing,
}

impl GateReason {
    pub fn as_str(self) -> &'static str {
        match self {
            GateReason::NoEvidence => "no_evidence",
            GateReason::StateStale => "state_stale",
            GateReason::QueueBacklog => "queue_backlog",
            GateReason::HealthDegraded => "health_degraded",
            GateReason::HealthFailing => "health_failing",
        }
    }
}

/// `--transport-health-inspect deployment`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransportHealth {
    pub transport: &'static str,
    pub health_state: HealthState,
    pub health_reason: String,
    pub recommendation: String,
    /// Absent when no run has been recorded.
    pub snapshot: Option<Health>,
}

/// Reads the health snapshot of the state in `dir`.
pub fn transport_health(dir: &Path) -> Result<TransportHealth> {
    let state = State::load(&dir.join(STATE_FILE))?;
    let class = health::classify(state.health.as_ref());
    Ok(TransportHealth {
        transport: "deployment",
        health_state: class.state,
        health_reason: class.reason,
        recommendation: class.recommendation,
        snapshot: state.health,
    })
}

/// `--deployment-status-inspect`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub health_state: HealthState,
    pub health_reason: String,
    pub recommendation: String,
    pub rollout_gate: Gate,
    pub gate_reasons: Vec<GateReason>,
    pub updated_unix_ms: Option<u64>,
    pub state_age_ms: Option<u64>,
    pub max_age_ms: Option<u64>,
    pub processed_case_count: u64,
    pub rollout_count: u64,
    pub deploy_target_counts: BTreeMap<String, u64>,
    pub runtime_profile_counts: BTreeMap<String, u64>,
    pub environment_counts: BTreeMap<String, u64>,
    pub outcome_counts: BTreeMap<String, u64>,
    pub status_code_counts: BTreeMap<String, u64>,
    pub error_code_counts: BTreeMap<String, u64>,
    pub total_replicas: u64,
    pub wasm_rollout_count: u64,
    pub cloud_rollout_count: u64,
    pub cycle_reports: u64,
    pub invalid_cycle_reports: u64,
    pub last_reason_codes: Vec<String>,
    pub reason_code_counts: BTreeMap<String, u64>,
    pub queue_depth: u64,
    pub failure_streak: u64,
    pub last_cycle_failed: u64,
    pub last_cycle_completed: u64,
}

/// Computes the status of the state in `dir` as of `now_ms`.
pub fn inspect(dir: &Path, now_ms: u64, requirements: &Requirements) -> Result<Status> {
    let state = State::load(&dir.join(STATE_FILE))?;
    let history = events::read_history(dir)?;
    Ok(compute(&state, history, now_ms, requirements.max_age_ms))
}

/// Health, gate and age of a health snapshot: everything a gate decision needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub classification: health::Classification,
    pub rollout_gate: Gate,
    pub gate_reasons: Vec<GateReason>,
    pub state_age_ms: Option<u64>,
}

/// Decides the gate from the last run's snapshot (`None` when no run is recorded).
pub fn verdict(health: Option<&Health>, now_ms: u64, max_age_ms: Option<u64>) -> Verdict {
    let classification = health::classify(health);
    let state_age_ms = health.map(|h| now_ms.saturating_sub(h.updated_unix_ms));
    let mut gate_reasons = Vec::new();
    match health {
        None => gate_reasons.push(GateReason::NoEvidence),
        Some(h) => {
            if let (Some(age), Some(max)) = (state_age_ms, max_age_ms) {
                if age > max {
                    gate_reasons.push(GateReason::StateStale);
                }
            }
            if h.queue_depth > 0 {
                gate_reasons.push(GateReason::QueueBacklog);
            }
            match classification.state {
                HealthState::Healthy => {}
                HealthState::Degraded => gate_reasons.push(GateReason::HealthDegraded),
                HealthState::Failing => gate_reasons.push(GateReason::HealthFailing),
            }
        }
    }
    let rollout_gate = if gate_reasons.is_empty() {
        Gate::Pass
    } else {
        Gate::Hold
    };
    Verdict {
        classification,
        rollout_gate,
        gate_reasons,
        state_age_ms,
    }
}

/// The status of `state` and its events `history`.
pub fn compute(state: &State, history: History, now_ms: u64, max_age_ms: Option<u64>) -> Status {
    let Verdict {
        classification: class,
        rollout_gate,
        gate_reasons,
        state_age_ms,
    } = verdict(state.health.as_ref(), now_ms, max_age_ms);
    let health = state.health.unwrap_or_default();

    let by = |map: &mut BTreeMap<String, u64>, key: &str| {
        *map.entry(key.to_string()).or_default() += 1;
    };
    let mut status = Status {
        health_state: class.state,
        health_reason: class.reason,
        recommendation: class.recommendation,
        rollout_gate,
        gate_reasons,
        updated_unix_ms: state.health.map(|h| h.updated_unix_ms),
        state_age_ms,
        max_age_ms,
        processed_case_count: state.processed_case_keys.len() as u64,
        rollout_count: state.rollouts.len() as u64,
        deploy_target_counts: BTreeMap::new(),
        runtime_profile_counts: BTreeMap::new(),
        environment_counts: BTreeMap::new(),
        outcome_counts: BTreeMap::new(),
        status_code_counts: BTreeMap::new(),
        error_code_counts: BTreeMap::new(),
        total_replicas: 0,
        wasm_rollout_count: 0,
        cloud_rollout_count: 0,
        cycle_reports: history.cycle_reports,
        invalid_cycle_reports: history.invalid_cycle_reports,
        last_reason_codes: history.last_reason_codes,
        reason_code_counts: history.reason_code_counts,
        queue_depth: health.queue_depth,
        failure_streak: health.failure_streak,
        last_cycle_failed: health.last_cycle_failed,
        last_cycle_completed: health.last_cycle_completed,
    };
    for r in &state.rollouts {
        by(&mut status.deploy_target_counts, &r.deploy_target);
        by(&mut status.runtime_profile_counts, &r.runtime_profile);
        by(&mut status.environment_counts, &r.environment);
        by(&mut status.outcome_counts, r.outcome.as_str());
        by(&mut status.status_code_counts, &r.status_code.to_string());
        if let Some(code) = r.error_code {
            by(&mut status.error_code_counts, code.as_str());
        }
        status.total_replicas += u64::from(r.replicas);
        match Target::parse(&r.deploy_target) {
            Some(t) if t.is_cloud() => status.cloud_rollout_count += 1,
            _ => status.wasm_rollout_count += 1,
        }
    }
    status
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
