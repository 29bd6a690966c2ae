//! WASM honesty through the real binary: proposals a profile forbids, smoke results that cannot
//! pass without running, reason codes listed once, symlinks and control characters refused or
//! escaped, packaging that leaves no debris.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use tau_testkit::wasm;

#[test]
fn deployment_wasm_a_proposal_the_profile_forbids_exits_3_naming_it_not_2_invalid() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, proposal) in [
        ("threads.wasm", wasm::threads(), "threads"),
        ("wide.wasm", wasm::wide_arithmetic(), "wide_arithmetic"),
    ] {
        let module = dir.path().join(name);
        std::fs::write(&module, bytes).unwrap();
        let state = dir.path().join("state");
        let out = package(&state, &module, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{name}: {err}");
        assert!(
            err.contains("compliance_reason_codes=wasm_feature_not_allowed"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "wasm_feature_not_allowed: uses the WebAssembly {proposal} proposal"
            )),
            "{err}"
        );
        assert!(!state.exists());
    }
}

#[test]
fn deployment_wasm_a_component_importing_wasi_http_never_reads_as_a_passed_smoke() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("http.wasm");
    std::fs::write(
        &module,
        wat::parse_str(
            r#"(component
                (import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func)))))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let state = dir.path().join("state");
    let out = package(&state, &module, &["--deployment-wasm-package-smoke"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_stderr_contains(
        &out,
        "runtime_smoke=unsupported_imports:wasi:http/outgoing-handler@0.2.0",
    );
    assert!(!state.exists());

    // Packaged without the smoke, an inspect with the smoke holds it as non-compliant.
    let report = package_json(&state, &module, &[]);
    let out = inspect(
        Path::new(report["manifest_path"].as_str().unwrap()),
        &[
            "--deployment-wasm-inspect-smoke",
            "--deployment-wasm-inspect-json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        value["runtime_smoke"],
        "unsupported_imports:wasi:http/outgoing-handler@0.2.0"
    );
    assert_eq!(value["compliant"], false);
    assert_eq!(
        value["reason_codes"],
        serde_json::json!(["runtime_smoke_failed"])
    );
}

#[test]
fn deployment_wasm_package_json_carries_the_source_module_path_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let report = package_json(&dir.path().join("state"), &runbook_module(), &[]);
    assert_eq!(
        report["source_module_path"],
        runbook_module().display().to_string()
    );
}

#[cfg(unix)]
#[test]
fn deployment_wasm_inspect_refuses_a_symlinked_artifact_instead_of_hashing_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let report = package_json(&dir.path().join("state"), &runbook_module(), &[]);
    let artifact = PathBuf::from(report["artifact_path"].as_str().unwrap());
    std::fs::remove_file(&artifact).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &artifact).unwrap();
    let out = inspect(Path::new(report["manifest_path"].as_str().unwrap()), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_stderr_contains(&out, "symlink");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

/// The verdict `scripts/dev/wasm-smoke.sh` prints: before, a run whose probes all skipped said
/// `status=pass`.
#[test]
fn deployment_wasm_smoke_script_says_skipped_when_no_probe_ran() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/edge/probe-verdict.sh");
    let verdict = |args: &[&str]| {
        let out = std::process::Command::new("bash")
            .arg(&script)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    assert_eq!(
        verdict(&["pass", "deno:skipped", "cloudflare:skipped"]),
        "skipped"
    );
    assert_eq!(verdict(&["pass"]), "skipped");
    assert_eq!(
        verdict(&["pass", "deno:pass", "cloudflare:skipped"]),
        "pass"
    );
    assert_eq!(verdict(&["pass", "deno:pass", "cloudflare:fail"]), "fail");
    assert_eq!(verdict(&["fail", "deno:pass", "cloudflare:pass"]), "fail");
    assert_eq!(verdict(&["fail", "deno:skipped"]), "fail");
}

#[test]
fn deployment_wasm_each_reason_code_is_listed_once() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("many.wasm");
    std::fs::write(
        &module,
        wat::parse_str(
            r#"(module (import "acme" "a" (func)) (import "corp" "b" (func))
                (import "wasi_snapshot_preview1" "c" (func)) (import "wasi_unstable" "d" (func)))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let out = package(&dir.path().join("state"), &module, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_stderr_contains(&out, "compliance_reason_codes=required_abi_missing,import_module_not_allowlisted,import_module_forbidden\n");
}

#[test]
fn deployment_wasm_inspect_escapes_control_characters_from_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let report = package_json(&dir.path().join("state"), &runbook_module(), &[]);
    let manifest = PathBuf::from(report["manifest_path"].as_str().unwrap());
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("\"edge-wasm\"", "\"edge\\u001b[2J\\ncompliant=true\"");
    std::fs::write(&manifest, text).unwrap();
    let out = inspect(&manifest, &[]);
    let printed = stdout(&out);
    assert!(!printed.contains('\u{1b}'), "{printed:?}");
    assert_eq!(printed.lines().count(), 1, "{printed:?}");
    assert!(
        printed.contains("blueprint_id=edge\\u{1b}[2J\\u{a}compliant=true"),
        "{printed}"
    );
}

#[test]
fn deployment_wasm_a_source_date_epoch_that_overflows_is_refused_not_saturated() {
    let dir = tempfile::tempdir().unwrap();
    let out = tau()
        .env("SOURCE_DATE_EPOCH", "18446744073709552")
        .arg("--deployment-state-dir")
        .arg(dir.path().join("state"))
        .arg("--deployment-wasm-package-module")
        .arg(runbook_module())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_stderr_contains(&out, "SOURCE_DATE_EPOCH");
    assert!(!dir.path().join("state").exists());
}

#[test]
fn deployment_wasm_packaging_sweeps_temp_files_a_killed_run_left() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let blueprint_dir = state.join("wasm-artifacts/edge-wasm");
    std::fs::create_dir_all(&blueprint_dir).unwrap();
    // The name a packaging run with pid 999999999 (beyond any Linux pid_max) writes first.
    let stale = blueprint_dir.join(".0123.wasm.tmp-999999999");
    std::fs::write(&stale, b"half a module").unwrap();
    let report = package_json(&state, &runbook_module(), &[]);
    assert!(!stale.exists());
    let mut left: Vec<String> = std::fs::read_dir(&blueprint_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let sha = report["artifact_sha256"].as_str().unwrap();
    assert_eq!(
        left,
        [format!("{sha}.manifest.json"), format!("{sha}.wasm")]
    );
}
