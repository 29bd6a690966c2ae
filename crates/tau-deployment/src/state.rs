//! `state.json`: what the deployment runtime remembers between runs.
//!
//! The file is shared. This module owns the runner's keys (`processed_case_keys`, `rollouts`,
//! `health`, `commit_generation`, `last_run`, `evidence_run`, `history_totals`) and writes only
//! those, through [`tau_durable::document`]; other commands (WASM packaging, DID bootstrap) own
//! other top-level keys such as `wasm_deliverables` and write them the same way. A key this module
//! does not own is never re-encoded: its text survives byte for byte, big integers included.
//!
//! `processed_case_keys` and `rollouts` are a bounded recent window in the runbook tool's shape;
//! everything older lives in the append-only [`crate::history`] files, and `history_totals`
//! carries the counts over all of it. A file without `history_totals` (written by the tool, or by
//! a tau before the history existed) holds its whole history inline; the next run moves it out.

use std::collections::VecDeque;
use std::fmt;
use std::path::Path;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::evidence::RunRecord;
use crate::sym::{self, Sym};
use crate::totals::Totals;
use crate::{Error, Result};

pub use crate::rollout::{rollout_order, RolloutRecord};

/// The state schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// At most this many rollouts stay inline in `state.json`; older ones are in the history.
pub const ROLLOUT_WINDOW: usize = 1000;

/// The whole `state.json`.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Bumped by every runner commit; ties the append journal and the events log to this file.
    pub commit_generation: u64,
    /// Most recent last; bounded by the processed-case cap. Older keys are in the history.
    pub processed_case_keys: VecDeque<Sym>,
    /// In [`rollout_order`]; the most recent [`ROLLOUT_WINDOW`] rollouts.
    pub rollouts: Vec<RolloutRecord>,
    /// Absent until the first run.
    pub health: Option<Health>,
    /// The last committed run.
    pub last_run: Option<RunRecord>,
    /// The last committed run that evaluated at least one case: what the gate judges.
    pub evidence_run: Option<RunRecord>,
    /// Counts over the whole history; `None` when the file holds its history inline.
    pub totals: Option<Totals>,
    /// Top-level keys owned by other commands, as their exact text, in file order.
    pub other: Vec<(String, Box<RawValue>)>,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        let same_other = self.other.len() == other.other.len()
            && self
                .other
                .iter()
                .zip(&other.other)
                .all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get());
        same_other
            && self.commit_generation == other.commit_generation
            && self.processed_case_keys == other.processed_case_keys
            && self.rollouts == other.rollouts
            && self.health == other.health
            && self.last_run == other.last_run
            && self.evidence_run == other.evidence_run
            && self.totals == other.totals
    }
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

fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            op: "read state file",
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn check_version(path: &Path, version: Option<u64>) -> Result<()> {
    let version = version.unwrap_or(u64::from(SCHEMA_VERSION));
    if version != u64::from(SCHEMA_VERSION) {
        return Err(Error::StateVersion {
            path: path.to_path_buf(),
            found: version,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(())
}

impl State {
    /// Reads `path`; a missing file is empty state, a file that does not parse is an error that
    /// leaves it untouched.
    pub fn load(path: &Path) -> Result<Self> {
        match read_bytes(path)? {
            Some(bytes) => Self::parse(&bytes, path),
            None => Ok(State::default()),
        }
    }

    /// Reads only the health snapshot of `path`, skipping the rollouts without building them: what
    /// a health endpoint polled every second needs. Missing file: `None`.
    pub fn read_health(path: &Path) -> Result<Option<Health>> {
        Ok(Self::read_gate_inputs(path)?.and_then(|g| g.health))
    }

    /// Reads what a gate decision needs (health and evidence) without building the rollouts.
    /// Missing file: `None`.
    pub fn read_gate_inputs(path: &Path) -> Result<Option<GateInputs>> {
        #[derive(Deserialize)]
        struct Only {
            schema_version: Option<u64>,
            #[serde(default)]
            health: Option<Health>,
            #[serde(default)]
            last_run: Option<RunRecord>,
            #[serde(default)]
            evidence_run: Option<RunRecord>,
        }
        let Some(bytes) = read_bytes(path)? else {
            return Ok(None);
        };
        let doc: Only = serde_json::from_slice(&bytes)
            .map_err(|e| tau_durable::Error::corrupt(path, e.to_string()))?;
        check_version(path, doc.schema_version)?;
        Ok(Some(GateInputs {
            health: doc.health,
            last_run: doc.last_run,
            evidence_run: doc.evidence_run,
        }))
    }

    /// Parses state bytes; `path` is only used to name the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let raw: Raw = sym::scope(|| serde_json::from_slice(bytes))
            .map_err(|e| tau_durable::Error::corrupt(path, e.to_string()))?;
        check_version(path, raw.schema_version)?;
        Ok(raw.state)
    }

    /// The exact text of a key owned by another command.
    pub fn other(&self, key: &str) -> Option<&RawValue> {
        self.other.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// Writes the keys this module owns atomically; every other key in the file keeps its text.
    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(self.stage(path)?.commit()?)
    }

    /// The first half of [`save`](Self::save): the new file written and fsynced beside `path`;
    /// committing it is what replaces the state.
    pub fn stage(&self, path: &Path) -> Result<tau_durable::atomic::Staged> {
        use tau_durable::document::Encode;
        let keys = KeysJson(&self.processed_case_keys);
        let mut entries: Vec<(&str, &dyn Encode)> = vec![
            ("schema_version", &SCHEMA_VERSION),
            ("commit_generation", &self.commit_generation),
            ("processed_case_keys", &keys),
            ("rollouts", &self.rollouts),
        ];
        if let Some(health) = &self.health {
            entries.push(("health", health));
        }
        if let Some(run) = &self.last_run {
            entries.push(("last_run", run));
        }
        if let Some(run) = &self.evidence_run {
            entries.push(("evidence_run", run));
        }
        if let Some(totals) = &self.totals {
            entries.push(("history_totals", totals));
        }
        Ok(tau_durable::document::stage_encoded(path, &entries)?)
    }

    /// Inserts or replaces rollouts, keeping the list in [`rollout_order`] and at most
    /// [`ROLLOUT_WINDOW`] long (the oldest by `updated_unix_ms` leave first; they are in the
    /// history already).
    pub fn upsert_rollouts(&mut self, mut new: Vec<RolloutRecord>) {
        if new.is_empty() {
            return;
        }
        if !new.is_sorted_by(|a, b| rollout_order(a, b).is_lt()) {
            new.sort_unstable_by(rollout_order);
            new.dedup_by(|a, b| a.case_key == b.case_key);
        }
        let old = std::mem::take(&mut self.rollouts);
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
        self.trim_rollouts();
    }

    /// Keeps the [`ROLLOUT_WINDOW`] most recent rollouts (by `updated_unix_ms`, then list order).
    pub fn trim_rollouts(&mut self) {
        let len = self.rollouts.len();
        if len <= ROLLOUT_WINDOW {
            return;
        }
        let mut by_age: Vec<usize> = (0..len).collect();
        by_age.sort_by_key(|&i| (self.rollouts[i].updated_unix_ms, i));
        let mut keep = vec![true; len];
        for &i in &by_age[..len - ROLLOUT_WINDOW] {
            keep[i] = false;
        }
        let mut flags = keep.into_iter();
        self.rollouts.retain(|_| flags.next().unwrap_or(false));
    }

    /// Records `keys` as processed in the window, keeping only the most recent `cap`.
    pub fn remember_processed(&mut self, keys: impl IntoIterator<Item = Sym>, cap: usize) {
        self.processed_case_keys.extend(keys);
        let excess = self.processed_case_keys.len().saturating_sub(cap);
        self.processed_case_keys.drain(..excess);
    }
}

/// What [`State::read_gate_inputs`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GateInputs {
    pub health: Option<Health>,
    pub last_run: Option<RunRecord>,
    pub evidence_run: Option<RunRecord>,
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
        if let Some(run) = &self.last_run {
            map.serialize_entry("last_run", run)?;
        }
        if let Some(run) = &self.evidence_run {
            map.serialize_entry("evidence_run", run)?;
        }
        if let Some(totals) = &self.totals {
            map.serialize_entry("history_totals", totals)?;
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
                        "last_run" => state.last_run = map.next_value()?,
                        "evidence_run" => state.evidence_run = map.next_value()?,
                        "history_totals" => state.totals = map.next_value()?,
                        _ => {
                            let value: Box<RawValue> = map.next_value()?;
                            if state.other.iter().any(|(k, _)| *k == key) {
                                return Err(de::Error::custom(format!("duplicate key {key:?}")));
                            }
                            state.other.push((key, value));
                        }
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(V)
    }
}

/// The processed-key window as the JSON array of strings `serde_json` writes for it, written by
/// the run's own line writer: at a 100,000-key window the serializer's piece-by-piece writes
/// through the file's writer were 8 ms of the commit, all of it on the path to `state.json`.
struct KeysJson<'a>(&'a VecDeque<Sym>);

impl tau_durable::document::Encode for KeysJson<'_> {
    fn encode_into(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        const FLUSH_AT: usize = 64 << 10;
        let mut buf = Vec::with_capacity(FLUSH_AT + 1024);
        buf.push(b'[');
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            crate::jsonl::string(&mut buf, key);
            if buf.len() >= FLUSH_AT {
                out.write_all(&buf).map_err(serde_json::Error::io)?;
                buf.clear();
            }
        }
        buf.push(b']');
        out.write_all(&buf).map_err(serde_json::Error::io)
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
