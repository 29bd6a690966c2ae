//! `Idempotency-Key`: the first result of a deploy is kept on disk and replayed to every retry
//! with the same key, across agent restarts.
//!
//! Files live in `<state_dir>/idempotency/`, one per key, named by the SHA-256 of the key and
//! written atomically (`tau-durable`). Each holds a fingerprint of the request it answered, so
//! the same key with a different request is refused instead of replaying an unrelated result.
//! The fingerprint is salted with a per-agent random salt: a request carries env values (secrets),
//! and an unsalted hash of a low-entropy secret could be guessed offline.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::wire::DeployRequest;

const SALT_FILE: &str = "salt";

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub http_status: u16,
    pub body: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    fingerprint: String,
    http_status: u16,
    body: serde_json::Value,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// No answer stored under this key yet.
    New,
    /// The first answer for this key and this request.
    Replay(Stored),
    /// The key was first used with a different request.
    Conflict,
}

#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    salt: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a key, as recorded in file names and the audit log (keys may be chosen by
/// callers and need not be safe file names).
pub fn key_digest(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

impl Store {
    pub fn open(state_dir: &Path) -> Result<Store> {
        let dir = state_dir.join("idempotency");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let salt_path = dir.join(SALT_FILE);
        let salt = match std::fs::read(&salt_path) {
            Ok(salt) if salt.len() == 32 => salt,
            Ok(_) => return Err(Error::Config {
                file: salt_path,
                message:
                    "idempotency salt must be 32 bytes; move the idempotency dir aside to reset it"
                        .into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut salt = vec![0u8; 32];
                std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| f.read_exact(&mut salt))
                    .map_err(|e| Error::io("read random bytes from", "/dev/urandom", e))?;
                tau_durable::atomic::write(&salt_path, &salt)?;
                salt
            }
            Err(e) => return Err(Error::io("read", &salt_path, e)),
        };
        Ok(Store { dir, salt })
    }

    fn fingerprint(&self, request: &DeployRequest) -> String {
        let mut hasher = Sha256::new();
        hasher.update(&self.salt);
        hasher.update(serde_json::to_vec(request).expect("deploy requests serialize"));
        hex(&hasher.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", key_digest(key)))
    }

    pub fn lookup(&self, key: &str, request: &DeployRequest) -> Result<Lookup> {
        let path = self.path(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::New),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let file: File = serde_json::from_slice(&bytes)
            .map_err(|e| tau_durable::Error::corrupt(&path, e.to_string()))?;
        if file.fingerprint != self.fingerprint(request) {
            return Ok(Lookup::Conflict);
        }
        Ok(Lookup::Replay(Stored {
            http_status: file.http_status,
            body: file.body,
        }))
    }

    /// Stores the first answer for `key`, durably, before it is sent.
    pub fn store(&self, key: &str, request: &DeployRequest, answer: &Stored) -> Result<()> {
        let file = File {
            fingerprint: self.fingerprint(request),
            http_status: answer.http_status,
            body: answer.body.clone(),
        };
        let bytes = serde_json::to_vec(&file).expect("idempotency records serialize");
        tau_durable::atomic::write(&self.path(key), &bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::Environment;

    fn request(image: &str, secret: &str) -> DeployRequest {
        DeployRequest {
            container_name: "rt".into(),
            image: image.into(),
            environment: Environment::Dev,
            env: BTreeMap::from([("DATABASE_URL".into(), secret.into())]),
            volumes: BTreeMap::new(),
        }
    }

    #[test]
    fn the_first_answer_is_replayed_after_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let r = request("a:v1", "pw1");
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.lookup("k1", &r).unwrap(), Lookup::New);
        let answer = Stored {
            http_status: 200,
            body: serde_json::json!({"status": "deployed"}),
        };
        store.store("k1", &r, &answer).unwrap();
        let reopened = Store::open(dir.path()).unwrap();
        assert_eq!(reopened.lookup("k1", &r).unwrap(), Lookup::Replay(answer));
    }

    #[test]
    fn the_same_key_with_another_request_or_another_secret_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let answer = Stored {
            http_status: 200,
            body: serde_json::json!({}),
        };
        store.store("k", &request("a:v1", "pw1"), &answer).unwrap();
        assert_eq!(
            store.lookup("k", &request("a:v2", "pw1")).unwrap(),
            Lookup::Conflict
        );
        assert_eq!(
            store.lookup("k", &request("a:v1", "pw2")).unwrap(),
            Lookup::Conflict
        );
    }

    #[test]
    fn no_secret_is_stored_in_the_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let answer = Stored {
            http_status: 200,
            body: serde_json::json!({}),
        };
        store
            .store("../../k", &request("a:v1", "hunter2"), &answer)
            .unwrap();
        for entry in std::fs::read_dir(dir.path().join("idempotency")).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains("hunter2"));
        }
    }
}
