//! Formatting of the deployment commands: one `key=value` line per report, or JSON.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;
use tau_deployment::artifacts;
use tau_deployment::cycle::Limits;
use tau_deployment::events::Rotation;
use tau_deployment::fixture::Fixture;
use tau_deployment::runner::{self, Options};
use tau_deployment::simulated::ContractEvaluator;
use tau_deployment::status::{self, Gate};

use crate::cli::Cli;
use crate::progress::CliHooks;
use crate::report::join;

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `--deployment-contract-runner`.
pub fn run_contract(cli: &Cli) -> Result<ExitCode> {
    let Some(fixture_path) = &cli.deployment_fixture else {
        anyhow::bail!("--deployment-contract-runner needs --deployment-fixture PATH");
    };
    let fixture = Fixture::load(fixture_path)?;
    let fixture_name = fixture.name.clone();
    let options = Options {
        limits: Limits {
            queue_limit: usize::try_from(cli.deployment_queue_limit).unwrap_or(usize::MAX),
            processed_case_cap: usize::try_from(cli.deployment_processed_case_cap)
                .unwrap_or(usize::MAX),
            retry_max_attempts: cli.deployment_retry_max_attempts,
            retry_base_delay_ms: cli.deployment_retry_base_delay_ms,
        },
        rotation: Rotation {
            max_bytes: cli.deployment_events_max_bytes,
            max_files: cli.deployment_events_max_files,
        },
        lock_no_wait: cli.deployment_lock_no_wait,
    };
    let mut hooks = CliHooks::new();
    let report = runner::run(
        fixture,
        &cli.deployment_state_dir,
        &options,
        // Every named WASM artifact is required since core v2; `--deployment-require-artifacts`
        // is accepted and no longer changes anything.
        &mut ContractEvaluator::new(
            fixture_path.parent().unwrap_or(std::path::Path::new(".")),
            artifacts::Options::default(),
        ),
        &mut hooks,
    )
    .with_context(|| {
        format!(
            "contract run of {} into {} did not complete",
            fixture_path.display(),
            cli.deployment_state_dir.display()
        )
    })?;
    hooks.finish();
    let c = &report.counts;
    if cli.json {
        print_json(&json!({
            "fixture": fixture_name,
            "summary": {
                "discovered": c.discovered, "queued": c.queued, "applied": c.applied,
                "duplicate_skips": c.duplicate_skips, "malformed": c.malformed,
                "retryable_failures": c.retryable_failures, "retries": c.retry_attempts,
                "failed": c.failed, "contract_mismatches": c.contract_mismatches,
                "upserted_rollouts": c.upserted_rollouts, "wasm_rollouts": c.wasm_rollouts,
                "cloud_rollouts": c.cloud_rollouts, "backlog": c.backlog,
            },
            "reason_codes": report.reason_codes.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "health": {
                "state": report.classification.state,
                "reason": report.classification.reason,
                "recommendation": report.classification.recommendation,
                "failure_streak": report.health.failure_streak,
                "queue_depth": report.health.queue_depth,
            },
            "contract_failures": report.contract_failures,
        }))?;
    } else {
        println!(
            "deployment runner summary: discovered={} queued={} applied={} duplicate_skips={} malformed={} \
             retryable_failures={} retries={} failed={} upserted_rollouts={} wasm_rollouts={} cloud_rollouts={} \
             contract_mismatches={}",
            c.discovered, c.queued, c.applied, c.duplicate_skips, c.malformed, c.retryable_failures,
            c.retry_attempts, c.failed, c.upserted_rollouts, c.wasm_rollouts, c.cloud_rollouts,
            c.contract_mismatches
        );
        println!(
            "deployment runner health: state={} failure_streak={} queue_depth={} reason_codes={} reason={}",
            report.classification.state.as_str(),
            report.health.failure_streak,
            report.health.queue_depth,
            join(report.reason_codes.iter().map(|r| r.as_str())),
            report.classification.reason
        );
        for failure in &report.contract_failures {
            eprintln!("contract broken: {failure}");
        }
    }
    Ok(if report.contract_broken() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--transport-health-inspect deployment`.
pub fn transport_health(cli: &Cli) -> Result<ExitCode> {
    let health = status::transport_health(&cli.deployment_state_dir)?;
    if cli.wants_json(cli.transport_health_json) {
        print_json(&health)?;
    } else {
        let s = health.snapshot.unwrap_or_default();
        println!(
            "deployment transport health: state={} failure_streak={} queue_depth={} last_cycle_discovered={} \
             last_cycle_completed={} last_cycle_failed={} last_cycle_duplicates={} cycle_duration_ms={} \
             updated_unix_ms={} reason={}",
            health.health_state.as_str(),
            s.failure_streak,
            s.queue_depth,
            s.last_cycle_discovered,
            s.last_cycle_completed,
            s.last_cycle_failed,
            s.last_cycle_duplicates,
            s.cycle_duration_ms,
            s.updated_unix_ms,
            health.health_reason
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--deployment-status-inspect`.
pub fn status(cli: &Cli) -> Result<ExitCode> {
    let report = status::inspect(
        &cli.deployment_state_dir,
        tau_deployment::now_unix_ms(),
        &tau_deployment::evidence::Requirements {
            max_age_ms: cli.deployment_status_max_age_ms,
            ..Default::default()
        },
    )?;
    if cli.wants_json(cli.deployment_status_json) {
        print_json(&report)?;
    } else {
        let age = report
            .state_age_ms
            .map_or_else(|| "none".to_string(), |a| a.to_string());
        println!(
            "deployment status inspect: health_state={} rollout_gate={} gate_reasons={} state_age_ms={age} \
             processed_case_count={} rollout_count={} wasm_rollout_count={} cloud_rollout_count={} \
             total_replicas={} queue_depth={} failure_streak={} last_cycle_failed={} last_cycle_completed={} \
             cycle_reports={} invalid_cycle_reports={} last_reason_codes={} health_reason={}",
            report.health_state.as_str(),
            report.rollout_gate.as_str(),
            join(report.gate_reasons.iter().map(|r| r.as_str())),
            report.processed_case_count,
            report.rollout_count,
            report.wasm_rollout_count,
            report.cloud_rollout_count,
            report.total_replicas,
            report.queue_depth,
            report.failure_streak,
            report.last_cycle_failed,
            report.last_cycle_completed,
            report.cycle_reports,
            report.invalid_cycle_reports,
            join(&report.last_reason_codes),
            report.health_reason
        );
    }
    Ok(
        if cli.deployment_status_require_pass && report.rollout_gate == Gate::Hold {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        },
    )
}
