//! A rollout record as one `history/rollouts.jsonl` line, written by hand.
//!
//! The line is the `state.json` rollout shape with one change: the constraint profile, two thirds
//! of a WASM rollout's line and the same for every rollout of one verified artifact, is stored
//! once in `history/constraint-profiles.jsonl` and referenced by its SHA-256
//! (`runtime_constraint_profile_sha256`). The tool's `runtime_constraints` list is the profile's
//! `required_feature_gates`, so it goes with the profile; a record holding the tool's bare list
//! (no profile object) keeps it inline. Every other field is written exactly as `serde_json`
//! writes it for a [`RolloutRecord`] (the tests hold it to that).

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde_json::Value;

use super::{constraint_names, RolloutRecord};
use crate::driver::ErrorCode;
use crate::jsonl;
use crate::{Error, Result};

/// Each distinct constraint profile a history rollout references, one JSON line each:
/// `{"sha256": <SHA-256 of the profile's compact JSON>, "profile": <the profile>}`.
pub const PROFILES_FILE: &str = "history/constraint-profiles.jsonl";

/// How many distinct constraint values keep their rendered form; a run sees one per verified
/// artifact and profile, rarely more than a handful.
const CACHED: usize = 16;

/// What the history already stores and what a run has rendered so far.
#[derive(Debug, Default)]
pub struct LineCache {
    /// Digests of the profiles in [`PROFILES_FILE`], committed or appended by this run.
    stored: FxHashSet<String>,
    // The `Arc` is kept so its address cannot be reused by another value while cached.
    rendered: Vec<(Arc<Value>, Rendered)>,
    /// The fields of a record without constraints, rendered on first use.
    unconstrained: Option<Rendered>,
}

#[derive(Debug, Clone)]
struct Rendered {
    /// The record's constraint fields, from the leading comma on.
    fields: Vec<u8>,
    /// For a profile object: its digest and its line in [`PROFILES_FILE`].
    profile: Option<(String, Vec<u8>)>,
}

impl LineCache {
    /// Reads which profiles the history of the state dir `dir` already stores. Must run under the
    /// state-dir lock, after recovery, so only committed lines are there. A line that does not
    /// parse names no profile; the profile is then simply stored again.
    pub fn load(dir: &Path) -> Result<Self> {
        tau_durable::guard::refuse_symlinks(dir, Path::new(PROFILES_FILE))?;
        let path = dir.join(PROFILES_FILE);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(Error::Io {
                    op: "read constraint-profile history",
                    path,
                    source: e,
                })
            }
        };
        #[derive(serde::Deserialize)]
        struct Line {
            sha256: String,
        }
        let stored = text
            .split(|b| *b == b'\n')
            .filter_map(|line| serde_json::from_slice::<Line>(line).ok())
            .map(|line| line.sha256)
            .collect();
        Ok(LineCache {
            stored,
            ..LineCache::default()
        })
    }
}

/// The rendered constraint fields of `value`, from `rendered` when it was rendered before: a run
/// writes the same few profiles tens of thousands of times.
fn cached<'c>(
    rendered: &'c mut Vec<(Arc<Value>, Rendered)>,
    unconstrained: &'c mut Option<Rendered>,
    value: Option<&Arc<Value>>,
) -> Cow<'c, Rendered> {
    let Some(value) = value else {
        return Cow::Borrowed(unconstrained.get_or_insert_with(|| render(None)));
    };
    match rendered
        .iter()
        .position(|(cached, _)| Arc::ptr_eq(cached, value))
    {
        Some(at) => Cow::Borrowed(&rendered[at].1),
        None if rendered.len() < CACHED => {
            rendered.push((Arc::clone(value), render(Some(value))));
            Cow::Borrowed(&rendered[rendered.len() - 1].1)
        }
        None => Cow::Owned(render(Some(value))),
    }
}

fn render(value: Option<&Value>) -> Rendered {
    let mut fields = Vec::new();
    match value.filter(|v| v.is_object()) {
        Some(profile) => {
            let mut json = Vec::new();
            jsonl::value(&mut json, profile);
            let digest = crate::evidence::fixture_digest(&json);
            fields.push(b',');
            jsonl::key(&mut fields, "runtime_constraint_profile_sha256");
            jsonl::string(&mut fields, &digest);
            let mut line = Vec::with_capacity(json.len() + 90);
            line.push(b'{');
            jsonl::key(&mut line, "sha256");
            jsonl::string(&mut line, &digest);
            line.push(b',');
            jsonl::key(&mut line, "profile");
            line.extend_from_slice(&json);
            line.extend_from_slice(b"}\n");
            Rendered {
                fields,
                profile: Some((digest, line)),
            }
        }
        None => {
            fields.push(b',');
            jsonl::key(&mut fields, "runtime_constraints");
            jsonl::strings(&mut fields, constraint_names(value));
            Rendered {
                fields,
                profile: None,
            }
        }
    }
}

/// Appends `record` as one line to `out`, and to `profiles` the line of its constraint profile
/// when the history does not hold that profile yet.
pub fn write_line(
    out: &mut Vec<u8>,
    profiles: &mut Vec<u8>,
    record: &RolloutRecord,
    cache: &mut LineCache,
) {
    let LineCache {
        stored,
        rendered,
        unconstrained,
    } = cache;
    let constraints = cached(rendered, unconstrained, record.runtime_constraints.as_ref());
    if let Some((digest, line)) = &constraints.profile {
        if !stored.contains(digest) {
            profiles.extend_from_slice(line);
            stored.insert(digest.clone());
        }
    }
    let text = |out: &mut Vec<u8>, name: &str, value: &str| {
        out.push(b',');
        jsonl::key(out, name);
        jsonl::string(out, value);
    };
    let number = |out: &mut Vec<u8>, name: &str, value: u64| {
        out.push(b',');
        jsonl::key(out, name);
        jsonl::uint(out, value);
    };
    out.push(b'{');
    jsonl::key(out, "case_key");
    jsonl::string(out, &record.case_key);
    text(out, "case_id", &record.case_id);
    text(out, "deploy_target", &record.deploy_target);
    text(out, "runtime_profile", &record.runtime_profile);
    text(out, "blueprint_id", &record.blueprint_id);
    text(out, "environment", &record.environment);
    text(out, "region", &record.region);
    text(out, "artifact", &record.artifact);
    text(
        out,
        "artifact_sha256",
        record.artifact_sha256.as_deref().unwrap_or(""),
    );
    number(
        out,
        "artifact_size_bytes",
        record.artifact_size_bytes.unwrap_or(0),
    );
    text(
        out,
        "artifact_manifest",
        record.artifact_manifest.as_deref().unwrap_or(""),
    );
    out.extend_from_slice(&constraints.fields);
    if let Some(verified) = record.artifact_verified {
        out.push(b',');
        jsonl::key(out, "artifact_verified");
        jsonl::boolean(out, verified);
    }
    number(out, "replicas", record.replicas.into());
    text(out, "rollout_strategy", record.rollout_strategy.as_str());
    number(out, "status_code", record.status_code.into());
    text(out, "outcome", record.outcome.as_str());
    text(
        out,
        "error_code",
        record.error_code.map_or("", ErrorCode::as_str),
    );
    out.push(b',');
    jsonl::key(out, "updated_unix_ms");
    jsonl::timestamp(out, record.updated_unix_ms);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
#[path = "rollout_line_tests.rs"]
mod tests;
