//! Packaging: validate, check the profile, then write `<sha256>.wasm`, `<sha256>.manifest.json`
//! and the `state.json` entry. Nothing is written unless every check passed, and a failure while
//! writing leaves nothing behind (see [`crate::staging`]).

use std::path::{Path, PathBuf};

use tau_durable::lock::{DirLock, Wait};

use crate::deliverables::{self, Entry};
use crate::manifest::{self, Manifest};
use crate::profile::{self, Finding, RuntimeProfile};
use crate::staging::{self, Staged};
use crate::validate::{self, Validated};
use crate::{fsx, sections, sha256_hex, Error};

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
/// oversized file is refused without being read whole: only its section headers and import
/// section), then full validation, then the profile rules. The module must be a regular file, not
/// a symlink.
pub fn check_module(path: &Path, profile: RuntimeProfile) -> Result<Checked, Error> {
    let constraints = profile.constraints();
    let non_compliant = |findings| Error::NonCompliant {
        path: path.to_path_buf(),
        profile_id: constraints.profile_id.clone(),
        findings,
    };
    let mut file = fsx::open_existing(path, "module")?;
    let size = file
        .metadata()
        .map_err(|source| Error::Io {
            op: "inspect module",
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if let Some(finding) = profile::size_finding(&constraints, size) {
        return Err(non_compliant(oversized_findings(
            &constraints,
            finding,
            &mut file,
        )));
    }
    let bytes = fsx::read_capped(
        file,
        constraints.max_artifact_size_bytes,
        path,
        "read module",
    )?
    .ok_or_else(|| {
        // The file grew past the limit after its size was read.
        non_compliant(vec![Finding::new(
            profile::ReasonCode::ArtifactSizeLimitExceeded,
            format!(
                "grew past the {} limit of {} bytes while it was read",
                constraints.profile_id, constraints.max_artifact_size_bytes
            ),
        )])
    })?;
    let validated = validate::validate(&bytes).map_err(|invalid| Error::Invalid {
        path: path.to_path_buf(),
        invalid,
    })?;
    let findings = profile::check(profile, &validated, byte_len(&bytes));
    if !profile::compliant(&findings) {
        return Err(non_compliant(findings));
    }
    Ok(Checked {
        bytes,
        validated,
        findings,
    })
}

/// The size finding plus what the oversized binary's imports imply, as the runbook's tool
/// reports them; an unreadable import section adds nothing (the size alone refuses it).
pub(crate) fn oversized_findings(
    constraints: &profile::Constraints,
    size: Finding,
    file: &mut std::fs::File,
) -> Vec<Finding> {
    let mut findings = vec![size];
    if let Ok(imports) = sections::host_imports(file, constraints.max_artifact_size_bytes) {
        findings.extend(profile::import_findings(constraints, &imports));
    }
    profile::merge(findings)
}

/// `bytes.len()` as the u64 sizes are recorded in.
pub(crate) fn byte_len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).expect("a slice length fits in u64")
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
        artifact_kind: Some(validated.kind),
        source_module_path: manifest::source_path(path),
        artifact_path: format!("{sha}.wasm"),
        artifact_sha256: sha,
        artifact_size_bytes: byte_len(&bytes),
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

/// Writes a prepared package and records it in `state.json`, under the state-dir lock. Both files
/// are staged before either is renamed into place, and the state entry is recorded last; any
/// failure removes the temp files and the files this run created, so the output directory holds
/// the previous package or the new one, never a part.
pub fn write(prepared: &Prepared, wait: Wait<'_>) -> Result<Packaged, Error> {
    write_with_fault(prepared, wait, || Ok(()))
}

/// [`write`] with `fault` run once both files are staged, so tests can fail the write there.
fn write_with_fault(
    prepared: &Prepared,
    wait: Wait<'_>,
    fault: impl FnOnce() -> Result<(), Error>,
) -> Result<Packaged, Error> {
    let _lock = DirLock::acquire(&prepared.state_dir, wait)?;
    let m = &prepared.manifest;
    let artifact_path = prepared.dir.join(&m.artifact_path);
    let manifest_path = prepared
        .dir
        .join(format!("{}.manifest.json", m.artifact_sha256));
    fsx::refuse_symlink(&prepared.dir, "package output directory")?;
    std::fs::create_dir_all(&prepared.dir).map_err(|source| Error::Io {
        op: "create directory",
        path: prepared.dir.clone(),
        source,
    })?;
    staging::sweep(&prepared.dir)?;
    let artifact = Staged::write(&artifact_path, &prepared.bytes)?;
    let manifest = Staged::write(&manifest_path, &m.to_bytes())?;
    fault()?;
    let artifact = artifact.commit()?;
    let manifest = match manifest.commit() {
        Ok(committed) => committed,
        Err(e) => {
            artifact.undo();
            return Err(e);
        }
    };
    let recorded = tau_durable::atomic::sync_dir(&prepared.dir)
        .map_err(Error::from)
        .and_then(|()| record(prepared, &artifact_path, &manifest_path));
    if let Err(e) = recorded {
        manifest.undo();
        artifact.undo();
        return Err(e);
    }
    Ok(Packaged {
        artifact_path,
        manifest_path,
        state_path: prepared.state_dir.join("state.json"),
    })
}

fn record(prepared: &Prepared, artifact_path: &Path, manifest_path: &Path) -> Result<(), Error> {
    let m = &prepared.manifest;
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
    Ok(())
}

#[cfg(test)]
#[path = "package_tests.rs"]
mod tests;
