//! `tau fixture validate|init`: check a contract fixture without running it, or start a new one.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::BoolishValueParser;
use serde_json::{json, Value};
use tau_deployment::fixture::{Fixture, Problem};

use super::args::{Environment, Target};
use crate::out::Out;

const VALIDATE_EXAMPLES: &str = "\
Examples:
  tau fixture validate testdata/deployment-contract/rollout-pass.json
  tau fixture validate cases.json --json    # every problem with its JSON path

Exit 2 when the fixture is invalid; every problem is listed, not just the first.";

const INIT_EXAMPLES: &str = "\
Examples:
  tau fixture init cases.json
  tau fixture init cases.json --target kubernetes --environment production --blueprint-id billing-api

Refuses to overwrite an existing file.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a fixture and list every problem; runs nothing and writes nothing.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Write a small valid starter fixture.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
}

impl Command {
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Validate(a) => a.json,
            Command::Init(a) => a.json,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// Fixture to check.
    #[arg(value_name = "PATH", env = "TAU_DEPLOYMENT_FIXTURE")]
    pub fixture: PathBuf,

    /// Print the result as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Where to write the fixture (must not exist).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Deploy target of the starter cases.
    #[arg(long, value_enum, default_value = "container")]
    pub target: Target,

    /// Environment of the starter cases.
    #[arg(long, value_enum, default_value = "staging")]
    pub environment: Environment,

    /// Blueprint of the starter cases ([A-Za-z0-9._-]).
    #[arg(long, value_name = "ID", default_value = "my-service")]
    pub blueprint_id: String,

    /// Print the result as JSON.
    #[arg(long, value_parser = BoolishValueParser::new(), env = "TAU_JSON")]
    pub json: bool,
}

pub fn exec(command: &Command, out: &mut Out) -> Result<ExitCode> {
    match command {
        Command::Validate(args) => validate(args, out),
        Command::Init(args) => init(args, out),
    }
}

/// Problems as JSON, each with the JSON path of the offending value.
pub fn problems_json(problems: &[Problem]) -> Value {
    Value::Array(
        problems
            .iter()
            .map(|p| {
                json!({
                    "path": json_path(p),
                    "case_index": p.case_index,
                    "case_id": p.case_id,
                    "field": p.field,
                    "message": p.message,
                })
            })
            .collect(),
    )
}

/// `$.cases[2].expected.status_code` for a problem in a case field, `$` for the document.
fn json_path(problem: &Problem) -> String {
    let mut path = String::from("$");
    if let Some(i) = problem.case_index {
        path.push_str(&format!(".cases[{i}]"));
    }
    if !problem.field.is_empty() {
        path.push('.');
        path.push_str(&problem.field);
    }
    path
}

fn validate(args: &ValidateArgs, out: &mut Out) -> Result<ExitCode> {
    let fixture = Fixture::load(&args.fixture)?;
    if args.json {
        out.json(&json!({
            "path": args.fixture,
            "valid": true,
            "name": fixture.name,
            "schema_version": fixture.schema_version,
            "cases": fixture.cases.len(),
            "fixture_sha256": fixture.sha256.get(),
        }))?;
    } else {
        out.line(&format!(
            "fixture valid: path={} name={} cases={} fixture_sha256={}",
            args.fixture.display(),
            fixture.name,
            fixture.cases.len(),
            fixture.sha256.get()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The starter document: one case that deploys and one the contract rejects, both as expected,
/// so the first `tau run` shows both paths and the gate passes.
pub fn starter(args: &InitArgs) -> Value {
    let target = args.target.fixture_value();
    let environment = args.environment.fixture_value();
    let (profile, artifact_key, artifact, status) = match args.target {
        Target::Wasm => ("wasm_wasi", "wasm_module", "module.wasm", 201),
        Target::Container | Target::Kubernetes => (
            "native",
            "container_image",
            "registry.example/my-service:1.0.0",
            202,
        ),
    };
    let mut deploys = json!({
        "schema_version": 1,
        "case_id": format!("{target}-{environment}-deploys"),
        "deploy_target": target,
        "runtime_profile": profile,
        "blueprint_id": args.blueprint_id,
        "environment": environment,
        "region": "us-east-1",
        "replicas": 1,
        "expected": {"outcome": "success", "status_code": status, "error_code": ""}
    });
    deploys[artifact_key] = artifact.into();
    let rejected = json!({
        "schema_version": 1,
        "case_id": format!("{target}-{environment}-unsupported-target-rejected"),
        "deploy_target": "mainframe",
        "runtime_profile": "native",
        "blueprint_id": args.blueprint_id,
        "environment": environment,
        "region": "us-east-1",
        "container_image": "registry.example/my-service:1.0.0",
        "expected": {"outcome": "malformed_input", "status_code": 400,
                     "error_code": "deployment_invalid_blueprint"}
    });
    json!({
        "schema_version": 1,
        "name": "starter",
        "description": "Starter fixture from `tau fixture init`: one case that deploys, one the contract rejects.",
        "cases": [deploys, rejected],
    })
}

fn init(args: &InitArgs, out: &mut Out) -> Result<ExitCode> {
    let document = starter(args);
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    // Check before writing: a starter the validator refuses would be worse than none.
    Fixture::parse(text.as_bytes()).map_err(|problems| tau_deployment::Error::FixtureInvalid {
        path: args.path.clone(),
        problems,
    })?;
    write_new(&args.path, text.as_bytes())?;
    let note = match args.target {
        Target::Wasm => " (put the module at module.wasm next to the fixture before running)",
        _ => "",
    };
    if args.json {
        out.json(&json!({"path": args.path, "written": true, "cases": 2}))?;
    } else {
        out.line(&format!(
            "fixture init: path={} cases=2 written=true{note}",
            args.path.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `path` only if nothing is there (no race with another writer, no clobbering).
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create fixture {} (an existing file is never overwritten)",
                path.display()
            )
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write fixture {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: Target) -> InitArgs {
        InitArgs {
            path: "x.json".into(),
            target,
            environment: Environment::Production,
            blueprint_id: "bp".into(),
            json: false,
        }
    }

    #[test]
    fn every_starter_fixture_is_valid() {
        for target in [Target::Container, Target::Kubernetes, Target::Wasm] {
            let text = serde_json::to_vec(&starter(&args(target))).unwrap();
            let fixture = Fixture::parse(&text).unwrap_or_else(|p| panic!("{target:?}: {p:?}"));
            assert_eq!(fixture.cases.len(), 2);
        }
    }

    #[test]
    fn problem_paths_point_into_the_document() {
        let problem = Problem {
            case_index: Some(2),
            case_id: None,
            field: "expected.status_code".into(),
            message: "m".into(),
        };
        assert_eq!(json_path(&problem), "$.cases[2].expected.status_code");
        let whole = Problem {
            case_index: None,
            case_id: None,
            field: String::new(),
            message: "m".into(),
        };
        assert_eq!(json_path(&whole), "$");
    }
}
