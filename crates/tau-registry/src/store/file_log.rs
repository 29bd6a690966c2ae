//! The embedded store's history: one append-only JSON Lines log per agent
//! (`history/<agent id>.jsonl`). A new row is one line; a status change is one more line naming
//! the row, so recording a tag or moving a rollout costs one append whatever the history's size.
//!
//! Queries read the log backwards: a row's status changes always come after the row, so walking
//! from the end sees a row's latest status before the row itself, and "newest N" stops after N
//! rows.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
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

/// Walks `path` (missing = empty) newest first, giving each row with its current status to
/// `visit` until it returns `false`. `quick` is a substring a row line must contain to be worth
/// parsing (`None` parses all). The log is read backwards in chunks, so "newest N" reads only the
/// tail of a long history.
pub(super) fn walk_back(
    path: &Path,
    quick: Option<&str>,
    mut visit: impl FnMut(ImageTagHistory) -> bool,
) -> Result<()> {
    const CHUNK: u64 = 256 * 1024;
    let corrupt = |message: String| Error::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(corrupt(format!("cannot read: {e}"))),
    };
    let mut pos = file
        .metadata()
        .map_err(|e| corrupt(format!("cannot read: {e}")))?
        .len();
    let mut latest: HashMap<String, RolloutStatus> = HashMap::new();
    // The start of a line whose end was in the chunk read before (later in the file).
    let mut carry: Vec<u8> = Vec::new();
    while pos > 0 {
        let start = pos.saturating_sub(CHUNK);
        let mut buf = vec![0u8; (pos - start) as usize];
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|e| corrupt(format!("cannot read: {e}")))?;
        buf.extend_from_slice(&carry);
        let body = if start > 0 {
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    carry = buf[..i].to_vec();
                    &buf[i + 1..]
                }
                None => {
                    carry = buf;
                    pos = start;
                    continue;
                }
            }
        } else {
            &buf[..]
        };
        for line in body.rsplit(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let line = std::str::from_utf8(line)
                .map_err(|_| corrupt(format!("a line before byte {pos} is not UTF-8")))?;
            let is_status = line.starts_with("{\"status\"");
            if !is_status && quick.is_some_and(|q| !line.contains(q)) {
                continue;
            }
            let parsed: Line = serde_json::from_str(line)
                .map_err(|e| corrupt(format!("a line before byte {pos}: {e}")))?;
            match parsed {
                Line::Status(s) => {
                    latest.entry(s.id).or_insert(s.rollout_status);
                }
                Line::Row(mut row) => {
                    if let Some(status) = latest.remove(&row.id) {
                        row.rollout_status = status;
                    }
                    if !visit(row) {
                        return Ok(());
                    }
                }
            }
        }
        pos = start;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize) -> ImageTagHistory {
        ImageTagHistory {
            id: format!("id-{i}"),
            agent_id: "a".into(),
            tag: format!("v1.0.{i}"),
            digest: None,
            built_by: Some("x".repeat(i % 300)),
            built_at: None,
            changelog_url: None,
            rollout_status: RolloutStatus::Staged,
            trace_id: "t".into(),
        }
    }

    #[test]
    fn walking_back_across_chunk_boundaries_sees_every_row_once_with_its_latest_status() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut buf = Vec::new();
        let n = 5000;
        for i in 0..n {
            encode(&Line::Row(row(i)), &mut buf);
            if i % 7 == 0 {
                encode(
                    &Line::Status(StatusChange {
                        id: format!("id-{i}"),
                        rollout_status: RolloutStatus::Failed,
                    }),
                    &mut buf,
                );
                encode(
                    &Line::Status(StatusChange {
                        id: format!("id-{i}"),
                        rollout_status: RolloutStatus::Active,
                    }),
                    &mut buf,
                );
            }
        }
        assert!(
            buf.len() as u64 > 3 * 256 * 1024,
            "the log spans several chunks"
        );
        std::fs::write(&path, &buf).unwrap();
        let mut seen = Vec::new();
        walk_back(&path, None, |r| {
            seen.push(r);
            true
        })
        .unwrap();
        assert_eq!(seen.len(), n);
        for (k, r) in seen.iter().enumerate() {
            let i = n - 1 - k;
            assert_eq!(r.id, format!("id-{i}"));
            let want = if i % 7 == 0 {
                RolloutStatus::Active
            } else {
                RolloutStatus::Staged
            };
            assert_eq!(r.rollout_status, want, "{}", r.id);
        }
        let mut first = Vec::new();
        walk_back(&path, None, |r| {
            first.push(r.tag);
            first.len() < 3
        })
        .unwrap();
        assert_eq!(
            first,
            [
                format!("v1.0.{}", n - 1),
                format!("v1.0.{}", n - 2),
                format!("v1.0.{}", n - 3)
            ]
        );
    }
}
