//! The contract runner and both inspect commands, through the real binary.

mod common;

use common::*;

#[test]
fn deployment_contract_rollout_pass_passes_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_fixture("rollout-pass.json", dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(
        "deployment runner summary: discovered=4 queued=4 applied=4 duplicate_skips=0 malformed=0 \
         retryable_failures=0 retries=0 failed=0 upserted_rollouts=4 wasm_rollouts=2 cloud_rollouts=2"
    ), "{text}");
    assert!(
        text.contains("\ndeployment runner health: state=healthy failure_streak=0 queue_depth=0"),
        "{text}"
    );

    let status = status_json(dir.path());
    assert_eq!(status["rollout_gate"], "pass");
    assert_eq!(status["health_state"], "healthy");
    assert_eq!(status["rollout_count"], 4);
    assert_eq!(status["wasm_rollout_count"], 2);
    assert_eq!(status["cycle_reports"], 1);
    let (code, line) = gate(dir.path());
    assert_eq!(code, Some(0));
    assert!(
        line.contains("rollout_gate=pass gate_reasons=none"),
        "{line}"
    );
}

#[test]
fn deployment_contract_mixed_outcomes_hold_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_fixture("mixed-outcomes.json", dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "reason_codes=malformed_inputs_observed,retry_attempted,retryable_failures_observed,\
         case_processing_failed,cloud_rollout_applied,wasm_rollout_applied"
        ),
        "{}",
        stdout(&out)
    );
    let status = status_json(dir.path());
    assert_eq!(status["health_state"], "degraded");
    assert_eq!(status["rollout_gate"], "hold");
    assert_eq!(
        status["gate_reasons"],
        serde_json::json!(["health_degraded"])
    );
    assert_eq!(gate(dir.path()).0, Some(3));
    let health = tau()
        .args([
            "--transport-health-inspect",
            "deployment",
            "--transport-health-json",
        ])
        .arg("--deployment-state-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    // The runbook tool's shape: a list of {transport, target, state_path, health}.
    let rows: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
    let health = &rows[0];
    assert_eq!(health["transport"], "deployment");
    assert_eq!(health["health_state"], "degraded");
    assert_eq!(health["health"]["last_cycle_failed"], 1);
    assert_eq!(health["health"]["failure_streak"], 1);
}

#[test]
fn deployment_contract_broken_expectation_exits_1_and_names_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_fixture("contract-mismatch.json", dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "contract broken: case \"expects-wrong-status\" (blueprint edge-wasm): status_code: expected 202, got 201"
        ),
        "{err}"
    );
    // The other case still ran and was recorded.
    assert_eq!(status_json(dir.path())["rollout_count"], 1);
}

#[test]
fn deployment_contract_invalid_fixture_exits_2_listing_every_problem_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = run_fixture("invalid-schema.json", &state, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("invalid-schema.json is invalid (8 problems)"),
        "{err}"
    );
    assert!(
        err.contains("cases[0].region (case_id \"missing-region\"): missing"),
        "{err}"
    );
    assert!(
        err.contains("cases[2].replicas (case_id \"bad-types\"): expected an integer"),
        "{err}"
    );
    assert!(
        !state.exists(),
        "nothing may be written for an invalid fixture"
    );
}

#[test]
fn deployment_contract_runner_requires_a_fixture() {
    let out = tau().arg("--deployment-contract-runner").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "--deployment-fixture");
}

#[test]
fn deployment_contract_modes_cannot_be_combined() {
    let out = tau()
        .args([
            "--deployment-contract-runner",
            "--deployment-status-inspect",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--deployment-contract-runner") && err.contains("--deployment-status-inspect"),
        "{err}"
    );
}

#[test]
fn deployment_contract_zero_limits_are_refused() {
    for flag in [
        "--deployment-queue-limit",
        "--deployment-processed-case-cap",
        "--deployment-retry-max-attempts",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = run_fixture("rollout-pass.json", dir.path(), &[flag, "0"]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert_stderr_contains(&out, flag);
    }
}

#[test]
fn deployment_contract_flags_fall_back_to_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = tau()
        .env("TAU_DEPLOYMENT_CONTRACT_RUNNER", "true")
        .env("TAU_DEPLOYMENT_FIXTURE", testdata("rollout-pass.json"))
        .env("TAU_DEPLOYMENT_STATE_DIR", dir.path())
        .env("TAU_DEPLOYMENT_QUEUE_LIMIT", "3")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("queued=3"), "{}", stdout(&out));
    let status = tau()
        .env("TAU_DEPLOYMENT_STATUS_INSPECT", "1")
        .env("TAU_JSON", "1")
        .env("TAU_DEPLOYMENT_STATE_DIR", dir.path())
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["queue_depth"], 1);
    assert_eq!(status["gate_reasons"], serde_json::json!(["queue_backlog"]));
}

#[test]
fn deployment_contract_json_shorthand_covers_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_fixture("rollout-pass.json", dir.path(), &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["applied"], 4);
    assert_eq!(report["health"]["state"], "healthy");
    assert_eq!(report["fixture"], "rollout-pass");
}

#[test]
fn deployment_contract_status_of_an_empty_state_dir_holds_for_lack_of_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let status = status_json(dir.path());
    assert_eq!(status["rollout_gate"], "hold");
    assert_eq!(status["gate_reasons"], serde_json::json!(["no_evidence"]));
}
