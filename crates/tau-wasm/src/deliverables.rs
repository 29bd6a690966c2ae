//! The `wasm_deliverables` entries of `state.json`: one per (blueprint_id, runtime_profile).

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The `state.json` key this module owns.
pub const STATE_KEY: &str = "wasm_deliverables";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub schema_version: u32,
    pub blueprint_id: String,
    pub deploy_target: String,
    pub runtime_profile: String,
    pub constraint_profile_id: String,
    pub required_abi: String,
    pub required_feature_gates: Vec<String>,
    pub artifact_path: String,
    pub artifact_sha256: String,
    pub artifact_size_bytes: u64,
    pub manifest_path: String,
    pub generated_unix_ms: u64,
}

/// Upserts `entry` into `<state_dir>/state.json`, keeping every other key and entry. The caller
/// holds the state-dir lock.
pub fn record(state_dir: &Path, entry: &Entry) -> Result<(), tau_durable::Error> {
    let path = state_dir.join("state.json");
    tau_durable::document::update_key(&path, STATE_KEY, |current| {
        let mut entries: Vec<serde_json::Value> = match current {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| format!("expected a list of entries: {e}"))?,
            None => Vec::new(),
        };
        let key = |v: &serde_json::Value| {
            (
                v["blueprint_id"].as_str().unwrap_or_default().to_string(),
                v["runtime_profile"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        };
        let mine = (entry.blueprint_id.clone(), entry.runtime_profile.clone());
        entries.retain(|v| key(v) != mine);
        entries.push(serde_json::to_value(entry).expect("entry serializes"));
        entries.sort_by_key(key);
        Ok(entries)
    })
}
