//! `runtime-events.jsonl`: one line per run, rotated by size.
//!
//! The log is append-only and read by the status command. Reading streams line by line over the
//! rotated files (oldest first) so memory stays flat however long the history is; a line that does
//! not parse is counted, never fatal, because a torn or hand-edited line must not hide the gate.
//!
//! A run appends its line before it commits `state.json` (the journal undoes the line if the run
//! dies in between), so a reader that does not hold the lock can meet the line of a run that has
//! not committed, or never will. Each line carries the generation of the commit that accounts for
//! it, and a reader counts only lines whose generation is committed in the `state.json` it read.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cycle::Counts;
use crate::health::HealthState;
use crate::{Error, Result};

/// The events file name inside the state dir.
pub const FILE: &str = "runtime-events.jsonl";

/// Why a run looked the way it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    HealthyCycle,
    QueueBackpressureApplied,
    DuplicateCasesSkipped,
    MalformedInputsObserved,
    RetryAttempted,
    RetryableFailuresObserved,
    CaseProcessingFailed,
    ContractExpectationMismatch,
    CloudRolloutApplied,
    WasmRolloutApplied,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::HealthyCycle => "healthy_cycle",
            ReasonCode::QueueBackpressureApplied => "queue_backpressure_applied",
            ReasonCode::DuplicateCasesSkipped => "duplicate_cases_skipped",
            ReasonCode::MalformedInputsObserved => "malformed_inputs_observed",
            ReasonCode::RetryAttempted => "retry_attempted",
            ReasonCode::RetryableFailuresObserved => "retryable_failures_observed",
            ReasonCode::CaseProcessingFailed => "case_processing_failed",
            ReasonCode::ContractExpectationMismatch => "contract_expectation_mismatch",
            ReasonCode::CloudRolloutApplied => "cloud_rollout_applied",
            ReasonCode::WasmRolloutApplied => "wasm_rollout_applied",
        }
    }

    /// The codes a run's counters call for; `healthy_cycle` only when no other applies.
    pub fn for_counts(c: &Counts) -> Vec<ReasonCode> {
        let mut codes = Vec::new();
        let mut when = |cond: bool, code| {
            if cond {
                codes.push(code)
            }
        };
        when(c.backlog > 0, ReasonCode::QueueBackpressureApplied);
        when(c.duplicate_skips > 0, ReasonCode::DuplicateCasesSkipped);
        when(c.malformed > 0, ReasonCode::MalformedInputsObserved);
        when(c.retry_attempts > 0, ReasonCode::RetryAttempted);
        when(
            c.retryable_failures > 0,
            ReasonCode::RetryableFailuresObserved,
        );
        when(c.failed > 0, ReasonCode::CaseProcessingFailed);
        when(
            c.contract_mismatches > 0,
            ReasonCode::ContractExpectationMismatch,
        );
        when(c.cloud_rollouts > 0, ReasonCode::CloudRolloutApplied);
        when(c.wasm_rollouts > 0, ReasonCode::WasmRolloutApplied);
        if codes.is_empty() {
            codes.push(ReasonCode::HealthyCycle);
        }
        codes
    }
}

/// One line of `runtime-events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleReport {
    pub timestamp_unix_ms: u64,
    /// The `state.json` commit that accounts for this line; 0 in lines written before it was
    /// recorded, which are all committed.
    #[serde(default)]
    pub commit_generation: u64,
    pub health_state: HealthState,
    pub health_reason: String,
    pub reason_codes: Vec<String>,
    pub discovered_cases: u64,
    pub queued_cases: u64,
    pub applied_cases: u64,
    pub duplicate_skips: u64,
    pub malformed_cases: u64,
    pub retryable_failures: u64,
    pub retry_attempts: u64,
    pub failed_cases: u64,
    #[serde(default)]
    pub contract_mismatches: u64,
    pub upserted_rollouts: u64,
    pub wasm_rollouts: u64,
    pub cloud_rollouts: u64,
    pub backlog_cases: u64,
    pub failure_streak: u64,
}

/// Size-based rotation: `runtime-events.jsonl.1` is the newest rotated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub max_bytes: u64,
    pub max_files: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            max_bytes: 10 * 1024 * 1024,
            max_files: 5,
        }
    }
}

fn rotated(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{FILE}.{n}"))
}

/// Rotates the events file once it has reached the size limit. Runs after a commit, when the file
/// holds only committed lines; a crash halfway leaves a gap in numbering, never lost lines.
pub fn rotate_if_needed(dir: &Path, rotation: Rotation) -> Result<bool> {
    let active = dir.join(FILE);
    let len = match fs::metadata(&active) {
        Ok(meta) => meta.len(),
        Err(_) => return Ok(false),
    };
    if len < rotation.max_bytes {
        return Ok(false);
    }
    let io = |op, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { op, path, source }
    };
    let oldest = rotated(dir, rotation.max_files);
    if oldest.exists() {
        fs::remove_file(&oldest).map_err(io("remove oldest rotated events file", &oldest))?;
    }
    for n in (1..rotation.max_files).rev() {
        let from = rotated(dir, n);
        if from.exists() {
            let to = rotated(dir, n + 1);
            fs::rename(&from, &to).map_err(io("rotate events file", &from))?;
        }
    }
    fs::rename(&active, rotated(dir, 1)).map_err(io("rotate events file", &active))?;
    tau_durable::atomic::sync_dir(dir)?;
    Ok(true)
}

/// What a streaming read of the whole events history found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct History {
    /// Whether the active events file exists.
    pub events_log_present: bool,
    pub cycle_reports: u64,
    pub invalid_cycle_reports: u64,
    pub last_reason_codes: Vec<String>,
    pub reason_code_counts: BTreeMap<String, u64>,
}

/// Streams every events file in `dir`, oldest first, counting only lines committed at or before
/// `committed_generation` (the generation of the `state.json` the caller read).
pub fn read_history(dir: &Path, committed_generation: u64) -> Result<History> {
    let mut files: Vec<(u32, PathBuf)> = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_prefix(FILE)
                .and_then(|rest| rest.strip_prefix('.'))
                .and_then(|n| n.parse::<u32>().ok())
            {
                files.push((n, entry.path()));
            }
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    files.push((0, dir.join(FILE)));
    let mut history = History {
        events_log_present: dir.join(FILE).is_file(),
        ..History::default()
    };
    for (_, path) in files {
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(Error::Io {
                    op: "read events file",
                    path,
                    source,
                })
            }
        };
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|source| Error::Io {
                    op: "read events file",
                    path: path.clone(),
                    source,
                })?;
            if read == 0 {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<CycleReport>(&line) {
                // A run that has not committed (or died and will be rolled back).
                Ok(report) if report.commit_generation > committed_generation => {}
                Ok(report) => {
                    history.cycle_reports =
                        crate::totals::add("cycle_reports", history.cycle_reports, 1)?;
                    for code in &report.reason_codes {
                        let n = history.reason_code_counts.entry(code.clone()).or_default();
                        *n = crate::totals::add("reason_code_counts", *n, 1)?;
                    }
                    history.last_reason_codes = report.reason_codes;
                }
                Err(_) => {
                    history.invalid_cycle_reports = crate::totals::add(
                        "invalid_cycle_reports",
                        history.invalid_cycle_reports,
                        1,
                    )?
                }
            }
        }
    }
    Ok(history)
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
