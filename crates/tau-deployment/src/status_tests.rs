use super::*;
use crate::state::{Health, RolloutRecord};
use crate::sym::Sym;

fn healthy(updated: u64, queue_depth: u64) -> Health {
    Health {
        updated_unix_ms: updated,
        last_cycle_completed: 1,
        queue_depth,
        ..Health::default()
    }
}

#[test]
fn no_recorded_run_holds_for_lack_of_evidence() {
    let status = compute(&State::default(), History::default(), 10, None);
    assert_eq!(status.rollout_gate, Gate::Hold);
    assert_eq!(status.gate_reasons, [GateReason::NoEvidence]);
    assert_eq!(status.state_age_ms, None);
}

#[test]
fn healthy_fresh_complete_state_passes() {
    let state = State {
        health: Some(healthy(1_000, 0)),
        ..State::default()
    };
    let status = compute(&state, History::default(), 1_500, Some(1_000));
    assert_eq!(status.rollout_gate, Gate::Pass);
    assert_eq!(status.state_age_ms, Some(500));
}

#[test]
fn stale_state_holds() {
    let state = State {
        health: Some(healthy(1_000, 0)),
        ..State::default()
    };
    let status = compute(&state, History::default(), 5_000, Some(1_000));
    assert_eq!(status.gate_reasons, [GateReason::StateStale]);
}

#[test]
fn pending_cases_hold_the_gate() {
    let state = State {
        health: Some(healthy(1_000, 3)),
        ..State::default()
    };
    let status = compute(&state, History::default(), 1_000, None);
    assert_eq!(status.gate_reasons, [GateReason::QueueBacklog]);
}

#[test]
fn degraded_and_failing_hold_with_their_reason() {
    for (streak, reason) in [
        (1, GateReason::HealthDegraded),
        (3, GateReason::HealthFailing),
    ] {
        let mut health = healthy(1, 0);
        health.failure_streak = streak;
        let state = State {
            health: Some(health),
            ..State::default()
        };
        assert_eq!(
            compute(&state, History::default(), 1, None).gate_reasons,
            [reason]
        );
    }
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
        health: Some(healthy(1, 0)),
        ..State::default()
    };
    let status = compute(&state, History::default(), 1, None);
    assert_eq!(
        (status.cloud_rollout_count, status.wasm_rollout_count),
        (2, 1)
    );
    assert_eq!(status.total_replicas, 6);
    assert_eq!(status.runtime_profile_counts["native"], 2);
    assert_eq!(status.status_code_counts["201"], 3);
    assert!(status.error_code_counts.is_empty());
}

#[test]
fn transport_health_of_an_empty_dir_is_not_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let health = transport_health(dir.path()).unwrap();
    assert_eq!(health.health_state, HealthState::Degraded);
    assert!(health.snapshot.is_none());
}
