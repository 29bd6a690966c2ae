//! The subcommands beside the runbook's flags: both forms run one code path with one output, and
//! each subcommand's own options (dry run, evidence requirements, reports, generators) work.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// JSON with every `*_ms` field (the explicitly-time fields) removed.
fn without_times(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            // Times, and the paths of the two state dirs being compared, differ by design.
            map.retain(|k, _| !k.ends_with("_ms") && !k.ends_with("_path"));
            for v in map.values_mut() {
                *v = without_times(v.take());
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                *v = without_times(v.take());
            }
        }
        _ => {}
    }
    value
}

#[test]
fn runbook_flag_commands_and_their_subcommands_print_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let fixture = testdata("mixed-outcomes.json");
    let flags = run(&[
        "--deployment-state-dir",
        s(&a),
        "--deployment-contract-runner",
        "--deployment-fixture",
        s(&fixture),
    ]);
    let sub = run(&["run", "--state-dir", s(&b), "--fixture", s(&fixture)]);
    assert_eq!(flags.status.code(), sub.status.code());
    assert_eq!(stdout(&flags), stdout(&sub));
    assert!(stdout(&sub).starts_with("deployment runner summary: discovered="));

    let pairs: [(Vec<&str>, Vec<&str>); 3] = [
        (
            vec![
                "--transport-health-inspect",
                "deployment",
                "--transport-health-json",
            ],
            vec!["health", "--json"],
        ),
        (
            vec!["--deployment-status-inspect", "--deployment-status-json"],
            vec!["status", "--json"],
        ),
        (
            vec!["--deployment-status-inspect", "--json"],
            vec!["status", "--json"],
        ),
    ];
    for (flag_args, sub_args) in pairs {
        let flags = tau()
            .arg("--deployment-state-dir")
            .arg(&a)
            .args(&flag_args)
            .output()
            .unwrap();
        let sub = tau()
            .args(&sub_args)
            .arg("--state-dir")
            .arg(&b)
            .output()
            .unwrap();
        assert_eq!(flags.status.code(), Some(0), "{}", stderr(&flags));
        let f: Value = serde_json::from_slice(&flags.stdout).unwrap();
        let g: Value = serde_json::from_slice(&sub.stdout).unwrap();
        assert_eq!(without_times(f), without_times(g), "{flag_args:?}");
    }

    let out = dir.path().join("out");
    let flags = run(&[
        "--deployment-state-dir",
        s(&a),
        "--deployment-wasm-package-module",
        s(&runbook_module()),
        "--deployment-wasm-package-blueprint-id",
        "edge-wasm",
        "--deployment-wasm-package-runtime-profile",
        "wasm-wasi",
        "--deployment-wasm-package-output-dir",
        s(&out),
        "--deployment-wasm-package-json",
    ]);
    let sub = run(&[
        "wasm",
        "package",
        s(&runbook_module()),
        "--state-dir",
        s(&a),
        "--blueprint-id",
        "edge-wasm",
        "--runtime-profile",
        "wasm-wasi",
        "--output-dir",
        s(&out),
        "--json",
    ]);
    assert_eq!(flags.status.code(), Some(0), "{}", stderr(&flags));
    assert_eq!(stdout(&flags), stdout(&sub));
    let manifest: Value = serde_json::from_slice(&sub.stdout).unwrap();
    let manifest = manifest["manifest_path"].as_str().unwrap().to_string();
    let flags = run(&[
        "--deployment-wasm-inspect-manifest",
        &manifest,
        "--deployment-wasm-inspect-json",
    ]);
    let sub = run(&["wasm", "inspect", &manifest, "--json"]);
    assert_eq!(flags.status.code(), Some(0), "{}", stderr(&flags));
    assert_eq!(stdout(&flags), stdout(&sub));

    let did_output = dir.path().join("did.json");
    let mut did_args = vec!["--deployment-wasm-browser-did-init"];
    did_args.extend_from_slice(DID_RUNBOOK);
    did_args.extend([
        "--deployment-wasm-browser-did-output",
        s(&did_output),
        "--deployment-state-dir",
        s(&a),
    ]);
    let did_flags = run(&did_args);
    let did_sub = tau()
        .env("TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY", "local-dev-seed")
        .args([
            "did",
            "init",
            "--network",
            "tau-devnet",
            "--subject",
            "browser-agent",
        ])
        .arg("--output")
        .arg(dir.path().join("did.json"))
        .arg("--state-dir")
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(did_flags.status.code(), Some(0), "{}", stderr(&did_flags));
    assert_eq!(stdout(&did_flags), stdout(&did_sub));

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fly.toml");
    let flags = run(&["--fly-manifest-check", s(&root)]);
    let sub = run(&["fly", "check", s(&root)]);
    assert_eq!(flags.status.code(), sub.status.code());
    assert_eq!(stdout(&flags), stdout(&sub));
}

#[test]
fn subcommands_read_the_same_environment_fallbacks_as_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = tau()
        .env("TAU_DEPLOYMENT_FIXTURE", testdata("rollout-pass.json"))
        .env("TAU_DEPLOYMENT_STATE_DIR", dir.path())
        .env("TAU_DEPLOYMENT_QUEUE_LIMIT", "3")
        .arg("run")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("queued=3"), "{}", stdout(&out));
    let status = tau()
        .env("TAU_DEPLOYMENT_STATE_DIR", dir.path())
        .env("TAU_JSON", "1")
        .arg("status")
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["gate_reasons"], serde_json::json!(["queue_backlog"]));
}

#[test]
fn dry_run_lists_the_cases_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = run(&[
        "run",
        "--dry-run",
        "--fixture",
        s(&testdata("rollout-pass.json")),
        "--state-dir",
        s(&state),
        "--queue-limit",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.matches("deployment runner dry-run case: case_id=")
            .count(),
        3,
        "{text}"
    );
    assert!(
        text.contains("would_apply=3 already_applied=0 deferred=1 state_written=false"),
        "{text}"
    );
    assert!(!state.exists(), "a dry run must not create the state dir");
}

#[test]
fn status_requirements_are_read_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // A required fixture that cannot be read is a usage error naming the flag, in both forms.
    for args in [
        vec!["status", "--require-fixture"],
        vec![
            "--deployment-status-inspect",
            "--deployment-status-require-fixture",
        ],
    ] {
        let out = tau()
            .args(&args)
            .arg(dir.path().join("missing.json"))
            .arg(if args[0] == "status" {
                "--state-dir"
            } else {
                "--deployment-state-dir"
            })
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_stderr_contains(&out, "missing.json");
    }
    // `0` (disabled) is accepted now in both forms (the flag refused it before) and reaches the
    // status reader unchanged.
    let state = dir.path().join("s");
    assert!(run_fixture("rollout-pass.json", &state, &[])
        .status
        .success());
    for args in [
        vec![
            "status",
            "--max-age-ms",
            "0",
            "--json",
            "--state-dir",
            s(&state),
        ],
        vec![
            "--deployment-status-inspect",
            "--deployment-status-max-age-ms",
            "0",
            "--json",
            "--deployment-state-dir",
            s(&state),
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        // `0` turns the age check off: the report says no maximum age applies.
        assert_eq!(report["max_age_ms"], Value::Null, "{args:?}");
        let reasons = report["gate_reasons"].as_array().unwrap();
        assert!(!reasons.iter().any(|r| r == "state_stale"), "{args:?}");
    }
}

#[test]
fn fixture_init_writes_a_valid_starter_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.json");
    let out = run(&["fixture", "init", s(&path), "--target", "kubernetes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let valid = run(&["fixture", "validate", s(&path), "--json"]);
    let valid: Value = serde_json::from_slice(&valid.stdout).unwrap();
    assert_eq!(valid["valid"], true);
    let before = std::fs::read(&path).unwrap();
    let again = run(&["fixture", "init", s(&path)]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let state = dir.path().join("s");
    assert!(
        run(&["run", "--fixture", s(&path), "--state-dir", s(&state)])
            .status
            .success()
    );
    let gate = run(&["status", "--require-pass", "--state-dir", s(&state)]);
    assert_eq!(gate.status.code(), Some(0), "{}", stdout(&gate));
}

#[test]
fn fixture_validate_lists_every_problem() {
    let out = run(&["fixture", "validate", s(&testdata("invalid-schema.json"))]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "is invalid (8 problems)");
}

#[test]
fn wasm_validate_checks_without_writing_and_values_have_one_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let out = tau()
        .current_dir(dir.path())
        .args(["wasm", "validate"])
        .arg(runbook_module())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("valid=true compliant=true runtime_profile=wasm_wasi"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "validate wrote something"
    );
    let out = run(&[
        "wasm",
        "validate",
        s(&runbook_module()),
        "--runtime-profile",
        "wasm_wasi",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(
        &out,
        "[possible values: wasm-wasi, channel-automation-wasi]",
    );
}

#[test]
fn short_help_lists_subcommands_and_long_help_keeps_the_runbook_flags() {
    let short = stdout(&run(&["-h"]));
    assert!(
        short.contains("run ") && short.contains("completions"),
        "{short}"
    );
    assert!(!short.contains("--deployment-contract-runner "), "{short}");
    let long = stdout(&run(&["--help"]));
    assert!(long.contains("--deployment-contract-runner"), "{long}");
    let sub = stdout(&run(&["run", "--help"]));
    assert!(
        sub.contains("Examples:") && sub.contains("--dry-run"),
        "{sub}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_same_definition() {
    let bash = run(&["completions", "bash"]);
    assert!(bash.status.success());
    assert!(stdout(&bash).contains("--require-fixture"));
    let man = run(&["man"]);
    assert!(man.status.success());
    assert!(stdout(&man).contains(".TH tau 1"));
}

#[test]
fn status_json_keeps_the_reports_field_order_with_or_without_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [&[][..], &["--require-pass"][..]] {
        let out = tau()
            .args(["status", "--json", "--state-dir"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap();
        let text = stdout(&out);
        // The runbook tool's fields come first, ours after them.
        assert!(text.starts_with("{\n  \"state_path\": "), "{text}");
    }
}
