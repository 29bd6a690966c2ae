use super::*;
use crate::events::History;
use crate::evidence::{DriverKind, Requirements, RunRecord, DEFAULT_MAX_AGE_MS};
use crate::state::{Health, RolloutRecord, State};
use crate::sym::Sym;

fn healthy(updated: u64, queue_depth: u64) -> Health {
    Health {
        updated_unix_ms: updated,
        last_cycle_completed: 1,
        queue_depth,
        ..Health::default()
    }
}

fn run(run_id: u64, finished: u64, evaluated: u64) -> RunRecord {
    RunRecord {
        run_id,
        started_unix_ms: finished,
        finished_unix_ms: finished,
        driver: DriverKind::Simulated,
        fixture_sha256: "ab".repeat(32),
        cases_discovered: 4,
        cases_evaluated: evaluated,
        cases_applied: evaluated,
        cases_failed: 0,
    }
}

/// A state whose last run finished at `finished`; that run is the evidence.
fn recorded(finished: u64) -> State {
    State {
        health: Some(healthy(finished, 0)),
        last_run: Some(run(1, finished, 4)),
        evidence_run: Some(run(1, finished, 4)),
        ..State::default()
    }
}

fn max_age(ms: u64) -> Requirements {
    Requirements {
        max_age_ms: Some(ms),
        ..Requirements::default()
    }
}

fn status(state: &State, now: u64, requirements: &Requirements) -> Status {
    compute(state, History::default(), now, requirements).unwrap()
}

#[test]
fn no_recorded_run_holds_for_lack_of_evidence() {
    let s = status(&State::default(), 10, &Requirements::default());
    assert_eq!(s.rollout_gate, Gate::Hold);
    assert_eq!(s.gate_reasons, [GateReason::NoEvidence]);
    assert_eq!(s.state_age_ms, None);
}

#[test]
fn healthy_fresh_complete_state_passes_and_names_its_evidence() {
    let s = status(&recorded(1_000), 1_500, &max_age(1_000));
    assert_eq!(s.rollout_gate, Gate::Pass);
    assert_eq!(s.state_age_ms, Some(500));
    let e = s.evidence.unwrap();
    assert_eq!(
        (e.run_id, e.age_ms, e.cases_applied, e.driver),
        (Some(1), 500, 4, Some(DriverKind::Simulated))
    );
    assert_eq!(e.fixture_sha256.unwrap(), "ab".repeat(32));
}

#[test]
fn stale_evidence_holds() {
    let s = status(&recorded(1_000), 5_000, &max_age(1_000));
    assert_eq!(s.gate_reasons, [GateReason::StateStale]);
}

#[test]
fn evidence_has_a_default_maximum_age_and_zero_disables_it() {
    let old = recorded(1_000);
    let later = 1_000 + DEFAULT_MAX_AGE_MS + 1;
    let s = status(&old, later, &Requirements::default());
    assert_eq!(s.gate_reasons, [GateReason::StateStale]);
    assert_eq!(s.max_age_ms, Some(DEFAULT_MAX_AGE_MS));
    let s = status(&old, later, &max_age(0));
    assert_eq!(s.rollout_gate, Gate::Pass);
    assert_eq!(s.max_age_ms, None);
}

#[test]
fn a_run_that_evaluated_nothing_is_not_new_evidence() {
    // Evidence from t=1000; a later rerun at t=1h+500 deduplicated every case.
    let mut state = recorded(1_000);
    let rerun_at = 1_000 + DEFAULT_MAX_AGE_MS + 500;
    state.last_run = Some(run(2, rerun_at, 0));
    state.health = Some(healthy(rerun_at, 0));
    let s = status(&state, rerun_at, &Requirements::default());
    assert_eq!(s.gate_reasons, [GateReason::StateStale]);
    let e = s.evidence.unwrap();
    assert_eq!((e.run_id, e.age_ms), (Some(1), DEFAULT_MAX_AGE_MS + 500));
}

#[test]
fn runs_that_never_evaluated_a_case_hold_for_lack_of_evidence() {
    let state = State {
        health: Some(healthy(1_000, 0)),
        last_run: Some(run(1, 1_000, 0)),
        ..State::default()
    };
    let s = status(&state, 1_000, &Requirements::default());
    assert_eq!(s.gate_reasons, [GateReason::NoEvidence]);
}

#[test]
fn evidence_from_another_fixture_holds_with_fixture_mismatch() {
    let mut requirements = max_age(0);
    requirements.fixture_sha256 = Some("cd".repeat(32));
    let s = status(&recorded(1), 1, &requirements);
    assert_eq!(s.gate_reasons, [GateReason::FixtureMismatch]);
    requirements.fixture_sha256 = Some("AB".repeat(32));
    assert_eq!(
        status(&recorded(1), 1, &requirements).rollout_gate,
        Gate::Pass
    );
}

#[test]
fn simulated_evidence_holds_when_live_evidence_is_required() {
    let mut requirements = max_age(0);
    requirements.require_live = true;
    let s = status(&recorded(1), 1, &requirements);
    assert_eq!(s.gate_reasons, [GateReason::SimulatedEvidence]);
    let mut live = recorded(1);
    live.evidence_run.as_mut().unwrap().driver = DriverKind::DeployAgent;
    assert_eq!(status(&live, 1, &requirements).rollout_gate, Gate::Pass);
}

#[test]
fn a_state_from_before_run_records_is_judged_by_its_health_time() {
    let state = State {
        health: Some(healthy(1_000, 0)),
        ..State::default()
    };
    assert_eq!(
        status(&state, 1_500, &max_age(1_000)).rollout_gate,
        Gate::Pass
    );
    let mut requirements = max_age(1_000);
    requirements.fixture_sha256 = Some("ab".repeat(32));
    assert_eq!(
        status(&state, 1_500, &requirements).gate_reasons,
        [GateReason::FixtureMismatch]
    );
}

#[test]
fn pending_cases_hold_the_gate() {
    let mut state = recorded(1_000);
    state.health = Some(healthy(1_000, 3));
    let s = status(&state, 1_000, &Requirements::default());
    assert_eq!(s.gate_reasons, [GateReason::QueueBacklog]);
}

#[test]
fn degraded_and_failing_hold_with_their_reason() {
    for (streak, reason) in [
        (1, GateReason::HealthDegraded),
        (3, GateReason::HealthFailing),
    ] {
        let mut state = recorded(1);
        state.health.as_mut().unwrap().failure_streak = streak;
        assert_eq!(
            status(&state, 1, &Requirements::default()).gate_reasons,
            [reason]
        );
    }
}

#[test]
fn the_snapshot_verdict_checks_age_only_when_asked() {
    let h = healthy(1_000, 0);
    assert_eq!(verdict(Some(&h), 10_000_000, None).rollout_gate, Gate::Pass);
    assert_eq!(
        verdict(Some(&h), 10_000, Some(1_000)).gate_reasons,
        [GateReason::StateStale]
    );
    assert_eq!(
        verdict(None, 1, None).gate_reasons,
        [GateReason::NoEvidence]
    );
}

#[test]
fn rollouts_are_counted_by_dimension() {
    let record = |target: &str, profile: &str, replicas| RolloutRecord {
        case_key: Sym::new(&format!("{target}:{profile}")),
        case_id: Sym::new(target),
        deploy_target: Sym::new(target),
        runtime_profile: Sym::new(profile),
        blueprint_id: Sym::new("bp"),
        environment: Sym::new("staging"),
        region: Sym::new("r"),
        artifact: Sym::new("a"),
        artifact_sha256: None,
        artifact_size_bytes: None,
        artifact_manifest: None,
        runtime_constraints: None,
        artifact_verified: None,
        replicas,
        rollout_strategy: crate::driver::Strategy::Canary,
        status_code: 201,
        outcome: crate::driver::Outcome::Success,
        error_code: None,
        updated_unix_ms: 1,
    };
    let state = State {
        rollouts: vec![
            record("container", "native", 2),
            record("kubernetes", "native", 3),
            record("wasm", "wasm_wasi", 1),
        ],
        ..recorded(1)
    };
    let s = status(&state, 1, &Requirements::default());
    assert_eq!((s.cloud_rollout_count, s.wasm_rollout_count), (2, 1));
    assert_eq!(s.total_replicas, 6);
    assert_eq!(s.runtime_profile_counts["native"], 2);
    assert_eq!(s.target_counts["kubernetes"], 1);
    assert_eq!(s.status_code_counts["201"], 3);
    assert!(s.error_code_counts.is_empty());
}

#[test]
fn the_status_json_keeps_the_tools_fields_beside_ours() {
    let dir = tempfile::tempdir().unwrap();
    let s = inspect(dir.path(), 1, &Requirements::default()).unwrap();
    let json = serde_json::to_value(&s).unwrap();
    for key in [
        "state_path",
        "events_log_path",
        "events_log_present",
        "health_state",
        "health_reason",
        "rollout_gate",
        "processed_case_count",
        "rollout_count",
        "target_counts",
        "runtime_profile_counts",
        "environment_counts",
        "outcome_counts",
        "status_code_counts",
        "error_code_counts",
        "total_replicas",
        "wasm_rollout_count",
        "cloud_rollout_count",
        "cycle_reports",
        "invalid_cycle_reports",
        "last_reason_codes",
        "reason_code_counts",
        "gate_reasons",
        "evidence",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    assert_eq!(json["health"]["failure_streak"], 0);
    assert_eq!(json["events_log_present"], false);
    assert!(json["state_path"].as_str().unwrap().ends_with("state.json"));
}

#[test]
fn transport_health_of_an_empty_dir_is_not_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let health = transport_health(dir.path()).unwrap();
    assert_eq!(health.health_state, HealthState::Degraded);
    assert!(health.snapshot.is_none());
}

#[test]
fn transport_health_rows_are_the_tools_list_shape() {
    let dir = tempfile::tempdir().unwrap();
    let rows = transport_health_rows(dir.path()).unwrap();
    let json = serde_json::to_value(&rows).unwrap();
    let row = &json[0];
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(
        (row["transport"].as_str(), row["target"].as_str()),
        (Some("deployment"), Some("deployment"))
    );
    assert!(row["state_path"].as_str().unwrap().ends_with("state.json"));
    assert_eq!(row["health"]["queue_depth"], 0);
}

#[test]
fn the_text_fields_name_the_evidence_run() {
    let s = status(&recorded(1_000), 1_500, &max_age(0));
    let fields: std::collections::BTreeMap<_, _> = s.evidence_fields().into_iter().collect();
    assert_eq!(fields["evidence_run_id"], "1");
    assert_eq!(fields["evidence_age_ms"], "500");
    assert_eq!(fields["evidence_cases_applied"], "4");
    assert_eq!(fields["evidence_driver"], "simulated");
    assert_eq!(fields["evidence_fixture_sha256"], "ab".repeat(32));
    assert_eq!(fields["max_age_ms"], "disabled");
    let empty = status(&State::default(), 1, &Requirements::default());
    assert_eq!(empty.evidence_fields()[0].1, "none");
}
