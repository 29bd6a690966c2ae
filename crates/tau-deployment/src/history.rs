//! The full record beyond `state.json`'s bounded window: every processed case key and every
//! rollout, in append-only files under `history/`.
//!
//! `state.json` keeps the most recent processed keys and rollouts in the runbook tool's shape;
//! what leaves that window is not forgotten (forgetting a processed key is how a case gets
//! re-applied silently). Both files are appended through the commit journal with the rest of a
//! run, so a killed run leaves no trace in them, and `state.json` records how many keys are
//! committed so a reader without the lock never counts an uncommitted one.
//!
//! A processed key is stored as the first 16 bytes of its SHA-256: fixed size whatever the key's
//! length, and no two fixture cases can be made to collide. Checking a run's keys streams the file
//! once with a constant-size buffer: 16 MB of sequential reads at a million processed cases.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rustc_hash::FxHashSet;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Every processed case key's digest, in commit order, relative to the state dir.
pub const PROCESSED_FILE: &str = "history/processed-case-keys.bin";
/// Every rollout record (one JSON line each, the `state.json` shape), relative to the state dir.
pub const ROLLOUTS_FILE: &str = "history/rollouts.jsonl";

/// The stored form of a processed case key.
pub type KeyDigest = [u8; 16];

/// The digest of a case key.
pub fn key_digest(key: &str) -> KeyDigest {
    let full = Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// Which of `candidates` are among the first `committed` digests of the processed-keys file in
/// `dir`. Digests past `committed` belong to a run that has not committed and are not read.
pub fn find_processed(
    dir: &Path,
    committed: u64,
    candidates: &FxHashSet<KeyDigest>,
) -> Result<FxHashSet<KeyDigest>> {
    let mut found = FxHashSet::default();
    if candidates.is_empty() || committed == 0 {
        return Ok(found);
    }
    tau_durable::guard::refuse_symlinks(dir, Path::new(PROCESSED_FILE))?;
    let path = dir.join(PROCESSED_FILE);
    let io = |op| {
        let path = path.clone();
        move |source| Error::Io { op, path, source }
    };
    let file = match File::open(&path) {
        Ok(file) => file,
        // Committed keys with no file: the history was removed by hand. Nothing to match.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io("open processed-keys history")(e)),
    };
    let mut reader = BufReader::with_capacity(1 << 20, file.take(committed.saturating_mul(16)));
    let mut digest = [0u8; 16];
    loop {
        match reader.read_exact(&mut digest) {
            Ok(()) => {
                if candidates.contains(&digest) {
                    found.insert(digest);
                    if found.len() == candidates.len() {
                        break;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io("read processed-keys history")(e)),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_committed_digests_are_matched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("history")).unwrap();
        let (a, b, c) = (key_digest("a"), key_digest("b"), key_digest("c"));
        std::fs::write(dir.path().join(PROCESSED_FILE), [a, b].concat()).unwrap();
        let all: FxHashSet<KeyDigest> = [a, b, c].into_iter().collect();
        let found = find_processed(dir.path(), 2, &all).unwrap();
        assert_eq!(found, [a, b].into_iter().collect());
        let found = find_processed(dir.path(), 1, &all).unwrap();
        assert_eq!(found, [a].into_iter().collect());
    }

    #[test]
    fn digests_differ_for_keys_that_differ_only_in_their_separators() {
        assert_ne!(key_digest("a:b:c"), key_digest("a:b\u{0}c"));
        assert_eq!(key_digest("x"), key_digest("x"));
    }
}
