//! Runtime constraint profiles and the compliance rules an artifact must meet.

use serde::{Deserialize, Serialize};

use crate::validate::Validated;

/// The runtime an artifact is packaged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeProfile {
    WasmWasi,
    ChannelAutomationWasi,
}

impl RuntimeProfile {
    pub const ALL: [RuntimeProfile; 2] = [
        RuntimeProfile::WasmWasi,
        RuntimeProfile::ChannelAutomationWasi,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeProfile::WasmWasi => "wasm_wasi",
            RuntimeProfile::ChannelAutomationWasi => "channel_automation_wasi",
        }
    }

    /// Accepts the recorded form (`wasm_wasi`) and the CLI form (`wasm-wasi`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(&text))
    }

    /// The built-in constraint profile of this runtime.
    pub fn constraints(self) -> Constraints {
        let mut gates: Vec<String> = [
            "no_native_process_exec",
            "filesystem_limited_to_preopened_dirs",
            "network_access_requires_host_capability",
            "deterministic_time_requires_host_injection",
        ]
        .map(String::from)
        .to_vec();
        let (profile_id, target_role, max) = match self {
            RuntimeProfile::WasmWasi => (
                "control_plane_gateway_v1",
                "control_plane_gateway",
                2 * 1024 * 1024,
            ),
            RuntimeProfile::ChannelAutomationWasi => {
                gates.push("channel_event_dispatch_host_capability".into());
                (
                    "channel_automation_runtime_v1",
                    "channel_automation_runtime",
                    1024 * 1024,
                )
            }
        };
        Constraints {
            schema_version: 1,
            profile_id: profile_id.into(),
            target_role: target_role.into(),
            required_runtime_profile: self,
            required_abi: "wasi:*".into(),
            max_artifact_size_bytes: max,
            required_feature_gates: gates,
            allowed_import_modules: vec!["wasi:*".into(), "env".into()],
            forbidden_import_modules: vec!["wasi_snapshot_preview1".into(), "wasi_unstable".into()],
        }
    }
}

/// A runtime constraint profile (schema_version 1), embedded in every manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    pub schema_version: u32,
    pub profile_id: String,
    pub target_role: String,
    pub required_runtime_profile: RuntimeProfile,
    pub required_abi: String,
    pub max_artifact_size_bytes: u64,
    pub required_feature_gates: Vec<String>,
    pub allowed_import_modules: Vec<String>,
    pub forbidden_import_modules: Vec<String>,
}

/// Compliance reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    RuntimeProfileMismatch,
    ArtifactSizeLimitExceeded,
    RequiredFeatureGateMissing,
    /// The artifact imports nothing, so its ABI is assumed; the one code that stays compliant.
    AbiAssumedNoImports,
    RequiredAbiMissing,
    ImportModuleNotAllowlisted,
    ImportModuleForbidden,
    ArtifactMissing,
    ArtifactHashMismatch,
    ArtifactSizeMismatch,
    ArtifactInvalid,
    ManifestProfileDrift,
    RuntimeSmokeFailed,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::RuntimeProfileMismatch => "runtime_profile_mismatch",
            ReasonCode::ArtifactSizeLimitExceeded => "artifact_size_limit_exceeded",
            ReasonCode::RequiredFeatureGateMissing => "required_feature_gate_missing",
            ReasonCode::AbiAssumedNoImports => "abi_assumed_no_imports",
            ReasonCode::RequiredAbiMissing => "required_abi_missing",
            ReasonCode::ImportModuleNotAllowlisted => "import_module_not_allowlisted",
            ReasonCode::ImportModuleForbidden => "import_module_forbidden",
            ReasonCode::ArtifactMissing => "artifact_missing",
            ReasonCode::ArtifactHashMismatch => "artifact_hash_mismatch",
            ReasonCode::ArtifactSizeMismatch => "artifact_size_mismatch",
            ReasonCode::ArtifactInvalid => "artifact_invalid",
            ReasonCode::ManifestProfileDrift => "manifest_profile_drift",
            ReasonCode::RuntimeSmokeFailed => "runtime_smoke_failed",
        }
    }

    /// Whether an artifact with this finding may still be deployed.
    pub fn is_compliant(self) -> bool {
        self == ReasonCode::AbiAssumedNoImports
    }
}

/// One rule's verdict, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: ReasonCode,
    pub detail: String,
}

impl Finding {
    pub fn new(code: ReasonCode, detail: impl Into<String>) -> Self {
        Finding {
            code,
            detail: detail.into(),
        }
    }
}

/// Whether every finding still allows deployment.
pub fn compliant(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.code.is_compliant())
}

/// `wasi:*` matches any `wasi:` interface; other patterns match a name exactly. Component import
/// versions (`@0.2.6`) never affect matching.
pub fn matches(pattern: &str, import: &str) -> bool {
    let name = import.split('@').next().unwrap_or(import);
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// The size rule on its own, so callers can apply it from file metadata before reading a byte.
pub fn size_finding(constraints: &Constraints, size: u64) -> Option<Finding> {
    (size > constraints.max_artifact_size_bytes).then(|| {
        Finding::new(
            ReasonCode::ArtifactSizeLimitExceeded,
            format!(
                "{size} bytes is over the {} limit of {} bytes",
                constraints.profile_id, constraints.max_artifact_size_bytes
            ),
        )
    })
}

/// Checks a validated artifact of `size` bytes against `constraints`.
pub fn check(constraints: &Constraints, artifact: &Validated, size: u64) -> Vec<Finding> {
    let mut findings: Vec<Finding> = size_finding(constraints, size).into_iter().collect();
    if artifact.imports.is_empty() {
        findings.push(Finding::new(
            ReasonCode::AbiAssumedNoImports,
            format!("imports nothing; {} is assumed", constraints.required_abi),
        ));
        return findings;
    }
    for import in &artifact.imports {
        if constraints
            .forbidden_import_modules
            .iter()
            .any(|f| matches(f, import))
        {
            findings.push(Finding::new(
                ReasonCode::ImportModuleForbidden,
                format!(
                    "imports legacy WASI module {import}; adapt it into a preview2 component, for example \
                     `wasm-tools component new module.wasm --adapt wasi_snapshot_preview1.reactor.wasm -o component.wasm`"
                ),
            ));
        } else if !constraints
            .allowed_import_modules
            .iter()
            .any(|a| matches(a, import))
        {
            findings.push(Finding::new(
                ReasonCode::ImportModuleNotAllowlisted,
                format!(
                    "imports {import}, which is not in the allowlist ({})",
                    constraints.allowed_import_modules.join(", ")
                ),
            ));
        }
    }
    if !artifact
        .imports
        .iter()
        .any(|i| matches(&constraints.required_abi, i))
    {
        findings.push(Finding::new(
            ReasonCode::RequiredAbiMissing,
            format!(
                "no import uses the required ABI {}",
                constraints.required_abi
            ),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::ArtifactKind;

    fn artifact(imports: &[&str]) -> Validated {
        Validated {
            kind: ArtifactKind::CoreModule,
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: vec![],
        }
    }

    fn codes(findings: &[Finding]) -> Vec<ReasonCode> {
        findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn profiles_follow_the_runbook() {
        let wasi = RuntimeProfile::WasmWasi.constraints();
        assert_eq!(
            (wasi.profile_id.as_str(), wasi.max_artifact_size_bytes),
            ("control_plane_gateway_v1", 2 << 20)
        );
        let channel = RuntimeProfile::ChannelAutomationWasi.constraints();
        assert_eq!(channel.profile_id, "channel_automation_runtime_v1");
        assert_eq!(channel.max_artifact_size_bytes, 1 << 20);
        assert_eq!(channel.required_feature_gates.len(), 5);
        assert_eq!(
            RuntimeProfile::parse("channel-automation-wasi"),
            Some(RuntimeProfile::ChannelAutomationWasi)
        );
    }

    #[test]
    fn wasi_interfaces_match_whatever_their_version() {
        assert!(matches("wasi:*", "wasi:cli/environment@0.2.6"));
        assert!(matches("env", "env"));
        assert!(!matches("wasi:*", "wasi_snapshot_preview1"));
        assert!(matches("wasi_snapshot_preview1", "wasi_snapshot_preview1"));
    }

    #[test]
    fn compliant_imports_have_no_findings() {
        let c = RuntimeProfile::WasmWasi.constraints();
        assert!(check(&c, &artifact(&["env", "wasi:http/types@0.2.0"]), 10).is_empty());
    }

    #[test]
    fn no_imports_is_the_one_compliant_finding() {
        let findings = check(&RuntimeProfile::WasmWasi.constraints(), &artifact(&[]), 10);
        assert_eq!(codes(&findings), [ReasonCode::AbiAssumedNoImports]);
        assert!(compliant(&findings));
    }

    #[test]
    fn preview1_is_forbidden_with_a_fix() {
        let findings = check(
            &RuntimeProfile::WasmWasi.constraints(),
            &artifact(&["wasi_snapshot_preview1"]),
            10,
        );
        assert_eq!(
            codes(&findings),
            [
                ReasonCode::ImportModuleForbidden,
                ReasonCode::RequiredAbiMissing
            ]
        );
        assert!(findings[0].detail.contains("wasm-tools component new"));
        assert!(!compliant(&findings));
    }

    #[test]
    fn unknown_interfaces_and_size_are_reported() {
        let c = RuntimeProfile::ChannelAutomationWasi.constraints();
        let findings = check(
            &c,
            &artifact(&["acme:secrets/vault", "wasi:io/streams@0.2.0"]),
            2 << 20,
        );
        assert_eq!(
            codes(&findings),
            [
                ReasonCode::ArtifactSizeLimitExceeded,
                ReasonCode::ImportModuleNotAllowlisted
            ]
        );
    }
}
