//! What operators and CI read: the transport-health snapshot and the status report with its
//! rollout gate.
//!
//! Both are computed from committed files only, without the writer lock: `state.json` is replaced
//! atomically, so a reader always sees one whole commit, and event lines of runs that have not
//! committed are skipped. Both reports keep the runbook tool's JSON shape and add ours beside it.
//!
//! The gate passes only on evidence that fits the question: a run that evaluated at least one
//! case ([`RunRecord::is_evidence`]), recent enough, from the fixture being promoted when the
//! reader names one, and from a live driver when the reader demands one.

use std::path::Path;

use serde::Serialize;

use crate::evidence::{DriverKind, Requirements, RunRecord, DEFAULT_MAX_AGE_MS};
use crate::health::{self, HealthState};
use crate::state::{GateInputs, Health, State};
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
    /// No run that evaluated a case is recorded in this state dir.
    NoEvidence,
    /// The evidence run is older than the allowed age.
    StateStale,
    /// The evidence run replayed a fixture other than the one the reader is promoting.
    FixtureMismatch,
    /// The reader requires a live driver; the evidence run's outcomes were simulated.
    SimulatedEvidence,
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
            GateReason::FixtureMismatch => "fixture_mismatch",
            GateReason::SimulatedEvidence => "simulated_evidence",
            GateReason::QueueBacklog => "queue_backlog",
            GateReason::HealthDegraded => "health_degraded",
            GateReason::HealthFailing => "health_failing",
        }
    }
}

/// The run a gate decision rests on, as the status report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// `None` for a state written before runs were recorded (only its health time is known).
    pub run_id: Option<u64>,
    pub finished_unix_ms: u64,
    pub age_ms: u64,
    /// `None` when the state does not say (written before runs were recorded).
    pub driver: Option<DriverKind>,
    /// `None` when the state does not say (written before runs were recorded).
    pub fixture_sha256: Option<String>,
    pub cases_evaluated: u64,
    pub cases_applied: u64,
    pub cases_failed: u64,
}

impl Evidence {
    fn of(run: &RunRecord, now_ms: u64) -> Self {
        Evidence {
            run_id: Some(run.run_id),
            finished_unix_ms: run.finished_unix_ms,
            age_ms: run.age_ms(now_ms),
            driver: Some(run.driver),
            fixture_sha256: Some(run.fixture_sha256.clone()),
            cases_evaluated: run.cases_evaluated,
            cases_applied: run.cases_applied,
            cases_failed: run.cases_failed,
        }
    }

    /// A state from before run records: the last run's health is all there is.
    fn legacy(health: &Health, now_ms: u64) -> Self {
        Evidence {
            run_id: None,
            finished_unix_ms: health.updated_unix_ms,
            age_ms: now_ms.saturating_sub(health.updated_unix_ms),
            driver: None,
            fixture_sha256: None,
            cases_evaluated: health
                .last_cycle_completed
                .saturating_add(health.last_cycle_failed),
            cases_applied: 0,
            cases_failed: health.last_cycle_failed,
        }
    }
}

/// Health, gate and evidence: everything a gate decision yields.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub classification: health::Classification,
    pub rollout_gate: Gate,
    pub gate_reasons: Vec<GateReason>,
    /// Age of the evidence run (`None` without evidence).
    pub state_age_ms: Option<u64>,
    pub evidence: Option<Evidence>,
    /// The maximum age applied (`None` when the check is disabled).
    pub max_age_ms: Option<u64>,
}

/// How far ahead of this host's clock evidence may be stamped before it counts as stale.
pub const FUTURE_SLACK_MS: u64 = 5 * 60 * 1000;

/// Decides the gate from what `state.json` records, as of `now_ms`.
pub fn gate(inputs: &GateInputs, now_ms: u64, requirements: &Requirements) -> Verdict {
    let health = inputs.health.as_ref();
    let classification = health::classify(health);
    let evidence = match (&inputs.evidence_run, &inputs.last_run, health) {
        (Some(run), _, _) => Some(Evidence::of(run, now_ms)),
        // Runs are recorded, and none applied a case.
        (None, Some(_), _) => None,
        // State written by the runbook's tool: its last run is evidence only if it judged cases.
        (None, None, Some(h)) if h.last_cycle_completed.saturating_add(h.last_cycle_failed) > 0 => {
            Some(Evidence::legacy(h, now_ms))
        }
        (None, None, _) => None,
    };
    let max_age_ms = match requirements.max_age_ms.unwrap_or(DEFAULT_MAX_AGE_MS) {
        0 => None,
        max => Some(max),
    };
    let mut gate_reasons = Vec::new();
    match (&evidence, health) {
        (Some(e), Some(h)) => {
            // Evidence from the future (a skewed clock, an edited file) would never age: it is
            // as untrustworthy as old evidence.
            let from_the_future = e.finished_unix_ms > now_ms.saturating_add(FUTURE_SLACK_MS);
            if from_the_future || max_age_ms.is_some_and(|max| e.age_ms > max) {
                gate_reasons.push(GateReason::StateStale);
            }
            if let Some(want) = &requirements.fixture_sha256 {
                let matches = e
                    .fixture_sha256
                    .as_deref()
                    .is_some_and(|got| got.eq_ignore_ascii_case(want.trim()));
                if !matches {
                    gate_reasons.push(GateReason::FixtureMismatch);
                }
            }
            if requirements.require_live && !e.driver.is_some_and(DriverKind::is_live) {
                gate_reasons.push(GateReason::SimulatedEvidence);
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
        _ => gate_reasons.push(GateReason::NoEvidence),
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
        state_age_ms: evidence.as_ref().map(|e| e.age_ms),
        evidence,
        max_age_ms,
    }
}

/// Decides the gate from the last run's health snapshot alone (`None` when no run is recorded);
/// `max_age_ms: None` checks no age. What a reader that only has the snapshot can decide; a
/// reader of `state.json` should use [`gate`] with [`State::read_gate_inputs`].
pub fn verdict(health: Option<&Health>, now_ms: u64, max_age_ms: Option<u64>) -> Verdict {
    let inputs = GateInputs {
        health: health.copied(),
        ..GateInputs::default()
    };
    let requirements = Requirements {
        max_age_ms: Some(max_age_ms.unwrap_or(0)),
        ..Requirements::default()
    };
    gate(&inputs, now_ms, &requirements)
}

/// One row of `--transport-health-inspect deployment --json`, in the tool's shape (a list of
/// `{transport, target, state_path, health}`) with the classification beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransportHealthRow {
    pub transport: &'static str,
    pub target: &'static str,
    pub state_path: String,
    /// All zero when no run has been recorded, as the tool prints it.
    pub health: Health,
    pub health_state: HealthState,
    pub health_reason: String,
    pub recommendation: String,
}

/// The transport-health rows of the state in `dir` (one: the deployment transport).
pub fn transport_health_rows(dir: &Path) -> Result<Vec<TransportHealthRow>> {
    let state_path = dir.join(STATE_FILE);
    let health = State::read_health(&state_path)?;
    let class = health::classify(health.as_ref());
    Ok(vec![TransportHealthRow {
        transport: "deployment",
        target: "deployment",
        state_path: state_path.display().to_string(),
        health: health.unwrap_or_default(),
        health_state: class.state,
        health_reason: class.reason,
        recommendation: class.recommendation,
    }])
}

/// `--transport-health-inspect deployment` as one object (kept for the text output).
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
    let health = State::read_health(&dir.join(STATE_FILE))?;
    let class = health::classify(health.as_ref());
    Ok(TransportHealth {
        transport: "deployment",
        health_state: class.state,
        health_reason: class.reason,
        recommendation: class.recommendation,
        snapshot: health,
    })
}

mod report;

pub use report::{compute, inspect, Status};

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
