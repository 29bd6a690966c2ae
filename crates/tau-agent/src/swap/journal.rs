//! The swap journal: one small JSON file, replaced atomically before every step, removed when the
//! swap is over. It holds names, ids and image references only; env values never reach it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{StepName, SwapError};

const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    pub version: u32,
    pub container_name: String,
    pub temp_name: String,
    /// The container that ran under `container_name` when the swap began.
    pub old_id: Option<String>,
    pub old_image: Option<String>,
    pub new_image: String,
    /// The step about to be done (or being done) when the record was written.
    pub step: StepName,
}

impl Record {
    pub fn new(
        container_name: &str,
        temp_name: &str,
        old: Option<&tau_engine::Container>,
        new_image: &tau_engine::Reference,
    ) -> Record {
        Record {
            version: VERSION,
            container_name: container_name.to_owned(),
            temp_name: temp_name.to_owned(),
            old_id: old.map(|c| c.id.clone()),
            old_image: old.map(|c| c.image.clone()),
            new_image: new_image.to_string(),
            step: StepName::Create,
        }
    }
}

/// Durably records that `record.step` is about to happen.
pub(crate) fn write(path: &Path, record: &Record) -> Result<(), SwapError> {
    let bytes =
        serde_json::to_vec_pretty(record).map_err(|e| journal_error(path, e.to_string()))?;
    tau_durable::atomic::write(path, &bytes).map_err(|e| journal_error(path, e.to_string()))
}

/// The interrupted swap's record, `None` when no swap was interrupted.
pub(crate) fn read(path: &Path) -> Result<Option<Record>, SwapError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(journal_error(path, format!("cannot read: {e}"))),
    };
    let record: Record = serde_json::from_slice(&bytes).map_err(|e| {
        journal_error(
            path,
            format!("does not parse ({e}); expected the JSON record a swap writes. Inspect it, then move it aside"),
        )
    })?;
    if record.version != VERSION {
        return Err(journal_error(
            path,
            format!("field `version` is {}, expected {VERSION}", record.version),
        ));
    }
    Ok(Some(record))
}

/// Marks the swap over. The removal is made durable so a crash cannot bring the record back.
pub(crate) fn clear(path: &Path) -> Result<(), SwapError> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(journal_error(path, format!("cannot remove: {e}"))),
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tau_durable::atomic::sync_dir(dir).map_err(|e| journal_error(path, e.to_string()))
}

fn journal_error(path: &Path, message: String) -> SwapError {
    SwapError::Journal {
        path: path.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record::new(
            "app",
            "app.tau-next-1",
            None,
            &tau_engine::Reference::parse("r.io/app:v1").unwrap(),
        )
    }

    #[test]
    fn a_written_record_reads_back_and_clear_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swap.json");
        assert_eq!(read(&path).unwrap(), None);
        let mut r = record();
        r.step = StepName::StartNew;
        write(&path, &r).unwrap();
        assert_eq!(read(&path).unwrap(), Some(r));
        clear(&path).unwrap();
        assert_eq!(read(&path).unwrap(), None);
        clear(&path).unwrap();
    }

    #[test]
    fn a_corrupt_journal_is_an_error_naming_the_file_not_a_clean_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swap.json");
        std::fs::write(&path, b"{\"version\": 1, \"step\": ").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("swap.json"), "{e}");
        let mut r = serde_json::to_value(record()).unwrap();
        r["version"] = 7.into();
        std::fs::write(&path, r.to_string()).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("version"), "{e}");
    }
}
