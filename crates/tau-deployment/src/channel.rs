//! The per-blueprint channel store: `channel-store/deployment/<blueprint_id>/`.
//!
//! `log.jsonl` is the machine record of every case outcome, `context.jsonl` the same as one readable
//! sentence per case (what an agent or a human skims), and `MEMORY.md` the blueprint's current
//! rollouts. The two logs are appended through the commit journal; `MEMORY.md` is derived from
//! committed state and rewritten whole, once per run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cycle::{CaseResult, Disposition};
use crate::driver::{Body, Field};
use crate::jsonl;
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

/// Appends the `log.jsonl` line for one case outcome to `out`: `timestamp_unix_ms, case_key,
/// case_id, outcome, disposition, status_code, attempts`, then whichever of `error_code, reason,
/// artifact, artifact_sha256, artifact_size_bytes, artifact_manifest, artifact_verified,
/// rollout_strategy, replicas, mismatches` the outcome has, in that order.
pub fn write_log_entry(out: &mut Vec<u8>, result: &CaseResult<'_>, now_ms: u64) {
    let response = &result.response;
    let accepted = response.accepted();
    let artifact = accepted.map(|a| &a.artifact);
    out.push(b'{');
    jsonl::key(out, "timestamp_unix_ms");
    jsonl::timestamp(out, now_ms);
    out.push(b',');
    jsonl::key(out, "case_key");
    jsonl::string(out, &result.key);
    out.push(b',');
    jsonl::key(out, "case_id");
    jsonl::string(out, &result.case.case_id);
    out.push(b',');
    jsonl::key(out, "outcome");
    jsonl::string(out, response.outcome.as_str());
    out.push(b',');
    jsonl::key(out, "disposition");
    jsonl::string(out, result.disposition.as_str());
    out.push(b',');
    jsonl::key(out, "status_code");
    jsonl::uint(out, response.status_code.into());
    out.push(b',');
    jsonl::key(out, "attempts");
    jsonl::uint(out, result.attempts.into());
    let text = |out: &mut Vec<u8>, name: &str, value: Option<&str>| {
        if let Some(value) = value {
            out.push(b',');
            jsonl::key(out, name);
            jsonl::string(out, value);
        }
    };
    let number = |out: &mut Vec<u8>, name: &str, value: Option<u64>| {
        if let Some(value) = value {
            out.push(b',');
            jsonl::key(out, name);
            jsonl::uint(out, value);
        }
    };
    text(out, "error_code", response.error_code.map(|c| c.as_str()));
    text(out, "reason", reason(&response.body));
    text(out, "artifact", artifact.map(|a| &*a.reference));
    text(
        out,
        "artifact_sha256",
        artifact.and_then(|a| a.sha256.as_deref()),
    );
    number(
        out,
        "artifact_size_bytes",
        artifact.and_then(|a| a.size_bytes),
    );
    text(
        out,
        "artifact_manifest",
        artifact.and_then(|a| a.manifest.as_deref()),
    );
    if let Some(verified) = artifact.and_then(|a| a.verified) {
        out.push(b',');
        jsonl::key(out, "artifact_verified");
        jsonl::boolean(out, verified);
    }
    text(
        out,
        "rollout_strategy",
        accepted.map(|a| a.strategy.as_str()),
    );
    number(out, "replicas", accepted.map(|a| u64::from(a.replicas)));
    if let Disposition::ContractMismatch(list) = &result.disposition {
        if !list.is_empty() {
            out.push(b',');
            jsonl::key(out, "mismatches");
            jsonl::strings(out, list.iter().map(String::as_str));
        }
    }
    out.extend_from_slice(b"}\n");
}

/// The `reason` of a refusal, borrowed ([`crate::driver::Body::reason`] without the copy).
fn reason(body: &Body) -> Option<&str> {
    match body.field("reason") {
        Some(Field::Text(reason)) => Some(reason),
        Some(Field::Json(Value::String(reason))) => Some(reason),
        _ => None,
    }
}

/// Appends the `context.jsonl` line for one case outcome to `out`: `timestamp_unix_ms, case_key`
/// and `text`, one sentence saying what happened.
pub fn write_context_line(out: &mut Vec<u8>, result: &CaseResult<'_>, now_ms: u64) {
    let case = &*result.case;
    let response = &result.response;
    out.push(b'{');
    jsonl::key(out, "timestamp_unix_ms");
    jsonl::timestamp(out, now_ms);
    out.push(b',');
    jsonl::key(out, "case_key");
    jsonl::string(out, &result.key);
    out.push(b',');
    jsonl::key(out, "text");
    out.push(b'"');
    // The sentence is escaped piece by piece as it is written, never built as a String first.
    let put = |out: &mut Vec<u8>, text: &str| jsonl::string_contents(out, text);
    let raw = |out: &mut Vec<u8>, text: &str| out.extend_from_slice(text.as_bytes());
    let num = |out: &mut Vec<u8>, n: u64| jsonl::uint(out, n);
    raw(out, "case ");
    put(out, &case.case_id);
    raw(out, " (");
    put(out, &case.deploy_target);
    raw(out, " ");
    put(out, &case.runtime_profile);
    raw(out, " on ");
    put(out, &case.blueprint_id);
    raw(out, " in ");
    put(out, &case.environment);
    raw(out, "/");
    put(out, &case.region);
    raw(out, ")");
    match (&result.disposition, response.accepted()) {
        (Disposition::Applied, Some(accepted)) => {
            raw(out, " applied with status ");
            num(out, response.status_code.into());
            raw(out, ": ");
            raw(out, accepted.strategy.as_str());
            raw(out, " rollout of ");
            put(out, &accepted.artifact.reference);
            raw(out, " with ");
            num(out, accepted.replicas.into());
            raw(out, " replica(s)");
        }
        (Disposition::ContractMismatch(diffs), _) => {
            raw(out, " broke its contract after ");
            num(out, result.attempts.into());
            raw(out, " attempt(s): ");
            for (i, diff) in diffs.iter().enumerate() {
                if i > 0 {
                    raw(out, "; ");
                }
                put(out, diff);
            }
        }
        (disposition, _) => {
            let code = response.error_code.map(|c| c.as_str()).unwrap_or("none");
            let verb = if *disposition == Disposition::Rejected {
                " rejected with status "
            } else {
                " still failing after every attempt with status "
            };
            raw(out, verb);
            num(out, response.status_code.into());
            raw(out, " ");
            raw(out, code);
            raw(out, " (");
            put(out, reason(&response.body).unwrap_or("unspecified"));
            raw(out, ") after ");
            num(out, result.attempts.into());
            raw(out, " attempt(s)");
        }
    }
    out.extend_from_slice(b"\"}\n");
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
#[path = "channel_tests.rs"]
mod lines_tests;

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
