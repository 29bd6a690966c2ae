//! Packaging: validate, check the profile, then write `<sha256>.wasm`, `<sha256>.manifest.json`
//! and the `state.json` entry. Nothing is written unless every check passed.

use std::io::Read;
use std::path::{Path, PathBuf};

use tau_durable::lock::{DirLock, Wait};

use crate::deliverables::{self, Entry};
use crate::manifest::{self, Manifest};
use crate::profile::{self, Finding, RuntimeProfile};
use crate::validate::{self, Validated};
use crate::{sha256_hex, Error};

/// What to package.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub module: &'a Path,
    pub blueprint_id: &'a str,
    pub profile: RuntimeProfile,
    /// `<output_dir>/<blueprint_id>/` receives the artifact and manifest.
    pub output_dir: &'a Path,
    pub state_dir: &'a Path,
    pub generated_unix_ms: u64,
}

/// A module that passed every check, ready to be written.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub validated: Validated,
    /// Compliant findings only (at most `abi_assumed_no_imports`).
    pub findings: Vec<Finding>,
    pub manifest: Manifest,
    pub dir: PathBuf,
    state_dir: PathBuf,
}

/// Where a package went.
#[derive(Debug, Clone)]
pub struct Packaged {
    pub artifact_path: PathBuf,
    pub manifest_path: PathBuf,
    pub state_path: PathBuf,
}

/// A module file that passed validation and its profile.
#[derive(Debug, Clone)]
pub struct Checked {
    pub bytes: Vec<u8>,
    pub validated: Validated,
    /// Compliant findings only (at most `abi_assumed_no_imports`).
    pub findings: Vec<Finding>,
}

/// Reads the module at `path` and checks it against `profile`: size from metadata first (an
/// oversized file is refused without being read), then full validation, then the profile rules.
pub fn check_module(path: &Path, profile: RuntimeProfile) -> Result<Checked, Error> {
    let constraints = profile.constraints();
    let io = |op| {
        let path = path.to_path_buf();
        move |source| Error::Io { op, path, source }
    };
    let non_compliant = |findings| Error::NonCompliant {
        path: path.to_path_buf(),
        profile_id: constraints.profile_id.clone(),
        findings,
    };
    let file = std::fs::File::open(path).map_err(io("open module"))?;
    let size = file.metadata().map_err(io("inspect module"))?.len();
    if let Some(finding) = profile::size_finding(&constraints, size) {
        return Err(non_compliant(vec![finding]));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(constraints.max_artifact_size_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io("read module"))?;
    let validated = validate::validate(&bytes).map_err(|invalid| Error::Invalid {
        path: path.to_path_buf(),
        invalid,
    })?;
    let findings = profile::check(&constraints, &validated, bytes.len() as u64);
    if !profile::compliant(&findings) {
        return Err(non_compliant(findings));
    }
    Ok(Checked {
        bytes,
        validated,
        findings,
    })
}

/// Reads and checks the module; writes nothing.
pub fn prepare(request: &Request<'_>) -> Result<Prepared, Error> {
    tau_durable::name::check(request.blueprint_id).map_err(|reason| Error::BlueprintId {
        id: request.blueprint_id.to_string(),
        reason,
    })?;
    let Checked {
        bytes,
        validated,
        findings,
    } = check_module(request.module, request.profile)?;
    let constraints = request.profile.constraints();
    let path = request.module;
    let sha = sha256_hex(&bytes);
    let manifest = Manifest {
        schema_version: manifest::SCHEMA_VERSION,
        manifest_kind: manifest::KIND.into(),
        blueprint_id: request.blueprint_id.into(),
        deploy_target: "wasm".into(),
        runtime_profile: request.profile,
        artifact_kind: validated.kind,
        source_module_path: manifest::source_path(path),
        artifact_path: format!("{sha}.wasm"),
        artifact_sha256: sha,
        artifact_size_bytes: bytes.len() as u64,
        generated_unix_ms: request.generated_unix_ms,
        capability_constraints: constraints.required_feature_gates.clone(),
        runtime_constraints: serde_json::to_value(&constraints).expect("constraints serialize"),
        observed_import_modules: validated.imports.clone(),
    };
    Ok(Prepared {
        bytes,
        validated,
        findings,
        manifest,
        dir: request.output_dir.join(request.blueprint_id),
        state_dir: request.state_dir.to_path_buf(),
    })
}

/// Writes a prepared package atomically and records it in `state.json`, under the state-dir lock.
pub fn write(prepared: &Prepared, wait: Wait<'_>) -> Result<Packaged, Error> {
    let _lock = DirLock::acquire(&prepared.state_dir, wait)?;
    let m = &prepared.manifest;
    let artifact_path = prepared.dir.join(&m.artifact_path);
    let manifest_path = prepared
        .dir
        .join(format!("{}.manifest.json", m.artifact_sha256));
    tau_durable::atomic::write_if_changed(&artifact_path, &prepared.bytes)?;
    tau_durable::atomic::write_if_changed(&manifest_path, &m.to_bytes())?;
    let constraints = m.runtime_profile.constraints();
    deliverables::record(
        &prepared.state_dir,
        &Entry {
            schema_version: 1,
            blueprint_id: m.blueprint_id.clone(),
            deploy_target: m.deploy_target.clone(),
            runtime_profile: m.runtime_profile.as_str().into(),
            constraint_profile_id: constraints.profile_id,
            required_abi: constraints.required_abi,
            required_feature_gates: constraints.required_feature_gates,
            artifact_path: artifact_path.display().to_string(),
            artifact_sha256: m.artifact_sha256.clone(),
            artifact_size_bytes: m.artifact_size_bytes,
            manifest_path: manifest_path.display().to_string(),
            generated_unix_ms: m.generated_unix_ms,
        },
    )?;
    Ok(Packaged {
        artifact_path,
        manifest_path,
        state_path: prepared.state_dir.join("state.json"),
    })
}

#[cfg(test)]
#[path = "package_tests.rs"]
mod tests;
