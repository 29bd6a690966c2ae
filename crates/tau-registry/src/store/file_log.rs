//! The embedded store's history: one append-only JSON Lines log per agent
//! (`history/<agent id>.jsonl`). A new row is one line; a status change is one more line naming
//! the row, so recording a tag or moving a rollout costs one append whatever the history's size.
//!
//! Queries read the log backwards: a row's status changes always come after the row, so walking
//! from the end sees a row's latest status before the row itself, and "newest N" stops after N
//! rows.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{ImageTagHistory, RolloutStatus};
use crate::{Error, Result};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Line {
    Row(ImageTagHistory),
    Status(StatusChange),
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StatusChange {
    pub id: String,
    pub rollout_status: RolloutStatus,
}

pub(super) fn encode(line: &Line, buf: &mut Vec<u8>) {
    serde_json::to_writer(&mut *buf, line).expect("history lines serialize");
    buf.push(b'\n');
}

/// Reads `path` (missing = empty) and walks it newest first, giving each row with its current
/// status to `visit` until it returns `false`. `quick` is a substring a row line must contain to
/// be worth parsing (`None` parses all).
pub(super) fn walk_back(
    path: &Path,
    quick: Option<&str>,
    mut visit: impl FnMut(ImageTagHistory) -> bool,
) -> Result<()> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                message: format!("cannot read: {e}"),
            })
        }
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        message: format!("not UTF-8 at byte {}", e.valid_up_to()),
    })?;
    let total = text.lines().count();
    let mut latest: HashMap<String, RolloutStatus> = HashMap::new();
    for (back, line) in text.lines().rev().enumerate() {
        if line.is_empty() {
            continue;
        }
        let is_status = line.starts_with("{\"status\"");
        if !is_status && quick.is_some_and(|q| !line.contains(q)) {
            continue;
        }
        let parsed: Line = serde_json::from_str(line).map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            message: format!("line {}: {e}", total - back),
        })?;
        match parsed {
            Line::Status(s) => {
                latest.entry(s.id).or_insert(s.rollout_status);
            }
            Line::Row(mut row) => {
                if let Some(status) = latest.remove(&row.id) {
                    row.rollout_status = status;
                }
                if !visit(row) {
                    break;
                }
            }
        }
    }
    Ok(())
}
