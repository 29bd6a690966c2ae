//! `tau deploy [CONFIG]` (build → push → run) and `tau deploy build|push|run|status|destroy`:
//! arguments, output and exit codes. What to build and which requests to send is decided in
//! `tau-cloud`; this module wires it to the engine and the terminal.

mod errors;
mod manage;
mod plan;
mod report;
mod steps;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::builder::BoolishValueParser;

use crate::out::Out;

pub const EXAMPLES: &str = "\
Examples:
  tau deploy --dry-run                 print the Dockerfile, image and every API request; change nothing
  tau deploy                           build, push and run what tau.yaml's `deployment:` section says
  tau deploy build deploy/tau.yaml --engine unix:///run/podman/podman.sock
  tau deploy run --json                deploy the last pushed image (create, or update in place)
  tau deploy status                    the service's state and URL from the provider
  tau deploy destroy -q

Providers: local (this host's container engine, or its Deploy Agent with `local.agent`), aws with
`service: app-runner` (the default; App Runner accepts existing customers only since 2026-04-30,
kept for them) or `service: ecs-express` (ECS Express Mode, where AWS points new customers), gcp
(Cloud Run v2), azure (Container Apps). Secrets: {secret_env: NAME} is written to AWS Secrets
Manager / Google Secret Manager first and the service refers to it (Azure keeps it in the app's
secrets); {secret_ref: ID} refers to a secret already there (ARN, projects/P/secrets/S, Key Vault
URL). The local provider, build and push are tested against a real engine and registry; aws
(App Runner, ECS Express, Secrets Manager), gcp (Cloud Run, Secret Manager) and azure were NOT
exercised against the real services from tau's test machines: their requests are checked against
each API's published schema (botocore, Google discovery documents, the Container Apps SDK models)
and the whole flow runs against a local recording server. Credentials come from each provider's
standard chain (environment, files, workload identity, metadata services; see
docs/guides/cloud-deploy.md). Base URLs: TAU_CLOUD_AWS_ENDPOINT, TAU_CLOUD_AWS_SECRETS_ENDPOINT,
TAU_CLOUD_GCP_ENDPOINT, TAU_CLOUD_GCP_SECRETS_ENDPOINT, TAU_CLOUD_AZURE_ENDPOINT (or `endpoint:` in
the provider block).

Records of deployed services: .tau/deployments.json beside the config file.
Traces: spans deploy.build, deploy.push and deploy.run are exported over OTLP/HTTP when
OTEL_EXPORTER_OTLP_ENDPOINT is set.
Exit 2 on an invalid config, missing credentials or a provider error; 3 when a deployed service
did not become ready.";

/// Cloud services take minutes to become ready; a local container seconds.
const DEFAULT_WAIT_SECS: u64 = 600;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Build the image from the config (generated or given Dockerfile) through the engine.
    #[command(after_help = EXAMPLES)]
    Build(Common),
    /// Build and push the image; prints the digest the registry holds.
    #[command(after_help = EXAMPLES)]
    Push(Common),
    /// Run the last pushed image (or --image) on the target: create, or update in place.
    #[command(after_help = EXAMPLES)]
    Run(Common),
    /// Ask the provider for the recorded service's state and URL.
    #[command(after_help = EXAMPLES)]
    Status(Common),
    /// Remove the recorded service from the provider, then its record.
    #[command(after_help = EXAMPLES)]
    Destroy(Common),
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Common {
    /// The YAML file with the `deployment:` section.
    #[arg(value_name = "CONFIG")]
    pub config: Option<PathBuf>,

    /// Print exactly what would happen (Dockerfile, image, each request and its body) and change
    /// nothing: no build, no push, no API call, no file written.
    #[arg(long)]
    pub dry_run: bool,

    /// One JSON document on stdout.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,

    /// Nothing on stdout but errors (for CI logs).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print each engine and API request as it is sent.
    #[arg(short, long)]
    pub verbose: bool,

    /// The container engine (unix:///PATH or tcp://HOST:PORT); default DOCKER_HOST.
    #[arg(long, value_name = "URL")]
    pub engine: Option<String>,

    /// With `run`: the image to deploy (registry/repo@sha256:...) instead of the last push.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,

    /// How long `run` waits for the service to become ready.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_WAIT_SECS)]
    pub wait_secs: u64,
}

impl Common {
    /// Flags given before the subcommand name apply too (`tau deploy --json status`).
    fn merged(&self, outer: &Common) -> Common {
        Common {
            config: self.config.clone().or_else(|| outer.config.clone()),
            dry_run: self.dry_run || outer.dry_run,
            json: self.json || outer.json,
            quiet: self.quiet || outer.quiet,
            verbose: self.verbose || outer.verbose,
            engine: self.engine.clone().or_else(|| outer.engine.clone()),
            image: self.image.clone().or_else(|| outer.image.clone()),
            // A value given on either side wins over the default.
            wait_secs: if self.wait_secs != DEFAULT_WAIT_SECS {
                self.wait_secs
            } else {
                outer.wait_secs
            },
        }
    }

    fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from("tau.yaml"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    All,
    Build,
    Push,
    Run,
    Status,
    Destroy,
}

impl Args {
    pub fn wants_json(&self) -> bool {
        self.resolved().1.json
    }

    fn resolved(&self) -> (Step, Common) {
        match &self.action {
            None => (Step::All, self.common.clone()),
            Some(Action::Build(c)) => (Step::Build, c.merged(&self.common)),
            Some(Action::Push(c)) => (Step::Push, c.merged(&self.common)),
            Some(Action::Run(c)) => (Step::Run, c.merged(&self.common)),
            Some(Action::Status(c)) => (Step::Status, c.merged(&self.common)),
            Some(Action::Destroy(c)) => (Step::Destroy, c.merged(&self.common)),
        }
    }
}

pub fn exec(args: &Args, out: &mut Out) -> Result<ExitCode> {
    let (step, common) = args.resolved();
    let _telemetry = telemetry::init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(steps::run(step, &common, out));
    // The runtime goes first: the exporter flushes from its own thread, not from async code.
    drop(runtime);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> (Step, Common) {
        let cli = crate::cli::Cli::try_parse_from(args).unwrap();
        match cli.command {
            Some(crate::commands::Command::Deploy(a)) => a.resolved(),
            other => panic!("not a deploy command: {other:?}"),
        }
    }

    #[test]
    fn flags_before_the_step_name_apply_to_the_step() {
        let (step, c) = parse(&[
            "tau",
            "deploy",
            "--json",
            "--wait-secs",
            "900",
            "run",
            "prod.yaml",
            "-q",
        ]);
        assert_eq!(step, Step::Run);
        assert!(c.json && c.quiet);
        assert_eq!(
            (c.wait_secs, c.config_path()),
            (900, PathBuf::from("prod.yaml"))
        );
        let (step, c) = parse(&["tau", "deploy", "other.yaml", "--dry-run"]);
        assert_eq!(
            (step, c.dry_run, c.config_path()),
            (Step::All, true, PathBuf::from("other.yaml"))
        );
        assert_eq!(
            parse(&["tau", "deploy"]).1.config_path(),
            PathBuf::from("tau.yaml")
        );
    }
}
