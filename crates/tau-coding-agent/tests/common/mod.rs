//! Helpers shared by the integration tests: the real `tau` binary on real files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tau` with no `TAU_*` variables inherited from the developer's shell.
pub fn tau() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tau"));
    without_tau_env(&mut cmd);
    cmd
}

/// Removes every `TAU_*` variable of the developer's shell from `cmd`, so a test sees only the
/// flags and variables it sets itself.
pub fn without_tau_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("TAU_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/deployment-contract")
        .join(name)
}

/// Runs the contract runner on a testdata fixture into `state`.
pub fn run_fixture(name: &str, state: &Path, extra: &[&str]) -> Output {
    tau()
        .arg("--deployment-contract-runner")
        .arg("--deployment-fixture")
        .arg(testdata(name))
        .arg("--deployment-state-dir")
        .arg(state)
        .args(extra)
        .output()
        .unwrap()
}

/// `tau` with `args`, run to completion.
pub fn run(args: &[&str]) -> Output {
    tau().args(args).output().unwrap()
}

/// A path as a command-line argument; test paths are always UTF-8.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The runbook's own WASM module, checked in beside the tests.
pub fn runbook_module() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/deployment-wasm/edge-runtime.wasm")
}

/// The runbook's packaging command on `module` into `state`, at a fixed `SOURCE_DATE_EPOCH`.
pub fn package(state: &Path, module: &Path, extra: &[&str]) -> Output {
    tau()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("--deployment-state-dir")
        .arg(state)
        .arg("--deployment-wasm-package-module")
        .arg(module)
        .args(extra)
        .output()
        .unwrap()
}

/// The JSON report of a packaging run that must succeed.
pub fn package_json(state: &Path, module: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--deployment-wasm-package-json"];
    args.extend_from_slice(extra);
    let out = package(state, module, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The runbook's inspect command on `manifest`.
pub fn inspect(manifest: &Path, extra: &[&str]) -> Output {
    tau()
        .arg("--deployment-wasm-inspect-manifest")
        .arg(manifest)
        .args(extra)
        .output()
        .unwrap()
}

/// The runbook's browser DID options (without the init flag, output or state dir).
pub const DID_RUNBOOK: &[&str] = &[
    "--deployment-wasm-browser-did-method",
    "key",
    "--deployment-wasm-browser-did-network",
    "tau-devnet",
    "--deployment-wasm-browser-did-subject",
    "browser-agent",
    "--deployment-wasm-browser-did-entropy",
    "local-dev-seed",
];

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails, showing the whole of stderr, unless stderr contains `needle`.
#[track_caller]
pub fn assert_stderr_contains(output: &Output, needle: &str) {
    let err = stderr(output);
    assert!(err.contains(needle), "{err}");
}

/// Exit code of `--deployment-status-inspect --deployment-status-require-pass`, and its text line.
pub fn gate(state: &Path) -> (Option<i32>, String) {
    let out = tau()
        .args([
            "--deployment-status-inspect",
            "--deployment-status-require-pass",
        ])
        .arg("--deployment-state-dir")
        .arg(state)
        .output()
        .unwrap();
    (out.status.code(), stdout(&out))
}

/// The JSON status report of `state`.
pub fn status_json(state: &Path) -> serde_json::Value {
    let out = tau()
        .args(["--deployment-status-inspect", "--deployment-status-json"])
        .arg("--deployment-state-dir")
        .arg(state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[allow(unused_imports)]
pub use tau_testkit::{snapshot, zero_times};

/// Writes a fixture of `n` passing cases over a few blueprints.
pub fn write_generated_fixture(path: &Path, n: usize) {
    let targets = [
        ("container", "native", "\"container_image\":\"img:1\"", 202),
        ("kubernetes", "native", "\"container_image\":\"img:1\"", 202),
        ("wasm", "wasm_wasi", "\"wasm_module\":\"m.wasm\"", 201),
    ];
    let mut text = String::from("{\"schema_version\":1,\"name\":\"generated\",\"cases\":[");
    for i in 0..n {
        let (target, profile, artifact, status) = targets[i % targets.len()];
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            "{{\"case_id\":\"case-{i:06}\",\"deploy_target\":\"{target}\",\"runtime_profile\":\"{profile}\",\
             \"blueprint_id\":\"bp-{}\",\"environment\":\"staging\",\"region\":\"r\",{artifact},\
             \"expected\":{{\"outcome\":\"success\",\"status_code\":{status}}}}}",
            i % 5
        ));
    }
    text.push_str("]}");
    std::fs::write(path, text).unwrap();
    // WASM artifacts must exist beside the fixture: a missing one is refused.
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::write(dir.join("m.wasm"), tau_testkit::wasm::edge_runtime()).unwrap();
}
