//! The deliverable manifest: `<sha256>.manifest.json` beside `<sha256>.wasm`.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::profile::RuntimeProfile;
use crate::validate::ArtifactKind;
use crate::Error;

pub const SCHEMA_VERSION: u32 = 1;
pub const KIND: &str = "tau_wasm_deliverable";
/// Far above any real manifest, far below anything that could hurt to read.
pub const MAX_BYTES: u64 = 1 << 20;

/// A deliverable manifest. Field order is the file's key order; nothing in it depends on the
/// machine or the output directory, so the same module packaged anywhere gives the same bytes
/// (with `SOURCE_DATE_EPOCH` fixing `generated_unix_ms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema_version: u32,
    pub manifest_kind: String,
    pub blueprint_id: String,
    pub deploy_target: String,
    pub runtime_profile: RuntimeProfile,
    /// Always written by tau; absent from manifests the runbook's tool wrote, which tau still
    /// reads (inspect learns the kind from the artifact itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_kind: Option<ArtifactKind>,
    /// The module path as given when relative; only its file name when it was absolute.
    pub source_module_path: String,
    /// The artifact's file name, relative to the manifest's directory.
    pub artifact_path: String,
    pub artifact_sha256: String,
    pub artifact_size_bytes: u64,
    pub generated_unix_ms: u64,
    /// The feature gates the artifact is packaged under.
    pub capability_constraints: Vec<String>,
    /// The runtime constraint profile as it was when packaged (compared on inspect to detect drift).
    pub runtime_constraints: serde_json::Value,
    pub observed_import_modules: Vec<String>,
}

impl Manifest {
    /// Reads and parses a manifest: a regular file, not a symlink, of at most [`MAX_BYTES`].
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file = crate::fsx::open_existing(path, "manifest")?;
        let bytes =
            crate::fsx::read_capped(file, MAX_BYTES, path, "read manifest")?.ok_or_else(|| {
                Error::Manifest {
                    path: path.to_path_buf(),
                    message: format!("larger than {MAX_BYTES} bytes; a manifest is about 1 KiB"),
                }
            })?;
        Self::parse(&bytes, path)
    }

    /// Parses manifest bytes; `path` names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, Error> {
        let invalid = |message: String| Error::Manifest {
            path: path.to_path_buf(),
            message,
        };
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if manifest.manifest_kind != KIND {
            return Err(invalid(format!(
                "manifest_kind is {:?}, expected {KIND:?}",
                manifest.manifest_kind
            )));
        }
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(invalid(format!(
                "schema_version is {}, expected {SCHEMA_VERSION}",
                manifest.schema_version
            )));
        }
        Ok(manifest)
    }

    /// The artifact file, which must be a plain file name inside the manifest's directory.
    pub fn artifact_file(&self, manifest_path: &Path) -> Result<PathBuf, Error> {
        let rel = Path::new(&self.artifact_path);
        let mut parts = rel.components();
        let single = matches!(
            (parts.next(), parts.next()),
            (Some(Component::Normal(_)), None)
        );
        if !single || self.artifact_path.contains(['/', '\\']) {
            return Err(Error::Manifest {
                path: manifest_path.to_path_buf(),
                message: format!(
                    "artifact_path {:?} must be a file name in the manifest's directory (no absolute path, no separators, no ..)",
                    self.artifact_path
                ),
            });
        }
        let dir = manifest_path.parent().unwrap_or(Path::new("."));
        Ok(dir.join(rel))
    }

    /// Pretty JSON with a trailing newline: the exact bytes written to disk.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("manifest serializes");
        bytes.push(b'\n');
        bytes
    }
}

/// The recorded form of a module path: relative paths as given (with `/`), absolute ones reduced
/// to their file name so no machine-specific path enters the manifest.
pub fn source_path(module: &Path) -> String {
    if module.is_absolute() {
        module
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        module
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}
