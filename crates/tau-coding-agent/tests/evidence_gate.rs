//! The gate passes only on evidence that fits the question, through the real binary: the fixture
//! the evidence came from, the driver that produced it, its age, and whether the last run applied
//! anything at all.

mod common;

use std::path::Path;

use common::{run_fixture, stderr, tau, testdata};
use serde_json::Value;

/// `tau status --json --require-pass` with `extra`; (exit code, report).
fn status(state: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut cmd = tau();
    cmd.args(["status", "--json", "--require-pass", "--state-dir"]);
    answer(cmd, state, extra)
}

/// The runbook's flag form of the same question.
fn flag_status(state: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut cmd = tau();
    cmd.args([
        "--deployment-status-inspect",
        "--deployment-status-json",
        "--deployment-status-require-pass",
        "--deployment-state-dir",
    ]);
    answer(cmd, state, extra)
}

fn answer(mut cmd: std::process::Command, state: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let out = cmd.arg(state).args(extra).output().unwrap();
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code(), report)
}

fn reasons(report: &Value) -> Vec<String> {
    report["gate_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_gate_holds_unless_the_evidence_came_from_the_required_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s");
    assert!(run_fixture("rollout-pass.json", &state, &[])
        .status
        .success());

    let same = testdata("rollout-pass.json");
    let (code, report) = status(&state, &["--require-fixture", same.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["rollout_gate"], "pass");

    // A copy with one byte changed is another fixture: the evidence does not belong to it.
    let other = dir.path().join("other.json");
    let mut bytes = std::fs::read(&same).unwrap();
    bytes.push(b'\n');
    std::fs::write(&other, bytes).unwrap();
    let other = other.to_str().unwrap();
    for (code, report) in [
        status(&state, &["--require-fixture", other]),
        flag_status(&state, &["--deployment-status-require-fixture", other]),
    ] {
        assert_eq!(code, Some(3), "{report}");
        assert_eq!(reasons(&report), ["fixture_mismatch"]);
    }
}

#[test]
fn simulated_evidence_holds_the_gate_when_live_evidence_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s");
    assert!(run_fixture("rollout-pass.json", &state, &[])
        .status
        .success());
    let (code, report) = status(&state, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["evidence"]["driver"], "simulated");

    for (code, report) in [
        status(&state, &["--require-live"]),
        flag_status(&state, &["--deployment-status-require-live"]),
    ] {
        assert_eq!(code, Some(3), "{report}");
        assert_eq!(reasons(&report), ["simulated_evidence"]);
    }
}

#[test]
fn a_rerun_that_applies_nothing_is_not_new_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s");
    assert!(run_fixture("rollout-pass.json", &state, &[])
        .status
        .success());
    let (_, first) = status(&state, &[]);
    let evidence_run = first["evidence"]["run_id"].clone();
    assert!(evidence_run.is_u64(), "{first}");

    // Every case is a duplicate now: the run is recorded, the evidence stays the first run.
    assert!(run_fixture("rollout-pass.json", &state, &[])
        .status
        .success());
    let (_, second) = status(&state, &[]);
    assert_eq!(second["evidence"]["run_id"], evidence_run, "{second}");
    assert_ne!(second["last_run"]["run_id"], evidence_run, "{second}");
    assert_eq!(second["last_run"]["cases_applied"], 0, "{second}");

    // Its age keeps counting from the run that applied the cases: a tiny maximum age holds.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (code, report) = status(&state, &["--max-age-ms", "1"]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(reasons(&report), ["state_stale"]);
    // `0` turns the age check off.
    let (code, report) = status(&state, &["--max-age-ms", "0"]);
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn a_missing_wasm_artifact_fails_its_case_and_holds_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("missing.json");
    let text = std::fs::read_to_string(testdata("rollout-pass.json")).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let wasm_case = value["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["deploy_target"] == "wasm" && c.get("wasm_module").is_some())
        .expect("rollout-pass.json has a wasm_module case")
        .clone();
    let mut case = wasm_case;
    case["wasm_module"] = Value::from("does-not-exist.wasm");
    let fixture_value = serde_json::json!({
        "schema_version": 1,
        "name": "missing-artifact",
        "cases": [case],
    });
    std::fs::write(&fixture, serde_json::to_vec(&fixture_value).unwrap()).unwrap();
    let state = dir.path().join("s");
    let out = tau()
        .args(["run", "--json", "--fixture"])
        .arg(&fixture)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    // The fixture expected success: the case broke its contract.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failures = run["contract_failures"].to_string();
    assert!(failures.contains("deployment_missing_artifact"), "{run}");
    let (code, report) = status(&state, &[]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["rollout_gate"], "hold");
}
