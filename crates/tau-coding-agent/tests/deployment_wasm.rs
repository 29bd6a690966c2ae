//! WASM deliverables through the real binary: package, inspect, runtime smoke, runner cases.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use tau_testkit::wasm;

#[test]
fn deployment_wasm_runbook_package_is_reproducible_and_inspects_compliant() {
    let dir = tempfile::tempdir().unwrap();
    let mut manifests = Vec::new();
    for out in ["one", "two/nested"] {
        let report = package_json(
            &dir.path().join(format!("state-{}", manifests.len())),
            &runbook_module(),
            &[
                "--deployment-wasm-package-output-dir",
                dir.path().join(out).to_str().unwrap(),
            ],
        );
        assert_eq!(report["constraint_profile_id"], "control_plane_gateway_v1");
        assert_eq!(report["artifact_kind"], "core_module");
        manifests.push(PathBuf::from(report["manifest_path"].as_str().unwrap()));
    }
    let bytes: Vec<Vec<u8>> = manifests
        .iter()
        .map(|m| std::fs::read(m).unwrap())
        .collect();
    assert_eq!(bytes[0], bytes[1], "manifests differ between output dirs");
    let manifest: serde_json::Value = serde_json::from_slice(&bytes[0]).unwrap();
    assert_eq!(manifest["generated_unix_ms"], 1_700_000_000_000u64);
    assert_eq!(manifest["manifest_kind"], "tau_wasm_deliverable");
    let out = inspect(&manifests[0], &["--deployment-wasm-inspect-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["compliant"], true);
    assert_eq!(report["constraint_target_role"], "control_plane_gateway");
    assert_eq!(report["runtime_smoke"], "not_requested");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state-0/state.json")).unwrap())
            .unwrap();
    assert_eq!(
        state["wasm_deliverables"][0]["runtime_profile"],
        "wasm_wasi"
    );
}

#[test]
fn deployment_wasm_preview1_is_refused_with_its_fix_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("p1.wasm");
    std::fs::write(&module, wasm::preview1()).unwrap();
    let state = dir.path().join("state");
    let out = package(&state, &module, &[]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("compliance_reason_codes=required_abi_missing,import_module_not_allowlisted,import_module_forbidden"),
        "{err}"
    );
    assert!(err.contains("wasm-tools component new"), "{err}");
    assert!(!state.exists());
}

#[test]
fn deployment_wasm_invalid_binaries_exit_2_naming_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("bad.wasm");
    std::fs::write(&module, wasm::type_invalid()).unwrap();
    let out = package(&dir.path().join("state"), &module, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "type mismatch");
    assert_stderr_contains(&out, "at byte offset");
}

#[test]
fn deployment_wasm_inspect_reports_tampering_and_refuses_unreadable_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let report = package_json(&dir.path().join("state"), &runbook_module(), &[]);
    let artifact = PathBuf::from(report["artifact_path"].as_str().unwrap());
    let mut bytes = std::fs::read(&artifact).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&artifact, bytes).unwrap();
    let out = inspect(Path::new(report["manifest_path"].as_str().unwrap()), &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout(&out).contains("compliant=false reason_codes=artifact_hash_mismatch"),
        "{}",
        stdout(&out)
    );
    let out = inspect(&dir.path().join("missing.manifest.json"), &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn deployment_wasm_a_real_component_passes_the_runtime_smoke() {
    let dir = tempfile::tempdir().unwrap();
    let component =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/wasm/hello-component.wasm");
    let report = package_json(
        &dir.path().join("state"),
        &component,
        &["--deployment-wasm-package-smoke"],
    );
    assert_eq!(report["artifact_kind"], "component");
    assert_eq!(report["runtime_smoke"], "passed");
    assert_eq!(report["runtime_smoke_detail"]["entry"], "wasi:cli/run");
    assert_eq!(report["runtime_smoke_detail"]["exit_code"], 0);
    let out = inspect(
        Path::new(report["manifest_path"].as_str().unwrap()),
        &["--deployment-wasm-inspect-smoke"],
    );
    assert!(
        stdout(&out).contains("runtime_smoke=passed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn deployment_wasm_a_failing_smoke_refuses_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("trap.wasm");
    std::fs::write(
        &module,
        wat::parse_str(r#"(module (func (export "_start") unreachable))"#).unwrap(),
    )
    .unwrap();
    let state = dir.path().join("state");
    let out = package(&state, &module, &["--deployment-wasm-package-smoke"]);
    assert_eq!(out.status.code(), Some(3));
    assert_stderr_contains(&out, "runtime_smoke=failed");
    assert!(!state.exists());
}

/// A fixture whose wasm cases name a packaged manifest and a raw module, beside the artifacts.
fn manifest_fixture(dir: &Path, manifest: &str) -> PathBuf {
    let fixture = serde_json::json!({
        "schema_version": 1,
        "name": "wasm-artifacts",
        "cases": [
            {"case_id": "from-manifest", "deploy_target": "wasm", "runtime_profile": "wasm_wasi",
             "blueprint_id": "edge-wasm", "environment": "staging", "region": "global",
             "wasm_manifest": manifest,
             "expected": {"outcome": "success", "status_code": 201,
                          "response_body": {"artifact_manifest": manifest, "artifact_size_bytes": 195},
                          "response_body_match": "subset"}},
            {"case_id": "manifest-for-another-profile", "deploy_target": "wasm",
             "runtime_profile": "channel_automation_wasi", "blueprint_id": "edge-wasm",
             "environment": "staging", "region": "global", "wasm_manifest": manifest,
             "expected": {"outcome": "malformed_input", "status_code": 422,
                          "error_code": "deployment_unsupported_runtime",
                          "response_body": {"status": "rejected", "reason": "wasm_manifest_runtime_mismatch"}}},
            {"case_id": "missing-module", "deploy_target": "wasm", "runtime_profile": "wasm_wasi",
             "blueprint_id": "edge-wasm", "environment": "staging", "region": "global",
             "wasm_module": "not-built-yet.wasm",
             "expected": {"outcome": "malformed_input", "status_code": 400,
                          "error_code": "deployment_missing_artifact",
                          "response_body": {"status": "rejected", "reason": "wasm_module_not_found"}}}
        ]
    });
    let path = dir.join("fixture.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&fixture).unwrap()).unwrap();
    path
}

#[test]
fn deployment_wasm_runner_verifies_manifests_and_modules() {
    let dir = tempfile::tempdir().unwrap();
    let report = package_json(
        &dir.path().join("state"),
        &runbook_module(),
        &[
            "--deployment-wasm-package-output-dir",
            dir.path().join("artifacts").to_str().unwrap(),
        ],
    );
    let manifest = Path::new(report["manifest_path"].as_str().unwrap())
        .strip_prefix(dir.path())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let fixture = manifest_fixture(dir.path(), &manifest);
    let run = |extra: &[&str]| {
        tau()
            .arg("--deployment-contract-runner")
            .arg("--deployment-fixture")
            .arg(&fixture)
            .arg("--deployment-state-dir")
            .arg(dir.path().join("state"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state/state.json")).unwrap())
            .unwrap();
    let rollout = state["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == "from-manifest")
        .unwrap();
    assert_eq!(rollout["artifact_sha256"], report["artifact_sha256"]);
    // The tool's field lists the profile's gates; the whole profile sits beside it.
    assert_eq!(
        rollout["runtime_constraint_profile"]["profile_id"],
        "control_plane_gateway_v1"
    );
    assert!(rollout["runtime_constraints"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("no_native_process_exec")));
    // The packager's entry survives the runner's commit.
    assert_eq!(state["wasm_deliverables"][0]["blueprint_id"], "edge-wasm");

    // Every named artifact is required since core v2: --deployment-require-artifacts is still
    // accepted and changes nothing.
    let strict_state = dir.path().join("strict");
    let out = tau()
        .arg("--deployment-contract-runner")
        .arg("--deployment-fixture")
        .arg(&fixture)
        .arg("--deployment-state-dir")
        .arg(&strict_state)
        .arg("--deployment-require-artifacts")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
