//! `tau registry …`: image tags, the agent catalog, tag history, rollouts and rollbacks
//! (`tau_registry` does the work; this module parses, opens the store and formats).
//!
//! The store is the state dir's (`--state-dir`, default `.tau/registry`) unless `DATABASE_URL`
//! is set; the URL is read from the environment only, so a password never sits on a command
//! line, and it is never printed.

mod catalog;
mod rollout;
mod tags;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::builder::BoolishValueParser;
use tau_registry::digest::HttpResolver;
use tau_registry::store::AnyStore;

use crate::failure::{Refusal, REFUSED, USAGE};
use crate::out::Out;

pub const DEFAULT_STATE_DIR: &str = ".tau/registry";

const EXAMPLES: &str = "\
Examples:
  tau registry apply catalog.yaml
  tau registry tag record cogo-codegen-worker v1.4.2_3f9c2ab --built-by ci --trace-id $TRACE_ID
  tau registry --registry-credentials-env GHCR tag record cogo-codegen-worker v1.4.3  # GHCR_USERNAME/GHCR_PASSWORD
  tau registry rollout cogo-codegen-worker v1.4.2_3f9c2ab --agent-url https://dev.example.com
  tau registry history cogo-codegen-worker --json
  DATABASE_URL=postgres://… tau registry migrate

Exit 3 when a rollout does not end active, or a rule refused the request (a failed tag without
--force, autodeploy disabled without --manual, tag_digest_changed).";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,

    /// The embedded store's directory (ignored when DATABASE_URL is set).
    #[arg(long, global = true, value_name = "PATH", env = "TAU_REGISTRY_STATE_DIR", default_value = DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,

    /// Read registry logins from PREFIX_USERNAME and PREFIX_PASSWORD (both or neither) before the
    /// Docker config (`$DOCKER_CONFIG/config.json`, `~/.docker/config.json`, credential helpers);
    /// used where a tag's digest is asked from the registry.
    #[arg(
        long,
        global = true,
        value_name = "PREFIX",
        env = "TAU_REGISTRY_CREDENTIALS_ENV"
    )]
    pub registry_credentials_env: Option<String>,

    /// Print one JSON document.
    #[arg(long, global = true, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create or update registry accounts, catalog entries and pull-secret links from a YAML or JSON file.
    Apply(catalog::ApplyArgs),
    /// Registry accounts.
    #[command(subcommand)]
    Account(catalog::AccountCommand),
    /// The agent catalog.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// An agent's tag history, newest first.
    History(tags::HistoryArgs),
    /// Image tags.
    #[command(subcommand)]
    Tag(tags::TagCommand),
    /// Roll an agent out to a tag through its Deploy Agent; rolls back automatically on failure.
    Rollout(rollout::RolloutArgs),
    /// Move an agent off its pinned tag to the previous active one.
    Rollback(rollout::RollbackArgs),
    /// Print the Kubernetes Deployment of a catalog entry.
    Manifests(catalog::ManifestsArgs),
    /// Apply the shipped SQL migrations to DATABASE_URL.
    Migrate,
}

pub fn exec(args: &Args, out: &mut Out) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = open(args).await?;
        match &args.command {
            Command::Apply(a) => catalog::apply(&store, a, args.json, out).await,
            Command::Account(c) => catalog::account(&store, c, args.json, out).await,
            Command::Catalog(c) => catalog::catalog(&store, c, args.json, out).await,
            Command::Manifests(a) => catalog::manifests(&store, a, args.json, out).await,
            Command::History(a) => tags::history(&store, a, args.json, out).await,
            Command::Tag(c) => tags::tag(&store, &resolver(args)?, c, args.json, out).await,
            Command::Rollout(a) => {
                rollout::rollout(&store, &resolver(args)?, a, args.json, out).await
            }
            Command::Rollback(a) => {
                rollout::rollback(&store, &resolver(args)?, a, args.json, out).await
            }
            Command::Migrate => migrate(&store, args.json, out).await,
        }
    })
}

/// The registry client for digest lookups, with the login variables' prefix when one was given.
fn resolver(args: &Args) -> Result<HttpResolver> {
    if let Some(prefix) = &args.registry_credentials_env {
        let valid = !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && !prefix.as_bytes()[0].is_ascii_digit();
        if !valid {
            return Err(Refusal::new(
                USAGE,
                "usage",
                format!("--registry-credentials-env {prefix:?}: expected an environment variable prefix of A-Z, 0-9 and _ (such as REGISTRY)"),
            )
            .into());
        }
    }
    Ok(HttpResolver::new()
        .map_err(refusal)?
        .with_credentials_env(args.registry_credentials_env.clone()))
}

fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

async fn open(args: &Args) -> Result<AnyStore> {
    let url = database_url();
    if url.is_none() && matches!(args.command, Command::Migrate) {
        return Err(Refusal::new(
            USAGE,
            "usage",
            "tau registry migrate needs DATABASE_URL (the embedded store needs no migration)",
        )
        .into());
    }
    AnyStore::open(url.as_deref(), &args.state_dir)
        .await
        .map_err(refusal)
}

async fn migrate(store: &AnyStore, json: bool, out: &mut Out) -> Result<ExitCode> {
    let AnyStore::Pg(pg) = store else {
        unreachable!("open() refuses migrate without DATABASE_URL")
    };
    let applied = pg.migrate().await.map_err(refusal)?;
    if json {
        out.json(&serde_json::json!({ "store": "postgres", "applied": applied }))?;
    } else if applied.is_empty() {
        out.line("registry migrate: up to date")?;
    } else {
        for v in &applied {
            out.line(&format!("registry migrate: applied {v}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A library error as the CLI reports it: refusals by rule exit 3, bad input and broken stores
/// exit 2; the code is the library's.
pub fn refusal(e: tau_registry::Error) -> anyhow::Error {
    use tau_registry::Error as E;
    let exit = match &e {
        E::TagDigestChanged { .. } | E::Refused { .. } => REFUSED,
        _ => USAGE,
    };
    let exit = if matches!(
        e.code(),
        "usage"
            | "secret_env_missing"
            | "tag_invalid"
            | "credentials_missing"
            | "registry_credentials_invalid"
    ) {
        USAGE
    } else {
        exit
    };
    let mut r = Refusal::new(exit, e.code(), e.to_string());
    if let E::TagDigestChanged {
        recorded, current, ..
    } = &e
    {
        r = r
            .with("recorded_digest", recorded.clone())
            .with("current_digest", current.clone());
    }
    r.into()
}
