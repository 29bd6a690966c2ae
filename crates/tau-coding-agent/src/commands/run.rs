//! `tau run` (flag form `--deployment-contract-runner`): replay a fixture's cases and record the
//! results. The evidence is `simulated` (the fixture's contract decides each outcome) unless
//! `--driver deploy-agent` deploys container cases through a running Deploy Agent (live).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::BoolishValueParser;
use serde_json::json;
use tau_deployment::artifacts;
use tau_deployment::cycle::Limits;
use tau_deployment::events::Rotation;
use tau_deployment::fixture::Fixture;
use tau_deployment::runner::{self, Options};
use tau_deployment::simulated::ContractEvaluator;

use super::args::{LockWait, StateDir};
use crate::out::{self, Out};
use crate::progress::CliHooks;
use crate::report::{self, cases::CaseLine, join};

pub const EXAMPLES: &str = "\
Tuning options (retries, caps, rotation) are listed by --help.

Examples:
  tau run --fixture testdata/deployment-contract/rollout-pass.json
  tau run --fixture cases.json --dry-run
  tau run --fixture cases.json --junit target/tau-junit.xml --json
  tau run --fixture containers.json --driver deploy-agent --agent-url https://dev.example.com

Under GitHub Actions (GITHUB_ACTIONS=true) failed cases become ::error annotations and a summary
is appended to $GITHUB_STEP_SUMMARY. Exit 1 when a case broke its fixture expectation.";

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Fixture to replay.
    #[arg(
        long,
        value_name = "PATH",
        env = "TAU_DEPLOYMENT_FIXTURE",
        required = true
    )]
    pub fixture: Option<PathBuf>,

    #[command(flatten)]
    pub state_dir: StateDir,

    /// Cases evaluated per run; the rest stay pending for the next run.
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_QUEUE_LIMIT", default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub queue_limit: u64,

    /// How many processed case keys state.json remembers (most recent kept).
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_PROCESSED_CASE_CAP", hide_short_help = true, default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub processed_case_cap: u64,

    /// Total attempts per case per run when the backend answers with a retryable failure.
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_RETRY_MAX_ATTEMPTS", hide_short_help = true, default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub retry_max_attempts: u32,

    /// Delay before the first retry; doubles for each later retry, capped at 30 s.
    #[arg(long, value_name = "MS", env = "TAU_DEPLOYMENT_RETRY_BASE_DELAY_MS", hide_short_help = true, default_value_t = 0,
        value_parser = clap::value_parser!(u64).range(0..=MAX_RETRY_DELAY_MS))]
    pub retry_base_delay_ms: u64,

    /// Rotate runtime-events.jsonl once it reaches this size.
    #[arg(long, value_name = "BYTES", env = "TAU_DEPLOYMENT_EVENTS_MAX_BYTES", hide_short_help = true, default_value_t = 10 * 1024 * 1024,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub events_max_bytes: u64,

    /// Rotated events files kept (runtime-events.jsonl.1 is the newest).
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_EVENTS_MAX_FILES", hide_short_help = true, default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub events_max_files: u32,

    /// Accepted for the runbook's scripts; every WASM artifact a case names is required anyway.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_REQUIRE_ARTIFACTS", hide_short_help = true)]
    pub require_artifacts: bool,

    /// Largest WASM artifact or manifest a case may name.
    #[arg(long, value_name = "BYTES", env = "TAU_DEPLOYMENT_ARTIFACT_MAX_BYTES",
        default_value_t = artifacts::Options::default().max_bytes, hide_short_help = true)]
    pub artifact_max_bytes: u64,

    /// Let cases name artifacts outside the fixture's directory (absolute paths, `..`).
    #[arg(long, value_parser = BoolishValueParser::new(),
        env = "TAU_DEPLOYMENT_ARTIFACTS_ALLOW_OUTSIDE_FIXTURE_DIR", hide_short_help = true)]
    pub allow_artifacts_outside_fixture_dir: bool,

    #[command(flatten)]
    pub lock: LockWait,

    /// Show the cases the run would evaluate against committed state; write nothing.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_DRY_RUN")]
    pub dry_run: bool,

    /// Also write a JUnit XML report (one testcase per fixture case; cases not evaluated this run are <skipped> with why) to this path.
    #[arg(long, value_name = "PATH", env = "TAU_DEPLOYMENT_JUNIT")]
    pub junit: Option<PathBuf>,

    /// Print the run report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,

    #[command(flatten)]
    pub live: super::agent::DriverArgs,
}

/// The runner caps every retry delay at 30 s, so a larger base is a mistake, not a wish.
pub const MAX_RETRY_DELAY_MS: u64 = 30_000;

fn options(args: &Args) -> Result<Options> {
    let size = |name: &str, value: u64| {
        usize::try_from(value).with_context(|| format!("{name} {value} does not fit this platform"))
    };
    Ok(Options {
        limits: Limits {
            queue_limit: size("--queue-limit", args.queue_limit)?,
            processed_case_cap: size("--processed-case-cap", args.processed_case_cap)?,
            retry_max_attempts: args.retry_max_attempts,
            retry_base_delay_ms: args.retry_base_delay_ms,
        },
        rotation: Rotation {
            max_bytes: args.events_max_bytes,
            max_files: args.events_max_files,
        },
        lock_no_wait: args.lock.no_wait,
        keep_case_reports: false,
    })
}

pub fn exec(args: &Args, out: &mut Out) -> Result<ExitCode> {
    let Some(fixture_path) = &args.fixture else {
        anyhow::bail!("--deployment-contract-runner needs --deployment-fixture PATH");
    };
    let state_dir = &args.state_dir.path;
    let fixture = Fixture::load(fixture_path)?;
    let mut options = options(args)?;
    if args.dry_run {
        return dry_run(&fixture, state_dir, &options, args.json, out);
    }
    let fixture_name = fixture.name.clone();
    let github = report::github::Context::from_env();
    options.keep_case_reports = args.junit.is_some() || github.is_some();
    let mut hooks = CliHooks::new();
    // Every WASM artifact a case names is required since core v2: `--require-artifacts` is kept
    // for the runbook's scripts and changes nothing.
    let mut evaluator = ContractEvaluator::new(
        fixture_path.parent().unwrap_or(Path::new(".")),
        artifacts::Options {
            max_bytes: args.artifact_max_bytes,
            allow_outside_fixture_dir: args.allow_artifacts_outside_fixture_dir,
        },
    );
    let mut live = args.live.connect()?;
    let driver: &mut dyn tau_deployment::driver::Driver = match live.as_mut() {
        Some(agent) => agent,
        None => &mut evaluator,
    };
    let result = runner::run(fixture, state_dir, &options, driver, &mut hooks);
    hooks.finish();
    let report = result.with_context(|| {
        format!(
            "contract run of {} into {} did not complete",
            fixture_path.display(),
            state_dir.display()
        )
    })?;
    let driver = report.run.driver;
    // Empty unless a report asked for them (`keep_case_reports`).
    let cases: Vec<CaseLine> = report
        .cases
        .iter()
        .map(CaseLine::from)
        .chain(report.skipped.iter().map(CaseLine::from))
        .collect();
    if let Some(path) = &args.junit {
        report::junit::write(path, &fixture_name, driver.as_str(), &cases)?;
    }
    let c = &report.counts;
    if args.json {
        out.json(&json!({
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
        out.line(&format!(
            "deployment runner summary: discovered={} queued={} applied={} duplicate_skips={} malformed={} \
             retryable_failures={} retries={} failed={} upserted_rollouts={} wasm_rollouts={} cloud_rollouts={} \
             contract_mismatches={}",
            c.discovered, c.queued, c.applied, c.duplicate_skips, c.malformed, c.retryable_failures,
            c.retry_attempts, c.failed, c.upserted_rollouts, c.wasm_rollouts, c.cloud_rollouts,
            c.contract_mismatches
        ))?;
        out.line(&format!(
            "deployment runner health: state={} failure_streak={} queue_depth={} reason_codes={} reason={}",
            report.classification.state.as_str(),
            report.health.failure_streak,
            report.health.queue_depth,
            join(report.reason_codes.iter().map(|r| r.as_str())),
            report.classification.reason
        ))?;
        for failure in &report.contract_failures {
            out::warn(&format!("contract broken: {failure}"));
        }
    }
    if let Some(github) = github {
        let summary = report::Summary::new(&fixture_name, driver.as_str(), &report, &cases);
        github.publish(&summary, &cases, args.json, out)?;
    }
    Ok(if report.contract_broken() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn dry_run(
    fixture: &Fixture,
    state_dir: &Path,
    options: &Options,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let preview = runner::preview(fixture, state_dir, options)?;
    if json {
        out.json(&json!({
            "fixture": fixture.name,
            "fixture_sha256": fixture.sha256.get(),
            "dry_run": true,
            "to_apply": preview.to_apply,
            "already_applied": preview.already_applied,
            "deferred": preview.deferred,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    for case in &preview.to_apply {
        out.line(&format!(
            "deployment runner dry-run case: case_id={} blueprint_id={} deploy_target={} runtime_profile={}",
            case.case_id, case.blueprint_id, case.deploy_target, case.runtime_profile
        ))?;
    }
    out.line(&format!(
        "deployment runner dry-run: fixture={} fixture_sha256={} would_apply={} already_applied={} deferred={} \
         state_written=false",
        fixture.name,
        fixture.sha256.get(),
        preview.to_apply.len(),
        preview.already_applied,
        preview.deferred
    ))?;
    Ok(ExitCode::SUCCESS)
}
