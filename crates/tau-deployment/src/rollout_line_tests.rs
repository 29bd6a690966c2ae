use super::*;
use crate::rollout::tests::record;
use crate::sym::Sym;
use proptest::prelude::*;

/// Reads a history line back the way a history reader does: the referenced profile is put back
/// in place (and with it the tool's list of its gates).
fn resolve(line: &[u8], profiles: &[u8]) -> Value {
    let mut value: Value = serde_json::from_slice(line).unwrap();
    let object = value.as_object_mut().unwrap();
    if let Some(Value::String(digest)) = object.remove("runtime_constraint_profile_sha256") {
        let profile = profiles
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice::<Value>(l).unwrap())
            .find(|l| l["sha256"] == digest.as_str())
            .expect("the referenced profile is stored")["profile"]
            .clone();
        assert_eq!(
            crate::evidence::fixture_digest(&serde_json::to_vec(&profile).unwrap()),
            digest
        );
        let gates = profile
            .get("required_feature_gates")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        object.insert("runtime_constraints".into(), gates);
        object.insert("runtime_constraint_profile".into(), profile);
    }
    value
}

/// The line, resolved, is the `state.json` record field for field and in the same order.
fn assert_resolves_to_the_state_shape(record: &RolloutRecord, cache: &mut LineCache) -> Vec<u8> {
    let (mut line, mut profiles) = (Vec::new(), Vec::new());
    write_line(&mut line, &mut profiles, record, cache);
    assert!(line.ends_with(b"\n") && !line[..line.len() - 1].contains(&b'\n'));
    let mut all_profiles = profiles.clone();
    for (_, rendered) in &cache.rendered {
        if let Some((_, l)) = &rendered.profile {
            all_profiles.extend_from_slice(l);
        }
    }
    let got = resolve(&line, &all_profiles);
    let want: Value = serde_json::to_value(record).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(got, want);
    if record.runtime_constraints.is_none() {
        // No profile: the line is exactly serde's.
        let mut reference = serde_json::to_vec(record).unwrap();
        reference.push(b'\n');
        assert_eq!(
            String::from_utf8(line).unwrap(),
            String::from_utf8(reference).unwrap()
        );
    } else {
        assert_eq!(keys(&got).len(), keys(&want).len());
    }
    profiles
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
fn each_profile_is_stored_once_and_every_record_resolves_to_its_state_shape() {
    let mut cache = LineCache::default();
    let shared = profile();
    let mut stored = 0;
    for constraints in [
        None,
        Some(Arc::clone(&shared)),
        Some(Arc::clone(&shared)),
        // An equal profile behind another pointer is not stored twice either.
        Some(Arc::new((*shared).clone())),
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
        let profiles = assert_resolves_to_the_state_shape(&r, &mut cache);
        stored += profiles
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
    }
    assert_eq!(stored, 2);
}

#[test]
fn profiles_already_in_the_history_are_not_stored_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = LineCache::load(dir.path()).unwrap();
    let mut r = record("c1");
    r.runtime_constraints = Some(profile());
    let (mut line, mut profiles) = (Vec::new(), Vec::new());
    write_line(&mut line, &mut profiles, &r, &mut first);
    assert!(!profiles.is_empty());
    std::fs::create_dir_all(dir.path().join("history")).unwrap();
    // A torn line beside the stored one is ignored.
    profiles.extend_from_slice(b"{\"sha2");
    std::fs::write(dir.path().join(PROFILES_FILE), &profiles).unwrap();

    let mut second = LineCache::load(dir.path()).unwrap();
    let (mut line2, mut profiles2) = (Vec::new(), Vec::new());
    write_line(&mut line2, &mut profiles2, &r, &mut second);
    assert!(profiles2.is_empty());
    assert_eq!(line, line2);
}

proptest! {
    #[test]
    fn any_record_text_resolves_to_its_state_shape(
        id in any::<String>(),
        region in any::<String>(),
        artifact in any::<String>(),
        manifest in proptest::option::of(any::<String>()),
        size in proptest::option::of(any::<u64>()),
        verified in proptest::option::of(any::<bool>()),
        with_profile in any::<bool>(),
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
        r.runtime_constraints = with_profile.then(profile);
        assert_resolves_to_the_state_shape(&r, &mut LineCache::default());
    }
}
