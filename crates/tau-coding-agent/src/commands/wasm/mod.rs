//! `tau wasm package|inspect|validate` (flag forms `--deployment-wasm-package-module`,
//! `--deployment-wasm-inspect-manifest`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::BoolishValueParser;
use serde_json::{json, Value};
use tau_wasm::profile::Finding;

use super::args::{LockWait, StateDir, WasmProfile};
use crate::failure::{self, Refusal, REFUSED};
use crate::out::{self, Out};
use crate::report::join;

const PACKAGE_EXAMPLES: &str = "\
Examples:
  tau wasm package crates/tau-coding-agent/testdata/deployment-wasm/edge-runtime.wasm --blueprint-id edge-wasm
  tau wasm package module.wasm --runtime-profile channel-automation-wasi --smoke --json

Exit 3 when the module does not meet its runtime profile or its smoke run fails.";

const INSPECT_EXAMPLES: &str = "\
Examples:
  tau wasm inspect .tau/deployment/wasm-artifacts/edge-wasm/<sha>.manifest.json
  tau wasm inspect manifest.json --smoke --json

Exit 3 when the artifact is not compliant.";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  tau wasm validate module.wasm
  tau wasm validate component.wasm --runtime-profile channel-automation-wasi --json

Checks the module against the profile without packaging or writing anything. Exit 2 when it is
not valid WebAssembly, 3 when it is valid but not compliant.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a module or component and package it as a content-addressed artifact + manifest.
    #[command(after_help = PACKAGE_EXAMPLES)]
    Package(PackageArgs),
    /// Re-verify a packaged artifact against its manifest and the built-in profile.
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Validate a module or component against a runtime profile; writes nothing.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
}

impl Command {
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Package(a) => a.json,
            Command::Inspect(a) => a.json,
            Command::Validate(a) => a.json,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct PackageArgs {
    /// Module or component to package.
    #[arg(value_name = "MODULE", env = "TAU_DEPLOYMENT_WASM_PACKAGE_MODULE")]
    pub module: PathBuf,

    /// Blueprint the artifact belongs to ([A-Za-z0-9._-], names a directory).
    #[arg(
        long,
        value_name = "ID",
        env = "TAU_DEPLOYMENT_WASM_PACKAGE_BLUEPRINT_ID",
        default_value = "edge-wasm"
    )]
    pub blueprint_id: String,

    /// Runtime profile the artifact must satisfy.
    #[arg(
        long,
        value_name = "PROFILE",
        value_enum,
        env = "TAU_DEPLOYMENT_WASM_PACKAGE_RUNTIME_PROFILE",
        default_value = "wasm-wasi"
    )]
    pub runtime_profile: WasmProfile,

    /// Where artifacts go [default: <state-dir>/wasm-artifacts].
    #[arg(
        long,
        value_name = "DIR",
        env = "TAU_DEPLOYMENT_WASM_PACKAGE_OUTPUT_DIR"
    )]
    pub output_dir: Option<PathBuf>,

    /// Also instantiate and run the module in wasmtime (deny-by-default WASI) before packaging.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_WASM_PACKAGE_SMOKE")]
    pub smoke: bool,

    #[command(flatten)]
    pub state_dir: StateDir,

    #[command(flatten)]
    pub lock: LockWait,

    /// Print the package report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Manifest of the packaged artifact.
    #[arg(value_name = "MANIFEST", env = "TAU_DEPLOYMENT_WASM_INSPECT_MANIFEST")]
    pub manifest: PathBuf,

    /// Also instantiate and run the artifact in wasmtime (deny-by-default WASI).
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_WASM_INSPECT_SMOKE")]
    pub smoke: bool,

    /// Print the inspect report as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// Module or component to check.
    #[arg(value_name = "MODULE")]
    pub module: PathBuf,

    /// Runtime profile the module must satisfy.
    #[arg(long, value_name = "PROFILE", value_enum, default_value = "wasm-wasi")]
    pub runtime_profile: WasmProfile,

    /// Also instantiate and run the module in wasmtime (deny-by-default WASI).
    #[arg(long, value_parser = BoolishValueParser::new())]
    pub smoke: bool,

    /// Print the result as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

pub fn exec(command: &Command, out: &mut Out) -> Result<ExitCode> {
    match command {
        Command::Package(args) => package(args, out),
        Command::Inspect(args) => inspect(args, out),
        Command::Validate(args) => validate(args, out),
    }
}

/// `generated_unix_ms`: from SOURCE_DATE_EPOCH (seconds) when set, for reproducible builds.
fn generated_unix_ms() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => source_date_epoch_ms(&text),
        Err(_) => Ok(tau_deployment::now_unix_ms()),
    }
}

fn source_date_epoch_ms(text: &str) -> Result<u64> {
    let seconds: u64 = text
        .trim()
        .parse()
        .with_context(|| format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds"))?;
    seconds.checked_mul(1000).with_context(|| {
        format!("SOURCE_DATE_EPOCH={text:?} is too large: its milliseconds overflow 64 bits")
    })
}

/// Runs the runtime smoke; `(runtime_smoke, detail, passed)`.
fn smoke(requested: bool, bytes: &[u8]) -> Result<(String, Value, bool)> {
    if !requested {
        return Ok(("not_requested".into(), Value::Null, true));
    }
    Ok(
        match tau_wasm_smoke::run(bytes, &tau_wasm_smoke::Limits::default()) {
            Ok(passed) => ("passed".into(), serde_json::to_value(passed)?, true),
            Err(failed) => (
                failed.outcome(),
                json!({ "error": failed.to_string() }),
                false,
            ),
        },
    )
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        out::warn(&format!("  {}: {}", f.code.as_str(), f.detail));
    }
}

/// A module the profile refuses: the findings on stderr, the error object with `--json`. Any
/// other error (unreadable or invalid module) passes through unchanged.
fn not_compliant(verb: &str, err: tau_wasm::Error, json: bool, out: &mut Out) -> Result<ExitCode> {
    let tau_wasm::Error::NonCompliant {
        path,
        profile_id,
        findings,
    } = err
    else {
        return Err(err.into());
    };
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    out::warn(&format!(
        "deployment wasm {verb} refused: module={} constraint_profile_id={profile_id} compliance_reason_codes={}",
        path.display(),
        join(&codes)
    ));
    print_findings(&findings);
    let refusal = Refusal::new(
        REFUSED,
        "module_not_compliant",
        format!(
            "{} does not meet runtime profile {profile_id}",
            path.display()
        ),
    )
    .with("module", path.display().to_string())
    .with("constraint_profile_id", profile_id)
    .with("reason_codes", codes);
    failure::emit(&refusal, json, out)
}

fn smoke_failed(
    module: &std::path::Path,
    runtime_smoke: &str,
    detail: &Value,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let error = detail["error"].as_str().unwrap_or_default();
    out::warn(&format!(
        "deployment wasm package refused: module={} runtime_smoke={runtime_smoke} error={error}",
        module.display(),
    ));
    let refusal = Refusal::new(
        REFUSED,
        "smoke_failed",
        format!("runtime smoke failed: {error}"),
    )
    .with("module", module.display().to_string())
    .with("runtime_smoke", runtime_smoke);
    failure::emit(&refusal, json, out)
}

mod exec;
use exec::{inspect, package, validate};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_is_checked_not_saturated() {
        assert_eq!(
            source_date_epoch_ms("1700000000").unwrap(),
            1_700_000_000_000
        );
        let err = source_date_epoch_ms("18446744073709552").unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
        assert!(source_date_epoch_ms("soon").is_err());
    }
}
