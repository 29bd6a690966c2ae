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

    /// The WebAssembly proposals beyond [`crate::validate::BASELINE`] this runtime accepts, by
    /// [`Validated::proposals`] name. None yet: each runtime the profiles target (wasmtime behind
    /// the smoke host, the edge runtimes) must support a proposal before a profile may allow it.
    pub fn allowed_proposals(self) -> &'static [&'static str] {
        match self {
            RuntimeProfile::WasmWasi | RuntimeProfile::ChannelAutomationWasi => &[],
        }
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

/// Compliance reason codes, declared in the order the runbook's tool reports them (reports list
/// each code once, in this order).
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
    /// The binary needs a WebAssembly proposal (threads, wide arithmetic, ...) that the profile
    /// does not allow; the finding's detail names it.
    WasmFeatureNotAllowed,
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
            ReasonCode::WasmFeatureNotAllowed => "wasm_feature_not_allowed",
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
    /// `detail` may quote names taken from the artifact or manifest; control characters in it are
    /// escaped so a report line cannot be forged or garbled by them.
    pub fn new(code: ReasonCode, detail: impl Into<String>) -> Self {
        Finding {
            code,
            detail: crate::escape_controls(&detail.into()),
        }
    }
}

/// One finding per code, in code order; details of the same code are joined with `; `. Reports
/// built from the result list each reason code exactly once, in a stable order.
pub fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut findings = findings;
    findings.sort_by_key(|f| f.code);
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for finding in findings {
        match merged.last_mut() {
            Some(last) if last.code == finding.code => {
                if !last.detail.split("; ").any(|d| d == finding.detail) {
                    last.detail.push_str("; ");
                    last.detail.push_str(&finding.detail);
                }
            }
            _ => merged.push(finding),
        }
    }
    merged
}

/// The distinct codes of `findings`, in code order.
pub fn codes(findings: &[Finding]) -> Vec<ReasonCode> {
    let mut codes: Vec<ReasonCode> = findings.iter().map(|f| f.code).collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Whether every finding still allows deployment.
pub fn compliant(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.code.is_compliant())
}

/// `wasi:*` matches any `wasi:` interface; other patterns match a name exactly. Component import
/// versions (`@0.2.6`) never affect matching. A name with a control character matches nothing.
pub fn matches(pattern: &str, import: &str) -> bool {
    if import.chars().any(char::is_control) {
        return false;
    }
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

/// The import rules, as the runbook's tool applies them: no imports assumes the ABI, otherwise
/// one import must use it; every import must be allowlisted, and none forbidden (a legacy WASI
/// import is both not allowlisted and forbidden).
pub fn import_findings(constraints: &Constraints, imports: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    if imports.is_empty() {
        findings.push(Finding::new(
            ReasonCode::AbiAssumedNoImports,
            format!("imports nothing; {} is assumed", constraints.required_abi),
        ));
        return findings;
    }
    if !imports
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
    for import in imports {
        if !constraints
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
        }
    }
    findings
}

/// Checks a validated artifact of `size` bytes against `profile`: size, imports and the
/// WebAssembly proposals it needs. One finding per code, in code order.
pub fn check(profile: RuntimeProfile, artifact: &Validated, size: u64) -> Vec<Finding> {
    let constraints = profile.constraints();
    let mut findings: Vec<Finding> = size_finding(&constraints, size).into_iter().collect();
    findings.extend(import_findings(&constraints, &artifact.imports));
    for proposal in &artifact.proposals {
        if !profile.allowed_proposals().contains(&proposal.as_str()) {
            findings.push(Finding::new(
                ReasonCode::WasmFeatureNotAllowed,
                format!(
                    "uses the WebAssembly {proposal} proposal, which runtime profile {} ({}) does not allow",
                    profile.as_str(),
                    constraints.profile_id
                ),
            ));
        }
    }
    merge(findings)
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
