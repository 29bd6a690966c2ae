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
        sha256: Default::default(),
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
fn case_key_is_trimmed_and_folds_only_target_profile_and_environment() {
    let mut c = case(" Case-A ", "Container");
    c.request.runtime_profile = Sym::new(" Native");
    c.request.environment = Sym::new("STAGING ");
    c.request.blueprint_id = Sym::new("Edge");
    assert_eq!(&*case_key(&c), "container:native:staging:Edge:Case-A");
}

#[test]
fn blueprints_that_differ_only_by_case_have_different_keys() {
    let mut upper = case("deploy", "container");
    upper.request.blueprint_id = Sym::new("Billing");
    let mut lower = case("deploy", "container");
    lower.request.blueprint_id = Sym::new("billing");
    assert_ne!(case_key(&upper), case_key(&lower));
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
    let ids: Vec<&str> = plan.queue.iter().map(|c| &*c.case_id).collect();
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
            for case in plan.queue {
                order.push(case.case_id.to_string());
                prop_assert!(processed.insert(case_key(case).to_string()));
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

#[path = "cycle_judge_tests.rs"]
mod judge;
