//! `--gateway-serve` (or `TAU_TRANSPORT_MODE=gateway`) and `--fly-manifest-check`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use tau_gateway::server::Stopped;

use crate::cli::Cli;

pub fn serve(cli: &Cli) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut config = tau_gateway::Config::new(cli.deployment_state_dir.clone());
    config.status_cache = Duration::from_millis(cli.gateway_status_cache_ms);
    config.max_age_ms = cli.deployment_status_max_age_ms;
    config.body_limit_bytes = cli.gateway_body_limit_bytes;
    config.max_connections = usize::try_from(cli.gateway_max_connections).unwrap_or(usize::MAX);
    config.idle_timeout = Duration::from_millis(cli.gateway_idle_timeout_ms);
    config.header_timeout = Duration::from_millis(cli.gateway_header_timeout_ms);
    config.request_timeout = Duration::from_millis(cli.gateway_request_timeout_ms);
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(cli.gateway_bind)
            .await
            .with_context(|| format!("cannot listen on {}", cli.gateway_bind))?;
        let addr = listener.local_addr()?;
        println!(
            "gateway listening on http://{addr} state_dir={} status_cache_ms={}",
            cli.deployment_state_dir.display(),
            cli.gateway_status_cache_ms
        );
        let _ = std::io::stdout().flush();
        let stopped = tau_gateway::serve(listener, config, shutdown_signal()).await?;
        match stopped {
            Stopped::Drained => println!("gateway stopped: drained"),
            Stopped::DrainTimedOut => {
                println!("gateway stopped: drain timed out, remaining connections dropped")
            }
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

pub fn fly_check(path: &Path, json: bool) -> Result<ExitCode> {
    let checks = tau_gateway::fly::check_manifest(path)?;
    let failed = checks.iter().filter(|c| !c.pass).count();
    let code = if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    };
    if json {
        let report = serde_json::json!({
            "manifest": path,
            "status": if failed == 0 { "pass" } else { "fail" },
            "failed": failed,
            "checks": checks,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(code);
    }
    for c in &checks {
        println!(
            "fly manifest check: {} {} ({})",
            c.name,
            if c.pass { "pass" } else { "fail" },
            c.detail
        );
    }
    println!(
        "fly manifest check summary: manifest={} checks={} failed={failed} status={}",
        path.display(),
        checks.len(),
        if failed == 0 { "pass" } else { "fail" }
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
