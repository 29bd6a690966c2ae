//! One module per subcommand: its arguments (with help, examples and environment fallbacks) and
//! its `exec`. The runbook's flat flags (`crate::cli`) are translated into these same argument
//! structs by `crate::legacy`, so both spellings run one code path and print the same output.

pub mod agent;
pub mod args;
pub mod completions;
pub mod deploy;
pub mod did;
pub mod fixture;
pub mod fly;
pub mod gateway;
pub mod health;
pub mod registry;
pub mod run;
pub mod status;
pub mod wasm;

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::out::Out;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a fixture's deployment cases (simulated evidence) and record the results.
    #[command(after_help = run::EXAMPLES)]
    Run(run::Args),
    /// Print the status report and its rollout gate; CI gates on this.
    #[command(after_help = status::EXAMPLES)]
    Status(status::Args),
    /// Print the transport health snapshot of the state dir.
    #[command(after_help = health::EXAMPLES)]
    Health(health::Args),
    /// Validate or create contract fixtures.
    #[command(subcommand)]
    Fixture(fixture::Command),
    /// Validate, package and inspect WASM deliverables.
    #[command(subcommand)]
    Wasm(wasm::Command),
    /// Browser/edge DID identity.
    #[command(subcommand)]
    Did(did::Command),
    /// The gateway HTTP API.
    #[command(subcommand)]
    Gateway(gateway::Command),
    /// Fly.io deployment checks.
    #[command(subcommand)]
    Fly(fly::Command),
    /// Cloud deploy: build, push and run a service from tau.yaml's `deployment:` section.
    #[command(after_help = deploy::EXAMPLES, args_conflicts_with_subcommands = false)]
    Deploy(deploy::Args),
    /// Image tags, agent catalog, tag history, rollouts and automatic rollback.
    Registry(registry::Args),
    /// The Deploy Agent: serve it, verify its audit log.
    #[command(subcommand)]
    Agent(agent::Command),
    /// Print a shell completion script generated from this command line.
    #[command(after_help = completions::COMPLETION_EXAMPLES)]
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) generated from this command line.
    #[command(after_help = completions::MAN_EXAMPLES)]
    Man,
}

impl Command {
    /// Whether errors should also be reported as a JSON object on stdout.
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Run(a) => a.json,
            Command::Status(a) => a.json,
            Command::Health(a) => a.json,
            Command::Fixture(c) => c.wants_json(),
            Command::Wasm(c) => c.wants_json(),
            Command::Did(c) => c.wants_json(),
            Command::Gateway(c) => c.wants_json(),
            Command::Fly(c) => c.wants_json(),
            Command::Deploy(a) => a.wants_json(),
            Command::Registry(a) => a.json,
            Command::Agent(c) => c.wants_json(),
            Command::Completions(_) | Command::Man => false,
        }
    }

    pub fn exec(&self, out: &mut Out) -> Result<ExitCode> {
        match self {
            Command::Run(a) => run::exec(a, out),
            Command::Status(a) => status::exec(a, out),
            Command::Health(a) => health::exec(a, out),
            Command::Fixture(c) => fixture::exec(c, out),
            Command::Wasm(c) => wasm::exec(c, out),
            Command::Did(c) => did::exec(c, out),
            Command::Gateway(c) => gateway::exec(c, out),
            Command::Fly(c) => fly::exec(c, out),
            Command::Deploy(a) => deploy::exec(a, out),
            Command::Registry(a) => registry::exec(a, out),
            Command::Agent(c) => agent::exec(c, out),
            Command::Completions(a) => completions::completions(a, out),
            Command::Man => completions::man(out),
        }
    }
}
