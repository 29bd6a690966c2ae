//! `.tau/deployments.json`: what was deployed where (service id, URL, image digest, provider,
//! time). `run` reads it to update a service instead of creating a second one; `status` and
//! `destroy` read it to find the service. This module is the file's only writer: every change is
//! a locked read-modify-write replaced atomically through `tau-durable`, so a crash leaves the
//! previous records, and a file that does not parse is never overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::ProviderKind;
use crate::{Error, Result};

/// The records file under a project directory.
pub const FILE: &str = ".tau/deployments.json";
const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub service: String,
    pub provider: ProviderKind,
    /// The provider's id: an App Runner ARN, a Cloud Run resource name, an ARM resource id, a
    /// container id.
    pub service_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `registry/repository:tag`.
    pub image: String,
    /// The digest the registry holds for `image` (not the engine's local image id).
    pub image_digest: String,
    /// First deploy, RFC 3339 UTC.
    pub created_at: String,
    /// Last deploy or update, RFC 3339 UTC.
    pub updated_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    schema_version: u32,
    /// Keyed `provider/service`, sorted, so the file's bytes depend only on its records.
    deployments: BTreeMap<String, Record>,
}

fn key(provider: ProviderKind, service: &str) -> String {
    format!("{provider}/{service}")
}

/// The records at `path` (none when the file does not exist yet).
pub fn load(path: &Path) -> Result<Vec<Record>> {
    Ok(read(path)?.deployments.into_values().collect())
}

/// The record of `service` on `provider`.
pub fn find(path: &Path, provider: ProviderKind, service: &str) -> Result<Option<Record>> {
    Ok(read(path)?.deployments.remove(&key(provider, service)))
}

/// Adds or replaces `record`, keeping `created_at` of an earlier deploy of the same service.
pub fn upsert(path: &Path, mut record: Record) -> Result<()> {
    change(path, |file| {
        let k = key(record.provider, &record.service);
        if let Some(old) = file.deployments.get(&k) {
            record.created_at = old.created_at.clone();
        }
        file.deployments.insert(k, record);
        None
    })
    .map(|_| ())
}

/// Removes the record of `service` on `provider`, returning it.
pub fn remove(path: &Path, provider: ProviderKind, service: &str) -> Result<Option<Record>> {
    change(path, |file| {
        file.deployments.remove(&key(provider, service))
    })
}

fn change(path: &Path, edit: impl FnOnce(&mut File) -> Option<Record>) -> Result<Option<Record>> {
    let dir = parent(path);
    let _lock =
        tau_durable::lock::DirLock::acquire(&dir, tau_durable::lock::Wait::Block(&mut |_| {}))?;
    let mut file = read(path)?;
    let out = edit(&mut file);
    file.schema_version = SCHEMA_VERSION;
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| Error::Records {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    tau_durable::guard::refuse_symlinks_at(&dir, path)?;
    tau_durable::atomic::write(path, &bytes)?;
    Ok(out)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn read(path: &Path) -> Result<File> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(File {
                schema_version: SCHEMA_VERSION,
                ..File::default()
            })
        }
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let file: File = serde_json::from_slice(&bytes).map_err(|e| Error::Records {
        path: path.to_path_buf(),
        message: format!(
            "does not parse ({e}); it was left untouched: move it aside to start over"
        ),
    })?;
    if file.schema_version != SCHEMA_VERSION {
        return Err(Error::Records {
            path: path.to_path_buf(),
            message: format!(
                "schema_version {} is not {SCHEMA_VERSION}; it was left untouched",
                file.schema_version
            ),
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(service: &str, digest: &str, at: &str) -> Record {
        Record {
            service: service.into(),
            provider: ProviderKind::Gcp,
            service_id: format!("projects/p/locations/r/services/{service}"),
            url: Some("https://svc.example".into()),
            image: "127.0.0.1:5000/org/app:v1.0.0".into(),
            image_digest: digest.into(),
            created_at: at.into(),
            updated_at: at.into(),
        }
    }

    #[test]
    fn an_update_keeps_the_first_deploy_time_and_replaces_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        upsert(&path, record("svc", "sha256:1", "2026-01-01T00:00:00Z")).unwrap();
        upsert(&path, record("svc", "sha256:2", "2026-02-01T00:00:00Z")).unwrap();
        let r = find(&path, ProviderKind::Gcp, "svc").unwrap().unwrap();
        assert_eq!(
            (
                r.image_digest.as_str(),
                r.created_at.as_str(),
                r.updated_at.as_str()
            ),
            ("sha256:2", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")
        );
        assert_eq!(load(&path).unwrap().len(), 1);
        assert_eq!(
            remove(&path, ProviderKind::Gcp, "svc")
                .unwrap()
                .unwrap()
                .image_digest,
            "sha256:2"
        );
        assert!(find(&path, ProviderKind::Gcp, "svc").unwrap().is_none());
    }

    #[test]
    fn a_records_file_that_does_not_parse_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{not json").unwrap();
        let err = upsert(&path, record("svc", "sha256:1", "t")).unwrap_err();
        assert!(err.to_string().contains("left untouched"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
    }

    #[test]
    fn a_failed_write_leaves_the_previous_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        upsert(&path, record("svc", "sha256:1", "t")).unwrap();
        let before = std::fs::read(&path).unwrap();
        // A symlink where the file is makes the write refuse before anything is replaced.
        let elsewhere = dir.path().join("elsewhere.json");
        std::fs::write(&elsewhere, &before).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(upsert(&path, record("svc", "sha256:2", "t")).is_err());
        assert_eq!(std::fs::read(&elsewhere).unwrap(), before);
    }
}
