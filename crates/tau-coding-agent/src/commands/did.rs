//! `tau did init` (flag form `--deployment-wasm-browser-did-init`): derive, persist, report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::BoolishValueParser;
use kamn_core::Method;
use kamn_sdk::InitRequest;

use super::args::{DidMethod, LockWait, StateDir};
use crate::out::Out;

const INIT_EXAMPLES: &str = "\
Examples:
  TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY=... tau did init --network tau-devnet --subject browser-agent
  tau did init --method web --network example.com --subject agent --output did.json --json

The entropy is the secret the key is derived from: pass it through the environment, not argv.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Derive the browser/edge DID identity and persist it to the state dir.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
}

impl Command {
    pub fn wants_json(&self) -> bool {
        let Command::Init(a) = self;
        a.json
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// DID method of the identity.
    #[arg(
        long,
        value_name = "METHOD",
        value_enum,
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_METHOD",
        default_value = "key"
    )]
    pub method: DidMethod,

    /// Network name (a domain for did:web); lower-cased, dot-separated labels of [a-z0-9_-].
    #[arg(long, value_name = "NAME", env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_NETWORK",
        default_value = kamn_sdk::DEFAULT_NETWORK)]
    pub network: String,

    /// Subject name; same rules as the network.
    #[arg(long, value_name = "NAME", env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_SUBJECT",
        default_value = kamn_sdk::DEFAULT_SUBJECT)]
    pub subject: String,

    /// Secret entropy the key is derived from (required; prefer the environment variable).
    #[arg(
        long,
        value_name = "SECRET",
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY",
        hide_env_values = true
    )]
    pub entropy: Option<String>,

    /// Where to write the bootstrap payload [default: <state-dir>/browser-did.json].
    #[arg(
        long,
        value_name = "PATH",
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_OUTPUT"
    )]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub state_dir: StateDir,

    #[command(flatten)]
    pub lock: LockWait,

    /// Print the bootstrap report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

pub fn exec(command: &Command, out: &mut Out) -> Result<ExitCode> {
    let Command::Init(args) = command;
    init(args, out)
}

fn init(args: &InitArgs, out: &mut Out) -> Result<ExitCode> {
    let Some(entropy) = args.entropy.clone() else {
        anyhow::bail!(
            "--deployment-wasm-browser-did-init needs --deployment-wasm-browser-did-entropy \
             (or TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY); it has no default because it is the secret"
        );
    };
    let state_dir = &args.state_dir.path;
    let request = InitRequest {
        method: match args.method {
            DidMethod::Key => Method::Key,
            DidMethod::Web => Method::Web,
        },
        network: args.network.clone(),
        subject: args.subject.clone(),
        entropy,
    };
    let report = kamn_sdk::init(&request)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| state_dir.join("browser-did.json"));
    let mut note = crate::report::waiting_for_lock;
    let wait = crate::report::lock_wait(args.lock.no_wait, &mut note);
    let persisted = kamn_sdk::persist(&report, &output, state_dir, wait)
        .with_context(|| format!("cannot persist the browser DID to {}", output.display()))?;
    let id = &report.identity;
    if args.json {
        out.json(&serde_json::json!({
            "runtime": report.runtime,
            "interoperability_profile": report.interoperability_profile,
            "identity": id,
            "did_document": report.did_document,
            "output_path": persisted.output_path,
            "state_path": persisted.state_path,
            "persisted": true,
        }))?;
    } else {
        out.line(&format!(
            "deployment wasm browser did: runtime={} profile={} method={} did={} key_id={} fingerprint={} \
             output_path={} persisted=true",
            report.runtime,
            report.interoperability_profile,
            id.method.as_str(),
            id.did,
            id.key_id,
            id.fingerprint,
            persisted.output_path.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
