//! The three WASM commands' bodies.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};
use tau_wasm::package as pkg;
use tau_wasm::profile::{Finding, ReasonCode};

use super::{
    generated_unix_ms, not_compliant, print_findings, smoke, smoke_failed, InspectArgs,
    PackageArgs, ValidateArgs,
};
use crate::failure::{Refusal, REFUSED};
use crate::out::Out;
use crate::report::join;

pub fn package(args: &PackageArgs, out: &mut Out) -> Result<ExitCode> {
    let module = &args.module;
    let state_dir = &args.state_dir.path;
    let output_dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| state_dir.join("wasm-artifacts"));
    let request = pkg::Request {
        module,
        blueprint_id: &args.blueprint_id,
        profile: args.runtime_profile.library(),
        output_dir: &output_dir,
        state_dir,
        generated_unix_ms: generated_unix_ms()?,
    };
    let prepared = match pkg::prepare(&request) {
        Ok(prepared) => prepared,
        Err(e) => return not_compliant("package", e, args.json, out),
    };
    let (runtime_smoke, smoke_detail, smoke_ok) = smoke(args.smoke, &prepared.bytes)?;
    if !smoke_ok {
        return smoke_failed(module, &runtime_smoke, &smoke_detail, args.json, out);
    }
    let mut note = crate::report::waiting_for_lock;
    let wait = crate::report::lock_wait(args.lock.no_wait, &mut note);
    let packaged = pkg::write(&prepared, wait)?;
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
    if args.json {
        out.json(&report)?;
    } else {
        out.line(&format!(
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
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn inspect(args: &InspectArgs, out: &mut Out) -> Result<ExitCode> {
    let mut inspected = tau_wasm::inspect::inspect(&args.manifest)?;
    let (runtime_smoke, smoke_detail) = match (&inspected.artifact, args.smoke) {
        (_, false) => ("not_requested".to_string(), Value::Null),
        (None, true) => (
            "failed".to_string(),
            json!({ "error": "no valid artifact to run" }),
        ),
        (Some((bytes, _)), true) => {
            let (state, detail, ok) = smoke(true, bytes)?;
            if !ok {
                let error = detail["error"].as_str().unwrap_or_default().to_string();
                inspected.add_finding(Finding::new(ReasonCode::RuntimeSmokeFailed, error));
            }
            (state, detail)
        }
    };
    let report = &inspected.report;
    let codes: Vec<&str> = report.reason_codes.iter().map(|c| c.as_str()).collect();
    let refusal = (!report.compliant).then(|| {
        Refusal::new(
            REFUSED,
            "artifact_not_compliant",
            format!("artifact of {} is not compliant", args.manifest.display()),
        )
        .with("reason_codes", codes.clone())
    });
    if args.json {
        let mut value = serde_json::to_value(report)?;
        value["runtime_smoke"] = runtime_smoke.into();
        value["runtime_smoke_detail"] = smoke_detail;
        if let Some(refusal) = &refusal {
            value["error"] = refusal.error_object(&[]);
        }
        out.json(&value)?;
    } else {
        out.line(&format!(
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
            join(&codes),
            join(&report.observed_import_modules),
            join(&report.required_feature_gates),
            report.max_artifact_size_bytes,
        ))?;
        if !report.compliant {
            print_findings(&report.findings);
        }
    }
    Ok(if refusal.is_some() {
        ExitCode::from(REFUSED)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn validate(args: &ValidateArgs, out: &mut Out) -> Result<ExitCode> {
    let profile = args.runtime_profile.library();
    let checked = match pkg::check_module(&args.module, profile) {
        Ok(checked) => checked,
        Err(e) => return not_compliant("validate", e, args.json, out),
    };
    let (runtime_smoke, smoke_detail, smoke_ok) = smoke(args.smoke, &checked.bytes)?;
    if !smoke_ok {
        return super::smoke_failed(&args.module, &runtime_smoke, &smoke_detail, args.json, out);
    }
    let codes: Vec<&str> = checked.findings.iter().map(|f| f.code.as_str()).collect();
    let constraints = profile.constraints();
    if args.json {
        out.json(&json!({
            "module": args.module,
            "valid": true,
            "compliant": true,
            "runtime_profile": profile,
            "constraint_profile_id": constraints.profile_id,
            "artifact_kind": checked.validated.kind,
            "artifact_sha256": tau_wasm::sha256_hex(&checked.bytes),
            "artifact_size_bytes": checked.bytes.len(),
            "compliance_reason_codes": codes,
            "observed_import_modules": checked.validated.imports,
            "runtime_smoke": runtime_smoke,
            "runtime_smoke_detail": smoke_detail,
        }))?;
    } else {
        out.line(&format!(
            "deployment wasm validate: module={} valid=true compliant=true runtime_profile={} constraint_profile_id={} \
             artifact_kind={} artifact_sha256={} artifact_size_bytes={} compliance_reason_codes={} \
             observed_import_modules={} runtime_smoke={runtime_smoke}",
            args.module.display(),
            profile.as_str(),
            constraints.profile_id,
            checked.validated.kind.as_str(),
            tau_wasm::sha256_hex(&checked.bytes),
            checked.bytes.len(),
            join(&codes),
            join(&checked.validated.imports),
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
