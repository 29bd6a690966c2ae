//! `tau agent`: the Deploy Agent (`serve`) and its audit log (`audit verify`).

mod audit;
mod serve;

use std::process::ExitCode;

use anyhow::Result;

use crate::out::Out;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the Deploy Agent: the only way the runtime container starts or stops on this host.
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::Args),
    /// Check the Deploy Agent's audit log.
    #[command(subcommand)]
    Audit(audit::Command),
}

impl Command {
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Serve(a) => a.json,
            Command::Audit(c) => c.wants_json(),
        }
    }
}

pub fn exec(command: &Command, out: &mut Out) -> Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::exec(args, out),
        Command::Audit(c) => audit::exec(c, out),
    }
}

/// Which driver decides `tau run`'s cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DriverChoice {
    /// The fixture's contract decides; nothing is deployed.
    #[default]
    Simulated,
    /// Container cases are deployed for real through a running Deploy Agent (live evidence).
    DeployAgent,
}

/// `tau run --driver deploy-agent --agent-url URL`; credentials come from the same variables the
/// deploy workflow uses, never from a flag (a flag would land in shell history and `ps`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DriverArgs {
    /// `simulated`, or `deploy-agent` for live evidence from a running Deploy Agent.
    #[arg(
        long,
        value_enum,
        env = "TAU_DEPLOYMENT_DRIVER",
        default_value = "simulated"
    )]
    pub driver: DriverChoice,

    /// The Deploy Agent's base URL (with `--driver deploy-agent`); the service token is read from
    /// CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET.
    #[arg(long, value_name = "URL", env = "TAU_AGENT_URL")]
    pub agent_url: Option<String>,
}

impl DriverArgs {
    /// The live driver, connected; `None` for the simulated one.
    pub fn connect(&self) -> Result<Option<tau_agent::driver::AgentDriver>> {
        if self.driver == DriverChoice::Simulated {
            return Ok(None);
        }
        let Some(url) = &self.agent_url else {
            anyhow::bail!("--driver deploy-agent needs --agent-url URL (or TAU_AGENT_URL)");
        };
        let var = |name: &str| -> Result<String> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => Ok(v),
                _ => anyhow::bail!("--driver deploy-agent needs the {name} environment variable (set and non-empty)"),
            }
        };
        let client = tau_agent::Client::new(
            url,
            &var("CF_ACCESS_CLIENT_ID")?,
            &var("CF_ACCESS_CLIENT_SECRET")?,
        )?;
        Ok(Some(tau_agent::driver::AgentDriver::connect(client)?))
    }
}
