//! How `tau` behaves at the edges of its output: a reader that went away, a full device, JSON
//! error objects, and input text that must not reach a terminal raw. Through the real binary.

mod common;

use std::process::{Command, Output, Stdio};

use common::*;

/// Runs `cmd` with stdout a pipe whose read end is already closed.
fn with_closed_stdout(mut cmd: Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.stdout(writer).stderr(Stdio::piped()).output().unwrap()
}

/// Runs `cmd` with stdout on /dev/full.
fn with_full_stdout(mut cmd: Command) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    cmd.stdout(full).stderr(Stdio::piped()).output().unwrap()
}

fn ran_state(dir: &std::path::Path) -> std::path::PathBuf {
    let state = dir.join("state");
    let out = run_fixture("rollout-pass.json", &state, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    state
}

fn status_cmd(state: &std::path::Path, extra: &[&str]) -> Command {
    let mut cmd = tau();
    cmd.arg("status").arg("--state-dir").arg(state).args(extra);
    cmd
}

#[test]
fn a_closed_stdout_pipe_exits_quietly_with_the_commands_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let state = ran_state(dir.path());
    for (extra, code) in [(&[][..], 0), (&["--json"][..], 0)] {
        let out = with_closed_stdout(status_cmd(&state, extra));
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
    // A holding gate keeps its exit 3 even when nobody reads the report.
    let empty = dir.path().join("empty");
    let out = with_closed_stdout(status_cmd(&empty, &["--require-pass"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // The runbook's flag form, help and a run that writes state behave the same.
    let mut flags = tau();
    flags
        .args(["--deployment-status-inspect", "--deployment-state-dir"])
        .arg(&state);
    assert_eq!(with_closed_stdout(flags).status.code(), Some(0));
    let mut help = tau();
    help.arg("--help");
    assert_eq!(with_closed_stdout(help).status.code(), Some(0));
    let mut run = tau();
    run.arg("run")
        .arg("--fixture")
        .arg(testdata("rollout-pass.json"))
        .arg("--state-dir")
        .arg(dir.path().join("piped-run"));
    assert_eq!(with_closed_stdout(run).status.code(), Some(0));
    assert_eq!(
        status_json(&dir.path().join("piped-run"))["rollout_count"],
        4
    );
}

#[test]
fn a_full_stdout_device_is_an_error_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let state = ran_state(dir.path());
    for cmd in [
        status_cmd(&state, &[]),
        status_cmd(&state, &["--json"]),
        {
            let mut c = tau();
            c.args(["health", "--state-dir"]).arg(&state);
            c
        },
        {
            let mut c = tau();
            c.arg("--help");
            c
        },
        {
            let mut c = tau();
            c.args(["completions", "bash"]);
            c
        },
    ] {
        let out = with_full_stdout(cmd);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_stderr_contains(&out, "cannot write to standard output");
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn json_refusals_print_one_error_object_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    // Exit 2: an invalid fixture, with every problem and its JSON path.
    let out = tau()
        .arg("run")
        .arg("--fixture")
        .arg(testdata("invalid-schema.json"))
        .arg("--state-dir")
        .arg(dir.path().join("s"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["error"]["code"], "fixture_invalid");
    assert_eq!(value["error"]["exit_code"], 2);
    assert_eq!(value["error"]["problems"].as_array().unwrap().len(), 8);
    assert_eq!(value["error"]["problems"][2]["path"], "$.cases[0].region");

    // Exit 2: a usage error, in both command-line forms, and no command at all.
    for args in [
        &["--json"][..],
        &["status", "--bogus", "--json"][..],
        &[
            "--deployment-status-inspect",
            "--deployment-status-json",
            "--bogus",
        ][..],
    ] {
        let out = tau().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(value["error"]["code"], "usage", "{args:?}");
    }

    // Exit 3: the gate holds; the report is still the document, with the error beside it.
    let out = status_cmd(&dir.path().join("empty"), &["--require-pass", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["rollout_gate"], "hold");
    assert_eq!(value["error"]["code"], "gate_hold");
    assert_eq!(
        value["error"]["gate_reasons"],
        serde_json::json!(["no_evidence"])
    );
}

#[test]
fn json_refusal_of_a_non_compliant_module_is_an_error_object() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("legacy.wasm");
    std::fs::write(
        &module,
        wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "fd_write" (func)))"#).unwrap(),
    )
    .unwrap();
    let out = tau()
        .args(["wasm", "validate", "--json"])
        .arg(&module)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["error"]["code"], "module_not_compliant");
    assert!(!value["error"]["reason_codes"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn control_characters_from_a_fixture_are_escaped_in_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("f.json");
    let text = std::fs::read_to_string(testdata("rollout-pass.json"))
        .unwrap()
        .replace(
            "\"name\": \"rollout-pass\"",
            "\"name\": \"evil\\u001b[2J\\r\"",
        );
    std::fs::write(&fixture, text).unwrap();
    let out = tau()
        .args(["run", "--dry-run", "--fixture"])
        .arg(&fixture)
        .arg("--state-dir")
        .arg(dir.path().join("s"))
        .output()
        .unwrap();
    // The fixture refuses control characters; the refusal names them without echoing them.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    assert!(text.contains("\\u{1b}"), "{text}");
}

#[test]
fn numeric_flags_that_overflow_are_refused_not_wrapped() {
    let out = tau()
        .args([
            "run",
            "--fixture",
            "x.json",
            "--queue-limit",
            "18446744073709551616",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "--queue-limit");
    let dir = tempfile::tempdir().unwrap();
    let out = tau()
        .env("SOURCE_DATE_EPOCH", "18446744073709552")
        .args(["wasm", "package"])
        .arg(runbook_module())
        .arg("--state-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_stderr_contains(&out, "SOURCE_DATE_EPOCH");
}

#[test]
fn a_locked_state_dir_is_a_state_locked_error_object() {
    let dir = tempfile::tempdir().unwrap();
    let _held =
        tau_durable::lock::DirLock::acquire(dir.path(), tau_durable::lock::Wait::FailFast).unwrap();
    let out = tau()
        .args(["run", "--lock-no-wait", "--json", "--fixture"])
        .arg(testdata("rollout-pass.json"))
        .arg("--state-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["error"]["code"], "state_locked", "{value}");
}

#[test]
fn a_usage_error_is_json_when_a_commands_own_json_variable_asks_for_it() {
    let out = tau()
        .env("TAU_DEPLOYMENT_STATUS_JSON", "true")
        .args(["--deployment-status-inspect", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["error"]["code"], "usage");
}
