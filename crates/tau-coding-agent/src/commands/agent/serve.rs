//! `tau agent serve --config PATH`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::out::Out;

pub const EXAMPLES: &str = "\
Examples:
  tau agent serve --config /etc/tau/agent.toml
  tau agent serve --config agent.toml --json

The config has no defaults for what matters (environment, listen, container_name,
image_repositories, volumes, service_tokens, audit_log, state_dir): see docs/guides/deploy-agent.md.
Before listening, a swap interrupted by a crash is recovered. Stops on SIGINT or SIGTERM.";

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's TOML configuration.
    #[arg(long, value_name = "PATH", env = "TAU_AGENT_CONFIG")]
    pub config: PathBuf,

    /// Print the listening and stopped events as JSON lines.
    #[arg(long, value_parser = clap::builder::BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

pub fn exec(args: &Args, out: &mut Out) -> Result<ExitCode> {
    let config = tau_agent::config::Config::load(&args.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let environment = config.environment;
        let container = config.container_name.clone();
        let server = tau_agent::Server::start(config).await?;
        let addr = server.local_addr()?;
        let recovery = serde_json::to_value(server.recovery())?;
        if args.json {
            out.json_line(&serde_json::json!({
                "event": "listening", "url": format!("http://{addr}"),
                "environment": environment, "container_name": container,
                "recovery": recovery,
            }))?;
        } else {
            out.line(&format!(
                "deploy agent listening on http://{addr} environment={environment} container_name={container} recovery={}",
                recovery["action"].as_str().unwrap_or("unknown")
            ))?;
        }
        out.flush()?;
        server.serve(shutdown_signal()).await?;
        if args.json {
            out.json_line(&serde_json::json!({"event": "stopped"}))?;
        } else {
            out.line("deploy agent stopped")?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
