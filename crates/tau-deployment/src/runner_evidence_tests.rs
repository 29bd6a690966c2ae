//! Run records, per-case reports, history, and the defects closed in issue 9 (#4, #6, #9 - #13).

use super::tests::{evaluator, fixture, run_with, state, CrashAt, MIXED, PASS};
use super::*;
use crate::evidence::{DriverKind, Requirements};
use crate::status::{self, Gate, GateReason};
use std::fs;

#[test]
fn every_run_records_what_it_is_evidence_of() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(MIXED, dir.path(), &Options::default());
    let run = &report.run;
    assert_eq!(run.run_id, 1);
    assert_eq!(run.driver, DriverKind::Simulated);
    assert_eq!(run.fixture_sha256, crate::evidence::fixture_digest(MIXED));
    assert_eq!(
        (
            run.cases_discovered,
            run.cases_evaluated,
            run.cases_applied,
            run.cases_failed
        ),
        (6, 6, 2, 1)
    );
    let s = state(dir.path());
    assert_eq!(s.last_run.as_ref(), Some(run));
    assert_eq!(s.evidence_run.as_ref(), Some(run));
}

#[test]
fn a_rerun_that_applies_nothing_keeps_the_earlier_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_with(PASS, dir.path(), &Options::default());
    let second = run_with(PASS, dir.path(), &Options::default());
    assert_eq!(second.run.cases_evaluated, 0);
    let s = state(dir.path());
    assert_eq!(s.last_run.unwrap().run_id, 2);
    assert_eq!(s.evidence_run.unwrap(), first.run);
    // The evidence is as old as the first run, whatever the rerun did.
    let later = first.run.finished_unix_ms + crate::evidence::DEFAULT_MAX_AGE_MS + 1;
    let status = status::inspect(dir.path(), later, &Requirements::default()).unwrap();
    assert_eq!(status.gate_reasons, [GateReason::StateStale]);
    assert_eq!(status.evidence.unwrap().run_id, Some(1));
}

#[test]
fn a_run_of_duplicates_does_not_wash_out_the_failures_before_it() {
    let dir = tempfile::tempdir().unwrap();
    run_with(PASS, dir.path(), &Options::default());
    let failing = run_with(MIXED, dir.path(), &Options::default());
    assert!(failing.counts.failed > 0);
    let rerun = run_with(PASS, dir.path(), &Options::default());
    assert_eq!(rerun.run.cases_evaluated, 0);
    let now = rerun.run.finished_unix_ms;
    let status = status::inspect(dir.path(), now, &Requirements::default()).unwrap();
    assert_eq!(status.rollout_gate, Gate::Hold);
    assert!(
        status.gate_reasons.contains(&GateReason::HealthDegraded),
        "{:?}",
        status.gate_reasons
    );
}

const REJECTED_ONLY: &[u8] = br#"{"schema_version":1,"name":"rejected-only","cases":[
  {"case_id":"bad","deploy_target":"mainframe","runtime_profile":"native","blueprint_id":"bp",
   "environment":"staging","region":"r","container_image":"img:1",
   "expected":{"outcome":"malformed_input","status_code":400,
     "error_code":"deployment_invalid_blueprint","response_body":{"status":"rejected"},
     "response_body_match":"subset"}}]}"#;

#[test]
fn a_run_that_applied_no_case_is_not_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(REJECTED_ONLY, dir.path(), &Options::default());
    assert_eq!(
        (report.run.cases_evaluated, report.run.cases_applied),
        (1, 0)
    );
    assert!(!report.contract_broken());
    let status = status::inspect(
        dir.path(),
        report.run.finished_unix_ms,
        &Requirements::default(),
    )
    .unwrap();
    assert_eq!(status.gate_reasons, [GateReason::NoEvidence]);
}

#[test]
fn evidence_stamped_in_the_future_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(PASS, dir.path(), &Options::default());
    let earlier = report.run.finished_unix_ms - status::FUTURE_SLACK_MS - 1;
    let status = status::inspect(dir.path(), earlier, &Requirements::default()).unwrap();
    assert_eq!(status.gate_reasons, [GateReason::StateStale]);
}

#[test]
fn the_gate_holds_for_another_fixture_and_for_simulated_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(PASS, dir.path(), &Options::default());
    let now = report.run.finished_unix_ms;
    let check = |requirements: Requirements| {
        status::inspect(dir.path(), now, &requirements)
            .unwrap()
            .gate_reasons
    };
    assert_eq!(check(Requirements::default()), []);
    let same = Requirements {
        fixture_sha256: Some(crate::evidence::fixture_digest(PASS)),
        ..Requirements::default()
    };
    assert_eq!(check(same), []);
    let other = Requirements {
        fixture_sha256: Some(crate::evidence::fixture_digest(MIXED)),
        ..Requirements::default()
    };
    assert_eq!(check(other), [GateReason::FixtureMismatch]);
    let live = Requirements {
        require_live: true,
        ..Requirements::default()
    };
    assert_eq!(check(live), [GateReason::SimulatedEvidence]);
}

/// Runs PASS with its first `from` replaced by `to`, keeping case reports.
fn run_edited(dir: &std::path::Path, from: &str, to: &str) -> Report {
    let text = String::from_utf8(PASS.to_vec())
        .unwrap()
        .replacen(from, to, 1);
    run(
        fixture(text.as_bytes()),
        dir,
        &reporting(),
        &mut evaluator(),
        &mut crate::hooks::Quiet,
    )
    .unwrap()
}

fn reporting() -> Options {
    Options {
        keep_case_reports: true,
        ..Options::default()
    }
}

#[test]
fn case_reports_are_kept_only_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(MIXED, dir.path(), &Options::default());
    assert!(report.cases.is_empty());
    assert_eq!(report.counts.queued, 6);
}

#[test]
fn a_rerun_reports_every_fixture_case_it_skipped_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_with(PASS, dir.path(), &reporting());
    assert!(first.skipped.is_empty());
    let rerun = run_with(PASS, dir.path(), &reporting());
    assert!(rerun.cases.is_empty());
    assert_eq!(rerun.skipped.len(), first.cases.len());
    assert!(rerun
        .skipped
        .iter()
        .all(|c| c.reason == ReasonCode::DuplicateCasesSkipped));
    let limited = Options {
        limits: Limits {
            queue_limit: 1,
            ..Limits::default()
        },
        ..reporting()
    };
    let other = tempfile::tempdir().unwrap();
    let report = run_with(PASS, other.path(), &limited);
    assert_eq!(report.cases.len(), 1);
    assert_eq!(report.skipped.len(), first.cases.len() - 1);
    assert!(report
        .skipped
        .iter()
        .all(|c| c.reason == ReasonCode::QueueBackpressureApplied));
}

#[test]
fn the_report_lists_every_evaluated_case_and_names_failures() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(MIXED, dir.path(), &reporting());
    assert_eq!(report.cases.len(), 6);
    let retry = report
        .cases
        .iter()
        .find(|c| c.disposition == "retries_exhausted")
        .unwrap();
    let message = retry.message.as_deref().unwrap();
    assert!(message.contains(&*retry.case_id), "{message}");
    assert!(message.contains(&*retry.blueprint_id), "{message}");
    assert!(report.cases.iter().all(|c| c.passed));
    let applied = report.cases.iter().filter(|c| c.disposition == "applied");
    assert_eq!(applied.count(), 2);
}

#[test]
fn a_broken_contract_fails_its_case_naming_case_and_blueprint() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_edited(dir.path(), "\"status_code\": 202", "\"status_code\": 299");
    let failed: Vec<_> = report.cases.iter().filter(|c| !c.passed).collect();
    assert_eq!(failed.len(), 1);
    let message = failed[0].message.as_deref().unwrap();
    assert!(
        message.contains(&*failed[0].case_id) && message.contains("blueprint"),
        "{message}"
    );
    assert_eq!(report.contract_failures.len(), 1);
}

#[test]
fn status_readers_never_see_a_run_that_did_not_commit() {
    let dir = tempfile::tempdir().unwrap();
    run_with(PASS, dir.path(), &Options::default());
    let before = status::inspect(dir.path(), 0, &Requirements::default()).unwrap();
    let crashed = std::panic::catch_unwind(|| {
        let _ = run(
            fixture(MIXED),
            dir.path(),
            &Options::default(),
            &mut evaluator(),
            &mut CrashAt(Phase::AppendsWritten),
        );
    });
    assert!(crashed.is_err());
    // The killed run's event line is on disk, its state is not; no one has recovered yet.
    let events = fs::read_to_string(dir.path().join(events::FILE)).unwrap();
    assert_eq!(events.lines().count(), 2);
    let after = status::inspect(dir.path(), 0, &Requirements::default()).unwrap();
    assert_eq!(after, before);
    assert_eq!(after.cycle_reports, 1);
}

#[test]
fn the_history_remembers_what_the_window_forgets() {
    let dir = tempfile::tempdir().unwrap();
    run_with(MIXED, dir.path(), &Options::default());
    let keys = fs::read(dir.path().join(history::PROCESSED_FILE)).unwrap();
    assert_eq!(keys.len(), 5 * 16);
    let rollouts = fs::read_to_string(dir.path().join(history::ROLLOUTS_FILE)).unwrap();
    assert_eq!(rollouts.lines().count(), 2);
    let status = status::inspect(dir.path(), 0, &Requirements::default()).unwrap();
    assert_eq!((status.processed_case_count, status.rollout_count), (5, 2));
}

#[test]
fn an_inline_history_moves_to_the_history_files_without_reapplying_anything() {
    let dir = tempfile::tempdir().unwrap();
    run_with(PASS, dir.path(), &Options::default());
    // Rewrite the state as the tool (or an older tau) would hold it: everything inline, no totals,
    // and a processed list that already forgot two applied cases.
    let path = dir.path().join(STATE_FILE);
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let object = value.as_object_mut().unwrap();
    for key in ["history_totals", "last_run", "evidence_run"] {
        object.remove(key);
    }
    object["processed_case_keys"]
        .as_array_mut()
        .unwrap()
        .drain(..2);
    fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
    fs::remove_dir_all(dir.path().join("history")).unwrap();

    let report = run_with(PASS, dir.path(), &Options::default());
    assert_eq!(
        (report.counts.queued, report.counts.duplicate_skips),
        (0, 4)
    );
    let s = state(dir.path());
    let totals = s.totals.unwrap();
    assert_eq!((totals.processed_case_count, totals.rollout_count), (4, 4));
    let keys = fs::read(dir.path().join(history::PROCESSED_FILE)).unwrap();
    assert_eq!(keys.len(), 4 * 16);
}

#[cfg(unix)]
#[test]
fn a_symlinked_log_in_the_state_dir_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    fs::write(&victim, b"keep\n").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join(events::FILE)).unwrap();
    let err = run(
        fixture(PASS),
        dir.path(),
        &Options::default(),
        &mut evaluator(),
        &mut crate::hooks::Quiet,
    )
    .unwrap_err();
    assert!(err.to_string().contains("symlink"), "{err}");
    assert_eq!(fs::read(&victim).unwrap(), b"keep\n");
    assert!(!dir.path().join(STATE_FILE).exists());
}

#[cfg(unix)]
#[test]
fn a_symlinked_channel_store_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let store = dir.path().join(channel::ROOT);
    fs::create_dir_all(&store).unwrap();
    std::os::unix::fs::symlink(outside.path(), store.join("gateway-api")).unwrap();
    let err = run(
        fixture(PASS),
        dir.path(),
        &Options::default(),
        &mut evaluator(),
        &mut crate::hooks::Quiet,
    )
    .unwrap_err();
    assert!(err.to_string().contains("symlink"), "{err}");
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn an_events_log_without_its_final_newline_gets_the_next_record_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(events::FILE), b"{\"torn\":").unwrap();
    run_with(PASS, dir.path(), &Options::default());
    let text = fs::read_to_string(dir.path().join(events::FILE)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], "{\"torn\":");
    assert!(serde_json::from_str::<events::CycleReport>(lines[1]).is_ok());
    let status = status::inspect(dir.path(), 0, &Requirements::default()).unwrap();
    assert_eq!((status.cycle_reports, status.invalid_cycle_reports), (1, 1));
}

#[test]
fn a_counter_that_would_overflow_fails_the_run_and_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    run_with(MIXED, dir.path(), &Options::default());
    let path = dir.path().join(STATE_FILE);
    let text = fs::read_to_string(&path).unwrap();
    let streak = format!("\"failure_streak\":{}", u64::MAX);
    let text = text.replacen("\"failure_streak\":1", &streak, 1);
    fs::write(&path, &text).unwrap();
    let err = run(
        fixture(MIXED),
        dir.path(),
        &Options::default(),
        &mut evaluator(),
        &mut crate::hooks::Quiet,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::CounterOverflow {
                counter: "failure_streak"
            }
        ),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn recorded_targets_and_profiles_are_normalized_as_the_tool_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_edited(
        dir.path(),
        "\"deploy_target\": \"container\"",
        "\"deploy_target\": \" Container \"",
    );
    assert_eq!(report.counts.applied, 4);
    let s = state(dir.path());
    let targets: Vec<&str> = s.rollouts.iter().map(|r| &*r.deploy_target).collect();
    assert!(targets.contains(&"container"), "{targets:?}");
    assert!(!targets.contains(&" Container "), "{targets:?}");
}

#[test]
fn the_state_file_parses_with_the_field_types_the_tool_requires() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct ToolState {
        #[serde(default)]
        schema_version: u32,
        #[serde(default)]
        processed_case_keys: Vec<String>,
        #[serde(default)]
        rollouts: Vec<serde_json::Value>,
        #[serde(default)]
        health: ToolHealth,
    }
    #[derive(serde::Deserialize, Default)]
    #[allow(dead_code)]
    struct ToolHealth {
        updated_unix_ms: u64,
        cycle_duration_ms: u64,
        queue_depth: usize,
        active_runs: usize,
        failure_streak: usize,
        last_cycle_discovered: usize,
        last_cycle_processed: usize,
        last_cycle_completed: usize,
        last_cycle_failed: usize,
        last_cycle_duplicates: usize,
    }
    let dir = tempfile::tempdir().unwrap();
    run_with(MIXED, dir.path(), &Options::default());
    let bytes = fs::read(dir.path().join(STATE_FILE)).unwrap();
    let tool: ToolState = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(tool.processed_case_keys.len(), 5);
    assert_eq!(tool.health.last_cycle_failed, 1);
    assert!(!String::from_utf8(bytes).unwrap().contains("null"));
    let status = status::inspect(dir.path(), 0, &Requirements::default()).unwrap();
    assert_eq!(status.rollout_gate, Gate::Hold);
}
