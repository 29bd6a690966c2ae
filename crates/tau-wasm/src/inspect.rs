//! Inspection: re-hash, re-validate and re-check a packaged artifact against its manifest and the
//! built-in profile, and report instead of failing at the first problem.

use std::path::Path;

use serde::Serialize;

use crate::manifest::Manifest;
use crate::profile::{self, Finding, ReasonCode};
use crate::validate::{self, ArtifactKind, Validated};
use crate::{escape_controls, fsx, package, sha256_hex, Error};

/// The inspect report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub manifest_path: String,
    pub blueprint_id: String,
    pub runtime_profile: String,
    /// From the artifact when it validates, else as the manifest records it (absent in manifests
    /// the runbook's tool wrote).
    pub artifact_kind: Option<ArtifactKind>,
    pub artifact_sha256: String,
    pub constraint_profile_id: String,
    pub constraint_target_role: String,
    pub required_runtime_profile: String,
    pub required_abi: String,
    pub compliant: bool,
    pub reason_codes: Vec<ReasonCode>,
    pub findings: Vec<Finding>,
    pub observed_import_modules: Vec<String>,
    pub required_feature_gates: Vec<String>,
    pub max_artifact_size_bytes: u64,
}

/// A report plus what a runtime smoke needs.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub manifest: Manifest,
    pub report: Report,
    /// The artifact's bytes and validation, when it could be read and is valid.
    pub artifact: Option<(Vec<u8>, Validated)>,
}

impl Inspected {
    /// Adds a finding (such as a failed runtime smoke) and recomputes compliance; each code stays
    /// listed once.
    pub fn add_finding(&mut self, finding: Finding) {
        let mut findings = std::mem::take(&mut self.report.findings);
        findings.push(finding);
        self.report.findings = profile::merge(findings);
        self.report.reason_codes = profile::codes(&self.report.findings);
        self.report.compliant = profile::compliant(&self.report.findings);
    }
}

/// Inspects the manifest at `path`. Errors only when the manifest itself cannot be read or trusted,
/// or when the manifest or its artifact is a symlink or not a regular file. Names and paths in the
/// report have their control characters escaped.
pub fn inspect(path: &Path) -> Result<Inspected, Error> {
    let manifest = Manifest::read(path)?;
    let artifact_file = manifest.artifact_file(path)?;
    let builtin = manifest.runtime_profile.constraints();
    let mut findings = Vec::new();

    if manifest.runtime_constraints
        != serde_json::to_value(&builtin).expect("constraints serialize")
    {
        findings.push(Finding::new(
            ReasonCode::ManifestProfileDrift,
            format!(
                "the manifest's runtime_constraints differ from the built-in {} profile",
                builtin.profile_id
            ),
        ));
    }
    let embedded_profile = manifest.runtime_constraints["required_runtime_profile"].as_str();
    if embedded_profile != Some(manifest.runtime_profile.as_str()) {
        findings.push(Finding::new(
            ReasonCode::RuntimeProfileMismatch,
            format!(
                "runtime_profile is {} but the embedded constraints require {}",
                manifest.runtime_profile.as_str(),
                embedded_profile.unwrap_or("nothing")
            ),
        ));
    }
    for gate in &builtin.required_feature_gates {
        if !manifest.capability_constraints.contains(gate) {
            findings.push(Finding::new(
                ReasonCode::RequiredFeatureGateMissing,
                format!("capability_constraints lack {gate}"),
            ));
        }
    }

    let mut artifact = None;
    let mut observed = manifest.observed_import_modules.clone();
    match fsx::open_regular(&artifact_file, "artifact")? {
        None => findings.push(Finding::new(
            ReasonCode::ArtifactMissing,
            format!("{} does not exist", artifact_file.display()),
        )),
        Some(mut file) => {
            let size = file
                .metadata()
                .map_err(|source| Error::Io {
                    op: "read artifact",
                    path: artifact_file.clone(),
                    source,
                })?
                .len();
            if size != manifest.artifact_size_bytes {
                findings.push(Finding::new(
                    ReasonCode::ArtifactSizeMismatch,
                    format!(
                        "artifact is {size} bytes, the manifest says {}",
                        manifest.artifact_size_bytes
                    ),
                ));
            }
            if let Some(finding) = profile::size_finding(&builtin, size) {
                findings.extend(package::oversized_findings(&builtin, finding, &mut file));
            } else {
                let read = fsx::read_capped(
                    file,
                    builtin.max_artifact_size_bytes,
                    &artifact_file,
                    "read artifact",
                )?;
                match read {
                    None => findings.push(Finding::new(
                        ReasonCode::ArtifactSizeLimitExceeded,
                        "grew past the size limit while it was read",
                    )),
                    Some(bytes) => {
                        let sha = sha256_hex(&bytes);
                        if sha != manifest.artifact_sha256 {
                            findings.push(Finding::new(
                                ReasonCode::ArtifactHashMismatch,
                                format!(
                                    "artifact hashes to {sha}, the manifest says {}",
                                    manifest.artifact_sha256
                                ),
                            ));
                        }
                        match validate::validate(&bytes) {
                            Ok(validated) => {
                                findings.extend(profile::check(
                                    manifest.runtime_profile,
                                    &validated,
                                    package::byte_len(&bytes),
                                ));
                                observed = validated.imports.clone();
                                artifact = Some((bytes, validated));
                            }
                            Err(invalid) => findings.push(Finding::new(
                                ReasonCode::ArtifactInvalid,
                                invalid.to_string(),
                            )),
                        }
                    }
                }
            }
        }
    }
    let findings = profile::merge(findings);

    let report = Report {
        manifest_path: escape_controls(&path.display().to_string()),
        blueprint_id: escape_controls(&manifest.blueprint_id),
        runtime_profile: manifest.runtime_profile.as_str().into(),
        artifact_kind: artifact
            .as_ref()
            .map(|(_, v): &(Vec<u8>, Validated)| v.kind)
            .or(manifest.artifact_kind),
        artifact_sha256: manifest.artifact_sha256.clone(),
        constraint_profile_id: builtin.profile_id.clone(),
        constraint_target_role: builtin.target_role.clone(),
        required_runtime_profile: builtin.required_runtime_profile.as_str().into(),
        required_abi: builtin.required_abi.clone(),
        compliant: profile::compliant(&findings),
        reason_codes: profile::codes(&findings),
        findings,
        observed_import_modules: observed.iter().map(|i| escape_controls(i)).collect(),
        required_feature_gates: builtin.required_feature_gates.clone(),
        max_artifact_size_bytes: builtin.max_artifact_size_bytes,
    };
    Ok(Inspected {
        manifest,
        report,
        artifact,
    })
}

#[cfg(test)]
#[path = "inspect_tests.rs"]
mod tests;
