use super::*;
use crate::driver::Field;
use crate::fixture::Case;
use crate::request::SimulatedFailure;
use tau_testkit::wasm;

/// An evaluator over a directory holding a compliant `m.wasm`.
fn evaluator() -> (tempfile::TempDir, ContractEvaluator) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.wasm"), wasm::edge_runtime()).unwrap();
    let evaluator = ContractEvaluator::new(dir.path(), artifacts::Options::default());
    (dir, evaluator)
}

fn case(target: &str, profile: &str, environment: &str) -> Case {
    let mut c = Case::example("c", target, profile);
    c.request.environment = Sym::new(environment);
    c.request.replicas = 2;
    c
}

fn deploy(c: &Case, attempt: u32) -> Response {
    let (_dir, mut evaluator) = evaluator();
    evaluator.deploy(&c.request, attempt).unwrap()
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
        let r = deploy(&case(target, profile, "staging"), 1);
        assert_eq!(
            (r.outcome, r.status_code),
            (Outcome::Success, status),
            "{target} {profile}: {r:?}"
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
    let r = deploy(&case("mainframe", "cobol", "qa"), 1);
    assert_eq!(
        (r.status_code, r.error_code),
        (400, Some(ErrorCode::InvalidBlueprint))
    );
    assert_eq!(reason(&r), "unsupported_target");
    let r = deploy(&case("wasm", "cobol", "qa"), 1);
    assert_eq!(reason(&r), "unsupported_runtime_profile");
    let r = deploy(&case("wasm", "native", "qa"), 1);
    assert_eq!(reason(&r), "unsupported_environment");
    let r = deploy(&case("wasm", "native", "production"), 1);
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
    c.request.container_image = None;
    let r = deploy(&c, 1);
    assert_eq!(
        (r.status_code, r.error_code),
        (400, Some(ErrorCode::MissingArtifact))
    );
    assert_eq!(reason(&r), "missing_container_image");
    let mut c = case("wasm", "wasm_wasi", "staging");
    c.request.wasm_module = None;
    assert_eq!(reason(&deploy(&c, 1)), "missing_wasm_module");
}

#[test]
fn a_wasm_module_that_does_not_exist_is_a_missing_artifact_not_a_deployment() {
    let mut c = case("wasm", "wasm_wasi", "staging");
    c.request.wasm_module = Some(Sym::new("not-built-yet.wasm"));
    let r = deploy(&c, 1);
    assert_eq!(r.outcome, Outcome::MalformedInput);
    assert_eq!(
        (r.status_code, r.error_code),
        (400, Some(ErrorCode::MissingArtifact))
    );
    assert_eq!(reason(&r), "wasm_module_not_found");
}

#[test]
fn simulated_failure_comes_first_and_is_retryable() {
    let mut c = case("mainframe", "native", "staging");
    c.request.simulate_retryable_failure = SimulatedFailure::FirstAttempts(1);
    let r = deploy(&c, 1);
    assert_eq!(r.outcome, Outcome::RetryableFailure);
    assert_eq!(
        (r.status_code, r.error_code),
        (503, Some(ErrorCode::BackendUnavailable))
    );
    assert_eq!(r.body.get("status"), Some("retryable".into()));
    assert_eq!(reason(&r), "control_plane_unavailable");
    // Attempt 2 is past the simulated failures, so the real rules decide.
    assert_eq!(reason(&deploy(&c, 2)), "unsupported_target");
}

#[test]
fn targets_profiles_and_environments_are_echoed_normalized_as_the_tool_does() {
    let mut c = case(" Container ", "NATIVE", " Staging");
    c.request.region = Sym::new(" us-east-1 ");
    let r = deploy(&c, 1);
    assert_eq!(r.outcome, Outcome::Success);
    assert_eq!(r.body.get("deploy_target"), Some("container".into()));
    assert_eq!(r.body.get("runtime_profile"), Some("native".into()));
    assert_eq!(r.body.get("environment"), Some("staging".into()));
    assert_eq!(r.body.get("region"), Some("us-east-1".into()));
    let r = deploy(&case(" WASM ", "Wasm_Wasi", "production"), 1);
    assert_eq!(r.body.get("deploy_target"), Some("wasm".into()));
    assert_eq!(r.body.get("runtime_profile"), Some("wasm_wasi".into()));
}

#[test]
fn an_accepted_module_body_has_exactly_the_tools_keys() {
    let r = deploy(&case("wasm", "wasm_wasi", "staging"), 1);
    let mut keys = r.body.keys();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "artifact",
            "blueprint_id",
            "deploy_target",
            "environment",
            "region",
            "replicas",
            "rollout_strategy",
            "runtime_profile",
            "status"
        ]
    );
    assert_eq!(r.body.len(), keys.len());
    assert_eq!(r.body.field("artifact"), Some(Field::Text("m.wasm")));
    // Verification data is kept for state, not added to the compared body.
    let accepted = r.accepted().unwrap();
    assert_eq!(accepted.artifact.verified, Some(true));
    assert!(accepted.artifact.sha256.is_some());
}

#[test]
fn the_simulated_driver_says_its_evidence_is_simulated() {
    let (_dir, evaluator) = evaluator();
    assert_eq!(evaluator.kind(), crate::evidence::DriverKind::Simulated);
}

#[test]
fn error_codes_round_trip_through_text() {
    for code in ErrorCode::ALL {
        assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
    }
}

proptest::proptest! {
    /// However a fixture pads and capitalizes a target, profile or environment, the decision and
    /// the echoed spelling are those of the canonical value, as in the runbook's tool.
    #[test]
    fn spellings_normalize_to_the_canonical_value(
        pick in 0usize..4,
        upper in proptest::collection::vec(proptest::bool::ANY, 32),
        left in " {0,2}",
        right in " {0,2}",
    ) {
        let (target, profile) = [
            ("container", "native"),
            ("kubernetes", "native"),
            ("wasm", "wasm_wasi"),
            ("wasm", "channel_automation_wasi"),
        ][pick];
        let scramble = |text: &str| -> String {
            let body: String = text
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            format!("{left}{body}{right}")
        };
        let r = deploy(&case(&scramble(target), &scramble(profile), &scramble("production")), 1);
        proptest::prop_assert_eq!(r.outcome, Outcome::Success);
        proptest::prop_assert_eq!(r.body.get("deploy_target"), Some(target.into()));
        proptest::prop_assert_eq!(r.body.get("runtime_profile"), Some(profile.into()));
        proptest::prop_assert_eq!(r.body.get("environment"), Some("production".into()));
    }
}
