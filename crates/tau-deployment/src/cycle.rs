//! One pass over a fixture: dedupe, queue, evaluate with retries, judge against expectations.
//!
//! This module does no I/O. [`plan`] decides which cases run (so the runner can announce every file
//! it will touch before touching any), and [`execute`] hands each case's result to a sink as soon as
//! it is known, so nothing per case is kept beyond what the sink keeps.

use std::borrow::Cow;
use std::time::Duration;

use crate::driver::{Driver, Field, Outcome, Response, Target};
use crate::fixture::{BodyMatch, Case, Expected, Fixture};
use crate::hooks::Hooks;
use crate::request::Request;
use crate::sym::Sym;
use crate::{Error, Result};

/// Retry delays never exceed this, however many attempts are allowed.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Limits of one run; every one is at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub queue_limit: usize,
    pub processed_case_cap: usize,
    pub retry_max_attempts: u32,
    pub retry_base_delay_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            queue_limit: 64,
            processed_case_cap: 10_000,
            retry_max_attempts: 4,
            retry_base_delay_ms: 0,
        }
    }
}

impl Limits {
    /// The delay before retry number `retry` (1 for the second attempt): base·2^(retry−1), capped.
    pub fn retry_delay(&self, retry: u32) -> Duration {
        let factor = 1u64
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u64::MAX);
        let ms = self.retry_base_delay_ms.saturating_mul(factor);
        Duration::from_millis(ms).min(MAX_RETRY_DELAY)
    }
}

/// The dedupe key: `target:runtime:environment:blueprint_id:case_id`, trimmed, lower-cased except
/// the case id, as the runbook's tool spells it.
///
/// The tool joins the parts with bare `:`, so `("staging:a", "b", id "c")` and
/// `("staging", "a", id "b:c")` share a key and one case is silently skipped. Here `%` and `:`
/// inside the first four parts are percent-escaped, which makes the key injective (the case id is
/// everything after the fourth separator) while every key whose parts hold neither character,
/// which is every key of a case the contract can accept, stays byte-identical to the tool's.
pub fn case_key(case: &Request) -> Sym {
    let parts = [
        &case.deploy_target,
        &case.runtime_profile,
        &case.environment,
        &case.blueprint_id,
    ];
    let mut key = String::with_capacity(
        parts.iter().map(|p| p.len() + 1).sum::<usize>() + case.case_id.len(),
    );
    // Target, profile and environment are case-insensitive values; the blueprint id is not (it
    // names a directory), so `Billing` and `billing` are two blueprints with two keys.
    for (i, part) in parts.into_iter().enumerate() {
        let fold = i < 3;
        for c in part.trim().chars() {
            match c {
                '%' => key.push_str("%25"),
                ':' => key.push_str("%3A"),
                c if fold => key.push(c.to_ascii_lowercase()),
                c => key.push(c),
            }
        }
        key.push(':');
    }
    key.push_str(case.case_id.trim());
    Sym::unique(key)
}

/// How a case ended this run.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// Deployed as the fixture expected; a rollout is recorded.
    Applied,
    /// Refused as the fixture expected; done, never retried.
    Rejected,
    /// Still failing after every attempt; it comes back next run.
    RetriesExhausted,
    /// The result broke the fixture's expectation; it comes back next run.
    ContractMismatch(Vec<String>),
}

impl Disposition {
    /// Completed cases are remembered as processed and never run again.
    pub fn is_completed(&self) -> bool {
        matches!(self, Disposition::Applied | Disposition::Rejected)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Disposition::Applied => "applied",
            Disposition::Rejected => "rejected",
            Disposition::RetriesExhausted => "retries_exhausted",
            Disposition::ContractMismatch(_) => "contract_expectation_mismatch",
        }
    }
}

/// One queued case after all its attempts.
#[derive(Debug, Clone)]
pub struct CaseResult<'f> {
    /// Borrowed from the plan, or owned when the runner's queue hands the case over with its
    /// result (so both can move to the thread that renders the channel lines).
    pub case: Cow<'f, Case>,
    pub key: Sym,
    pub attempts: u32,
    pub response: Response,
    pub disposition: Disposition,
}

/// Counters of one run, as reported in the summary line and `runtime-events.jsonl`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub discovered: u64,
    pub queued: u64,
    pub applied: u64,
    pub duplicate_skips: u64,
    pub malformed: u64,
    /// Attempts that ended in a retryable failure.
    pub retryable_failures: u64,
    /// Attempts beyond each case's first.
    pub retry_attempts: u64,
    /// Cases that ended the run failed: retries exhausted or expectation broken.
    pub failed: u64,
    pub contract_mismatches: u64,
    pub upserted_rollouts: u64,
    pub wasm_rollouts: u64,
    pub cloud_rollouts: u64,
    /// Cases still pending after this run (the queue depth).
    pub backlog: u64,
}

/// The cases one run will evaluate, in order.
#[derive(Debug, Clone)]
pub struct Plan<'f> {
    /// The cases to evaluate, in order. Their keys are derived again when each is evaluated:
    /// holding a key per queued case cost about 100 bytes a case for the whole run.
    pub queue: Vec<&'f Case>,
    /// Discovery, dedupe and backlog counters; the rest are filled in by [`execute`].
    pub counts: Counts,
}

/// Drops processed cases, orders the rest by (case_id, blueprint_id, deploy_target) and takes at
/// most the queue limit.
pub fn plan<'f>(
    fixture: &'f Fixture,
    is_processed: impl Fn(&str) -> bool,
    limits: &Limits,
) -> Plan<'f> {
    let mut counts = Counts {
        discovered: fixture.cases.len() as u64,
        ..Counts::default()
    };
    let mut pending: Vec<&Case> = Vec::with_capacity(fixture.cases.len());
    // Validation keeps trimmed case ids unique, so keys never repeat within one fixture.
    for case in &fixture.cases {
        if is_processed(&case_key(case)) {
            counts.duplicate_skips += 1;
        } else {
            pending.push(case);
        }
    }
    pending.sort_unstable_by(|a, b| queue_order(a, b));
    let take = pending.len().min(limits.queue_limit);
    counts.backlog = (pending.len() - take) as u64;
    pending.truncate(take);
    counts.queued = take as u64;
    Plan {
        queue: pending,
        counts,
    }
}

/// The order cases run in. Case ids are unique, so no two cases compare equal.
pub(crate) fn queue_order(a: &Case, b: &Case) -> std::cmp::Ordering {
    (&a.case_id, &a.blueprint_id, &a.deploy_target).cmp(&(
        &b.case_id,
        &b.blueprint_id,
        &b.deploy_target,
    ))
}

/// Evaluates every planned case with retries and passes each result to `sink` in queue order.
pub fn execute<'f>(
    plan: Plan<'f>,
    limits: &Limits,
    driver: &mut dyn Driver,
    hooks: &mut dyn Hooks,
    sink: &mut dyn FnMut(CaseResult<'f>) -> Result<()>,
) -> Result<Counts> {
    let mut counts = plan.counts;
    let total = plan.queue.len();
    for (done, case) in plan.queue.into_iter().enumerate() {
        sink(evaluate(case, limits, driver, hooks, &mut counts)?)?;
        if (done + 1) % crate::hooks::PROGRESS_EVERY == 0 || done + 1 == total {
            hooks.progress(done + 1, total);
        }
    }
    Ok(counts)
}

/// Runs one case to its last attempt, judges it and counts it.
pub(crate) fn evaluate<'c>(
    case: &'c Case,
    limits: &Limits,
    driver: &mut dyn Driver,
    hooks: &mut dyn Hooks,
    counts: &mut Counts,
) -> Result<CaseResult<'c>> {
    let key = case_key(case);
    let deploy = |driver: &mut dyn Driver, attempt| {
        driver
            .deploy(&case.request, attempt)
            .map_err(|source| Error::Driver {
                case_id: case.case_id.to_string(),
                blueprint_id: case.blueprint_id.to_string(),
                attempt,
                source,
            })
    };
    let mut attempt = 1;
    let mut response = deploy(driver, attempt)?;
    while response.outcome == Outcome::RetryableFailure {
        counts.retryable_failures += 1;
        if attempt >= limits.retry_max_attempts {
            break;
        }
        hooks.sleep(limits.retry_delay(attempt));
        attempt += 1;
        counts.retry_attempts += 1;
        response = deploy(driver, attempt)?;
    }
    let disposition = judge(case, &response);
    match &disposition {
        Disposition::Applied => {
            counts.applied += 1;
            counts.upserted_rollouts += 1;
            match Target::parse(&case.deploy_target) {
                Some(t) if t.is_cloud() => counts.cloud_rollouts += 1,
                _ => counts.wasm_rollouts += 1,
            }
        }
        Disposition::Rejected => counts.malformed += 1,
        Disposition::RetriesExhausted => counts.failed += 1,
        Disposition::ContractMismatch(_) => {
            counts.failed += 1;
            counts.contract_mismatches += 1;
        }
    }
    Ok(CaseResult {
        case: Cow::Borrowed(case),
        key,
        attempts: attempt,
        response,
        disposition,
    })
}

impl CaseResult<'_> {
    /// Why the case failed this run, naming the case and its blueprint; `None` when it did not.
    pub fn failure(&self) -> Option<String> {
        let why = match &self.disposition {
            Disposition::ContractMismatch(diffs) => diffs.join("; "),
            Disposition::RetriesExhausted => format!(
                "still failing after {} attempt(s): {}",
                self.attempts,
                self.response
                    .body
                    .reason()
                    .as_deref()
                    .unwrap_or("no reason given")
            ),
            Disposition::Applied | Disposition::Rejected => return None,
        };
        Some(format!(
            "case {:?} (blueprint {}): {why}",
            &*self.case.case_id, self.case.blueprint_id
        ))
    }
}

/// Compares a response with the case's expectation.
pub fn judge(case: &Case, response: &Response) -> Disposition {
    let expected = &case.expected;
    let mut differences = Vec::new();
    if expected.outcome != response.outcome {
        differences.push(format!(
            "outcome: expected {}, got {}",
            expected.outcome.as_str(),
            response.outcome.as_str()
        ));
    }
    if expected.status_code != response.status_code {
        differences.push(format!(
            "status_code: expected {}, got {}",
            expected.status_code, response.status_code
        ));
    }
    let actual_code = response.error_code.map(|c| c.as_str()).unwrap_or("");
    if *expected.error_code != *actual_code {
        differences.push(format!(
            "error_code: expected {:?}, got {actual_code:?}",
            &*expected.error_code
        ));
    }
    if let Some(body) = &expected.response_body {
        for (key, want) in &body.0 {
            match response.body.field(key) {
                Some(got) if matches(got, want) => {}
                Some(got) => differences.push(format!(
                    "response_body.{key}: expected {want}, got {}",
                    got.to_value()
                )),
                None => differences.push(format!(
                    "response_body.{key}: expected {want}, missing from the response"
                )),
            }
        }
        // Expected keys are unique, so equal counts with every expected key present means the
        // key sets are equal; only on a difference are the extra keys named.
        if expected.response_body_match == BodyMatch::Exact && response.body.len() != body.0.len() {
            let before = differences.len();
            for key in response.body.keys() {
                if !body.0.iter().any(|(k, _)| &**k == key) {
                    let got = response.body.get(key).unwrap_or_default();
                    differences.push(format!("response_body.{key}: not expected, got {got}"));
                }
            }
            if differences.len() > before {
                differences.push(
                    "response bodies compare exactly; list every key or set \
                     expected.response_body_match to \"subset\""
                        .into(),
                );
            }
        }
    }
    if !differences.is_empty() {
        return Disposition::ContractMismatch(differences);
    }
    match response.outcome {
        Outcome::Success => Disposition::Applied,
        Outcome::MalformedInput => Disposition::Rejected,
        Outcome::RetryableFailure => Disposition::RetriesExhausted,
    }
}

/// Whether a response value equals a fixture's expected value, without building JSON.
fn matches(got: Field<'_>, want: &Expected) -> bool {
    match (got, want) {
        (Field::Text(got), Expected::Text(want)) => got == &**want,
        (Field::Json(serde_json::Value::String(got)), Expected::Text(want)) => got == &**want,
        (_, Expected::Text(_)) => false,
        (got, Expected::Json(want)) => got.equals(want),
    }
}

#[path = "cycle_owned.rs"]
mod owned;
pub use owned::{drain, plan_owned, Queue};

#[cfg(test)]
#[path = "cycle_tests.rs"]
mod tests;
