//! WASM artifact verification for the simulated driver.
//!
//! A wasm case names its artifact by `wasm_manifest` (a packaged deliverable) or `wasm_module` (a
//! raw module), relative to the fixture's directory. A fixture is input, possibly from a pull
//! request, and it is read while the state-dir lock is held, so every path goes through
//! [`Options`] first: only regular files under the fixture's directory (symlinks resolved, no
//! escaping it), no larger than a cap. A device or FIFO would otherwise hang the run or fill
//! memory. Manifests are then inspected as `--deployment-wasm-inspect-manifest` would; modules are
//! validated against the case's profile. Results are cached per (reference, profile), so a fixture
//! that names one module in a hundred thousand cases reads it once.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tau_wasm::manifest::Manifest;
use tau_wasm::profile::RuntimeProfile;

use crate::contract::{ErrorCode, Profile};
use crate::driver::{Artifact, Response};
use crate::sym::Sym;

/// Artifacts larger than this are refused unless [`Options::max_bytes`] says otherwise. Modules
/// are further held to their runtime profile's own (smaller) limit.
pub const DEFAULT_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Where artifacts may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The largest artifact or manifest file read.
    pub max_bytes: u64,
    /// Accept absolute paths, `..` and symlinks leading out of the fixture's directory. Devices,
    /// FIFOs and other non-regular files stay refused, and the size cap still applies.
    pub allow_outside_fixture_dir: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_bytes: DEFAULT_MAX_BYTES,
            allow_outside_fixture_dir: false,
        }
    }
}

/// Why an artifact path was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotFound,
    Outside,
    NotRegular,
    TooLarge,
    Unreadable,
}

impl Refusal {
    fn reason(self, not_found: &'static str) -> &'static str {
        match self {
            Refusal::NotFound => not_found,
            Refusal::Outside => "artifact_path_outside_fixture_dir",
            Refusal::NotRegular => "artifact_not_regular_file",
            Refusal::TooLarge => "artifact_too_large",
            Refusal::Unreadable => "artifact_unreadable",
        }
    }
}

fn missing(reason: &'static str) -> Response {
    Response::rejected(400, ErrorCode::MissingArtifact, reason)
}

/// Verifies and remembers WASM artifacts.
#[derive(Debug, Default)]
pub struct Verifier {
    base: PathBuf,
    options: Options,
    /// The canonical fixture directory, resolved on first use.
    canonical_base: Option<Result<PathBuf, ()>>,
    cache: FxHashMap<(Sym, bool, RuntimeProfile), Result<Artifact, Response>>,
}

impl Verifier {
    /// Artifacts are looked up under `base` (the fixture's directory).
    pub fn new(base: &Path, options: Options) -> Self {
        // `Path::parent` of a bare file name is the empty path, which cannot be canonicalized.
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        Verifier {
            base: base.to_path_buf(),
            options,
            canonical_base: None,
            cache: FxHashMap::default(),
        }
    }

    /// The verified artifact of a wasm request, or the rejection it earns. `manifest` wins over
    /// `module` when both are named, as in the runbook's tool.
    pub fn verify(
        &mut self,
        manifest: Option<&Sym>,
        module: Option<&Sym>,
        profile: Profile,
    ) -> Result<Artifact, Response> {
        let runtime = match profile {
            Profile::WasmWasi => RuntimeProfile::WasmWasi,
            Profile::ChannelAutomationWasi => RuntimeProfile::ChannelAutomationWasi,
            Profile::Native => {
                return Err(Response::rejected(
                    422,
                    ErrorCode::UnsupportedRuntime,
                    "runtime_target_mismatch",
                ))
            }
        };
        let (reference, is_manifest) = match (manifest, module) {
            (Some(m), _) => (m, true),
            (None, Some(m)) => (m, false),
            (None, None) => return Err(missing("missing_wasm_module")),
        };
        let key = (reference.clone(), is_manifest, runtime);
        if let Some(cached) = self.cache.get(&key) {
            return cached.clone();
        }
        let verdict = if is_manifest {
            self.verify_manifest(reference, runtime)
        } else {
            self.verify_module(reference, runtime)
        };
        self.cache.insert(key, verdict.clone());
        verdict
    }

    fn verify_module(
        &mut self,
        reference: &Sym,
        runtime: RuntimeProfile,
    ) -> Result<Artifact, Response> {
        let path = self
            .resolve(Path::new(&**reference))
            .map_err(|r| missing(r.reason("wasm_module_not_found")))?;
        let checked = tau_wasm::package::check_module(&path, runtime)
            .map_err(|_| missing("invalid_wasm_module"))?;
        let bytes = checked.bytes;
        let constraints = runtime.constraints();
        Ok(Artifact {
            reference: reference.clone(),
            sha256: Some(tau_wasm::sha256_hex(&bytes).as_str().into()),
            size_bytes: Some(bytes.len() as u64),
            runtime_constraints: serde_json::to_value(&constraints).ok().map(Arc::new),
            verified: Some(true),
            ..Artifact::default()
        })
    }

    fn verify_manifest(
        &mut self,
        reference: &Sym,
        runtime: RuntimeProfile,
    ) -> Result<Artifact, Response> {
        // Every manifest failure the runbook's tool knows is `invalid_wasm_manifest`; only the
        // path policy, which the tool lacks, has reasons of its own.
        let invalid = || missing("invalid_wasm_manifest");
        let path = self
            .resolve(Path::new(&**reference))
            .map_err(|r| missing(r.reason("invalid_wasm_manifest")))?;
        let bytes = self
            .read_capped(&path)
            .map_err(|r| missing(r.reason("invalid_wasm_manifest")))?;
        let manifest = Manifest::parse(&bytes, &path).map_err(|_| invalid())?;
        if manifest.deploy_target.trim() != "wasm" {
            return Err(invalid());
        }
        let artifact_file = manifest.artifact_file(&path).map_err(|_| invalid())?;
        self.check(&artifact_file)
            .map_err(|r| missing(r.reason("invalid_wasm_manifest")))?;
        let inspected = tau_wasm::inspect::inspect(&path).map_err(|_| invalid())?;
        if !inspected.report.compliant || inspected.manifest != manifest {
            return Err(invalid());
        }
        if manifest.runtime_profile != runtime {
            return Err(Response::rejected(
                422,
                ErrorCode::UnsupportedRuntime,
                "wasm_manifest_runtime_mismatch",
            ));
        }
        Ok(Artifact {
            reference: Sym::new(&manifest.artifact_path),
            sha256: Some(Sym::new(&manifest.artifact_sha256)),
            size_bytes: Some(manifest.artifact_size_bytes),
            manifest: Some(reference.clone()),
            runtime_constraints: Some(Arc::new(manifest.runtime_constraints)),
            capability_constraints: Some(manifest.capability_constraints.into()),
            verified: Some(true),
        })
    }

    /// Applies the path policy to a path named by a case (relative to the fixture's directory)
    /// and returns the path to open.
    fn resolve(&mut self, reference: &Path) -> Result<PathBuf, Refusal> {
        let plain = reference
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !plain && !self.options.allow_outside_fixture_dir {
            return Err(Refusal::Outside);
        }
        let full = self.base.join(reference);
        self.check(&full)?;
        Ok(full)
    }

    /// Applies the path policy to a path that is already resolved (a manifest's artifact).
    fn check(&mut self, full: &Path) -> Result<(), Refusal> {
        // `metadata` follows symlinks: what matters is the file that would be opened.
        let meta = std::fs::metadata(full).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Refusal::NotFound,
            _ => Refusal::Unreadable,
        })?;
        if !meta.is_file() {
            return Err(Refusal::NotRegular);
        }
        if meta.len() > self.options.max_bytes {
            return Err(Refusal::TooLarge);
        }
        if !self.options.allow_outside_fixture_dir {
            let base = self
                .canonical_base
                .get_or_insert_with(|| std::fs::canonicalize(&self.base).map_err(|_| ()))
                .clone()
                .map_err(|()| Refusal::Unreadable)?;
            let real = std::fs::canonicalize(full).map_err(|_| Refusal::Unreadable)?;
            if !real.starts_with(&base) {
                return Err(Refusal::Outside);
            }
        }
        Ok(())
    }

    /// Reads at most the cap, so a file that grows after [`Verifier::resolve`] cannot fill memory.
    fn read_capped(&self, path: &Path) -> Result<Vec<u8>, Refusal> {
        let file = std::fs::File::open(path).map_err(|_| Refusal::Unreadable)?;
        let mut bytes = Vec::new();
        file.take(self.options.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|_| Refusal::Unreadable)?;
        if bytes.len() as u64 > self.options.max_bytes {
            return Err(Refusal::TooLarge);
        }
        Ok(bytes)
    }
}

#[cfg(test)]
#[path = "artifacts_tests.rs"]
mod tests;
