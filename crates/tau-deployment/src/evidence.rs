//! What a run's outcomes are evidence of, and what a status reader may demand of that evidence.
//!
//! The gate answers "may this change be promoted?". A healthy last run is not enough: the run must
//! be recent, must have applied something, must come from the fixture the reader is promoting, and
//! (when asked) must come from a live backend rather than the fixture's own expectations. These
//! types are the vocabulary the runner records and the status reader checks.

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Evidence older than this holds the gate with `state_stale` unless the reader says otherwise
/// (`0` disables the check). One hour: CI reads the gate right after the run that produced it.
pub const DEFAULT_MAX_AGE_MS: u64 = 60 * 60 * 1000;

/// Which driver produced a run's outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DriverKind {
    /// The fixture's own expectations decided the outcomes; nothing was deployed.
    #[serde(rename = "simulated")]
    Simulated,
    /// A running Deploy Agent carried out each case on a real container engine.
    #[serde(rename = "deploy-agent")]
    DeployAgent,
}

impl DriverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriverKind::Simulated => "simulated",
            DriverKind::DeployAgent => "deploy-agent",
        }
    }

    /// Whether outcomes came from a real backend.
    pub fn is_live(self) -> bool {
        !matches!(self, DriverKind::Simulated)
    }
}

/// What a status reader requires of the evidence beyond a healthy last run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Hold with `state_stale` when the evidence is older than this. `None` means
    /// [`DEFAULT_MAX_AGE_MS`]; `Some(0)` disables the check.
    pub max_age_ms: Option<u64>,
    /// Hold with `fixture_mismatch` unless the evidence came from a fixture whose bytes have this
    /// SHA-256 ([`fixture_digest`]).
    pub fixture_sha256: Option<String>,
    /// Hold with `simulated_evidence` unless the evidence came from a live driver.
    pub require_live: bool,
}

/// What one committed run was, recorded in `state.json` with the commit that accounts for it.
///
/// Outcomes alone do not say what they are evidence of; this record does: which fixture (by
/// digest), which driver, when, and how much of the fixture the run actually evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The commit generation of the run: unique and increasing within one state dir.
    pub run_id: u64,
    pub started_unix_ms: u64,
    pub finished_unix_ms: u64,
    pub driver: DriverKind,
    /// [`fixture_digest`] of the fixture file the run replayed.
    pub fixture_sha256: String,
    pub cases_discovered: u64,
    /// Cases this run handed to the driver and judged (deduplicated and deferred cases excluded).
    pub cases_evaluated: u64,
    /// Cases deployed this run (a rollout was recorded).
    pub cases_applied: u64,
    /// Cases that ended this run failed: retries exhausted or contract broken.
    pub cases_failed: u64,
}

impl RunRecord {
    /// Whether the run is new evidence: it applied at least one case. A run that only skipped
    /// duplicates, or whose every case was refused, deployed nothing the gate could vouch for.
    pub fn is_evidence(&self) -> bool {
        self.cases_applied > 0
    }

    /// Whether the run judged any case at all. Only such a run says something about health: a
    /// run of duplicates must not reset the failure streak or the queue depth of the runs before.
    pub fn evaluated_cases(&self) -> bool {
        self.cases_evaluated > 0
    }

    /// Milliseconds from the end of the run to `now_ms` (0 for a clock that went backwards).
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.finished_unix_ms)
    }
}

/// The digest that identifies a fixture: lower-case hex SHA-256 of its exact bytes.
pub fn fixture_digest(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes).into())
}

/// Lower-case hex of a SHA-256 value.
pub(crate) fn hex(digest: [u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// A fixture's [`fixture_digest`], known already or still being computed by a thread of its own.
///
/// A fixture loaded from a file is hashed by a thread of its own beside its parse, so the parse
/// never waits for the hash; [`FixtureDigest::get`] waits for it (a runner asks when it records
/// the run). Clones share the one computation.
#[derive(Clone, Default)]
pub struct FixtureDigest(Arc<Slot>);

#[derive(Default)]
struct Slot {
    hex: OnceLock<String>,
    pending: Mutex<Option<JoinHandle<[u8; 32]>>>,
}

impl FixtureDigest {
    /// A digest already computed: `hex` is lower-case hex.
    pub fn ready(hex: String) -> Self {
        let slot = Slot::default();
        let _ = slot.hex.set(hex);
        FixtureDigest(Arc::new(slot))
    }

    /// The digest `thread` returns once it has hashed every byte.
    pub(crate) fn pending(thread: JoinHandle<[u8; 32]>) -> Self {
        FixtureDigest(Arc::new(Slot {
            hex: OnceLock::new(),
            pending: Mutex::new(Some(thread)),
        }))
    }

    /// The lower-case hex digest, waiting for the hashing thread if it is still at work. A panic
    /// of that thread (it only hashes) is resumed here.
    pub fn get(&self) -> &str {
        self.0.hex.get_or_init(|| {
            let thread = self
                .0
                .pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take();
            match thread.map(JoinHandle::join) {
                Some(Ok(digest)) => hex(digest),
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => String::new(),
            }
        })
    }
}

impl std::fmt::Debug for FixtureDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.hex.get() {
            Some(hex) => f.write_str(hex),
            None => f.write_str("<being computed>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_digest_is_lower_hex_sha256_of_the_bytes() {
        assert_eq!(
            fixture_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_the_simulated_driver_is_not_live() {
        assert!(!DriverKind::Simulated.is_live());
        assert!(DriverKind::DeployAgent.is_live());
        assert_eq!(
            serde_json::to_string(&DriverKind::Simulated).unwrap(),
            "\"simulated\""
        );
    }
}
