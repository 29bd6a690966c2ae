//! `tau`: a thin front end. It parses flags, calls the library crates and formats what they return;
//! every decision about deployments lives in `tau-deployment`.

mod cli;
mod deployment;
mod did;
mod gateway;
mod progress;
mod report;
mod wasm;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::Cli;

// Large runs allocate millions of small strings; mimalloc is markedly faster at that than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = if cli.deployment_contract_runner {
        deployment::run_contract(&cli)
    } else if cli.transport_health_inspect.is_some() {
        deployment::transport_health(&cli)
    } else if cli.deployment_status_inspect {
        deployment::status(&cli)
    } else if cli.deployment_wasm_browser_did_init {
        did::init(&cli)
    } else if cli.wasm.deployment_wasm_package_module.is_some() {
        wasm::package(&cli)
    } else if cli.wasm.deployment_wasm_inspect_manifest.is_some() {
        wasm::inspect(&cli)
    } else if let Some(path) = &cli.fly_manifest_check {
        gateway::fly_check(path, cli.json)
    } else if cli.gateway_serve || cli.transport_mode == Some(cli::TransportMode::Gateway) {
        gateway::serve(&cli)
    } else {
        let _ = Cli::command().print_help();
        eprintln!("\nerror: choose a mode, for example --deployment-contract-runner");
        return ExitCode::from(2);
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
