//! `tau fly check` (flag form `--fly-manifest-check`): fly.toml and its Dockerfile against the
//! gateway's deployment contract.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::builder::BoolishValueParser;

use crate::failure::{Refusal, REFUSED};
use crate::out::{self, Out};

const CHECK_EXAMPLES: &str = "\
Examples:
  tau fly check
  tau fly check deploy/fly.toml --json

Exit 3 when a check fails.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a fly.toml (and its Dockerfile) against the gateway's deployment contract.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
}

impl Command {
    pub fn wants_json(&self) -> bool {
        let Command::Check(a) = self;
        a.json
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The manifest to check.
    #[arg(value_name = "PATH", default_value = "fly.toml")]
    pub manifest: PathBuf,

    /// Print the checks as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

pub fn exec(command: &Command, out: &mut Out) -> Result<ExitCode> {
    let Command::Check(args) = command;
    check(args, out)
}

fn check(args: &CheckArgs, out: &mut Out) -> Result<ExitCode> {
    let path = &args.manifest;
    let checks = tau_gateway::fly::check_manifest(path)?;
    let failed = checks.iter().filter(|c| !c.pass).count();
    let status = if failed == 0 { "pass" } else { "fail" };
    let refusal = (failed > 0).then(|| {
        Refusal::new(
            REFUSED,
            "fly_check_failed",
            format!("{failed} of {} fly manifest checks failed", checks.len()),
        )
        .with(
            "failed_checks",
            checks
                .iter()
                .filter(|c| !c.pass)
                .map(|c| c.name.to_string())
                .collect::<Vec<_>>(),
        )
    });
    if args.json {
        let mut report = serde_json::json!({
            "manifest": path,
            "status": status,
            "failed": failed,
            "checks": checks,
        });
        if let Some(refusal) = &refusal {
            report["error"] = refusal.error_object(&[]);
        }
        out.json(&report)?;
    } else {
        for c in &checks {
            out.line(&format!(
                "fly manifest check: {} {} ({})",
                c.name,
                if c.pass { "pass" } else { "fail" },
                c.detail
            ))?;
        }
        out.line(&format!(
            "fly manifest check summary: manifest={} checks={} failed={failed} status={status}",
            path.display(),
            checks.len(),
        ))?;
    }
    Ok(match refusal {
        Some(refusal) => {
            if !args.json {
                out::warn(&format!("refused: {}", refusal.message));
            }
            ExitCode::from(REFUSED)
        }
        None => ExitCode::SUCCESS,
    })
}
