use super::*;
use crate::fixture::{Case, Expectation, SimulatedFailure};
use crate::sym::Sym;

fn case(target: &str, profile: &str, environment: &str) -> Case {
    Case {
        schema_version: 1,
        case_id: Sym::new("c"),
        deploy_target: Sym::new(target),
        runtime_profile: Sym::new(profile),
        blueprint_id: Sym::new("bp"),
        environment: Sym::new(environment),
        region: Sym::new("eu"),
        container_image: Some(Sym::new("img:1")),
        wasm_module: Some(Sym::new("m.wasm")),
        wasm_manifest: None,
        replicas: 2,
        simulate_retryable_failure: SimulatedFailure::Never,
        expected: Expectation {
            outcome: Outcome::Success,
            status_code: 202,
            error_code: Sym::default(),
            response_body: Default::default(),
        },
    }
}

fn reason(response: &Response) -> String {
    response.body.reason().unwrap_or_default()
}

#[test]
fn accepted_cases_get_target_specific_status_and_strategy() {
    for (target, profile, status, strategy) in [
        ("container", "native", 202, "recreate"),
        ("kubernetes", "native", 202, "rolling"),
        ("wasm", "wasm_wasi", 201, "canary"),
        ("wasm", "channel_automation_wasi", 201, "canary"),
    ] {
        let r = evaluate(&case(target, profile, "staging"), 1);
        assert_eq!(
            (r.outcome, r.status_code),
            (Outcome::Success, status),
            "{target}"
        );
        assert_eq!(r.body.get("rollout_strategy"), Some(strategy.into()));
        assert_eq!(r.body.get("status"), Some("accepted".into()));
        assert_eq!(r.body.get("replicas"), Some(2.into()));
        assert_eq!(r.error_code, None);
    }
}

#[test]
fn rules_apply_in_contract_order() {
    // An unsupported target wins over an unsupported profile and environment.
    let r = evaluate(&case("mainframe", "cobol", "qa"), 1);
    assert_eq!(
        (r.status_code, r.error_code),
        (400, Some(ErrorCode::InvalidBlueprint))
    );
    assert_eq!(reason(&r), "unsupported_target");
    let r = evaluate(&case("wasm", "cobol", "qa"), 1);
    assert_eq!(reason(&r), "unsupported_runtime_profile");
    let r = evaluate(&case("wasm", "native", "qa"), 1);
    assert_eq!(reason(&r), "unsupported_environment");
    let r = evaluate(&case("wasm", "native", "production"), 1);
    assert_eq!(
        (r.status_code, r.error_code),
        (422, Some(ErrorCode::UnsupportedRuntime))
    );
    assert_eq!(reason(&r), "runtime_target_mismatch");
    assert_eq!(r.body.get("status"), Some("rejected".into()));
}

#[test]
fn missing_artifacts_are_named_per_target() {
    let mut c = case("kubernetes", "native", "staging");
    c.container_image = None;
    let r = evaluate(&c, 1);
    assert_eq!(
        (r.status_code, r.error_code),
        (400, Some(ErrorCode::MissingArtifact))
    );
    assert_eq!(reason(&r), "missing_container_image");
    let mut c = case("wasm", "wasm_wasi", "staging");
    c.wasm_module = None;
    assert_eq!(reason(&evaluate(&c, 1)), "missing_wasm_module");
}

#[test]
fn a_manifest_is_the_artifact_when_present() {
    let mut c = case("wasm", "wasm_wasi", "staging");
    c.wasm_manifest = Some(Sym::new("x.manifest.json"));
    let r = evaluate(&c, 1);
    assert_eq!(r.body.get("artifact"), Some("x.manifest.json".into()));
    assert_eq!(
        r.body.get("artifact_manifest"),
        Some("x.manifest.json".into())
    );
}

#[test]
fn simulated_failure_comes_first_and_is_retryable() {
    let mut c = case("mainframe", "native", "staging");
    c.simulate_retryable_failure = SimulatedFailure::FirstAttempts(1);
    let r = evaluate(&c, 1);
    assert_eq!(r.outcome, Outcome::RetryableFailure);
    assert_eq!(
        (r.status_code, r.error_code),
        (503, Some(ErrorCode::BackendUnavailable))
    );
    assert_eq!(r.body.get("status"), Some("retryable".into()));
    assert_eq!(reason(&r), "control_plane_unavailable");
    // Attempt 2 is past the simulated failures, so the real rules decide.
    assert_eq!(reason(&evaluate(&c, 2)), "unsupported_target");
}

#[test]
fn targets_and_profiles_are_matched_trimmed_and_case_insensitively() {
    let r = evaluate(&case(" Container ", "NATIVE", "Staging"), 1);
    assert_eq!(r.outcome, Outcome::Success);
    // The body echoes what the fixture said.
    assert_eq!(r.body.get("deploy_target"), Some(" Container ".into()));
}

#[test]
fn error_codes_round_trip_through_text() {
    for code in ErrorCode::ALL {
        assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
    }
}
