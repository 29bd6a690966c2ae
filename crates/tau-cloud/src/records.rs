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
    /// Secrets tau wrote to the provider's secret manager for `secret_env` values (ids only,
    /// never a value), so `destroy` can delete the ones it created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ManagedSecret>,
}

/// A secret in the provider's secret manager that holds a `secret_env` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedSecret {
    /// The service's environment variable it feeds.
    pub variable: String,
    /// The secret's ARN (AWS) or resource name `projects/P/secrets/S` (Google).
    pub id: String,
    /// tau's create made it (not an existing secret of the same name it wrote a value to);
    /// only those are deleted by `destroy`.
    pub created_by_tau: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    schema_version: u32,
    /// Keyed `provider/service`, sorted, so the file's bytes depend only on its records.
    deployments: BTreeMap<String, Record>,
    /// The last image pushed per service, which `run` deploys when not told otherwise.
    #[serde(default)]
    pushed: BTreeMap<String, Pushed>,
}

/// An image `push` left in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    /// `registry/repository:tag`.
    pub image: String,
    /// The digest the registry answered for it.
    pub image_digest: String,
    pub pushed_at: String,
}

impl Pushed {
    /// `registry/repository@digest`: what a provider should pull, immune to the tag moving.
    pub fn pinned(&self) -> String {
        let repo = match self.image.rsplit_once(':') {
            // A ':' after the last '/' separates the tag; one before it is a registry port.
            Some((repo, tag)) if !tag.contains('/') => repo,
            _ => self.image.as_str(),
        };
        format!("{repo}@{}", self.image_digest)
    }
}

/// The last push of `service`.
pub fn last_push(path: &Path, service: &str) -> Result<Option<Pushed>> {
    Ok(read(path)?.pushed.remove(service))
}

/// Remembers a push of `service`.
pub fn record_push(path: &Path, service: &str, pushed: Pushed) -> Result<()> {
    change(path, |file| {
        file.pushed.insert(service.to_string(), pushed);
        None
    })
    .map(|_| ())
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
            secrets: Vec::new(),
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
        /// Any sequence of deploys and destroys leaves exactly what a plain map would hold, and the
        /// file's bytes depend only on that content, not on the order it was reached in.
        #[test]
        fn records_follow_a_model_map_through_any_sequence(
            ops in proptest::collection::vec((0usize..3, proptest::prelude::any::<bool>(), 0u8..4), 1..12),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(FILE);
            let names = ["a", "b", "c"];
            let mut model = std::collections::BTreeMap::new();
            for (name, deploy, n) in ops {
                let service = names[name];
                if deploy {
                    let digest = format!("sha256:{n}");
                    upsert(&path, record(service, &digest, "t")).unwrap();
                    model.insert(service, digest);
                } else {
                    let removed = remove(&path, ProviderKind::Gcp, service).unwrap();
                    proptest::prop_assert_eq!(removed.map(|r| r.image_digest), model.remove(service));
                }
            }
            let got: std::collections::BTreeMap<&str, String> = load(&path).unwrap().into_iter()
                .map(|r| (names.iter().copied().find(|n| *n == r.service).unwrap(), r.image_digest)).collect();
            proptest::prop_assert_eq!(&got, &model);
            let again = dir.path().join("again.json");
            for (service, digest) in &model {
                upsert(&again, record(service, digest, "t")).unwrap();
            }
            if path.exists() && again.exists() {
                proptest::prop_assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&again).unwrap());
            }
        }
    }

    #[test]
    fn a_push_is_remembered_and_pinned_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let pushed = Pushed {
            image: "127.0.0.1:5000/org/app:v1.0.0".into(),
            image_digest: "sha256:ab".into(),
            pushed_at: "t".into(),
        };
        record_push(&path, "svc", pushed.clone()).unwrap();
        let back = last_push(&path, "svc").unwrap().unwrap();
        assert_eq!(back, pushed);
        assert_eq!(back.pinned(), "127.0.0.1:5000/org/app@sha256:ab");
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
