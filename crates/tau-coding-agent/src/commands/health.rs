//! `tau health` (flag form `--transport-health-inspect deployment`): the transport health snapshot.

use std::process::ExitCode;

use anyhow::Result;
use clap::builder::BoolishValueParser;
use tau_deployment::status;

use super::args::{StateDir, Transport};
use crate::out::Out;

pub const EXAMPLES: &str = "\
Examples:
  tau health
  tau health --json --state-dir .tau/deployment";

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub state_dir: StateDir,

    /// Transport whose health to print.
    #[arg(
        long,
        value_enum,
        value_name = "TRANSPORT",
        default_value = "deployment"
    )]
    pub transport: Transport,

    /// Print the health snapshot as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

pub fn exec(args: &Args, out: &mut Out) -> Result<ExitCode> {
    let Transport::Deployment = args.transport;
    if args.json {
        // The runbook tool's shape: a list of {transport, target, state_path, health}, with our
        // classification beside each row.
        out.json(&status::transport_health_rows(&args.state_dir.path)?)?;
    } else {
        let health = status::transport_health(&args.state_dir.path)?;
        let s = health.snapshot.unwrap_or_default();
        out.line(&format!(
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
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
