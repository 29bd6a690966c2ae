use super::*;
use crate::health::HealthState;
use crate::hooks::Quiet;
use crate::simulated::ContractEvaluator;
use std::fs;
use tau_testkit::snapshot;

pub(super) const PASS: &[u8] =
    include_bytes!("../../../testdata/deployment-contract/rollout-pass.json");
pub(super) const MIXED: &[u8] =
    include_bytes!("../../../testdata/deployment-contract/mixed-outcomes.json");

pub(super) fn evaluator() -> ContractEvaluator {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/deployment-contract");
    ContractEvaluator::new(&dir, crate::artifacts::Options::default())
}

pub(super) fn fixture(bytes: &[u8]) -> Fixture {
    Fixture::parse(bytes).unwrap()
}

pub(super) fn run_with(bytes: &[u8], dir: &Path, options: &Options) -> Report {
    run(fixture(bytes), dir, options, &mut evaluator(), &mut Quiet).unwrap()
}

pub(super) fn state(dir: &Path) -> State {
    State::load(&dir.join(STATE_FILE)).unwrap()
}

#[test]
fn rollout_pass_is_healthy_and_records_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(PASS, dir.path(), &Options::default());
    assert_eq!(report.classification.state, HealthState::Healthy);
    assert_eq!(report.counts.applied, 4);
    assert_eq!(
        report.reason_codes,
        [
            ReasonCode::CloudRolloutApplied,
            ReasonCode::WasmRolloutApplied
        ]
    );
    let s = state(dir.path());
    assert_eq!(s.rollouts.len(), 4);
    assert_eq!(s.processed_case_keys.len(), 4);
    let store = dir.path().join(channel::ROOT).join("gateway-api");
    for file in ["log.jsonl", "context.jsonl", "MEMORY.md"] {
        assert!(store.join(file).is_file(), "{file} missing");
    }
    let log = fs::read_to_string(store.join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
    let memory = fs::read_to_string(store.join("MEMORY.md")).unwrap();
    assert!(memory.contains("| cloud-container-staging | staging | us-east-1 | container |"));
    assert!(!dir.path().join(tau_durable::journal::INTENT_FILE).exists());
}

#[test]
fn mixed_outcomes_are_degraded_with_their_reason_codes() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_with(MIXED, dir.path(), &Options::default());
    assert_eq!(report.classification.state, HealthState::Degraded);
    assert!(!report.contract_broken());
    assert_eq!(
        report.reason_codes,
        [
            ReasonCode::MalformedInputsObserved,
            ReasonCode::RetryAttempted,
            ReasonCode::RetryableFailuresObserved,
            ReasonCode::CaseProcessingFailed,
            ReasonCode::CloudRolloutApplied,
            ReasonCode::WasmRolloutApplied,
        ]
    );
    let c = report.counts;
    assert_eq!((c.applied, c.malformed, c.failed), (2, 3, 1));
    // The exhausted retryable case is not processed: it comes back next run.
    assert_eq!(state(dir.path()).processed_case_keys.len(), 5);
    let again = run_with(MIXED, dir.path(), &Options::default());
    assert_eq!((again.counts.queued, again.counts.duplicate_skips), (1, 5));
}

#[test]
fn three_failing_runs_are_failing_and_a_clean_run_resets_the_streak() {
    let dir = tempfile::tempdir().unwrap();
    let streaks: Vec<(u64, HealthState)> = (0..3)
        .map(|_| {
            let r = run_with(MIXED, dir.path(), &Options::default());
            (r.health.failure_streak, r.classification.state)
        })
        .collect();
    assert_eq!(
        streaks,
        [
            (1, HealthState::Degraded),
            (2, HealthState::Degraded),
            (3, HealthState::Failing)
        ]
    );
    let clean = run_with(PASS, dir.path(), &Options::default());
    assert_eq!(
        (clean.health.failure_streak, clean.classification.state),
        (0, HealthState::Healthy)
    );
}

#[test]
fn a_small_queue_limit_drains_the_fixture_over_runs() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        limits: Limits {
            queue_limit: 3,
            ..Limits::default()
        },
        ..Options::default()
    };
    let first = run_with(PASS, dir.path(), &options);
    assert_eq!((first.counts.queued, first.health.queue_depth), (3, 1));
    assert!(first
        .reason_codes
        .contains(&ReasonCode::QueueBackpressureApplied));
    let second = run_with(PASS, dir.path(), &options);
    assert_eq!((second.counts.queued, second.health.queue_depth), (1, 0));
    let third = run_with(PASS, dir.path(), &options);
    assert_eq!(third.counts.queued, 0);
    assert_eq!(third.reason_codes, [ReasonCode::DuplicateCasesSkipped]);
    assert_eq!(state(dir.path()).rollouts.len(), 4);
}

#[test]
fn cases_beyond_the_processed_cap_are_never_reapplied() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        limits: Limits {
            processed_case_cap: 2,
            ..Limits::default()
        },
        ..Options::default()
    };
    run_with(PASS, dir.path(), &options);
    let s = state(dir.path());
    // state.json keeps the capped window in the tool's shape; the history remembers every key.
    assert_eq!(s.processed_case_keys.len(), 2);
    assert_eq!(s.totals.unwrap().processed_case_count, 4);
    let again = run_with(PASS, dir.path(), &options);
    assert_eq!((again.counts.queued, again.counts.duplicate_skips), (0, 4));
    assert_eq!(state(dir.path()).totals.unwrap().rollout_count, 4);
}

#[test]
fn events_rotate_by_size() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        rotation: Rotation {
            max_bytes: 10,
            max_files: 2,
        },
        ..Options::default()
    };
    for _ in 0..4 {
        run_with(PASS, dir.path(), &options);
    }
    assert!(dir.path().join("runtime-events.jsonl.2").exists());
    assert!(!dir.path().join("runtime-events.jsonl.3").exists());
}

#[test]
fn corrupt_state_is_refused_and_kept_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STATE_FILE);
    fs::write(&path, b"{\"rollouts\": [tru").unwrap();
    let err = run(
        fixture(PASS),
        dir.path(),
        &Options::default(),
        &mut evaluator(),
        &mut Quiet,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Durable(tau_durable::Error::Document { .. })),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), b"{\"rollouts\": [tru");
    assert!(!dir.path().join(events::FILE).exists());
}

#[test]
fn keys_owned_by_other_commands_are_preserved() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = r#"[{"blueprint_id":"edge-wasm","generated_unix_ms":123456789012345678901234}]"#;
    fs::write(
        dir.path().join(STATE_FILE),
        format!(r#"{{"schema_version":1,"wasm_deliverables":{foreign},"x":1.50}}"#),
    )
    .unwrap();
    run_with(PASS, dir.path(), &Options::default());
    run_with(MIXED, dir.path(), &Options::default());
    let text = fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
    assert!(
        text.contains(&format!(r#""wasm_deliverables":{foreign},"x":1.50"#)),
        "{text}"
    );
    let s = state(dir.path());
    assert_eq!(s.other("wasm_deliverables").unwrap().get(), foreign);
}

#[test]
fn zero_limits_are_refused() {
    let options = Options {
        limits: Limits {
            queue_limit: 0,
            ..Limits::default()
        },
        ..Options::default()
    };
    let err = check_options(&options).unwrap_err();
    assert!(
        err.to_string().contains("--deployment-queue-limit"),
        "{err}"
    );
}

#[test]
fn identical_runs_write_identical_files_apart_from_times() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        run_with(MIXED, dir.path(), &Options::default());
        run_with(PASS, dir.path(), &Options::default());
    }
    assert_eq!(snapshot(a.path()), snapshot(b.path()));
}

/// Stops the run at one commit phase, as a crash would.
pub(super) struct CrashAt(pub(super) Phase);

impl Hooks for CrashAt {
    fn reached(&mut self, phase: Phase) {
        if phase == self.0 {
            panic!("simulated crash at {}", phase.as_str());
        }
    }
}

#[test]
fn a_crash_at_any_commit_phase_ends_like_an_uninterrupted_run() {
    let reference = tempfile::tempdir().unwrap();
    run_with(PASS, reference.path(), &Options::default());
    run_with(MIXED, reference.path(), &Options::default());
    let expected = snapshot(reference.path());
    for phase in [
        Phase::AppendsWritten,
        Phase::StateCommitted,
        Phase::DerivedWritten,
    ] {
        let dir = tempfile::tempdir().unwrap();
        run_with(PASS, dir.path(), &Options::default());
        let crashed = std::panic::catch_unwind(|| {
            let _ = run(
                fixture(MIXED),
                dir.path(),
                &Options::default(),
                &mut evaluator(),
                &mut CrashAt(phase),
            );
        });
        assert!(crashed.is_err());
        let resumed = run_with(MIXED, dir.path(), &Options::default());
        let mut got = snapshot(dir.path());
        if phase == Phase::AppendsWritten {
            // Rolled back: the resumed run is the mixed run itself.
            assert_eq!(resumed.counts.queued, 6, "{phase:?}");
            assert_eq!(got, expected, "{phase:?}");
        } else {
            // Committed: the resumed run finds every completed case already processed, and only
            // the retryable case runs again, exactly as a second uninterrupted run would.
            assert_eq!(resumed.counts.queued, 1, "{phase:?}");
            let twice = tempfile::tempdir().unwrap();
            run_with(PASS, twice.path(), &Options::default());
            run_with(MIXED, twice.path(), &Options::default());
            run_with(MIXED, twice.path(), &Options::default());
            got.remove(".commit-intent.json");
            assert_eq!(got, snapshot(twice.path()), "{phase:?}");
        }
    }
}

#[test]
fn the_history_stores_each_constraint_profile_once_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let read = |rel: &str| fs::read_to_string(dir.path().join(rel)).unwrap_or_default();
    run_with(PASS, dir.path(), &Options::default());
    let profiles = read(line::PROFILES_FILE);
    // The same cases under other ids: new rollouts of the same artifacts and profiles.
    let again = String::from_utf8(PASS.to_vec())
        .unwrap()
        .replace("\"case_id\": \"", "\"case_id\": \"again-");
    let report = run_with(again.as_bytes(), dir.path(), &Options::default());
    assert!(report.counts.applied > 0);
    assert_eq!(read(line::PROFILES_FILE), profiles);

    let stored: Vec<String> = profiles
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["sha256"].to_string())
        .collect();
    assert!(!stored.is_empty());
    let unique: std::collections::BTreeSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "{profiles}");
    let rollouts = read(history::ROLLOUTS_FILE);
    let mut referencing = 0;
    for line in rollouts.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(digest) = record.get("runtime_constraint_profile_sha256") {
            assert!(stored.contains(&digest.to_string()), "{line}");
            referencing += 1;
        }
    }
    assert_eq!(referencing % 2, 0);
    assert!(referencing > 0);
}
