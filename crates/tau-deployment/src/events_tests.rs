use super::*;

fn report(codes: &[&str]) -> String {
    report_at(1, codes)
}

fn report_at(commit_generation: u64, codes: &[&str]) -> String {
    let r = CycleReport {
        timestamp_unix_ms: 1,
        commit_generation,
        health_state: HealthState::Healthy,
        health_reason: "ok".into(),
        reason_codes: codes.iter().map(|c| c.to_string()).collect(),
        discovered_cases: 1,
        queued_cases: 1,
        applied_cases: 1,
        duplicate_skips: 0,
        malformed_cases: 0,
        retryable_failures: 0,
        retry_attempts: 0,
        failed_cases: 0,
        contract_mismatches: 0,
        upserted_rollouts: 1,
        wasm_rollouts: 0,
        cloud_rollouts: 1,
        backlog_cases: 0,
        failure_streak: 0,
    };
    serde_json::to_string(&r).unwrap() + "\n"
}

#[test]
fn healthy_cycle_only_when_nothing_else_applies() {
    assert_eq!(
        ReasonCode::for_counts(&Counts::default()),
        [ReasonCode::HealthyCycle]
    );
    let counts = Counts {
        cloud_rollouts: 1,
        backlog: 2,
        ..Counts::default()
    };
    assert_eq!(
        ReasonCode::for_counts(&counts),
        [
            ReasonCode::QueueBackpressureApplied,
            ReasonCode::CloudRolloutApplied
        ]
    );
}

#[test]
fn every_reason_code_serializes_as_its_runbook_name() {
    for code in [
        ReasonCode::HealthyCycle,
        ReasonCode::QueueBackpressureApplied,
        ReasonCode::DuplicateCasesSkipped,
        ReasonCode::MalformedInputsObserved,
        ReasonCode::RetryAttempted,
        ReasonCode::RetryableFailuresObserved,
        ReasonCode::CaseProcessingFailed,
        ReasonCode::ContractExpectationMismatch,
        ReasonCode::CloudRolloutApplied,
        ReasonCode::WasmRolloutApplied,
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
    }
}

#[test]
fn rotation_keeps_the_newest_files_and_history_reads_them_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let rotation = Rotation {
        max_bytes: 1,
        max_files: 2,
    };
    for code in ["first", "second", "third", "fourth"] {
        std::fs::write(dir.path().join(FILE), report(&[code])).unwrap();
        assert!(rotate_if_needed(dir.path(), rotation).unwrap());
    }
    std::fs::write(dir.path().join(FILE), report(&["fifth"])).unwrap();
    assert!(!dir.path().join(format!("{FILE}.3")).exists());
    let history = read_history(dir.path(), u64::MAX).unwrap();
    // "first" and "second" rotated out; .2 = third, .1 = fourth, active = fifth.
    assert_eq!(history.cycle_reports, 3);
    assert_eq!(history.last_reason_codes, ["fifth"]);
    assert_eq!(
        history.reason_code_counts.keys().collect::<Vec<_>>(),
        ["fifth", "fourth", "third"]
    );
}

#[test]
fn small_files_are_not_rotated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE), report(&["a"])).unwrap();
    assert!(!rotate_if_needed(dir.path(), Rotation::default()).unwrap());
    assert!(!rotate_if_needed(tempfile::tempdir().unwrap().path(), Rotation::default()).unwrap());
}

#[test]
fn unparsable_lines_are_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let text = report(&["a"]) + "{torn\n\n" + &report(&["b", "a"]) + "not json\n";
    std::fs::write(dir.path().join(FILE), text).unwrap();
    let history = read_history(dir.path(), u64::MAX).unwrap();
    assert_eq!(
        (history.cycle_reports, history.invalid_cycle_reports),
        (2, 2)
    );
    assert_eq!(history.reason_code_counts["a"], 2);
    assert_eq!(history.last_reason_codes, ["b", "a"]);
}

#[test]
fn missing_history_is_empty() {
    let history = read_history(&tempfile::tempdir().unwrap().path().join("nope"), 0).unwrap();
    assert_eq!(history, History::default());
}

#[test]
fn lines_of_a_run_that_has_not_committed_are_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let text = report_at(1, &["a"]) + &report_at(2, &["b"]) + &report_at(3, &["uncommitted"]);
    std::fs::write(dir.path().join(FILE), text).unwrap();
    let history = read_history(dir.path(), 2).unwrap();
    assert_eq!(
        (history.cycle_reports, history.invalid_cycle_reports),
        (2, 0)
    );
    assert_eq!(history.last_reason_codes, ["b"]);
    assert!(!history.reason_code_counts.contains_key("uncommitted"));
    assert!(history.events_log_present);
}
