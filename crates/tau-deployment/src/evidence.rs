//! What a run's outcomes are evidence of, and what a status reader may demand of that evidence.
//!
//! The gate answers "may this change be promoted?". A healthy last run is not enough: the run must
//! be recent, must have applied something, must come from the fixture the reader is promoting, and
//! (when asked) must come from a live backend rather than the fixture's own expectations. These
//! types are the vocabulary the runner records and the status reader checks.

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

/// The digest that identifies a fixture: lower-case hex SHA-256 of its exact bytes.
pub fn fixture_digest(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
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
