//! `tau gateway serve` (flag form `--gateway-serve`, or `TAU_TRANSPORT_MODE=gateway`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use tau_gateway::server::Stopped;

use super::args::StateDir;
use crate::out::Out;

const SERVE_EXAMPLES: &str = "\
Examples:
  tau gateway serve
  tau gateway serve --bind 0.0.0.0:8080 --state-dir /data/tau/deployment

Stops on SIGINT or SIGTERM after draining open requests.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the gateway HTTP API (status, health, metrics) over the state dir.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; a non-loopback address only when given explicitly.
    #[arg(
        long,
        value_name = "ADDR",
        env = "TAU_GATEWAY_OPENRESPONSES_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,

    /// How long a status snapshot is reused before state.json is checked again.
    #[arg(long, value_name = "MS", env = "TAU_GATEWAY_STATUS_CACHE_MS", default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(0..=MAX_CACHE_MS))]
    pub status_cache_ms: u64,

    /// Requests declaring a larger body are refused with 413.
    #[arg(long, value_name = "BYTES", env = "TAU_GATEWAY_BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: u64,

    /// Connections served at once; beyond it a few more get one answer (liveness 200, else 503).
    #[arg(long, value_name = "N", env = "TAU_GATEWAY_MAX_CONNECTIONS",
        default_value_t = tau_gateway::server::DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// A connection with no request for this long is closed.
    #[arg(long, value_name = "MS", env = "TAU_GATEWAY_IDLE_TIMEOUT_MS",
        default_value_t = tau_gateway::server::DEFAULT_IDLE_TIMEOUT_MS)]
    pub idle_timeout_ms: u64,

    /// A request head not complete this long after its first byte closes the connection.
    #[arg(long, value_name = "MS", env = "TAU_GATEWAY_HEADER_TIMEOUT_MS",
        default_value_t = tau_gateway::server::DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,

    /// A request still being handled after this long is answered 503 request_timeout.
    #[arg(long, value_name = "MS", env = "TAU_GATEWAY_REQUEST_TIMEOUT_MS",
        default_value_t = tau_gateway::server::DEFAULT_REQUEST_TIMEOUT_MS)]
    pub request_timeout_ms: u64,

    /// Hold the served gate with state_stale when the evidence is older than this; 0 disables.
    #[arg(long, value_name = "MS", env = "TAU_DEPLOYMENT_STATUS_MAX_AGE_MS")]
    pub max_age_ms: Option<u64>,

    #[command(flatten)]
    pub state_dir: StateDir,

    /// Print the listening and stopped events as JSON lines (one object per line).
    #[arg(long, value_parser = clap::builder::BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

impl Command {
    pub fn wants_json(&self) -> bool {
        let Command::Serve(a) = self;
        a.json
    }
}

/// A day: a longer cache would serve a gate nobody could call current.
pub const MAX_CACHE_MS: u64 = 24 * 60 * 60 * 1000;

pub fn exec(command: &Command, out: &mut Out) -> Result<ExitCode> {
    let Command::Serve(args) = command;
    serve(args, out)
}

fn serve(args: &ServeArgs, out: &mut Out) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let state_dir = &args.state_dir.path;
    let mut config = tau_gateway::Config::new(state_dir.clone());
    config.status_cache = Duration::from_millis(args.status_cache_ms);
    config.max_age_ms = args.max_age_ms;
    config.body_limit_bytes = args.body_limit_bytes;
    config.max_connections = usize::try_from(args.max_connections)
        .context("--max-connections does not fit this platform's usize")?;
    config.idle_timeout = Duration::from_millis(args.idle_timeout_ms);
    config.header_timeout = Duration::from_millis(args.header_timeout_ms);
    config.request_timeout = Duration::from_millis(args.request_timeout_ms);
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        let addr = listener.local_addr()?;
        if args.json {
            out.json_line(&serde_json::json!({
                "event": "listening", "url": format!("http://{addr}"),
                "state_dir": state_dir, "status_cache_ms": args.status_cache_ms,
            }))?;
        } else {
            out.line(&format!(
                "gateway listening on http://{addr} state_dir={} status_cache_ms={}",
                state_dir.display(),
                args.status_cache_ms
            ))?;
        }
        out.flush()?;
        let stopped = tau_gateway::serve(listener, config, shutdown_signal()).await?;
        let (drained, text) = match stopped {
            Stopped::Drained => (true, "gateway stopped: drained"),
            Stopped::DrainTimedOut => (
                false,
                "gateway stopped: drain timed out, remaining connections dropped",
            ),
        };
        if args.json {
            out.json_line(&serde_json::json!({"event": "stopped", "drained": drained}))?;
        } else {
            out.line(text)?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on SIGINT (Fly's default kill signal, and Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
