//! WASM artifact verification for the contract evaluator.
//!
//! A wasm case names its artifact by `wasm_manifest` (a packaged deliverable) or `wasm_module` (a
//! raw module), relative to the fixture's directory. Manifests are inspected exactly as
//! `--deployment-wasm-inspect-manifest` would (hash, size, validation, profile); modules are
//! validated against the case's profile. Results are cached per (path, profile), so a fixture that
//! names one module in a hundred thousand cases reads it once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tau_wasm::profile::RuntimeProfile;

use crate::driver::{rejected, Artifact, ErrorCode, Profile, Response};
use crate::fixture::Case;

/// Verifies and remembers WASM artifacts.
#[derive(Debug, Default)]
pub struct Verifier {
    base: PathBuf,
    require_artifacts: bool,
    cache: HashMap<(PathBuf, RuntimeProfile), Result<Artifact, Response>>,
}

impl Verifier {
    /// Artifacts are looked up under `base` (the fixture's directory). With `require_artifacts`,
    /// a `wasm_module` that does not exist rejects the case instead of being recorded unverified.
    pub fn new(base: &Path, require_artifacts: bool) -> Self {
        Verifier {
            base: base.to_path_buf(),
            require_artifacts,
            cache: HashMap::new(),
        }
    }

    /// The verified artifact of a wasm case, or the rejection it earns.
    pub fn verify(&mut self, case: &Case, profile: Profile) -> Result<Artifact, Response> {
        let runtime = match profile {
            Profile::WasmWasi => RuntimeProfile::WasmWasi,
            Profile::ChannelAutomationWasi => RuntimeProfile::ChannelAutomationWasi,
            Profile::Native => unreachable!("only wasm profiles reach artifact verification"),
        };
        let (reference, is_manifest) = match (&case.wasm_manifest, &case.wasm_module) {
            (Some(m), _) => (m, true),
            (None, Some(m)) => (m, false),
            (None, None) => {
                unreachable!("the evaluator rejects wasm cases without an artifact first")
            }
        };
        let path = self.base.join(&**reference);
        let key = (path.clone(), runtime);
        if let Some(cached) = self.cache.get(&key) {
            return cached.clone();
        }
        let mut verdict = if is_manifest {
            verify_manifest(&path, runtime)
        } else {
            self.verify_module(&path, runtime)
        };
        if let Ok(artifact) = &mut verdict {
            artifact.reference = reference.clone();
            if is_manifest {
                artifact.manifest = Some(reference.clone());
            }
        }
        self.cache.insert(key, verdict.clone());
        verdict
    }

    fn verify_module(&self, path: &Path, runtime: RuntimeProfile) -> Result<Artifact, Response> {
        if !path.exists() {
            if self.require_artifacts {
                return Err(rejected(
                    400,
                    ErrorCode::MissingArtifact,
                    "wasm_module_not_found",
                ));
            }
            return Ok(Artifact {
                verified: Some(false),
                ..Artifact::default()
            });
        }
        let checked = tau_wasm::package::check_module(path, runtime)
            .map_err(|_| rejected(400, ErrorCode::MissingArtifact, "invalid_wasm_module"))?;
        let bytes = checked.bytes;
        let constraints = runtime.constraints();
        Ok(Artifact {
            sha256: Some(tau_wasm::sha256_hex(&bytes).as_str().into()),
            size_bytes: Some(bytes.len() as u64),
            runtime_constraints: Some(Arc::new(
                serde_json::to_value(&constraints).expect("constraints serialize"),
            )),
            verified: Some(true),
            ..Artifact::default()
        })
    }
}

fn verify_manifest(path: &Path, runtime: RuntimeProfile) -> Result<Artifact, Response> {
    let invalid = || rejected(400, ErrorCode::MissingArtifact, "invalid_wasm_manifest");
    let inspected = tau_wasm::inspect::inspect(path).map_err(|_| invalid())?;
    if inspected.manifest.runtime_profile != runtime {
        return Err(rejected(
            422,
            ErrorCode::UnsupportedRuntime,
            "wasm_manifest_runtime_mismatch",
        ));
    }
    if !inspected.report.compliant {
        return Err(invalid());
    }
    let m = inspected.manifest;
    Ok(Artifact {
        sha256: Some(m.artifact_sha256.as_str().into()),
        size_bytes: Some(m.artifact_size_bytes),
        runtime_constraints: Some(Arc::new(m.runtime_constraints)),
        verified: Some(true),
        ..Artifact::default()
    })
}

#[cfg(test)]
#[path = "artifacts_tests.rs"]
mod tests;
