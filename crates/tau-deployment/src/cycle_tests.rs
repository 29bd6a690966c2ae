use super::*;
use crate::driver::{DriverError, ErrorCode};
use crate::fixture::{Expectation, ExpectedBody};
use crate::request::SimulatedFailure;
use crate::simulated::ContractEvaluator;
use proptest::prelude::*;

fn case(id: &str, target: &str) -> Case {
    let profile = if target == "wasm" {
        "wasm_wasi"
    } else {
        "native"
    };
    Case::example(id, target, profile)
}

/// The simulated driver over a directory holding a compliant `m.wasm`.
fn evaluator() -> (tempfile::TempDir, ContractEvaluator) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.wasm"), tau_testkit::wasm::edge_runtime()).unwrap();
    let evaluator = ContractEvaluator::new(dir.path(), crate::artifacts::Options::default());
    (dir, evaluator)
}

fn fixture(cases: Vec<Case>) -> Fixture {
    Fixture {
        schema_version: 1,
        name: "t".into(),
        description: None,
        cases,
        sha256: String::new(),
    }
}

#[derive(Default)]
struct Recorder {
    sleeps: Vec<Duration>,
}

impl Hooks for Recorder {
    fn sleep(&mut self, delay: Duration) {
        self.sleeps.push(delay);
    }
}

fn run_all<'f>(
    fixture: &'f Fixture,
    limits: &Limits,
    hooks: &mut Recorder,
) -> (Vec<CaseResult<'f>>, Counts) {
    let plan = plan(fixture, |_| false, limits);
    let mut results = Vec::new();
    let (_dir, mut driver) = evaluator();
    let counts = execute(plan, limits, &mut driver, hooks, &mut |r| {
        results.push(r);
        Ok(())
    })
    .unwrap();
    (results, counts)
}

#[test]
fn case_key_is_trimmed_and_lowercased_except_the_case_id() {
    let mut c = case(" Case-A ", "Container");
    c.request.runtime_profile = Sym::new(" Native");
    c.request.environment = Sym::new("STAGING ");
    c.request.blueprint_id = Sym::new("Edge");
    assert_eq!(&*case_key(&c), "container:native:staging:edge:Case-A");
}

#[test]
fn plan_orders_by_case_id_and_leaves_the_rest_pending() {
    let f = fixture(vec![
        case("c", "wasm"),
        case("a", "container"),
        case("b", "kubernetes"),
    ]);
    let limits = Limits {
        queue_limit: 2,
        ..Limits::default()
    };
    let plan = plan(&f, |_| false, &limits);
    let ids: Vec<&str> = plan.queue.iter().map(|(c, _)| &*c.case_id).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(
        (
            plan.counts.queued,
            plan.counts.backlog,
            plan.counts.discovered
        ),
        (2, 1, 3)
    );
}

#[test]
fn processed_cases_are_skipped_as_duplicates() {
    let f = fixture(vec![case("a", "container"), case("b", "container")]);
    let done = case_key(&f.cases[0]);
    let plan = plan(&f, |k| k == &*done, &Limits::default());
    assert_eq!(plan.counts.duplicate_skips, 1);
    assert_eq!(plan.queue.len(), 1);
}

#[test]
fn retries_back_off_exponentially_then_give_up() {
    let mut c = case("a", "container");
    c.request.simulate_retryable_failure = SimulatedFailure::Always;
    let f = fixture(vec![c]);
    let limits = Limits {
        retry_max_attempts: 4,
        retry_base_delay_ms: 10,
        ..Limits::default()
    };
    let mut hooks = Recorder::default();
    let (results, counts) = run_all(&f, &limits, &mut hooks);
    assert_eq!(hooks.sleeps, [10, 20, 40].map(Duration::from_millis));
    assert_eq!(results[0].attempts, 4);
    assert_eq!(
        results[0].response.error_code,
        Some(ErrorCode::BackendUnavailable)
    );
    // The fixture expected success, so an exhausted retry also breaks the contract.
    assert!(matches!(
        results[0].disposition,
        Disposition::ContractMismatch(_)
    ));
    assert_eq!(
        (
            counts.retryable_failures,
            counts.retry_attempts,
            counts.failed
        ),
        (4, 3, 1)
    );
}

#[test]
fn expected_retryable_failure_is_failed_for_this_run_but_not_a_mismatch() {
    let mut c = case("a", "container");
    c.request.simulate_retryable_failure = SimulatedFailure::Always;
    c.expected = Expectation {
        outcome: Outcome::RetryableFailure,
        status_code: 503,
        error_code: Sym::new("deployment_backend_unavailable"),
        response_body: None,
        response_body_match: BodyMatch::Exact,
    };
    let f = fixture(vec![c]);
    let (results, counts) = run_all(&f, &Limits::default(), &mut Recorder::default());
    assert_eq!(results[0].disposition, Disposition::RetriesExhausted);
    assert!(!results[0].disposition.is_completed());
    assert_eq!((counts.failed, counts.contract_mismatches), (1, 0));
}

#[test]
fn a_counted_failure_recovers_within_the_attempt_budget() {
    let mut c = case("a", "wasm");
    c.request.simulate_retryable_failure = SimulatedFailure::FirstAttempts(2);
    let f = fixture(vec![c]);
    let (results, counts) = run_all(&f, &Limits::default(), &mut Recorder::default());
    assert_eq!(results[0].disposition, Disposition::Applied);
    assert_eq!(results[0].attempts, 3);
    assert_eq!(
        (counts.applied, counts.wasm_rollouts, counts.retry_attempts),
        (1, 1, 2)
    );
}

#[test]
fn mismatches_say_what_differed() {
    let mut c = case("a", "wasm");
    c.expected.response_body = Some(ExpectedBody(vec![
        (Sym::new("rollout_strategy"), "rolling".into()),
        (Sym::new("nope"), serde_json::Value::from(1).into()),
    ]));
    c.expected.response_body_match = BodyMatch::Subset;
    let f = fixture(vec![c]);
    let (results, _) = run_all(&f, &Limits::default(), &mut Recorder::default());
    let Disposition::ContractMismatch(diffs) = &results[0].disposition else {
        panic!("expected a mismatch");
    };
    assert_eq!(
        diffs,
        &[
            "response_body.rollout_strategy: expected \"rolling\", got \"canary\"",
            "response_body.nope: expected 1, missing from the response",
        ]
    );
}

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

#[test]
fn retry_delay_is_capped_at_thirty_seconds() {
    let limits = Limits {
        retry_base_delay_ms: 1000,
        ..Limits::default()
    };
    assert_eq!(limits.retry_delay(1), Duration::from_secs(1));
    assert_eq!(limits.retry_delay(5), Duration::from_secs(16));
    assert_eq!(limits.retry_delay(6), MAX_RETRY_DELAY);
    assert_eq!(limits.retry_delay(200), MAX_RETRY_DELAY);
}

proptest! {
    /// Repeated runs with any queue limit drain the fixture: every case runs exactly once, in
    /// order, over ceil(n / limit) runs.
    #[test]
    fn small_queue_limits_drain_every_case_exactly_once(n in 1usize..60, limit in 1usize..20) {
        let f = fixture((0..n).map(|i| case(&format!("c{i:03}"), "container")).collect());
        let limits = Limits { queue_limit: limit, ..Limits::default() };
        let mut processed: std::collections::HashSet<String> = Default::default();
        let mut order = Vec::new();
        let mut runs = 0;
        loop {
            let plan = plan(&f, |k| processed.contains(k), &limits);
            if plan.queue.is_empty() {
                break;
            }
            runs += 1;
            prop_assert_eq!(plan.counts.backlog as usize, n - processed.len() - plan.queue.len());
            for (case, key) in plan.queue {
                order.push(case.case_id.to_string());
                prop_assert!(processed.insert(key.to_string()));
            }
        }
        prop_assert_eq!(runs, n.div_ceil(limit));
        let mut sorted = order.clone();
        sorted.sort();
        prop_assert_eq!(order, sorted);
    }

    /// Different (normalized) cases never share a dedupe key.
    #[test]
    fn case_keys_are_injective(
        a in prop::collection::vec("[a:%Bb]{0,4}", 5),
        b in prop::collection::vec("[a:%Bb]{0,4}", 5),
    ) {
        let make = |p: &[String]| {
            let mut c = case(&p[4], "container");
            c.request.deploy_target = Sym::new(&p[0]);
            c.request.runtime_profile = Sym::new(&p[1]);
            c.request.environment = Sym::new(&p[2]);
            c.request.blueprint_id = Sym::new(&p[3]);
            c
        };
        let norm = |p: &[String]| -> Vec<String> {
            let mut v: Vec<String> = p[..4].iter().map(|s| s.to_ascii_lowercase()).collect();
            v.push(p[4].clone());
            v
        };
        if norm(&a) != norm(&b) {
            prop_assert_ne!(case_key(&make(&a)), case_key(&make(&b)));
        }
    }

    #[test]
    fn retry_delays_never_decrease_and_never_pass_the_cap(base in 0u64..100_000, retry in 1u32..80) {
        let limits = Limits { retry_base_delay_ms: base, ..Limits::default() };
        prop_assert!(limits.retry_delay(retry) <= limits.retry_delay(retry + 1));
        prop_assert!(limits.retry_delay(retry) <= MAX_RETRY_DELAY);
    }
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
