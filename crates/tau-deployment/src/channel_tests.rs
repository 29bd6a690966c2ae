//! The hand-written channel-store lines are byte for byte what the `serde` structs they replaced
//! wrote; the reference writers below are those structs, kept as the oracle.

use super::*;
use crate::cycle::{execute, plan, Limits};
use crate::driver::Outcome;
use crate::fixture::{Case, Fixture};
use crate::simulated::ContractEvaluator;
use proptest::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct LogEntry<'a> {
    timestamp_unix_ms: u64,
    case_key: &'a str,
    case_id: &'a str,
    outcome: Outcome,
    disposition: &'a str,
    status_code: u16,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_manifest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rollout_strategy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<u16>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    mismatches: &'a [String],
}

fn reference_log(result: &CaseResult<'_>, now_ms: u64) -> Vec<u8> {
    let response = &result.response;
    let accepted = response.accepted();
    let artifact = accepted.map(|a| &a.artifact);
    let mismatches: &[String] = match &result.disposition {
        Disposition::ContractMismatch(list) => list,
        _ => &[],
    };
    let entry = LogEntry {
        timestamp_unix_ms: now_ms,
        case_key: &result.key,
        case_id: &result.case.case_id,
        outcome: response.outcome,
        disposition: result.disposition.as_str(),
        status_code: response.status_code,
        attempts: result.attempts,
        error_code: response.error_code.map(|c| c.as_str()),
        reason: response.body.reason(),
        artifact: artifact.map(|a| &*a.reference),
        artifact_sha256: artifact.and_then(|a| a.sha256.as_deref()),
        artifact_size_bytes: artifact.and_then(|a| a.size_bytes),
        artifact_manifest: artifact.and_then(|a| a.manifest.as_deref()),
        artifact_verified: artifact.and_then(|a| a.verified),
        rollout_strategy: accepted.map(|a| a.strategy.as_str()),
        replicas: accepted.map(|a| a.replicas),
        mismatches,
    };
    let mut out = serde_json::to_vec(&entry).unwrap();
    out.push(b'\n');
    out
}

#[derive(Serialize)]
struct ContextLine<'a> {
    timestamp_unix_ms: u64,
    case_key: &'a str,
    text: &'a str,
}

fn reference_context(result: &CaseResult<'_>, now_ms: u64) -> Vec<u8> {
    let case = &*result.case;
    let response = &result.response;
    let mut text = format!(
        "case {} ({} {} on {} in {}/{})",
        case.case_id,
        case.deploy_target,
        case.runtime_profile,
        case.blueprint_id,
        case.environment,
        case.region
    );
    match (&result.disposition, response.accepted()) {
        (Disposition::Applied, Some(accepted)) => {
            let _ = write!(
                text,
                " applied with status {}: {} rollout of {} with {} replica(s)",
                response.status_code,
                accepted.strategy.as_str(),
                accepted.artifact.reference,
                accepted.replicas
            );
        }
        (Disposition::ContractMismatch(diffs), _) => {
            let _ = write!(
                text,
                " broke its contract after {} attempt(s): {}",
                result.attempts,
                diffs.join("; ")
            );
        }
        (disposition, _) => {
            let code = response.error_code.map(|c| c.as_str()).unwrap_or("none");
            let reason = response.body.reason();
            let verb = if *disposition == Disposition::Rejected {
                "rejected"
            } else {
                "still failing after every attempt"
            };
            let _ = write!(
                text,
                " {verb} with status {} {code} ({}) after {} attempt(s)",
                response.status_code,
                reason.as_deref().unwrap_or("unspecified"),
                result.attempts
            );
        }
    }
    let line = ContextLine {
        timestamp_unix_ms: now_ms,
        case_key: &result.key,
        text: &text,
    };
    let mut out = serde_json::to_vec(&line).unwrap();
    out.push(b'\n');
    out
}

/// Runs `cases` through the simulated driver (over a directory holding a compliant `m.wasm`) and
/// checks every result's two lines against the reference writers, also as a contract mismatch.
fn assert_lines_match(cases: Vec<Case>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.wasm"), tau_testkit::wasm::edge_runtime()).unwrap();
    let mut driver = ContractEvaluator::new(dir.path(), crate::artifacts::Options::default());
    let fixture = Fixture {
        schema_version: 1,
        name: "t".into(),
        description: None,
        cases,
        sha256: Default::default(),
    };
    let limits = Limits::default();
    let mut seen = 0;
    execute(
        plan(&fixture, |_| false, &limits),
        &limits,
        &mut driver,
        &mut crate::hooks::Quiet,
        &mut |result| {
            let mut variants = vec![result.clone()];
            let mut broken = result.clone();
            broken.disposition = Disposition::ContractMismatch(vec![
                "status_code: expected 201, got 202".into(),
                "body \"x\"\n\u{1}é".into(),
            ]);
            variants.push(broken);
            for r in &variants {
                for now in [0, 1_796_192_152_536] {
                    let mut log = Vec::new();
                    write_log_entry(&mut log, r, now);
                    assert_eq!(
                        String::from_utf8_lossy(&log),
                        String::from_utf8_lossy(&reference_log(r, now))
                    );
                    let mut context = Vec::new();
                    write_context_line(&mut context, r, now);
                    assert_eq!(
                        String::from_utf8_lossy(&context),
                        String::from_utf8_lossy(&reference_context(r, now))
                    );
                }
            }
            seen += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, fixture.cases.len());
}

#[test]
fn every_kind_of_outcome_writes_the_reference_lines() {
    let mut retry = Case::example("c5", "kubernetes", "native");
    retry.request.simulate_retryable_failure = crate::request::SimulatedFailure::Always;
    assert_lines_match(vec![
        Case::example("c1", "container", "native"),
        Case::example("c2", "kubernetes", "native"),
        Case::example("c3", "wasm", "wasm_wasi"),
        Case::example("c4", "mainframe", "native"),
        retry,
        Case::example("c6", "wasm", "native"),
        Case::example("c7", " WASM ", "Wasm_Wasi"),
    ]);
}

proptest! {
    #[test]
    fn any_fixture_text_writes_the_reference_lines(
        id in any::<String>().prop_filter("non-blank", |s| !s.trim().is_empty()),
        region in any::<String>(),
        environment in prop_oneof![Just("staging".to_string()), any::<String>()],
        target in prop_oneof![Just("container".to_string()), Just("wasm".to_string()), any::<String>()],
    ) {
        let profile = if target == "wasm" { "wasm_wasi" } else { "native" };
        let mut case = Case::example(&id, &target, profile);
        case.request.region = crate::sym::Sym::new(&region);
        case.request.environment = crate::sym::Sym::new(&environment);
        assert_lines_match(vec![case]);
    }
}
