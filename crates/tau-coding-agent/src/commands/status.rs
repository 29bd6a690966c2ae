//! `tau status` (flag form `--deployment-status-inspect`): the status report and its rollout gate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::BoolishValueParser;
use tau_deployment::evidence::{self, Requirements};
use tau_deployment::status::{self, Gate};

use super::args::StateDir;
use crate::failure::{Refusal, WithError, REFUSED};
use crate::out::{self, Out};
use crate::report::join;

pub const EXAMPLES: &str = "\
Examples:
  tau status
  tau status --json
  tau status --require-pass --require-fixture cases.json    # CI: exit 3 unless this fixture passed
  tau status --require-pass --max-age-ms 0                  # no age limit

The gate holds with no_evidence, state_stale (older than --max-age-ms, default 3600000 = 1 h),
queue_backlog, health_degraded or health_failing, and with fixture_mismatch / simulated_evidence
when --require-fixture / --require-live ask for more than the evidence shows.";

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub state_dir: StateDir,

    /// Hold with state_stale when the evidence is older than this; 0 disables the check
    /// [default: 3600000].
    #[arg(long, value_name = "MS", env = "TAU_DEPLOYMENT_STATUS_MAX_AGE_MS")]
    pub max_age_ms: Option<u64>,

    /// Hold with fixture_mismatch unless the evidence came from a fixture with exactly these bytes.
    #[arg(
        long,
        value_name = "PATH",
        env = "TAU_DEPLOYMENT_STATUS_REQUIRE_FIXTURE"
    )]
    pub require_fixture: Option<PathBuf>,

    /// Hold with simulated_evidence unless the evidence came from a live driver.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_STATUS_REQUIRE_LIVE")]
    pub require_live: bool,

    /// Exit 3 when the rollout gate holds, so CI can gate on the exit status alone.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_STATUS_REQUIRE_PASS")]
    pub require_pass: bool,

    /// Print the status report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

/// The requirements the flags ask for; the fixture is hashed here so the library never reads it.
pub fn requirements(args: &Args) -> Result<Requirements> {
    let fixture_sha256 = match &args.require_fixture {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| {
                format!(
                    "cannot read the required fixture {} (--require-fixture)",
                    path.display()
                )
            })?;
            Some(evidence::fixture_digest(&bytes))
        }
        None => None,
    };
    Ok(Requirements {
        max_age_ms: args.max_age_ms,
        fixture_sha256,
        require_live: args.require_live,
    })
}

pub fn exec(args: &Args, out: &mut Out) -> Result<ExitCode> {
    let requirements = requirements(args)?;
    let report = status::inspect(
        &args.state_dir.path,
        tau_deployment::now_unix_ms(),
        &requirements,
    )?;
    let holds = args.require_pass && report.rollout_gate == Gate::Hold;
    let reasons = join(report.gate_reasons.iter().map(|r| r.as_str()));
    let refusal = holds.then(|| {
        Refusal::new(
            REFUSED,
            "gate_hold",
            format!("the rollout gate holds: gate_reasons={reasons}"),
        )
        .with(
            "gate_reasons",
            report
                .gate_reasons
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>(),
        )
    });
    if args.json {
        // Serialized from the struct, not a `Value`, so the runbook's field order is kept.
        out.json(&WithError::new(&report, refusal.as_ref()))?;
    } else {
        let age = report
            .state_age_ms
            .map_or_else(|| "none".to_string(), |a| a.to_string());
        out.line(&format!(
            "deployment status inspect: health_state={} rollout_gate={} gate_reasons={} state_age_ms={age} \
             processed_case_count={} rollout_count={} wasm_rollout_count={} cloud_rollout_count={} \
             total_replicas={} queue_depth={} failure_streak={} last_cycle_failed={} last_cycle_completed={} \
             cycle_reports={} invalid_cycle_reports={} last_reason_codes={} health_reason={}",
            report.health_state.as_str(),
            report.rollout_gate.as_str(),
            reasons,
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
        ))?;
        let evidence: Vec<String> = report
            .evidence_fields()
            .into_iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        out.line(&format!(
            "deployment status evidence: {}",
            evidence.join(" ")
        ))?;
    }
    Ok(match refusal {
        Some(refusal) => {
            out::warn(&format!("refused: {}", refusal.message));
            ExitCode::from(REFUSED)
        }
        None => ExitCode::SUCCESS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(require_fixture: Option<PathBuf>) -> Args {
        Args {
            state_dir: StateDir {
                path: "unused".into(),
            },
            max_age_ms: Some(0),
            require_fixture,
            require_live: true,
            require_pass: false,
            json: false,
        }
    }

    #[test]
    fn the_required_fixture_is_passed_as_the_digest_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, b"abc").unwrap();
        let r = requirements(&args(Some(path))).unwrap();
        assert_eq!(
            r.fixture_sha256.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!((r.max_age_ms, r.require_live), (Some(0), true));
        assert_eq!(requirements(&args(None)).unwrap().fixture_sha256, None);
    }
}
