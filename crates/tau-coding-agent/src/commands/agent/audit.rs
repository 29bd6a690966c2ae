//! `tau agent audit verify PATH`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::out::Out;

const VERIFY_EXAMPLES: &str = "\
Examples:
  tau agent audit verify /var/lib/tau-agent/audit.jsonl
  tau agent audit verify audit.jsonl --json

Exit 0 when every record chains to the one before it (and to the head file, when present);
exit 1 naming the first line that was edited, removed, reordered or torn.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify the hash chain of an audit log; report the first tampered or missing record.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The audit log (JSONL) written by `tau agent serve`.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Print the result as JSON.
    #[arg(long, value_parser = clap::builder::BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

impl Command {
    pub fn wants_json(&self) -> bool {
        let Command::Verify(a) = self;
        a.json
    }
}

pub fn exec(command: &Command, out: &mut Out) -> Result<ExitCode> {
    let Command::Verify(args) = command;
    match tau_agent::audit::verify(&args.path) {
        Ok(summary) => {
            if args.json {
                out.json(&json!({
                    "ok": true, "path": args.path, "records": summary.records,
                    "last_hash": summary.last_hash,
                }))?;
            } else {
                out.line(&format!(
                    "audit log {}: {} records, chain intact (last {})",
                    args.path.display(),
                    summary.records,
                    summary.last_hash
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(tau_agent::Error::Audit {
            path,
            line,
            message,
        }) => {
            if args.json {
                out.json(&json!({
                    "ok": false, "path": path, "line": line, "reason": message,
                }))?;
            } else {
                out.line(&format!(
                    "audit log {}: TAMPERED at line {line}: {message}",
                    path.display()
                ))?;
            }
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(other.into()),
    }
}
