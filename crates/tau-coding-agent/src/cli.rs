//! The command line: subcommands (`crate::commands`) and, beside them, the operations runbook's
//! flat flags, kept exactly as the runbook spells them. Every flag can also come from the
//! environment as `TAU_<FLAG_IN_UPPER_SNAKE>`; the subcommands read the same variables.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgGroup, CommandFactory, Parser, ValueEnum};

pub use crate::commands::args::{DidMethod, Transport, WasmProfile};
use crate::commands::Command;

pub const EXIT_CODES: &str = "\
Examples:
  tau run --fixture testdata/deployment-contract/rollout-pass.json
  tau status --require-pass --require-fixture testdata/deployment-contract/rollout-pass.json
  tau <COMMAND> --help      help and examples of one command
  tau --help                also lists the runbook's flag form (--deployment-contract-runner, ...)

Exit codes:
  0  success
  1  the contract runner finished, but a case broke its fixture expectation
  2  usage, input or environment error (bad flag, invalid fixture or module, unreadable state or
     manifest, locked state dir, unwritable output)
  3  a gate said no: the rollout gate holds (with --require-pass), a module is not compliant with
     its runtime profile, an inspected artifact is not compliant, a runtime smoke failed, or a
     fly.toml check failed

With --json, stdout is always one JSON document; a refusal (exit 2 or 3) carries
{\"error\": {\"code\", \"exit_code\", \"message\", \"causes\", ...}}.";

#[derive(Debug, Parser)]
#[command(
    name = "tau",
    version,
    about = "Prove a deployment is safe before you promote it.",
    after_help = EXIT_CODES,
    group(ArgGroup::new("mode").multiple(false).args([
        "deployment_contract_runner",
        "transport_health_inspect",
        "deployment_status_inspect",
        "deployment_wasm_browser_did_init",
        "deployment_wasm_package_module",
        "deployment_wasm_inspect_manifest",
        "gateway_serve",
        "fly_manifest_check",
    ])),
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Replay the fixture's deployment cases (simulated evidence) and record the results.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_CONTRACT_RUNNER", help_heading = "Modes")]
    pub deployment_contract_runner: bool,

    /// Print the health snapshot of a transport's state dir.
    #[arg(
        long,
        value_name = "TRANSPORT",
        env = "TAU_TRANSPORT_HEALTH_INSPECT",
        help_heading = "Modes"
    )]
    pub transport_health_inspect: Option<Transport>,

    /// Print the deployment status report and its rollout gate.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_STATUS_INSPECT", help_heading = "Modes")]
    pub deployment_status_inspect: bool,

    /// Derive the browser/edge DID identity and persist it to the state dir.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_INIT", help_heading = "Modes")]
    pub deployment_wasm_browser_did_init: bool,

    /// Serve the gateway HTTP API (also when TAU_TRANSPORT_MODE=gateway and no other mode is given).
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_GATEWAY_SERVE", help_heading = "Modes")]
    pub gateway_serve: bool,

    /// Check a fly.toml (and its Dockerfile) against the gateway's deployment contract.
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "fly.toml",
        env = "TAU_FLY_MANIFEST_CHECK", help_heading = "Modes")]
    pub fly_manifest_check: Option<PathBuf>,

    /// Transport mode: `gateway` serves the gateway when no mode flag is given (the image default).
    #[arg(
        long,
        value_name = "MODE",
        value_enum,
        env = "TAU_TRANSPORT_MODE",
        help_heading = "Gateway"
    )]
    pub transport_mode: Option<TransportMode>,

    /// Address the gateway listens on; a non-loopback address only when given explicitly.
    #[arg(
        long,
        value_name = "ADDR",
        env = "TAU_GATEWAY_OPENRESPONSES_BIND",
        default_value = "127.0.0.1:8080",
        help_heading = "Gateway"
    )]
    pub gateway_bind: std::net::SocketAddr,

    /// How long a status snapshot is reused before state.json is checked again.
    #[arg(
        long,
        value_name = "MS",
        env = "TAU_GATEWAY_STATUS_CACHE_MS",
        default_value_t = 1000,
        help_heading = "Gateway"
    )]
    pub gateway_status_cache_ms: u64,

    /// Requests declaring a larger body are refused with 413.
    #[arg(long, value_name = "BYTES", env = "TAU_GATEWAY_BODY_LIMIT_BYTES", default_value_t = 64 * 1024,
        help_heading = "Gateway")]
    pub gateway_body_limit_bytes: u64,

    /// Connections served at once; beyond it a few more get one answer (liveness 200, else 503).
    #[arg(long, value_name = "N", env = "TAU_GATEWAY_MAX_CONNECTIONS",
        default_value_t = tau_gateway::server::DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..), help_heading = "Gateway")]
    pub gateway_max_connections: u32,

    /// A connection with no request for this long is closed.
    #[arg(long, value_name = "MS", env = "TAU_GATEWAY_IDLE_TIMEOUT_MS",
        default_value_t = tau_gateway::server::DEFAULT_IDLE_TIMEOUT_MS, help_heading = "Gateway")]
    pub gateway_idle_timeout_ms: u64,

    /// A request head not complete this long after its first byte closes the connection.
    #[arg(long, value_name = "MS", env = "TAU_GATEWAY_HEADER_TIMEOUT_MS",
        default_value_t = tau_gateway::server::DEFAULT_HEADER_TIMEOUT_MS, help_heading = "Gateway")]
    pub gateway_header_timeout_ms: u64,

    /// A request still being handled after this long is answered 503 request_timeout.
    #[arg(long, value_name = "MS", env = "TAU_GATEWAY_REQUEST_TIMEOUT_MS",
        default_value_t = tau_gateway::server::DEFAULT_REQUEST_TIMEOUT_MS, help_heading = "Gateway")]
    pub gateway_request_timeout_ms: u64,

    /// Fixture to replay (required with --deployment-contract-runner).
    #[arg(long, value_name = "PATH", env = "TAU_DEPLOYMENT_FIXTURE")]
    pub deployment_fixture: Option<PathBuf>,

    /// State dir shared by every deployment command.
    #[arg(long, value_name = "PATH", env = "TAU_DEPLOYMENT_STATE_DIR", default_value = tau_deployment::DEFAULT_STATE_DIR)]
    pub deployment_state_dir: PathBuf,

    /// Cases evaluated per run; the rest stay pending for the next run.
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_QUEUE_LIMIT", default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..), help_heading = "Runner")]
    pub deployment_queue_limit: u64,

    /// How many processed case keys state.json remembers (most recent kept).
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_PROCESSED_CASE_CAP", default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..), help_heading = "Runner")]
    pub deployment_processed_case_cap: u64,

    /// Total attempts per case per run when the backend answers with a retryable failure.
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_RETRY_MAX_ATTEMPTS", default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(1..), help_heading = "Runner")]
    pub deployment_retry_max_attempts: u32,

    /// Delay before the first retry; doubles for each later retry, capped at 30 s.
    #[arg(
        long,
        value_name = "MS",
        env = "TAU_DEPLOYMENT_RETRY_BASE_DELAY_MS",
        default_value_t = 0,
        help_heading = "Runner"
    )]
    pub deployment_retry_base_delay_ms: u64,

    /// Rotate runtime-events.jsonl once it reaches this size.
    #[arg(long, value_name = "BYTES", env = "TAU_DEPLOYMENT_EVENTS_MAX_BYTES", default_value_t = 10 * 1024 * 1024,
        value_parser = clap::value_parser!(u64).range(1..), help_heading = "Runner")]
    pub deployment_events_max_bytes: u64,

    /// Rotated events files kept (runtime-events.jsonl.1 is the newest).
    #[arg(long, value_name = "N", env = "TAU_DEPLOYMENT_EVENTS_MAX_FILES", default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..), help_heading = "Runner")]
    pub deployment_events_max_files: u32,

    /// Accepted for compatibility; every WASM artifact a case names is required.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_REQUIRE_ARTIFACTS", help_heading = "Runner")]
    pub deployment_require_artifacts: bool,

    /// Largest WASM artifact or manifest a case may name.
    #[arg(long, value_name = "BYTES", env = "TAU_DEPLOYMENT_ARTIFACT_MAX_BYTES",
        default_value_t = tau_deployment::artifacts::Options::default().max_bytes, help_heading = "Runner")]
    pub deployment_artifact_max_bytes: u64,

    /// Let cases name artifacts outside the fixture's directory (absolute paths, `..`).
    #[arg(long, value_parser = BoolishValueParser::new(),
        env = "TAU_DEPLOYMENT_ARTIFACTS_ALLOW_OUTSIDE_FIXTURE_DIR", help_heading = "Runner")]
    pub deployment_artifacts_allow_outside_fixture_dir: bool,

    /// Fail at once instead of waiting when another tau process holds the state dir.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_LOCK_NO_WAIT", help_heading = "Runner")]
    pub deployment_lock_no_wait: bool,

    /// Print the transport health snapshot as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_TRANSPORT_HEALTH_JSON", help_heading = "Output")]
    pub transport_health_json: bool,

    /// Print the status report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_STATUS_JSON", help_heading = "Output")]
    pub deployment_status_json: bool,

    /// JSON output for whichever command runs.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON", help_heading = "Output")]
    pub json: bool,

    /// Hold the gate with state_stale when the evidence is older than this; 0 disables the check
    /// [default: 3600000].
    #[arg(
        long,
        value_name = "MS",
        env = "TAU_DEPLOYMENT_STATUS_MAX_AGE_MS",
        help_heading = "Status"
    )]
    pub deployment_status_max_age_ms: Option<u64>,

    /// Hold with fixture_mismatch unless the evidence came from a fixture with exactly these bytes.
    #[arg(
        long,
        value_name = "PATH",
        env = "TAU_DEPLOYMENT_STATUS_REQUIRE_FIXTURE",
        help_heading = "Status"
    )]
    pub deployment_status_require_fixture: Option<PathBuf>,

    /// Hold with simulated_evidence unless the evidence came from a live driver.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_STATUS_REQUIRE_LIVE",
        help_heading = "Status")]
    pub deployment_status_require_live: bool,

    /// Exit 3 when the rollout gate holds, so CI can gate on the exit status alone.
    #[arg(
        long,
        value_parser = BoolishValueParser::new(),
        env = "TAU_DEPLOYMENT_STATUS_REQUIRE_PASS",
        help_heading = "Status"
    )]
    pub deployment_status_require_pass: bool,

    #[command(flatten)]
    pub did: DidArgs,

    #[command(flatten)]
    pub wasm: WasmArgs,
}

/// Options of the WASM deliverable commands.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "WASM deliverables")]
pub struct WasmArgs {
    /// Validate a module or component and package it as a content-addressed artifact + manifest.
    #[arg(long, value_name = "PATH", env = "TAU_DEPLOYMENT_WASM_PACKAGE_MODULE")]
    pub deployment_wasm_package_module: Option<PathBuf>,

    /// Blueprint the artifact belongs to ([A-Za-z0-9._-], names a directory).
    #[arg(
        long,
        value_name = "ID",
        env = "TAU_DEPLOYMENT_WASM_PACKAGE_BLUEPRINT_ID",
        default_value = "edge-wasm"
    )]
    pub deployment_wasm_package_blueprint_id: String,

    /// Runtime profile the artifact must satisfy.
    #[arg(
        long,
        value_name = "PROFILE",
        value_enum,
        env = "TAU_DEPLOYMENT_WASM_PACKAGE_RUNTIME_PROFILE",
        default_value = "wasm-wasi"
    )]
    pub deployment_wasm_package_runtime_profile: WasmProfile,

    /// Where artifacts go [default: <state-dir>/wasm-artifacts].
    #[arg(
        long,
        value_name = "DIR",
        env = "TAU_DEPLOYMENT_WASM_PACKAGE_OUTPUT_DIR"
    )]
    pub deployment_wasm_package_output_dir: Option<PathBuf>,

    /// Print the package report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_WASM_PACKAGE_JSON")]
    pub deployment_wasm_package_json: bool,

    /// Also instantiate and run the module in wasmtime (deny-by-default WASI) before packaging.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_WASM_PACKAGE_SMOKE")]
    pub deployment_wasm_package_smoke: bool,

    /// Re-verify a packaged artifact against its manifest and the built-in profile.
    #[arg(
        long,
        value_name = "PATH",
        env = "TAU_DEPLOYMENT_WASM_INSPECT_MANIFEST"
    )]
    pub deployment_wasm_inspect_manifest: Option<PathBuf>,

    /// Print the inspect report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_WASM_INSPECT_JSON")]
    pub deployment_wasm_inspect_json: bool,

    /// Also instantiate and run the artifact in wasmtime (deny-by-default WASI).
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_WASM_INSPECT_SMOKE")]
    pub deployment_wasm_inspect_smoke: bool,
}

/// Options of `--deployment-wasm-browser-did-init`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Browser DID")]
pub struct DidArgs {
    /// DID method of the identity.
    #[arg(
        long = "deployment-wasm-browser-did-method",
        value_name = "METHOD",
        value_enum,
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_METHOD",
        default_value = "key"
    )]
    pub did_method: DidMethod,

    /// Network name (a domain for did:web); lower-cased, dot-separated labels of [a-z0-9_-].
    #[arg(long = "deployment-wasm-browser-did-network", value_name = "NAME",
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_NETWORK", default_value = kamn_sdk::DEFAULT_NETWORK)]
    pub did_network: String,

    /// Subject name; same rules as the network.
    #[arg(long = "deployment-wasm-browser-did-subject", value_name = "NAME",
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_SUBJECT", default_value = kamn_sdk::DEFAULT_SUBJECT)]
    pub did_subject: String,

    /// Secret entropy the key is derived from (required; prefer the environment variable).
    #[arg(
        long = "deployment-wasm-browser-did-entropy",
        value_name = "SECRET",
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY",
        hide_env_values = true
    )]
    pub did_entropy: Option<String>,

    /// Where to write the bootstrap payload [default: <state-dir>/browser-did.json].
    #[arg(
        long = "deployment-wasm-browser-did-output",
        value_name = "PATH",
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_OUTPUT"
    )]
    pub did_output: Option<PathBuf>,

    /// Print the bootstrap report as JSON.
    #[arg(long = "deployment-wasm-browser-did-json", value_parser = BoolishValueParser::new(),
        env = "TAU_DEPLOYMENT_WASM_BROWSER_DID_JSON")]
    pub did_json: bool,
}

/// Transport modes selected by TAU_TRANSPORT_MODE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportMode {
    Gateway,
}

impl Cli {
    /// JSON output was asked for, by the mode's own flag or by --json.
    pub fn wants_json(&self, mode_flag: bool) -> bool {
        self.json || mode_flag
    }
}

/// The full definition. `-h` lists the subcommands only; the runbook's flat flags appear under
/// `--help`, so the short help stays readable while every runbook command keeps working.
pub fn command() -> clap::Command {
    Cli::command().mut_args(|arg| match arg.get_id().as_str() {
        "help" | "version" => arg,
        _ => arg.hide_short_help(true),
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flag_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn boolean_flags_accept_ci_style_environment_values() {
        let parser = BoolishValueParser::new();
        let cmd = Cli::command();
        for (text, expected) in [("1", true), ("yes", true), ("0", false), ("off", false)] {
            let value = clap::builder::TypedValueParser::parse_ref(
                &parser,
                &cmd,
                None,
                std::ffi::OsStr::new(text),
            )
            .unwrap();
            assert_eq!(value, expected, "{text}");
        }
    }
}
