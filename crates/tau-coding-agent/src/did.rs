//! `--deployment-wasm-browser-did-init`: derive, persist, report.

use std::process::ExitCode;

use anyhow::{Context, Result};
use kamn_core::Method;
use kamn_sdk::InitRequest;

use crate::cli::{Cli, DidMethod};

pub fn init(cli: &Cli) -> Result<ExitCode> {
    let args = &cli.did;
    let Some(entropy) = args.did_entropy.clone() else {
        anyhow::bail!(
            "--deployment-wasm-browser-did-init needs --deployment-wasm-browser-did-entropy \
             (or TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY); it has no default because it is the secret"
        );
    };
    let request = InitRequest {
        method: match args.did_method {
            DidMethod::Key => Method::Key,
            DidMethod::Web => Method::Web,
        },
        network: args.did_network.clone(),
        subject: args.did_subject.clone(),
        entropy,
    };
    let report = kamn_sdk::init(&request)?;
    let output = args
        .did_output
        .clone()
        .unwrap_or_else(|| cli.deployment_state_dir.join("browser-did.json"));
    let mut note = crate::report::waiting_for_lock;
    let wait = crate::report::lock_wait(cli.deployment_lock_no_wait, &mut note);
    let persisted = kamn_sdk::persist(&report, &output, &cli.deployment_state_dir, wait)
        .with_context(|| format!("cannot persist the browser DID to {}", output.display()))?;
    let id = &report.identity;
    if cli.wants_json(args.did_json) {
        let value = serde_json::json!({
            "runtime": report.runtime,
            "interoperability_profile": report.interoperability_profile,
            "identity": id,
            "did_document": report.did_document,
            "output_path": persisted.output_path,
            "state_path": persisted.state_path,
            "persisted": true,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "deployment wasm browser did: runtime={} profile={} method={} did={} key_id={} fingerprint={} \
             output_path={} persisted=true",
            report.runtime,
            report.interoperability_profile,
            id.method.as_str(),
            id.did,
            id.key_id,
            id.fingerprint,
            persisted.output_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
