//! `--deployment-wasm-package-module` and `--deployment-wasm-inspect-manifest`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use tau_wasm::profile::{Finding, ReasonCode, RuntimeProfile};
use tau_wasm::{inspect, package, Error};

use crate::cli::{Cli, WasmProfile};
use crate::report::join;

/// Exit status of a refusal by a gate (non-compliant artifact, failed smoke).
const REFUSED: u8 = 3;

/// `generated_unix_ms`: from SOURCE_DATE_EPOCH (seconds) when set, for reproducible builds.
fn generated_unix_ms() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => {
            let seconds: u64 = text.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds")
            })?;
            seconds.checked_mul(1000).with_context(|| {
                format!("SOURCE_DATE_EPOCH={text:?} is too large: its milliseconds overflow u64")
            })
        }
        Err(_) => Ok(tau_deployment::now_unix_ms()),
    }
}

/// Runs the runtime smoke; `(runtime_smoke, detail, passed)`.
fn smoke(requested: bool, bytes: &[u8]) -> (String, Value, bool) {
    if !requested {
        return ("not_requested".into(), Value::Null, true);
    }
    match tau_wasm_smoke::run(bytes, &tau_wasm_smoke::Limits::default()) {
        Ok(passed) => (
            "passed".into(),
            serde_json::to_value(passed).expect("smoke report serializes"),
            true,
        ),
        Err(failed) => (
            failed.outcome(),
            json!({ "error": failed.to_string() }),
            false,
        ),
    }
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        eprintln!("  {}: {}", f.code.as_str(), f.detail);
    }
}

/// `--deployment-wasm-package-module`.
pub fn package(cli: &Cli) -> Result<ExitCode> {
    let args = &cli.wasm;
    let module = args
        .deployment_wasm_package_module
        .clone()
        .expect("mode flag set");
    let profile = match args.deployment_wasm_package_runtime_profile {
        WasmProfile::WasmWasi => RuntimeProfile::WasmWasi,
        WasmProfile::ChannelAutomationWasi => RuntimeProfile::ChannelAutomationWasi,
    };
    let output_dir = args
        .deployment_wasm_package_output_dir
        .clone()
        .unwrap_or_else(|| cli.deployment_state_dir.join("wasm-artifacts"));
    let request = package::Request {
        module: &module,
        blueprint_id: &args.deployment_wasm_package_blueprint_id,
        profile,
        output_dir: &output_dir,
        state_dir: &cli.deployment_state_dir,
        generated_unix_ms: generated_unix_ms()?,
    };
    let prepared = match package::prepare(&request) {
        Ok(prepared) => prepared,
        Err(Error::NonCompliant {
            path,
            profile_id,
            findings,
        }) => {
            let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
            eprintln!(
                "deployment wasm package refused: module={} constraint_profile_id={profile_id} compliance_reason_codes={}",
                path.display(),
                join(&codes)
            );
            print_findings(&findings);
            return Ok(ExitCode::from(REFUSED));
        }
        Err(e) => return Err(e.into()),
    };
    let (runtime_smoke, smoke_detail, smoke_ok) =
        smoke(args.deployment_wasm_package_smoke, &prepared.bytes);
    if !smoke_ok {
        eprintln!(
            "deployment wasm package refused: module={} runtime_smoke={runtime_smoke} error={}",
            module.display(),
            smoke_detail["error"].as_str().unwrap_or_default()
        );
        return Ok(ExitCode::from(REFUSED));
    }
    let mut note = crate::report::waiting_for_lock;
    let wait = crate::report::lock_wait(cli.deployment_lock_no_wait, &mut note);
    let packaged = package::write(&prepared, wait)?;
    let m = &prepared.manifest;
    let constraints = m.runtime_profile.constraints();
    let codes: Vec<&str> = prepared.findings.iter().map(|f| f.code.as_str()).collect();
    let report = json!({
        "blueprint_id": m.blueprint_id,
        "runtime_profile": m.runtime_profile,
        "source_module_path": module.display().to_string(),
        "artifact_kind": m.artifact_kind,
        "artifact_path": packaged.artifact_path,
        "artifact_sha256": m.artifact_sha256,
        "artifact_size_bytes": m.artifact_size_bytes,
        "manifest_path": packaged.manifest_path,
        "state_path": packaged.state_path,
        "state_updated": true,
        "constraint_profile_id": constraints.profile_id,
        "compliance_reason_codes": codes,
        "capability_constraints": m.capability_constraints,
        "observed_import_modules": m.observed_import_modules,
        "runtime_smoke": runtime_smoke,
        "runtime_smoke_detail": smoke_detail,
    });
    if cli.wants_json(args.deployment_wasm_package_json) {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "deployment wasm package: blueprint_id={} runtime_profile={} artifact_kind={} artifact_path={} \
             artifact_sha256={} artifact_size_bytes={} manifest_path={} state_path={} state_updated=true \
             constraint_profile_id={} compliance_reason_codes={} capability_constraints={} runtime_smoke={runtime_smoke}",
            m.blueprint_id,
            m.runtime_profile.as_str(),
            m.artifact_kind.map_or("unknown", |k| k.as_str()),
            packaged.artifact_path.display(),
            m.artifact_sha256,
            m.artifact_size_bytes,
            packaged.manifest_path.display(),
            packaged.state_path.display(),
            constraints.profile_id,
            join(&codes),
            join(&m.capability_constraints),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--deployment-wasm-inspect-manifest`.
pub fn inspect(cli: &Cli) -> Result<ExitCode> {
    let args = &cli.wasm;
    let path = args
        .deployment_wasm_inspect_manifest
        .clone()
        .expect("mode flag set");
    let mut inspected = inspect::inspect(&path)?;
    let (runtime_smoke, smoke_detail) =
        match (&inspected.artifact, args.deployment_wasm_inspect_smoke) {
            (_, false) => ("not_requested".to_string(), Value::Null),
            (None, true) => (
                "failed".to_string(),
                json!({ "error": "no valid artifact to run" }),
            ),
            (Some((bytes, _)), true) => {
                let (state, detail, ok) = smoke(true, bytes);
                if !ok {
                    let error = detail["error"].as_str().unwrap_or_default().to_string();
                    inspected.add_finding(Finding::new(ReasonCode::RuntimeSmokeFailed, error));
                }
                (state, detail)
            }
        };
    let report = &inspected.report;
    if cli.wants_json(args.deployment_wasm_inspect_json) {
        let mut value = serde_json::to_value(report)?;
        value["runtime_smoke"] = runtime_smoke.into();
        value["runtime_smoke_detail"] = smoke_detail;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "deployment wasm inspect: manifest_path={} blueprint_id={} runtime_profile={} constraint_profile_id={} \
             constraint_target_role={} required_runtime_profile={} required_abi={} compliant={} reason_codes={} \
             observed_import_modules={} required_feature_gates={} max_artifact_size_bytes={} runtime_smoke={runtime_smoke}",
            report.manifest_path,
            report.blueprint_id,
            report.runtime_profile,
            report.constraint_profile_id,
            report.constraint_target_role,
            report.required_runtime_profile,
            report.required_abi,
            report.compliant,
            join(report.reason_codes.iter().map(|c| c.as_str())),
            join(&report.observed_import_modules),
            join(&report.required_feature_gates),
            report.max_artifact_size_bytes,
        );
        if !report.compliant {
            print_findings(&report.findings);
        }
    }
    Ok(if report.compliant {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(REFUSED)
    })
}
