//! `rollout`, `rollback`: through the Deploy Agent at `--agent-url`, with the service token from
//! `CF_ACCESS_CLIENT_ID`/`CF_ACCESS_CLIENT_SECRET`. Anything but `active` (rollout) or
//! `rolled_back` (rollback) exits 3.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use tau_registry::digest::HttpResolver;
use tau_registry::policy::Environment;
use tau_registry::rollout::{self, AgentDeployer, Options, Outcome, Report};
use tau_registry::store::AnyStore;

use super::refusal;
use crate::failure::{Refusal, REFUSED, USAGE};
use crate::out::{self, Out};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EnvArg {
    Dev,
    Prod,
}

#[derive(Debug, clap::Args)]
pub struct Timing {
    /// The Deploy Agent's base URL.
    #[arg(long, value_name = "URL", env = "TAU_REGISTRY_AGENT_URL")]
    pub agent_url: String,
    /// How long the new image must be seen running before it is active.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub verify_seconds: u64,
    /// From the deploy call: not active by then means failed (and rolled back).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// The deploy request's environment (default: dev for dev-… tags, prod for vX.Y.Z).
    #[arg(long, value_enum)]
    pub environment: Option<EnvArg>,
}

#[derive(Debug, clap::Args)]
pub struct RolloutArgs {
    #[arg(value_name = "AGENT")]
    pub agent: String,
    #[arg(value_name = "TAG")]
    pub tag: String,
    #[command(flatten)]
    pub timing: Timing,
    /// Asked for by a person (required when the entry's autodeploy_enabled is false).
    #[arg(long)]
    pub manual: bool,
    /// Roll out a tag that failed or was rolled back before.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[arg(value_name = "AGENT")]
    pub agent: String,
    #[command(flatten)]
    pub timing: Timing,
}

fn deployer(url: &str) -> Result<AgentDeployer> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Refusal::new(USAGE, "credentials_missing", format!("{name} is not set: the Deploy Agent's service token comes from CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET")))
    };
    let (id, secret) = (var("CF_ACCESS_CLIENT_ID")?, var("CF_ACCESS_CLIENT_SECRET")?);
    AgentDeployer::new(url, &id, &secret).map_err(refusal)
}

fn options(t: &Timing, manual: bool, force: bool) -> Options {
    Options {
        verify: Duration::from_secs(t.verify_seconds),
        timeout: Duration::from_secs(t.timeout),
        manual,
        force,
        environment: t.environment.map(|e| match e {
            EnvArg::Dev => Environment::Dev,
            EnvArg::Prod => Environment::Prod,
        }),
        ..Options::default()
    }
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub async fn rollout(
    store: &AnyStore,
    resolver: &HttpResolver,
    a: &RolloutArgs,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let d = deployer(&a.timing.agent_url)?;
    let report = rollout::rollout(
        store,
        resolver,
        &d,
        &env_lookup,
        &a.agent,
        &a.tag,
        &options(&a.timing, a.manual, a.force),
    )
    .await
    .map_err(refusal)?;
    finish(&report, Outcome::Active, json, out)
}

pub async fn rollback(
    store: &AnyStore,
    resolver: &HttpResolver,
    a: &RollbackArgs,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let d = deployer(&a.timing.agent_url)?;
    let report = rollout::rollback(
        store,
        resolver,
        &d,
        &env_lookup,
        &a.agent,
        &options(&a.timing, true, false),
    )
    .await
    .map_err(refusal)?;
    finish(&report, Outcome::RolledBack, json, out)
}

fn finish(report: &Report, wanted: Outcome, json: bool, out: &mut Out) -> Result<ExitCode> {
    let ok = report.result == wanted;
    let refusal = (!ok).then(|| {
        Refusal::new(
            REFUSED,
            "rollout_not_active",
            format!(
                "{} {}: {}{}",
                report.agent,
                report.tag,
                report.result.as_str(),
                report
                    .reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        )
        .with("result", report.result.as_str())
    });
    if json {
        out.json(&crate::failure::WithError::new(report, refusal.as_ref()))?;
    } else {
        for e in &report.events {
            out.line(&format!(
                "{:>7}ms  {:<20} {}  trace_id={}{}",
                e.at_ms,
                e.event,
                e.tag,
                e.trace_id,
                e.detail
                    .as_ref()
                    .map(|d| format!("  {d}"))
                    .unwrap_or_default()
            ))?;
        }
        out.line(&format!(
            "registry {}: {} {} result={} elapsed_ms={} trace_id={}",
            if wanted == Outcome::Active {
                "rollout"
            } else {
                "rollback"
            },
            report.agent,
            report.tag,
            report.result.as_str(),
            report.elapsed_ms,
            report.trace_id
        ))?;
    }
    Ok(match refusal {
        Some(r) => {
            if !json {
                out::warn(&format!("refused: {}", r.message));
            }
            ExitCode::from(REFUSED)
        }
        None => ExitCode::SUCCESS,
    })
}
