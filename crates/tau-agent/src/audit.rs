//! The audit log: one JSON line per deploy attempt, hash-chained.
//!
//! Each record carries `seq` (1, 2, …) and `prev`, the SHA-256 of the previous line's exact bytes
//! (64 zeros for the first). Editing, removing or reordering a line breaks the chain at the next
//! one, and [`verify`] names the first line where it breaks. Records are appended with one write
//! and an fsync before the deploy's answer is sent, so an answered deploy is always on disk. No
//! secret is ever written: the request appears with its env KEYS only.
//!
//! A chain alone cannot vouch for its last line, nor notice trailing records cut off, so after
//! each append the agent also replaces `<log>.head` (atomically) with the record count and the
//! last line's hash; [`verify`] checks it when present. Someone able to rewrite both files can
//! still forge history: ship the log off the host for that.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::wire::{DeployRequest, StepReport};

/// `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The request as audited: everything but env values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditedRequest {
    pub container_name: String,
    pub image: String,
    pub environment: String,
    pub env_keys: Vec<String>,
    pub volumes: BTreeMap<String, String>,
}

impl AuditedRequest {
    pub fn of(request: &DeployRequest) -> Self {
        AuditedRequest {
            container_name: request.container_name.clone(),
            image: request.image.clone(),
            environment: request.environment.as_str().to_string(),
            env_keys: request.env.keys().cloned().collect(),
            volumes: request.volumes.clone(),
        }
    }
}

/// What happened to one deploy attempt, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at_unix_ms: u64,
    /// The service token's client id, or the Access JWT's subject.
    pub who: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key_sha256: Option<String>,
    /// `None` when the body could not be read as a deploy request.
    pub request: Option<AuditedRequest>,
    /// `deployed`, `refused` or `failed`.
    pub result: String,
    pub http_status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<bool>,
    pub steps: Vec<StepReport>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    seq: u64,
    prev: String,
    #[serde(flatten)]
    entry: Entry,
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The appending end of an audit log. One per agent process; callers serialize through a mutex.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    next_seq: u64,
    prev: String,
}

impl AuditLog {
    /// Opens (or creates) the log, verifying the existing chain first: an agent never extends a
    /// log that was tampered with, because the new records would lend it credibility.
    pub fn open(path: &Path) -> Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create audit dir", dir, e))?;
        }
        let summary = if path.exists() {
            verify(path)?
        } else {
            Summary {
                records: 0,
                last_hash: GENESIS.to_string(),
            }
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io("open audit log", path, e))?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            next_seq: summary.records + 1,
            prev: summary.last_hash,
        })
    }

    /// Appends one record durably (one write, then fsync).
    pub fn append(&mut self, entry: Entry) -> Result<()> {
        let record = Record {
            seq: self.next_seq,
            prev: self.prev.clone(),
            entry,
        };
        let mut line = serde_json::to_vec(&record).expect("audit records serialize");
        let hash = sha256_hex(&line);
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io("append to audit log", &self.path, e))?;
        let head = Head {
            records: self.next_seq,
            last_hash: hash.clone(),
        };
        let head_path = head_path(&self.path);
        tau_durable::atomic::write(
            &head_path,
            &serde_json::to_vec(&head).expect("audit head serializes"),
        )?;
        self.next_seq += 1;
        self.prev = hash;
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    records: u64,
    last_hash: String,
}

fn head_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    PathBuf::from(name)
}

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    /// SHA-256 of the last line (the `prev` the next record must carry).
    pub last_hash: String,
}

/// Checks the whole chain; the error names the first line that is tampered, missing (a gap in
/// `seq`), out of order, or torn.
pub fn verify(path: &Path) -> Result<Summary> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read audit log", path, e))?;
    let bad = |line: usize, message: String| Error::Audit {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut prev = GENESIS.to_string();
    let mut records = 0u64;
    let mut rest: &[u8] = &bytes;
    let mut number = 0usize;
    while !rest.is_empty() {
        number += 1;
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(bad(
                number,
                "the last record has no newline: it is torn (a write was cut off) or was edited"
                    .into(),
            ));
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        let record: Record = serde_json::from_slice(line)
            .map_err(|e| bad(number, format!("not an audit record ({e})")))?;
        let expected_seq = records + 1;
        if record.seq != expected_seq {
            return Err(bad(
                number,
                if record.seq > expected_seq {
                    format!(
                        "seq {} where {expected_seq} was expected: record(s) {expected_seq}..{} are missing",
                        record.seq,
                        record.seq - 1
                    )
                } else {
                    format!(
                        "seq {} where {expected_seq} was expected: a record was duplicated or reordered",
                        record.seq
                    )
                },
            ));
        }
        if record.prev != prev {
            return Err(bad(
                number,
                format!(
                    "prev hash does not match the SHA-256 of line {}: that line was edited, or a record before this one was removed",
                    number.saturating_sub(1)
                ),
            ));
        }
        prev = sha256_hex(line);
        records += 1;
    }
    check_head(path, records, &prev)?;
    Ok(Summary {
        records,
        last_hash: prev,
    })
}

fn check_head(path: &Path, records: u64, last_hash: &str) -> Result<()> {
    let head_file = head_path(path);
    let bytes = match std::fs::read(&head_file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read audit head", &head_file, e)),
    };
    let bad = |line: usize, message: String| Error::Audit {
        path: path.to_path_buf(),
        line,
        message,
    };
    let head: Head = serde_json::from_slice(&bytes).map_err(|e| {
        bad(
            0,
            format!("head file {} does not parse ({e})", head_file.display()),
        )
    })?;
    let last_line = usize::try_from(records).unwrap_or(usize::MAX);
    if head.records > records {
        return Err(bad(
            last_line + 1,
            format!(
                "the log ends at record {records} but its head file says {}: record {} onwards is missing",
                head.records,
                records + 1
            ),
        ));
    }
    if head.records == records && head.last_hash != last_hash {
        return Err(bad(
            last_line,
            "the last record does not match the SHA-256 in the head file: it was edited".into(),
        ));
    }
    // More records than the head knows: an agent killed between the append and the head update.
    Ok(())
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
