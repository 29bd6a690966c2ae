//! Argument groups and value enums shared by several subcommands, so one option has one name,
//! one environment variable and one spelling of its values everywhere.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::ValueEnum;

/// `--state-dir`, the directory every deployment command reads or writes.
#[derive(Debug, Clone, clap::Args)]
pub struct StateDir {
    /// State dir shared by every deployment command.
    #[arg(long = "state-dir", value_name = "PATH", env = "TAU_DEPLOYMENT_STATE_DIR",
        default_value = tau_deployment::DEFAULT_STATE_DIR)]
    pub path: PathBuf,
}

/// `--lock-no-wait`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LockWait {
    /// Fail at once instead of waiting when another tau process holds the state dir.
    #[arg(long = "lock-no-wait", value_parser = BoolishValueParser::new(), env = "TAU_DEPLOYMENT_LOCK_NO_WAIT")]
    pub no_wait: bool,
}

/// Runtime profiles of WASM deliverables. One spelling on the command line (`wasm-wasi`); the
/// files keep the runbook's `wasm_wasi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WasmProfile {
    WasmWasi,
    ChannelAutomationWasi,
}

impl WasmProfile {
    pub fn library(self) -> tau_wasm::profile::RuntimeProfile {
        match self {
            WasmProfile::WasmWasi => tau_wasm::profile::RuntimeProfile::WasmWasi,
            WasmProfile::ChannelAutomationWasi => {
                tau_wasm::profile::RuntimeProfile::ChannelAutomationWasi
            }
        }
    }
}

/// Deploy targets a fixture case can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Container,
    Kubernetes,
    Wasm,
}

impl Target {
    /// The value as a fixture spells it.
    pub fn fixture_value(self) -> &'static str {
        match self {
            Target::Container => "container",
            Target::Kubernetes => "kubernetes",
            Target::Wasm => "wasm",
        }
    }
}

/// Environments a fixture case can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Staging,
    Production,
}

impl Environment {
    pub fn fixture_value(self) -> &'static str {
        match self {
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

/// Transports whose health can be inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    Deployment,
}

/// DID methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DidMethod {
    Key,
    Web,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_has_exactly_one_command_line_spelling() {
        let names: Vec<String> = WasmProfile::value_variants()
            .iter()
            .map(|v| v.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(names, ["wasm-wasi", "channel-automation-wasi"]);
        assert!(WasmProfile::from_str("wasm_wasi", false).is_err());
        for t in Target::value_variants() {
            assert_eq!(t.to_possible_value().unwrap().get_name(), t.fixture_value());
        }
    }
}
