//! Judging responses against expectations, and the driver seam as the cycle sees it.

use super::*;

fn body(pairs: &[(&str, serde_json::Value)]) -> Option<ExpectedBody> {
    Some(ExpectedBody(
        pairs
            .iter()
            .map(|(k, v)| (Sym::new(k), v.clone().into()))
            .collect(),
    ))
}

fn full_container_body() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("status", "accepted".into()),
        ("blueprint_id", "bp".into()),
        ("deploy_target", "container".into()),
        ("runtime_profile", "native".into()),
        ("environment", "staging".into()),
        ("region", "r".into()),
        ("artifact", "img:1".into()),
        ("replicas", 1.into()),
        ("rollout_strategy", "recreate".into()),
    ]
}

#[test]
fn response_bodies_compare_exactly_by_default() {
    let mut exact = case("a", "container");
    exact.expected.response_body = body(&full_container_body());
    let mut partial = case("b", "container");
    partial.expected.response_body = body(&[("status", "accepted".into())]);
    let mut subset = partial.clone();
    subset.request.case_id = Sym::new("c");
    subset.expected.response_body_match = BodyMatch::Subset;
    let f = fixture(vec![exact, partial, subset]);
    let (results, counts) = run_all(&f, &Limits::default(), &mut Recorder::default());
    assert_eq!(results[0].disposition, Disposition::Applied);
    let Disposition::ContractMismatch(diffs) = &results[1].disposition else {
        panic!(
            "a partial body passed an exact comparison: {:?}",
            results[1]
        );
    };
    assert_eq!(diffs.len(), 9, "{diffs:?}");
    assert!(diffs[8].contains("subset"), "{diffs:?}");
    assert!(
        diffs[0].starts_with("response_body.blueprint_id: not expected, got \"bp\""),
        "{diffs:?}"
    );
    assert_eq!(results[2].disposition, Disposition::Applied);
    assert_eq!(counts.contract_mismatches, 1);
}

#[test]
fn failure_messages_name_the_case_and_its_blueprint() {
    let mut c = case("a", "container");
    c.expected.status_code = 201;
    let f = fixture(vec![c]);
    let (results, _) = run_all(&f, &Limits::default(), &mut Recorder::default());
    let message = results[0].failure().unwrap();
    assert_eq!(
        message,
        "case \"a\" (blueprint bp): status_code: expected 201, got 202"
    );
}

/// A driver that cannot answer.
struct Broken;
impl Driver for Broken {
    fn deploy(&mut self, _: &Request, _: u32) -> std::result::Result<Response, DriverError> {
        Err(DriverError::new("backend connection reset"))
    }
    fn kind(&self) -> crate::evidence::DriverKind {
        crate::evidence::DriverKind::DeployAgent
    }
}

#[test]
fn a_driver_error_stops_the_run_and_names_the_case() {
    let f = fixture(vec![case("a", "container")]);
    let limits = Limits::default();
    let plan = plan(&f, |_| false, &limits);
    let mut seen = 0;
    let err = execute(
        plan,
        &limits,
        &mut Broken,
        &mut Recorder::default(),
        &mut |_| {
            seen += 1;
            Ok(())
        },
    )
    .unwrap_err();
    assert_eq!(seen, 0, "a driver failure is not a case result");
    let text = err.to_string();
    assert!(
        text.contains("\"a\"") && text.contains("bp") && text.contains("connection reset"),
        "{text}"
    );
}

/// A driver that records what it was given: the seam hands over the request only.
struct Spy(Vec<Request>);
impl Driver for Spy {
    fn deploy(&mut self, request: &Request, _: u32) -> std::result::Result<Response, DriverError> {
        self.0.push(request.clone());
        Ok(Response::rejected(400, ErrorCode::InvalidBlueprint, "x"))
    }
    fn kind(&self) -> crate::evidence::DriverKind {
        crate::evidence::DriverKind::DeployAgent
    }
}

#[test]
fn the_driver_receives_the_request_of_each_case() {
    let f = fixture(vec![case("a", "container")]);
    let limits = Limits::default();
    let mut spy = Spy(Vec::new());
    execute(
        plan(&f, |_| false, &limits),
        &limits,
        &mut spy,
        &mut Recorder::default(),
        &mut |_| Ok(()),
    )
    .unwrap();
    assert_eq!(spy.0, [f.cases[0].request.clone()]);
}

#[test]
fn keys_that_joined_with_colons_collided_are_distinct() {
    // Before escaping, both keys were "container:native:staging:a:b:c".
    let mut one = case("c", "container");
    one.request.environment = Sym::new("staging:a");
    one.request.blueprint_id = Sym::new("b");
    let mut two = case("b:c", "container");
    two.request.blueprint_id = Sym::new("a");
    assert_ne!(case_key(&one), case_key(&two));
    assert_eq!(&*case_key(&one), "container:native:staging%3Aa:b:c");
    assert_eq!(&*case_key(&two), "container:native:staging:a:b:c");
}

#[test]
fn keys_of_ordinary_cases_are_the_runbook_tools_keys() {
    let c = case("wasm-edge-staging", "wasm");
    assert_eq!(
        &*case_key(&c),
        "wasm:wasm_wasi:staging:bp:wasm-edge-staging"
    );
}

/// A fixture written for the runbook's tool (loose spellings, an empty image, a padded error
/// code) replays with the tool's decisions: nothing breaks its contract.
#[test]
fn a_fixture_the_runbook_tool_accepts_replays_with_its_decisions() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/deployment-contract");
    let f = Fixture::load(&dir.join("runbook-compat.json")).unwrap();
    let limits = Limits::default();
    let mut driver = ContractEvaluator::new(&dir, crate::artifacts::Options::default());
    let mut results = Vec::new();
    execute(
        plan(&f, |_| false, &limits),
        &limits,
        &mut driver,
        &mut Recorder::default(),
        &mut |r| {
            results.push((r.case.case_id.to_string(), r.disposition));
            Ok(())
        },
    )
    .unwrap();
    let failed: Vec<_> = results
        .iter()
        .filter(|(_, d)| matches!(d, Disposition::ContractMismatch(_)))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(results.len(), 5);
}
