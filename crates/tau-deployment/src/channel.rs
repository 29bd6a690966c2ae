//! The per-blueprint channel store: `channel-store/deployment/<blueprint_id>/`.
//!
//! `log.jsonl` is the machine record of every case outcome, `context.jsonl` the same as one readable
//! sentence per case (what an agent or a human skims), and `MEMORY.md` the blueprint's current
//! rollouts. The two logs are appended through the commit journal; `MEMORY.md` is derived from
//! committed state and rewritten whole, once per run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cycle::{CaseResult, Disposition};
use crate::driver::Outcome;
use crate::state::RolloutRecord;

/// The channel store root, relative to the state dir.
pub const ROOT: &str = "channel-store/deployment";

/// `log.jsonl` of a blueprint, relative to the state dir.
pub fn log_path(blueprint_id: &str) -> String {
    format!("{ROOT}/{blueprint_id}/log.jsonl")
}

/// `context.jsonl` of a blueprint, relative to the state dir.
pub fn context_path(blueprint_id: &str) -> String {
    format!("{ROOT}/{blueprint_id}/context.jsonl")
}

/// `MEMORY.md` of a blueprint, under `state_dir`.
pub fn memory_path(state_dir: &Path, blueprint_id: &str) -> PathBuf {
    state_dir.join(ROOT).join(blueprint_id).join("MEMORY.md")
}

#[derive(Serialize)]
struct LogEntry<'a> {
    timestamp_unix_ms: u64,
    case_key: &'a str,
    case_id: &'a str,
    outcome: Outcome,
    disposition: &'a str,
    status_code: u16,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_manifest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rollout_strategy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<u16>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    mismatches: &'a [String],
}

/// Appends the `log.jsonl` line for one case outcome to `out`.
pub fn write_log_entry(out: &mut Vec<u8>, result: &CaseResult<'_>, now_ms: u64) {
    let response = &result.response;
    let accepted = response.accepted();
    let artifact = accepted.map(|a| &a.artifact);
    let mismatches: &[String] = match &result.disposition {
        Disposition::ContractMismatch(list) => list,
        _ => &[],
    };
    let entry = LogEntry {
        timestamp_unix_ms: now_ms,
        case_key: &result.key,
        case_id: &result.case.case_id,
        outcome: response.outcome,
        disposition: result.disposition.as_str(),
        status_code: response.status_code,
        attempts: result.attempts,
        error_code: response.error_code.map(|c| c.as_str()),
        reason: response.body.reason(),
        artifact: artifact.map(|a| &*a.reference),
        artifact_sha256: artifact.and_then(|a| a.sha256.as_deref()),
        artifact_size_bytes: artifact.and_then(|a| a.size_bytes),
        artifact_manifest: artifact.and_then(|a| a.manifest.as_deref()),
        artifact_verified: artifact.and_then(|a| a.verified),
        rollout_strategy: accepted.map(|a| a.strategy.as_str()),
        replicas: accepted.map(|a| a.replicas),
        mismatches,
    };
    serde_json::to_writer(&mut *out, &entry).expect("log entry serializes to memory");
    out.push(b'\n');
}

#[derive(Serialize)]
struct ContextLine<'a> {
    timestamp_unix_ms: u64,
    case_key: &'a str,
    text: &'a str,
}

/// Appends the `context.jsonl` line for one case outcome to `out`.
pub fn write_context_line(out: &mut Vec<u8>, result: &CaseResult<'_>, now_ms: u64) {
    let case = result.case;
    let response = &result.response;
    let mut text = format!(
        "case {} ({} {} on {} in {}/{})",
        case.case_id,
        case.deploy_target,
        case.runtime_profile,
        case.blueprint_id,
        case.environment,
        case.region
    );
    match (&result.disposition, response.accepted()) {
        (Disposition::Applied, Some(accepted)) => {
            let _ = write!(
                text,
                " applied with status {}: {} rollout of {} with {} replica(s)",
                response.status_code,
                accepted.strategy.as_str(),
                accepted.artifact.reference,
                accepted.replicas
            );
        }
        (Disposition::ContractMismatch(diffs), _) => {
            let _ = write!(
                text,
                " broke its contract after {} attempt(s): {}",
                result.attempts,
                diffs.join("; ")
            );
        }
        (disposition, _) => {
            let code = response.error_code.map(|c| c.as_str()).unwrap_or("none");
            let reason = response.body.reason();
            let verb = if *disposition == Disposition::Rejected {
                "rejected"
            } else {
                "still failing after every attempt"
            };
            let _ = write!(
                text,
                " {verb} with status {} {code} ({}) after {} attempt(s)",
                response.status_code,
                reason.as_deref().unwrap_or("unspecified"),
                result.attempts
            );
        }
    }
    let line = ContextLine {
        timestamp_unix_ms: now_ms,
        case_key: &result.key,
        text: &text,
    };
    serde_json::to_writer(&mut *out, &line).expect("context line serializes to memory");
    out.push(b'\n');
}

/// Renders a blueprint's `MEMORY.md` from its committed rollouts (in case-key order).
pub fn render_memory<'a>(
    blueprint_id: &str,
    rollouts: impl Iterator<Item = &'a RolloutRecord>,
) -> String {
    let mut out = format!(
        "# Deployment memory: {blueprint_id}\n\n\
         This blueprint's rollouts among the most recent ones `state.json` keeps, regenerated after \
         every run; `log.jsonl` and `history/rollouts.jsonl` hold every one.\n\n\
         | case_id | environment | region | target | runtime_profile | strategy | replicas | status | artifact | artifact_sha256 |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    let mut count = 0usize;
    for r in rollouts {
        count += 1;
        out.push('|');
        for text in [
            &r.case_id,
            &r.environment,
            &r.region,
            &r.deploy_target,
            &r.runtime_profile,
        ] {
            push_cell(&mut out, text);
        }
        let _ = write!(
            out,
            " {} | {} | {} |",
            r.rollout_strategy.as_str(),
            r.replicas,
            r.status_code
        );
        push_cell(&mut out, &r.artifact);
        push_cell(&mut out, r.artifact_sha256.as_deref().unwrap_or("-"));
        out.push('\n');
    }
    let _ = write!(out, "\n{count} rollout(s).\n");
    out
}

/// Appends ` text |`, keeping fixture text from breaking the Markdown table or smuggling control
/// bytes (NUL, escape sequences) into a file people open in terminals and editors: a pipe is
/// escaped, a line break becomes a space, any other control character is written as `\u{XX}`.
fn push_cell(out: &mut String, text: &str) {
    out.push(' ');
    if !text.chars().any(|c| c == '|' || c.is_control()) {
        out.push_str(text);
        out.push_str(" |");
        return;
    }
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push_str(" |");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_escape_pipes_and_newlines() {
        let mut out = String::new();
        push_cell(&mut out, "a|b\nc");
        assert_eq!(out, " a\\|b c |");
    }

    #[test]
    fn control_characters_never_reach_memory_raw() {
        let mut out = String::new();
        push_cell(&mut out, "a\0b\u{1b}[2Jc\u{7f}");
        assert_eq!(out, " a\\u{0}b\\u{1b}[2Jc\\u{7f} |");
        assert!(!out.chars().any(char::is_control));
    }

    #[test]
    fn memory_of_a_blueprint_without_rollouts_says_so() {
        let text = render_memory("edge", std::iter::empty());
        assert!(text.starts_with("# Deployment memory: edge"));
        assert!(text.ends_with("0 rollout(s).\n"));
    }
}
