//! Browser/edge DID bootstrap through the real binary, and parity with the wasm32 build.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

fn did_init(state: &Path, extra: &[&str]) -> Output {
    tau()
        .arg("--deployment-state-dir")
        .arg(state)
        .arg("--deployment-wasm-browser-did-init")
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn deployment_wasm_browser_did_runbook_command_is_deterministic_and_secret_free() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = did_init(a.path(), DID_RUNBOOK);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    assert!(
        line.starts_with("deployment wasm browser did: runtime=wasm_browser profile=w3c_did_key_ed25519_multikey_v1 method=key did=did:key:z6Mk"),
        "{line}"
    );
    assert!(line.trim_end().ends_with("persisted=true"), "{line}");
    did_init(b.path(), DID_RUNBOOK);
    let file_a = std::fs::read(a.path().join("browser-did.json")).unwrap();
    assert_eq!(
        file_a,
        std::fs::read(b.path().join("browser-did.json")).unwrap()
    );
    let text = String::from_utf8(file_a).unwrap();
    assert!(
        !text.contains("local-dev-seed"),
        "the entropy leaked into the output file"
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["did_document"]["id"], report["identity"]["did"]);
    assert_eq!(
        report["did_document"]["verificationMethod"][0]["type"],
        "Multikey"
    );
    let state = std::fs::read_to_string(a.path().join("state.json")).unwrap();
    assert!(!state.contains("local-dev-seed"));
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["browser_did"]["did"], report["identity"]["did"]);
}

#[test]
fn deployment_wasm_browser_did_web_keeps_the_domain() {
    let dir = tempfile::tempdir().unwrap();
    let out = did_init(
        dir.path(),
        &[
            "--deployment-wasm-browser-did-method",
            "web",
            "--deployment-wasm-browser-did-network",
            "Edge.Example.com",
            "--deployment-wasm-browser-did-entropy",
            "e",
            "--deployment-wasm-browser-did-json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["identity"]["did"],
        "did:web:edge.example.com:browser-agent"
    );
    assert_eq!(report["persisted"], true);
}

#[test]
fn deployment_wasm_browser_did_needs_entropy_and_valid_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = did_init(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "--deployment-wasm-browser-did-entropy");
    let out = did_init(
        dir.path(),
        &[
            "--deployment-wasm-browser-did-entropy",
            "e",
            "--deployment-wasm-browser-did-network",
            "a..b",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "label 2 is empty");
    assert!(!dir.path().join("browser-did.json").exists());
}

#[test]
fn deployment_wasm_browser_did_entropy_comes_from_the_environment_and_stays_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let out = tau()
        .env("TAU_DEPLOYMENT_WASM_BROWSER_DID_INIT", "1")
        .env(
            "TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY",
            "env-secret-value",
        )
        .env("TAU_DEPLOYMENT_STATE_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let help = tau()
        .env(
            "TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY",
            "env-secret-value",
        )
        .arg("--help")
        .output()
        .unwrap();
    assert!(!stdout(&help).contains("env-secret-value"));
}

#[test]
fn deployment_wasm_browser_did_and_the_runner_keep_each_others_state() {
    let dir = tempfile::tempdir().unwrap();
    run_fixture("rollout-pass.json", dir.path(), &[]);
    assert!(did_init(dir.path(), DID_RUNBOOK).status.success());
    run_fixture("mixed-outcomes.json", dir.path(), &[]);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    assert!(state["browser_did"]["did"]
        .as_str()
        .unwrap()
        .starts_with("did:key:z6Mk"));
    assert_eq!(state["rollouts"].as_array().unwrap().len(), 6);
    assert_eq!(status_json(dir.path())["cycle_reports"], 2);
}

/// The wasm32 build derives what the native binary derives. Runs under Deno when the wasm artifact
/// (built by scripts/dev/wasm-smoke.sh) and deno are present; CI requires both.
#[test]
fn deployment_wasm_browser_did_wasm_build_matches_native() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wasm = root.join("target/wasm32-unknown-unknown/release/kamn_wasm.wasm");
    let deno = std::process::Command::new("deno").arg("--version").output();
    let in_ci = std::env::var_os("CI").is_some();
    if !wasm.exists() || deno.is_err() {
        assert!(
            !in_ci,
            "CI must build {} and install deno before the tests",
            wasm.display()
        );
        eprintln!("skipped: needs {} and deno", wasm.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    assert!(did_init(dir.path(), DID_RUNBOOK).status.success());
    let native = std::fs::read_to_string(dir.path().join("browser-did.json")).unwrap();
    let request = r#"{"method":"key","network":"tau-devnet","subject":"browser-agent","entropy":"local-dev-seed"}"#;
    let probe = std::process::Command::new("deno")
        .args(["run", "--no-prompt"])
        .arg(format!("--allow-read={}", wasm.display()))
        .arg(root.join("scripts/edge/deno-probe.mjs"))
        .arg(&wasm)
        .arg(request)
        .arg(&native)
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "{}{}",
        stdout(&probe),
        stderr(&probe)
    );
    // And a different input must not match, so the comparison itself is live.
    let other = request.replace("browser-agent", "someone-else");
    let mismatch = std::process::Command::new("deno")
        .args(["run", "--no-prompt"])
        .arg(format!("--allow-read={}", wasm.display()))
        .arg(root.join("scripts/edge/deno-probe.mjs"))
        .arg(&wasm)
        .arg(&other)
        .arg(&native)
        .output()
        .unwrap();
    assert!(!mismatch.status.success());
}

#[test]
fn deployment_wasm_browser_did_unwritable_output_records_nothing_in_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let before = "{\"schema_version\":1,\"kept\":\"as is\"}\n";
    std::fs::write(&state, before).unwrap();
    // A regular file where the output's parent directory should be: the write must fail.
    std::fs::write(dir.path().join("blocker"), "file").unwrap();
    let mut args = DID_RUNBOOK.to_vec();
    let output = dir.path().join("blocker").join("browser-did.json");
    let output = output.to_str().unwrap();
    args.extend(["--deployment-wasm-browser-did-output", output]);
    let out = did_init(dir.path(), &args);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), before);
}
