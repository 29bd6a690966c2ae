//! The runbook's flat flags, translated into the subcommands' argument structs so both forms run
//! one code path with one output. Nothing here decides anything; it only maps names.

use crate::cli::{Cli, TransportMode};
use crate::commands::args::{LockWait, StateDir};
use crate::commands::{did, fly, gateway, health, run, status, wasm, Command};

/// The subcommand the flags select, or `None` when no mode flag is set.
pub fn command(cli: &Cli) -> Option<Command> {
    let state_dir = StateDir {
        path: cli.deployment_state_dir.clone(),
    };
    let lock = LockWait {
        no_wait: cli.deployment_lock_no_wait,
    };
    Some(if cli.deployment_contract_runner {
        Command::Run(run::Args {
            fixture: cli.deployment_fixture.clone(),
            state_dir,
            queue_limit: cli.deployment_queue_limit,
            processed_case_cap: cli.deployment_processed_case_cap,
            retry_max_attempts: cli.deployment_retry_max_attempts,
            retry_base_delay_ms: cli.deployment_retry_base_delay_ms,
            events_max_bytes: cli.deployment_events_max_bytes,
            events_max_files: cli.deployment_events_max_files,
            require_artifacts: cli.deployment_require_artifacts,
            artifact_max_bytes: cli.deployment_artifact_max_bytes,
            allow_artifacts_outside_fixture_dir: cli.deployment_artifacts_allow_outside_fixture_dir,
            lock,
            dry_run: false,
            junit: None,
            json: cli.json,
            live: Default::default(),
        })
    } else if let Some(transport) = cli.transport_health_inspect {
        Command::Health(health::Args {
            state_dir,
            transport,
            json: cli.wants_json(cli.transport_health_json),
        })
    } else if cli.deployment_status_inspect {
        Command::Status(status::Args {
            state_dir,
            max_age_ms: cli.deployment_status_max_age_ms,
            require_fixture: cli.deployment_status_require_fixture.clone(),
            require_live: cli.deployment_status_require_live,
            require_pass: cli.deployment_status_require_pass,
            json: cli.wants_json(cli.deployment_status_json),
        })
    } else if cli.deployment_wasm_browser_did_init {
        let d = &cli.did;
        Command::Did(did::Command::Init(did::InitArgs {
            method: d.did_method,
            network: d.did_network.clone(),
            subject: d.did_subject.clone(),
            entropy: d.did_entropy.clone(),
            output: d.did_output.clone(),
            state_dir,
            lock,
            json: cli.wants_json(d.did_json),
        }))
    } else if let Some(module) = &cli.wasm.deployment_wasm_package_module {
        let w = &cli.wasm;
        Command::Wasm(wasm::Command::Package(wasm::PackageArgs {
            module: module.clone(),
            blueprint_id: w.deployment_wasm_package_blueprint_id.clone(),
            runtime_profile: w.deployment_wasm_package_runtime_profile,
            output_dir: w.deployment_wasm_package_output_dir.clone(),
            smoke: w.deployment_wasm_package_smoke,
            state_dir,
            lock,
            json: cli.wants_json(w.deployment_wasm_package_json),
        }))
    } else if let Some(manifest) = &cli.wasm.deployment_wasm_inspect_manifest {
        let w = &cli.wasm;
        Command::Wasm(wasm::Command::Inspect(wasm::InspectArgs {
            manifest: manifest.clone(),
            smoke: w.deployment_wasm_inspect_smoke,
            json: cli.wants_json(w.deployment_wasm_inspect_json),
        }))
    } else if let Some(path) = &cli.fly_manifest_check {
        Command::Fly(fly::Command::Check(fly::CheckArgs {
            manifest: path.clone(),
            json: cli.json,
        }))
    } else if cli.gateway_serve || cli.transport_mode == Some(TransportMode::Gateway) {
        Command::Gateway(gateway::Command::Serve(gateway::ServeArgs {
            bind: cli.gateway_bind,
            status_cache_ms: cli.gateway_status_cache_ms,
            body_limit_bytes: cli.gateway_body_limit_bytes,
            max_connections: cli.gateway_max_connections,
            idle_timeout_ms: cli.gateway_idle_timeout_ms,
            header_timeout_ms: cli.gateway_header_timeout_ms,
            request_timeout_ms: cli.gateway_request_timeout_ms,
            max_age_ms: cli.deployment_status_max_age_ms,
            state_dir,
            json: cli.json,
        }))
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use proptest::prelude::*;

    use super::*;

    fn subcommand(args: &[String]) -> Command {
        let mut cli = Cli::try_parse_from(args).unwrap();
        cli.command.take().unwrap()
    }

    proptest! {
        #[test]
        fn runner_flags_and_run_subcommand_parse_to_the_same_arguments(
            queue in 1u64..=u64::MAX,
            cap in 1u64..=u64::MAX,
            attempts in 1u32..=u32::MAX,
            delay in 0u64..=run::MAX_RETRY_DELAY_MS,
            files in 1u32..=u32::MAX,
            no_wait in any::<bool>(),
        ) {
            let s = |v: &dyn std::fmt::Display| v.to_string();
            let mut flags: Vec<String> = [
                "tau", "--deployment-contract-runner", "--deployment-fixture", "f.json",
                "--deployment-state-dir", "st",
            ].map(String::from).to_vec();
            flags.extend([
                "--deployment-queue-limit".into(), s(&queue),
                "--deployment-processed-case-cap".into(), s(&cap),
                "--deployment-retry-max-attempts".into(), s(&attempts),
                "--deployment-retry-base-delay-ms".into(), s(&delay),
                "--deployment-events-max-files".into(), s(&files),
            ]);
            let mut sub: Vec<String> =
                ["tau", "run", "--fixture", "f.json", "--state-dir", "st"].map(String::from).to_vec();
            sub.extend([
                "--queue-limit".into(), s(&queue),
                "--processed-case-cap".into(), s(&cap),
                "--retry-max-attempts".into(), s(&attempts),
                "--retry-base-delay-ms".into(), s(&delay),
                "--events-max-files".into(), s(&files),
            ]);
            if no_wait {
                flags.push("--deployment-lock-no-wait".into());
                sub.push("--lock-no-wait".into());
            }
            let from_flags = command(&Cli::try_parse_from(&flags).unwrap()).unwrap();
            prop_assert_eq!(format!("{from_flags:?}"), format!("{:?}", subcommand(&sub)));
        }

        #[test]
        fn a_number_past_its_type_is_refused_not_wrapped(extra in 1u128..=u128::from(u32::MAX)) {
            let too_big = (u128::from(u64::MAX) + extra).to_string();
            let args = ["tau", "run", "--fixture", "f", "--queue-limit", &too_big];
            prop_assert!(Cli::try_parse_from(args).is_err());
        }
    }
}
