//! Durability of the state dir, through the real binary: locking, corruption, staleness, rotation
//! and crashes.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn deployment_runtime_corrupt_state_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, b"{ not json").unwrap();
    let out = run_fixture("rollout-pass.json", dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("state.json does not parse"), "{err}");
    assert!(err.contains(".corrupt"), "{err}");
    assert_eq!(std::fs::read(&state).unwrap(), b"{ not json");
    // The inspect commands refuse it the same way instead of guessing.
    let status = tau()
        .arg("--deployment-status-inspect")
        .arg("--deployment-state-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(2));
}

#[test]
fn deployment_runtime_second_writer_waits_or_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    // The retryable case backs off 300 + 600 + 1200 ms, holding the lock for about two seconds.
    let mut holder = tau()
        .arg("--deployment-contract-runner")
        .arg("--deployment-fixture")
        .arg(testdata("mixed-outcomes.json"))
        .arg("--deployment-state-dir")
        .arg(dir.path())
        .args(["--deployment-retry-base-delay-ms", "300"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.path().join(".lock");
    let started = Instant::now();
    while std::fs::read_to_string(&lock)
        .map(|s| s.is_empty())
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "holder never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let fast = run_fixture(
        "rollout-pass.json",
        dir.path(),
        &["--deployment-lock-no-wait"],
    );
    assert_eq!(fast.status.code(), Some(2));
    assert!(
        stderr(&fast).contains("is locked by another tau process (pid"),
        "{}",
        stderr(&fast)
    );

    let waiter = run_fixture("rollout-pass.json", dir.path(), &[]);
    assert!(waiter.status.success(), "{}", stderr(&waiter));
    assert!(
        stderr(&waiter).contains("waiting for the state dir lock"),
        "{}",
        stderr(&waiter)
    );
    assert!(holder.wait().unwrap().success());
    // Both runs landed whole: two event lines, all rollouts of both fixtures.
    let status = status_json(dir.path());
    assert_eq!(status["cycle_reports"], 2);
    assert_eq!(status["rollout_count"], 6);
}

#[test]
fn deployment_runtime_old_state_holds_the_gate_as_stale() {
    let dir = tempfile::tempdir().unwrap();
    run_fixture("rollout-pass.json", dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(20));
    let out = tau()
        .args([
            "--deployment-status-inspect",
            "--json",
            "--deployment-status-max-age-ms",
            "5",
        ])
        .arg("--deployment-state-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["rollout_gate"], "hold");
    assert_eq!(status["gate_reasons"], serde_json::json!(["state_stale"]));
}

#[test]
fn deployment_runtime_events_rotate_and_status_counts_every_file() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let out = run_fixture(
            "mixed-outcomes.json",
            dir.path(),
            &[
                "--deployment-events-max-bytes",
                "100",
                "--deployment-events-max-files",
                "5",
            ],
        );
        assert!(out.status.success());
    }
    assert!(dir.path().join("runtime-events.jsonl.2").exists());
    let status = status_json(dir.path());
    assert_eq!(status["cycle_reports"], 3);
    assert_eq!(
        status["reason_code_counts"]["retryable_failures_observed"],
        3
    );
    assert_eq!(status["failure_streak"], 3);
    assert_eq!(status["health_state"], "failing");
    assert_eq!(
        status["gate_reasons"],
        serde_json::json!(["health_failing"])
    );
}

#[test]
fn deployment_runtime_same_inputs_give_identical_files_apart_from_times() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        run_fixture("mixed-outcomes.json", dir.path(), &[]);
        run_fixture("rollout-pass.json", dir.path(), &[]);
    }
    assert_eq!(snapshot(a.path()), snapshot(b.path()));
}

/// What must be identical between a crashed-and-resumed state dir and an uninterrupted one.
fn durable_view(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut view: Vec<(String, String)> = snapshot(dir)
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("channel-store/") || rel.starts_with("history/"))
        .collect();
    let state: serde_json::Value = serde_json::from_str(&zero_times(
        &std::fs::read_to_string(dir.join("state.json")).unwrap(),
    ))
    .unwrap();
    view.push(("rollouts".into(), state["rollouts"].to_string()));
    view.push(("processed".into(), state["processed_case_keys"].to_string()));
    view
}

fn run_generated(fixture: &std::path::Path, state: &std::path::Path) -> std::process::Command {
    let mut cmd = tau();
    cmd.arg("--deployment-contract-runner")
        .arg("--deployment-fixture")
        .arg(fixture)
        .arg("--deployment-state-dir")
        .arg(state)
        .args(["--deployment-queue-limit", "100000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn deployment_runtime_abort_at_each_commit_phase_then_resume_is_exactly_once() {
    let work = tempfile::tempdir().unwrap();
    let fixture = work.path().join("fixture.json");
    write_generated_fixture(&fixture, 300);
    let reference = work.path().join("reference");
    assert!(run_generated(&fixture, &reference)
        .status()
        .unwrap()
        .success());
    let expected = durable_view(&reference);
    for phase in [
        "appends_written",
        "state_committed",
        "derived_written",
        "finished",
    ] {
        let state = work.path().join(phase);
        let crashed = run_generated(&fixture, &state)
            .env("TAU_TEST_ABORT_AT_PHASE", phase)
            .status()
            .unwrap();
        assert!(!crashed.success(), "{phase}: the abort hook did not fire");
        assert!(
            run_generated(&fixture, &state).status().unwrap().success(),
            "{phase}"
        );
        assert_eq!(durable_view(&state), expected, "{phase}");
    }
}

/// A status reader after a kill counts exactly the committed runs: one event line per commit,
/// never the line of the run that died before committing.
fn assert_status_sees_committed_runs_only(state: &std::path::Path, round: u32) {
    let generation = std::fs::read(state.join("state.json"))
        .ok()
        .map(|bytes| {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            v["commit_generation"].as_u64().unwrap_or(0)
        })
        .unwrap_or(0);
    let out = tau()
        .args([
            "--deployment-status-inspect",
            "--deployment-status-json",
            "--deployment-state-dir",
        ])
        .arg(state)
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        status["cycle_reports"].as_u64(),
        Some(generation),
        "round {round}: {status}"
    );
}

#[test]
fn deployment_runtime_kill_9_at_random_points_then_resume_is_exactly_once() {
    let work = tempfile::tempdir().unwrap();
    let fixture = work.path().join("fixture.json");
    write_generated_fixture(&fixture, 3000);
    let reference = work.path().join("reference");
    let started = Instant::now();
    assert!(run_generated(&fixture, &reference)
        .status()
        .unwrap()
        .success());
    let full_run = started.elapsed().as_millis() as u64;
    let expected = durable_view(&reference);
    // A fixed-seed generator: the kill points differ between iterations, reproducibly.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..12 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = (seed >> 33) % (full_run + 20);
        let state = work.path().join(format!("round-{round}"));
        let mut child = run_generated(&fixture, &state).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        assert_status_sees_committed_runs_only(&state, round);
        // Resume until a run completes (a kill may land before the run even took the lock).
        assert!(
            run_generated(&fixture, &state).status().unwrap().success(),
            "round {round}"
        );
        assert_eq!(
            durable_view(&state),
            expected,
            "round {round} (killed after {delay} ms)"
        );
        let events = std::fs::read_to_string(state.join("runtime-events.jsonl")).unwrap();
        for line in events.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("no torn event line");
        }
    }
}

#[test]
fn deployment_runtime_status_names_its_evidence_run_and_a_rerun_is_not_new_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = testdata("rollout-pass.json");
    let digest = tau_deployment::evidence::fixture_digest(&std::fs::read(&fixture).unwrap());
    assert!(run_fixture("rollout-pass.json", dir.path(), &[])
        .status
        .success());
    assert!(run_fixture("rollout-pass.json", dir.path(), &[])
        .status
        .success());
    let status = status_json(dir.path());
    assert_eq!(status["rollout_gate"], "pass", "{status}");
    let evidence = &status["evidence"];
    assert_eq!(evidence["run_id"], 1, "{status}");
    assert_eq!(evidence["cases_applied"], 4, "{status}");
    assert_eq!(evidence["driver"], "simulated", "{status}");
    assert_eq!(evidence["fixture_sha256"], digest.as_str(), "{status}");
    assert_eq!(status["last_run"]["run_id"], 2, "{status}");
    assert_eq!(status["last_run"]["cases_evaluated"], 0, "{status}");
    // The tool's fields are there beside ours.
    assert_eq!(status["events_log_present"], true, "{status}");
    assert_eq!(status["target_counts"]["container"], 1, "{status}");
    // A run of duplicates judged nothing: health stays that of the run that did.
    assert_eq!(status["health"]["last_cycle_completed"], 4, "{status}");
    assert_eq!(status["health"]["last_cycle_duplicates"], 0, "{status}");
}
