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
//! once with a constant-size buffer: 16 MB of sequential reads at a million processed cases, each
//! digest turned away by one bit test unless its first two bytes match a key the run looks for.

use std::fs::File;
use std::io::Read;
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
    let mut reader = file.take(committed.saturating_mul(16));
    let maybe = Prefilter::of(candidates);
    // A whole number of digests, so each read ends on a digest boundary.
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let filled = fill(&mut reader, &mut buf).map_err(io("read processed-keys history"))?;
        // A torn last digest (a file cut mid-write by hand) matches nothing.
        for digest in buf[..filled].chunks_exact(16) {
            if maybe.contains(digest) {
                let digest: KeyDigest = digest.try_into().expect("chunks of 16 bytes");
                if candidates.contains(&digest) {
                    found.insert(digest);
                    if found.len() == candidates.len() {
                        return Ok(found);
                    }
                }
            }
        }
        if filled < buf.len() {
            break;
        }
    }
    Ok(found)
}

/// Reads until `buf` is full or the input ends; how much was read.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// One bit per value of a digest's first two bytes, set for each candidate: a run looks up a few
/// hundred keys in a million digests, and one bit test turns nearly all of them away before any
/// hashing, which keeps the pass over the file at memory speed.
struct Prefilter(Vec<u64>);

impl Prefilter {
    fn of(candidates: &FxHashSet<KeyDigest>) -> Self {
        let mut bits = vec![0u64; 1 << 10];
        for digest in candidates {
            let at = Self::slot(digest);
            bits[at >> 6] |= 1 << (at & 63);
        }
        Prefilter(bits)
    }

    fn slot(digest: &[u8]) -> usize {
        usize::from(u16::from_le_bytes([digest[0], digest[1]]))
    }

    fn contains(&self, digest: &[u8]) -> bool {
        let at = Self::slot(digest);
        self.0[at >> 6] & (1 << (at & 63)) != 0
    }
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
    fn a_torn_last_digest_matches_nothing_and_digests_past_a_buffer_are_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("history")).unwrap();
        // More than one read buffer of digests, the wanted ones at both ends.
        let keys: Vec<KeyDigest> = (0..70_000).map(|i| key_digest(&i.to_string())).collect();
        let (first, last) = (keys[0], keys[keys.len() - 1]);
        let mut bytes = keys.concat();
        let torn = key_digest("torn");
        bytes.extend_from_slice(&torn[..9]);
        std::fs::write(dir.path().join(PROCESSED_FILE), bytes).unwrap();
        let wanted: FxHashSet<KeyDigest> = [first, last, torn].into_iter().collect();
        let found = find_processed(dir.path(), keys.len() as u64 + 1, &wanted).unwrap();
        assert_eq!(found, [first, last].into_iter().collect());
    }

    proptest::proptest! {
        #[test]
        fn finds_exactly_the_committed_candidates(
            stored in proptest::collection::vec(0u16..400, 0..300),
            wanted in proptest::collection::vec(0u16..400, 1..40),
            committed in 0usize..320,
        ) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("history")).unwrap();
            let digest = |n: &u16| key_digest(&n.to_string());
            let stored: Vec<KeyDigest> = stored.iter().map(digest).collect();
            std::fs::write(dir.path().join(PROCESSED_FILE), stored.concat()).unwrap();
            let wanted: FxHashSet<KeyDigest> = wanted.iter().map(digest).collect();
            let expected: FxHashSet<KeyDigest> = stored
                .iter()
                .take(committed)
                .filter(|d| wanted.contains(*d))
                .copied()
                .collect();
            let found = find_processed(dir.path(), committed as u64, &wanted).unwrap();
            proptest::prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn digests_differ_for_keys_that_differ_only_in_their_separators() {
        assert_ne!(key_digest("a:b:c"), key_digest("a:b\u{0}c"));
        assert_eq!(key_digest("x"), key_digest("x"));
    }
}
