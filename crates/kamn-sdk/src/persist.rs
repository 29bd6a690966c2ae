//! Writing a bootstrap report to disk and recording it in the deployment state dir.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tau_durable::lock::{DirLock, Wait};

use crate::{Error, InitReport};

/// The `state.json` key that holds the last bootstrapped identity.
pub const STATE_KEY: &str = "browser_did";

/// Where a report went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persisted {
    pub output_path: PathBuf,
    pub state_path: PathBuf,
}

#[derive(Serialize)]
struct StateRecord<'a> {
    schema_version: u32,
    runtime: &'a str,
    interoperability_profile: &'a str,
    #[serde(flatten)]
    identity: &'a kamn_core::Identity,
    output_path: String,
}

/// Writes `report` to `output` (pretty JSON, atomically), then records its identity, without
/// secrets, under `browser_did` in `<state_dir>/state.json`, holding the state-dir lock.
///
/// The order is what makes the record trustworthy: `state.json` is parsed first (a corrupt state
/// file stops the bootstrap before anything is written), the output file is written next, and
/// only once it is in place is the identity recorded. A failed output write leaves `state.json`
/// byte for byte as it was, so the state never names an identity whose file does not exist.
pub fn persist(
    report: &InitReport,
    output: &Path,
    state_dir: &Path,
    wait: Wait<'_>,
) -> Result<Persisted, Error> {
    let _lock = DirLock::acquire(state_dir, wait)?;
    let state_path = state_dir.join("state.json");
    let record = StateRecord {
        schema_version: report.schema_version,
        runtime: &report.runtime,
        interoperability_profile: &report.interoperability_profile,
        identity: &report.identity,
        output_path: output.display().to_string(),
    };
    let mut bytes = serde_json::to_vec_pretty(report).expect("report serializes");
    bytes.push(b'\n');
    // `update_key` runs the closure after state.json parsed and before it is rewritten; an output
    // failure is carried out of the closure so the caller sees the I/O error, not a state error.
    let mut output_error = None;
    let recorded = tau_durable::document::update_key(&state_path, STATE_KEY, |_| {
        match tau_durable::atomic::write(output, &bytes) {
            Ok(()) => Ok(&record),
            Err(e) => {
                output_error = Some(e);
                Err("the output file could not be written".into())
            }
        }
    });
    if let Some(e) = output_error {
        return Err(e.into());
    }
    recorded?;
    Ok(Persisted {
        output_path: output.to_path_buf(),
        state_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{init, InitRequest};

    fn report() -> InitReport {
        let request: InitRequest =
            serde_json::from_value(serde_json::json!({"entropy": "shh-secret"})).unwrap();
        init(&request).unwrap()
    }

    #[test]
    fn persisting_twice_gives_identical_files_and_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("browser-did.json");
        persist(&report(), &out, dir.path(), Wait::FailFast).unwrap();
        let first = std::fs::read(&out).unwrap();
        persist(&report(), &out, dir.path(), Wait::FailFast).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), first);
        for file in [&out, &dir.path().join("state.json")] {
            let text = std::fs::read_to_string(file).unwrap();
            assert!(!text.contains("shh-secret"), "{}", file.display());
        }
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
        assert_eq!(state[STATE_KEY]["did"], report().identity.did);
    }

    #[test]
    fn a_corrupt_state_file_stops_the_bootstrap_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("state.json"), "{oops").unwrap();
        let err = persist(
            &report(),
            &dir.path().join("o.json"),
            dir.path(),
            Wait::FailFast,
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not parse"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("state.json")).unwrap(),
            "{oops"
        );
        assert!(!dir.path().join("o.json").exists());
    }

    #[test]
    fn a_failed_output_write_leaves_state_json_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let before = br#"{"schema_version":1,"other":{"kept":true}}"#;
        std::fs::write(&state, before).unwrap();
        // A directory where the output file should go: the atomic rename over it fails.
        let output = dir.path().join("taken");
        std::fs::create_dir(&output).unwrap();
        std::fs::write(output.join("inside"), "x").unwrap();
        let err = persist(&report(), &output, dir.path(), Wait::FailFast).unwrap_err();
        assert!(
            matches!(err, Error::Durable(tau_durable::Error::Io { .. })),
            "{err:?}"
        );
        assert_eq!(std::fs::read(&state).unwrap(), before);
    }

    #[test]
    fn a_failed_output_write_creates_no_state_json() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, "file").unwrap();
        let output = blocker.join("browser-did.json");
        persist(&report(), &output, dir.path(), Wait::FailFast).unwrap_err();
        assert!(!dir.path().join("state.json").exists());
    }
}
