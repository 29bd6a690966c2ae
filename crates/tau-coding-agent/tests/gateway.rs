//! The gateway through the real binary on an ephemeral loopback port.

mod common;
mod gateway_support;

use std::path::Path;
use std::time::Duration;

use common::*;
use gateway_support::Gateway;

#[test]
fn gateway_routes_answer_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::serve(dir.path());
    let status = gw.status();
    for key in [
        "service",
        "version",
        "uptime_ms",
        "health_state",
        "health_reason",
        "rollout_gate",
        "gate_reasons",
        "state_age_ms",
        "failure_streak",
        "queue_depth",
    ] {
        assert!(status.get(key).is_some(), "{key} missing from {status}");
    }
    assert_eq!(status["rollout_gate"], "hold");
    assert_eq!(status["gate_reasons"], serde_json::json!(["no_evidence"]));
    // Unauthenticated, so it must not reveal where state lives.
    let (_, body) = gw.get("/gateway/status");
    assert!(!body.contains(&*dir.path().to_string_lossy()), "{body}");

    assert_eq!(gw.get("/gateway/health/live").0, 200);
    assert_eq!(gw.get("/gateway/health/ready").0, 200);
    let (code, body) = gw.get("/no/such/route");
    assert_eq!((code, body.as_str()), (404, r#"{"error":"not_found"}"#));
    let (code, body) = gw.request(
        "POST /gateway/status HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(code, 413, "{body}");
    let (code, metrics) = gw.get("/metrics");
    assert_eq!(code, 200);
    assert!(
        metrics.contains("tau_deployment_rollout_gate 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tau_gateway_requests_total{route=\"/gateway/status\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "tau_gateway_request_duration_seconds_bucket{route=\"/gateway/status\",le=\"+Inf\"}"
    ));
    assert!(metrics.contains("tau_deployment_queue_depth 0"));
}

#[test]
fn gateway_gate_turns_from_hold_to_pass_when_a_passing_run_lands() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::serve(dir.path());
    assert_eq!(gw.status()["rollout_gate"], "hold");
    run_fixture("mixed-outcomes.json", dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(120));
    let held = gw.status();
    assert_eq!(
        (held["rollout_gate"].as_str(), held["health_state"].as_str()),
        (Some("hold"), Some("degraded"))
    );
    // A clean run resets the failure streak, and the gate opens.
    run_fixture("rollout-pass.json", dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(120));
    let status = gw.status();
    assert_eq!(status["rollout_gate"], "pass", "{status}");
    assert_eq!(status["failure_streak"], 0);
    assert!(gw
        .get("/metrics")
        .1
        .contains("tau_deployment_rollout_gate 1"));
}

#[test]
fn gateway_corrupt_state_answers_503_without_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.json"), "{nope").unwrap();
    let gw = Gateway::serve(dir.path());
    let (code, body) = gw.get("/gateway/status");
    assert_eq!(code, 503);
    assert!(
        body.contains("\"rollout_gate\":\"hold\"") && body.contains("state_unreadable"),
        "{body}"
    );
    assert!(!body.contains(&*dir.path().to_string_lossy()));
}

#[test]
fn gateway_stops_within_five_seconds_on_sigint_and_sigterm() {
    for signal in ["INT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let gw = Gateway::serve(dir.path());
        assert_eq!(gw.get("/gateway/health/live").0, 200);
        let (took, clean) = gw.stop_with(signal);
        assert!(clean, "SIG{signal}: unclean exit");
        assert!(took < Duration::from_secs(5), "SIG{signal}: took {took:?}");
    }
}

#[test]
fn gateway_serves_from_the_image_environment_with_no_arguments() {
    // fly.toml's [env], with the port moved to an ephemeral loopback one for the test.
    let dir = tempfile::tempdir().unwrap();
    let manifest: toml::Value = toml::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fly.toml"))
            .unwrap(),
    )
    .unwrap();
    let mut cmd = tau();
    for (key, value) in manifest["env"].as_table().unwrap() {
        cmd.env(key, value.as_str().unwrap());
    }
    cmd.env("TAU_GATEWAY_OPENRESPONSES_BIND", "127.0.0.1:0")
        .env("TAU_DEPLOYMENT_STATE_DIR", dir.path().join("deployment"));
    let gw = Gateway::start(&mut cmd);
    assert_eq!(gw.status()["service"], "tau-gateway");
    assert_eq!(
        gw.get("/gateway/health/ready").0,
        200,
        "the state dir is created at start"
    );
}

#[test]
fn gateway_fly_manifest_check_passes_on_the_repository_and_fails_a_broken_copy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tau()
        .arg("--fly-manifest-check")
        .arg(root.join("fly.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("status=pass"));
    let json = tau()
        .arg("--fly-manifest-check")
        .arg(root.join("fly.toml"))
        .arg("--json")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["status"], "pass");
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["pass"] == true));
    let dir = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(root.join("fly.toml"))
        .unwrap()
        .replace(
            "TAU_TRANSPORT_MODE = \"gateway\"",
            "TAU_TRANSPORT_MODE = \"cli\"",
        );
    std::fs::write(dir.path().join("fly.toml"), broken).unwrap();
    std::fs::copy(root.join("Dockerfile"), dir.path().join("Dockerfile")).unwrap();
    let out = tau()
        .arg("--fly-manifest-check")
        .arg(dir.path().join("fly.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout(&out).contains("fly manifest check: env_transport_mode fail"),
        "{}",
        stdout(&out)
    );
}
