//! A rollout record as one `history/rollouts.jsonl` line, written by hand.
//!
//! The line is exactly what `serde_json` writes for a [`RolloutRecord`] (the tests hold it to
//! that), so the history stays in the `state.json` shape. A run writes one per applied case; the
//! constraint part (the tool's list and the whole profile, two thirds of a WASM rollout's line) is
//! the same for every rollout of one verified artifact, so it is rendered once and copied.

use std::sync::Arc;

use serde_json::Value;

use super::{constraint_names, RolloutRecord};
use crate::driver::ErrorCode;
use crate::jsonl;

/// How many distinct constraint values keep their rendered form; a run sees one per verified
/// artifact and profile, rarely more than a handful.
const CACHED: usize = 16;

/// Rendered constraint parts, keyed by the shared value they came from.
#[derive(Debug, Default)]
pub struct LineCache {
    // The `Arc` is kept so its address cannot be reused by another value while cached.
    constraints: Vec<(Arc<Value>, Vec<u8>)>,
}

impl LineCache {
    fn constraints(&mut self, value: Option<&Arc<Value>>, out: &mut Vec<u8>) {
        let Some(value) = value else {
            render_constraints(None, out);
            return;
        };
        if let Some((_, bytes)) = self
            .constraints
            .iter()
            .find(|(cached, _)| Arc::ptr_eq(cached, value))
        {
            out.extend_from_slice(bytes);
            return;
        }
        let mut bytes = Vec::new();
        render_constraints(Some(value), &mut bytes);
        out.extend_from_slice(&bytes);
        if self.constraints.len() < CACHED {
            self.constraints.push((Arc::clone(value), bytes));
        }
    }
}

/// `,"runtime_constraints":[...]` and, for a profile object, `,"runtime_constraint_profile":{...}`.
fn render_constraints(value: Option<&Value>, out: &mut Vec<u8>) {
    out.push(b',');
    jsonl::key(out, "runtime_constraints");
    jsonl::strings(out, constraint_names(value));
    if let Some(profile) = value.filter(|v| v.is_object()) {
        out.push(b',');
        jsonl::key(out, "runtime_constraint_profile");
        jsonl::value(out, profile);
    }
}

/// Appends `record` as one JSON line.
pub fn write_line(out: &mut Vec<u8>, record: &RolloutRecord, cache: &mut LineCache) {
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
    cache.constraints(record.runtime_constraints.as_ref(), out);
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
    number(out, "updated_unix_ms", record.updated_unix_ms);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollout::tests::record;
    use crate::sym::Sym;
    use proptest::prelude::*;

    fn both(record: &RolloutRecord, cache: &mut LineCache) -> (String, String) {
        let mut ours = Vec::new();
        write_line(&mut ours, record, cache);
        let mut reference = serde_json::to_vec(record).unwrap();
        reference.push(b'\n');
        (
            String::from_utf8(ours).unwrap(),
            String::from_utf8(reference).unwrap(),
        )
    }

    fn profile() -> Arc<Value> {
        Arc::new(serde_json::json!({
            "profile_id": "control_plane_gateway_v1",
            "required_feature_gates": ["no_native_process_exec", "a\"b"],
            "max_artifact_size_bytes": 2097152,
            "nested": {"z": [1, null, true], "a": "\u{1}"},
        }))
    }

    #[test]
    fn every_constraint_shape_writes_the_serde_line_cached_or_not() {
        let mut cache = LineCache::default();
        let shared = profile();
        for constraints in [
            None,
            Some(Arc::clone(&shared)),
            Some(Arc::clone(&shared)),
            Some(Arc::new(serde_json::json!(["x", "y\n"]))),
            Some(Arc::new(serde_json::json!({"no_gates": 1}))),
            Some(Arc::new(Value::Null)),
        ] {
            let mut r = record("c1");
            r.runtime_constraints = constraints;
            r.artifact_verified = Some(true);
            r.artifact_sha256 = Some(Sym::from("abc"));
            r.artifact_size_bytes = Some(195);
            r.error_code = Some(ErrorCode::MissingArtifact);
            let (ours, reference) = both(&r, &mut cache);
            assert_eq!(ours, reference);
        }
    }

    proptest! {
        #[test]
        fn any_record_text_writes_the_serde_line(
            id in any::<String>(),
            region in any::<String>(),
            artifact in any::<String>(),
            manifest in proptest::option::of(any::<String>()),
            size in proptest::option::of(any::<u64>()),
            verified in proptest::option::of(any::<bool>()),
            replicas in any::<u16>(),
            ms in any::<u64>(),
        ) {
            let mut r = record(&id);
            r.region = Sym::from(region.as_str());
            r.artifact = Sym::from(artifact.as_str());
            r.artifact_manifest = manifest.map(|m| Sym::from(m.as_str()));
            r.artifact_size_bytes = size;
            r.artifact_verified = verified;
            r.replicas = replicas;
            r.updated_unix_ms = ms;
            r.runtime_constraints = Some(profile());
            let (ours, reference) = both(&r, &mut LineCache::default());
            prop_assert_eq!(ours, reference);
        }
    }
}
