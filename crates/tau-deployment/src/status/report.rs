//! `--deployment-status-inspect`: the status report.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::events::{self, History};
use crate::evidence::{Requirements, RunRecord};
use crate::health::HealthState;
use crate::state::{GateInputs, Health, State};
use crate::totals::Totals;
use crate::{Result, STATE_FILE};

use super::{gate, Evidence, Gate, GateReason, Verdict};

/// `--deployment-status-inspect`: the tool's fields first, ours after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub state_path: String,
    pub events_log_path: String,
    pub events_log_present: bool,
    pub health_state: HealthState,
    pub health_reason: String,
    pub rollout_gate: Gate,
    pub processed_case_count: u64,
    pub rollout_count: u64,
    pub target_counts: BTreeMap<String, u64>,
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
    /// The last run's snapshot; all zero when no run is recorded, as the tool prints it.
    pub health: Health,
    pub recommendation: String,
    pub gate_reasons: Vec<GateReason>,
    /// When the last run finished (its health snapshot time).
    pub updated_unix_ms: Option<u64>,
    /// Age of the evidence run.
    pub state_age_ms: Option<u64>,
    /// The maximum evidence age applied; `None` when the check is disabled.
    pub max_age_ms: Option<u64>,
    /// The run the gate's evidence comes from.
    pub evidence: Option<Evidence>,
    /// The last committed run (which may have evaluated nothing).
    pub last_run: Option<RunRecord>,
    pub queue_depth: u64,
    pub failure_streak: u64,
    pub last_cycle_failed: u64,
    pub last_cycle_completed: u64,
}

impl Status {
    /// The evidence as `key=value` fields for the text status line, in a fixed order; `none`
    /// where there is no evidence or the state does not record the value.
    pub fn evidence_fields(&self) -> Vec<(&'static str, String)> {
        let none = || "none".to_string();
        let e = self.evidence.as_ref();
        vec![
            (
                "evidence_run_id",
                e.and_then(|e| e.run_id)
                    .map_or_else(none, |id| id.to_string()),
            ),
            (
                "evidence_age_ms",
                e.map_or_else(none, |e| e.age_ms.to_string()),
            ),
            (
                "evidence_cases_applied",
                e.map_or_else(none, |e| e.cases_applied.to_string()),
            ),
            (
                "evidence_cases_evaluated",
                e.map_or_else(none, |e| e.cases_evaluated.to_string()),
            ),
            (
                "evidence_fixture_sha256",
                e.and_then(|e| e.fixture_sha256.clone())
                    .unwrap_or_else(none),
            ),
            (
                "evidence_driver",
                e.and_then(|e| e.driver)
                    .map_or_else(none, |d| d.as_str().to_string()),
            ),
            (
                "max_age_ms",
                self.max_age_ms
                    .map_or_else(|| "disabled".to_string(), |m| m.to_string()),
            ),
        ]
    }
}

/// Computes the status of the state in `dir` as of `now_ms`.
pub fn inspect(dir: &Path, now_ms: u64, requirements: &Requirements) -> Result<Status> {
    let state_path = dir.join(STATE_FILE);
    let state = State::load(&state_path)?;
    // Read after state.json: lines of a later commit are then skipped by generation.
    let history = events::read_history(dir, state.commit_generation)?;
    let mut status = compute(&state, history, now_ms, requirements)?;
    status.state_path = state_path.display().to_string();
    status.events_log_path = dir.join(events::FILE).display().to_string();
    Ok(status)
}

/// The status of `state` and its events `history` (paths left empty).
pub fn compute(
    state: &State,
    history: History,
    now_ms: u64,
    requirements: &Requirements,
) -> Result<Status> {
    let inputs = GateInputs {
        health: state.health,
        last_run: state.last_run.clone(),
        evidence_run: state.evidence_run.clone(),
    };
    let Verdict {
        classification: class,
        rollout_gate,
        gate_reasons,
        state_age_ms,
        evidence,
        max_age_ms,
    } = gate(&inputs, now_ms, requirements);
    let totals = match &state.totals {
        Some(totals) => totals.clone(),
        // A history still inline (written by the tool or an older tau): count it here.
        None => Totals::of(&state.rollouts, state.processed_case_keys.len() as u64)?,
    };
    let health = state.health.unwrap_or_default();
    Ok(Status {
        state_path: String::new(),
        events_log_path: String::new(),
        events_log_present: history.events_log_present,
        health_state: class.state,
        health_reason: class.reason,
        rollout_gate,
        processed_case_count: totals.processed_case_count,
        rollout_count: totals.rollout_count,
        target_counts: totals.deploy_target_counts,
        runtime_profile_counts: totals.runtime_profile_counts,
        environment_counts: totals.environment_counts,
        outcome_counts: totals.outcome_counts,
        status_code_counts: totals.status_code_counts,
        error_code_counts: totals.error_code_counts,
        total_replicas: totals.total_replicas,
        wasm_rollout_count: totals.wasm_rollout_count,
        cloud_rollout_count: totals.cloud_rollout_count,
        cycle_reports: history.cycle_reports,
        invalid_cycle_reports: history.invalid_cycle_reports,
        last_reason_codes: history.last_reason_codes,
        reason_code_counts: history.reason_code_counts,
        health,
        recommendation: class.recommendation,
        gate_reasons,
        updated_unix_ms: state.health.map(|h| h.updated_unix_ms),
        state_age_ms,
        max_age_ms,
        evidence,
        last_run: state.last_run.clone(),
        queue_depth: health.queue_depth,
        failure_streak: health.failure_streak,
        last_cycle_failed: health.last_cycle_failed,
        last_cycle_completed: health.last_cycle_completed,
    })
}
