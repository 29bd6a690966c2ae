//! `state.json`: what the deployment runtime remembers between runs.
//!
//! The file is shared. The runner owns `processed_case_keys`, `rollouts`, `health` and
//! `commit_generation`; other commands (WASM packaging, DID bootstrap) own other top-level keys such
//! as `wasm_deliverables`. Every writer keeps the keys it does not own exactly as it found them,
//! which is why unknown keys are carried in [`State::other`] rather than dropped.

use std::collections::VecDeque;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::driver::{ErrorCode, Outcome, Strategy};
use crate::sym::{self, Sym};
use crate::{Error, Result};

/// The state schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole `state.json`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// Bumped by every runner commit; ties the append journal to this file.
    pub commit_generation: u64,
    /// Most recent last; bounded by the processed-case cap.
    pub processed_case_keys: VecDeque<Sym>,
    /// In [`rollout_order`], one per case key, so the file lists rollouts in a stable order.
    pub rollouts: Vec<RolloutRecord>,
    /// Absent until the first run.
    pub health: Option<Health>,
    /// Top-level keys owned by other commands, preserved verbatim.
    pub other: Map<String, Value>,
}

/// One applied case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutRecord {
    #[serde(deserialize_with = "sym::unique")]
    pub case_key: Sym,
    #[serde(deserialize_with = "sym::unique")]
    pub case_id: Sym,
    pub deploy_target: Sym,
    pub runtime_profile: Sym,
    pub blueprint_id: Sym,
    pub environment: Sym,
    pub region: Sym,
    pub artifact: Sym,
    pub artifact_sha256: Option<Sym>,
    pub artifact_size_bytes: Option<u64>,
    pub artifact_manifest: Option<Sym>,
    /// Shared: every rollout of one runtime profile carries the same constraints.
    pub runtime_constraints: Option<Arc<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_verified: Option<bool>,
    pub replicas: u16,
    pub rollout_strategy: Strategy,
    pub status_code: u16,
    pub outcome: Outcome,
    /// Serialized as `""` when absent, as the runbook's consumers expect.
    #[serde(with = "error_code_text")]
    pub error_code: Option<ErrorCode>,
    pub updated_unix_ms: u64,
}

/// The health snapshot of the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Health {
    pub updated_unix_ms: u64,
    pub cycle_duration_ms: u64,
    pub queue_depth: u64,
    pub active_runs: u64,
    pub failure_streak: u64,
    pub last_cycle_discovered: u64,
    pub last_cycle_processed: u64,
    pub last_cycle_completed: u64,
    pub last_cycle_failed: u64,
    pub last_cycle_duplicates: u64,
}

/// Rollouts are listed by case id, then case key: the order in which a run queues cases, so a
/// run's new rollouts merge into the list without sorting.
pub fn rollout_order(a: &RolloutRecord, b: &RolloutRecord) -> std::cmp::Ordering {
    (&a.case_id, &a.case_key).cmp(&(&b.case_id, &b.case_key))
}

mod error_code_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::driver::ErrorCode;

    pub fn serialize<S: Serializer>(code: &Option<ErrorCode>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(code.map_or("", ErrorCode::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorCode>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        ErrorCode::parse(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error_code {text:?}")))
    }
}

impl State {
    /// Reads `path`; a missing file is empty state, a file that does not parse is an error that
    /// leaves it untouched.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(source) => {
                return Err(Error::Io {
                    op: "read state file",
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Self::parse(&bytes, path)
    }

    /// Reads only the health snapshot of `path`, skipping the rollouts without building them: what
    /// a health endpoint polled every second needs. Missing file: `None`.
    pub fn read_health(path: &Path) -> Result<Option<Health>> {
        #[derive(Deserialize)]
        struct HealthOnly {
            schema_version: Option<u64>,
            #[serde(default)]
            health: Option<Health>,
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    op: "read state file",
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let doc: HealthOnly = serde_json::from_slice(&bytes)
            .map_err(|e| tau_durable::Error::corrupt(path, e.to_string()))?;
        let version = doc.schema_version.unwrap_or(u64::from(SCHEMA_VERSION));
        if version != u64::from(SCHEMA_VERSION) {
            return Err(Error::StateVersion {
                path: path.to_path_buf(),
                found: version,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(doc.health)
    }

    /// Parses state bytes; `path` is only used to name the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let raw: Raw = sym::scope(|| serde_json::from_slice(bytes))
            .map_err(|e| tau_durable::Error::corrupt(path, e.to_string()))?;
        let version = raw.schema_version.unwrap_or(u64::from(SCHEMA_VERSION));
        if version != u64::from(SCHEMA_VERSION) {
            return Err(Error::StateVersion {
                path: path.to_path_buf(),
                found: version,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(raw.state)
    }

    /// Writes the state atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        tau_durable::atomic::write_with(path, |w| {
            serde_json::to_writer(&mut *w, self).map_err(|e| Error::Io {
                op: "serialize state file",
                path: path.to_path_buf(),
                source: e.into(),
            })?;
            std::io::Write::write_all(w, b"\n").map_err(|source| Error::Io {
                op: "write state file",
                path: path.to_path_buf(),
                source,
            })
        })
    }

    /// Inserts or replaces rollouts, keeping the list in [`rollout_order`]. A run produces its
    /// rollouts in queue order, which already is that order, so the merge is linear.
    pub fn upsert_rollouts(&mut self, mut new: Vec<RolloutRecord>) {
        if new.is_empty() {
            return;
        }
        if !new.is_sorted_by(|a, b| rollout_order(a, b).is_lt()) {
            new.sort_unstable_by(rollout_order);
            new.dedup_by(|a, b| a.case_key == b.case_key);
        }
        let old = std::mem::take(&mut self.rollouts);
        if old.is_empty() {
            self.rollouts = new;
            return;
        }
        let mut merged = Vec::with_capacity(old.len() + new.len());
        let mut old = old.into_iter().peekable();
        let mut new = new.into_iter().peekable();
        loop {
            let take_new = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(o), Some(n)) => match rollout_order(o, n) {
                    std::cmp::Ordering::Equal => {
                        old.next();
                        true
                    }
                    order => order.is_gt(),
                },
            };
            let next = if take_new { new.next() } else { old.next() };
            merged.extend(next);
        }
        self.rollouts = merged;
    }

    /// Records `keys` as processed, keeping only the most recent `cap`.
    pub fn remember_processed(&mut self, keys: impl IntoIterator<Item = Sym>, cap: usize) {
        self.processed_case_keys.extend(keys);
        let excess = self.processed_case_keys.len().saturating_sub(cap);
        self.processed_case_keys.drain(..excess);
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        map.serialize_entry("commit_generation", &self.commit_generation)?;
        map.serialize_entry("processed_case_keys", &self.processed_case_keys)?;
        map.serialize_entry("rollouts", &self.rollouts)?;
        if let Some(health) = &self.health {
            map.serialize_entry("health", health)?;
        }
        for (key, value) in &self.other {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A case key: unique per case, so never interned.
struct UniqueSym(Sym);

impl<'de> Deserialize<'de> for UniqueSym {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        sym::unique(d).map(UniqueSym)
    }
}

/// The file as read, before the schema check.
struct Raw {
    schema_version: Option<u64>,
    state: State,
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Raw, A::Error> {
                let mut raw = Raw {
                    schema_version: None,
                    state: State::default(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    let state = &mut raw.state;
                    match key.as_str() {
                        "schema_version" => raw.schema_version = Some(map.next_value()?),
                        "commit_generation" => state.commit_generation = map.next_value()?,
                        "processed_case_keys" => {
                            let keys: Vec<UniqueSym> = map.next_value()?;
                            state.processed_case_keys = keys.into_iter().map(|k| k.0).collect();
                        }
                        "rollouts" => {
                            let mut list: Vec<RolloutRecord> = map.next_value()?;
                            // Written in order; a hand-edited file is put back in order.
                            if !list.is_sorted_by(|a, b| rollout_order(a, b).is_lt()) {
                                list.sort_by(rollout_order);
                                list.dedup_by(|a, b| a.case_key == b.case_key);
                            }
                            state.rollouts = list;
                        }
                        "health" => state.health = map.next_value()?,
                        _ => {
                            let value: Value = map.next_value()?;
                            if state.other.insert(key.clone(), value).is_some() {
                                return Err(de::Error::custom(format!("duplicate key {key:?}")));
                            }
                        }
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_owned_by_other_commands_survive_a_round_trip() {
        let text = br#"{"schema_version":1,"wasm_deliverables":[{"blueprint_id":"edge-wasm"}],"browser_did":{"did":"did:key:z6Mk"}}"#;
        let state = State::parse(text, Path::new("state.json")).unwrap();
        let again: Value = serde_json::to_value(&state).unwrap();
        assert_eq!(again["wasm_deliverables"][0]["blueprint_id"], "edge-wasm");
        assert_eq!(again["browser_did"]["did"], "did:key:z6Mk");
    }

    #[test]
    fn serialization_is_byte_stable() {
        let text = br#"{"zeta":1,"alpha":2,"schema_version":1,"processed_case_keys":["a","b"]}"#;
        let state = State::parse(text, Path::new("state.json")).unwrap();
        let once = serde_json::to_vec(&state).unwrap();
        let twice =
            serde_json::to_vec(&State::parse(&once, Path::new("state.json")).unwrap()).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn unparsable_state_names_the_file_and_the_way_out() {
        let err = State::parse(b"{\"rollouts\": [", Path::new("/x/state.json")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("/x/state.json"), "{message}");
        assert!(
            message.contains("mv /x/state.json /x/state.json.corrupt"),
            "{message}"
        );
    }

    #[test]
    fn health_is_read_without_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(State::read_health(&path).unwrap(), None);
        std::fs::write(&path, br#"{"schema_version":1,"rollouts":[{"x":1}],"health":{"updated_unix_ms":5,"cycle_duration_ms":0,"queue_depth":2,"active_runs":0,"failure_streak":1,"last_cycle_discovered":0,"last_cycle_processed":0,"last_cycle_completed":0,"last_cycle_failed":0,"last_cycle_duplicates":0}}"#).unwrap();
        let health = State::read_health(&path).unwrap().unwrap();
        assert_eq!((health.queue_depth, health.failure_streak), (2, 1));
        std::fs::write(&path, b"{broken").unwrap();
        assert!(matches!(
            State::read_health(&path),
            Err(Error::Durable(tau_durable::Error::Document { .. }))
        ));
    }

    #[test]
    fn future_schema_is_refused() {
        let err = State::parse(b"{\"schema_version\":2}", Path::new("state.json")).unwrap_err();
        assert!(matches!(err, Error::StateVersion { found: 2, .. }));
    }

    #[test]
    fn processed_keys_keep_the_most_recent_cap() {
        let mut state = State::default();
        state.remember_processed(["a", "b", "c"].map(Sym::from), 5);
        state.remember_processed(["d", "e", "f"].map(Sym::from), 4);
        assert_eq!(
            Vec::from(state.processed_case_keys),
            ["c", "d", "e", "f"].map(Sym::from)
        );
    }
}
