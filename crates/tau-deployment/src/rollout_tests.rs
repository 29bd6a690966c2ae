use super::*;

/// The field types the runbook's tool requires of a rollout in `state.json`: its reader drops
/// the whole file (and re-applies every case) when one of them is `null` or of another type.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct ToolRollout {
    case_key: String,
    case_id: String,
    deploy_target: String,
    runtime_profile: String,
    blueprint_id: String,
    environment: String,
    region: String,
    artifact: String,
    #[serde(default)]
    artifact_sha256: String,
    #[serde(default)]
    artifact_size_bytes: u64,
    #[serde(default)]
    artifact_manifest: String,
    #[serde(default)]
    runtime_constraints: Vec<String>,
    replicas: u16,
    rollout_strategy: String,
    status_code: u16,
    outcome: String,
    error_code: String,
    updated_unix_ms: u64,
}

pub(crate) fn record(case_id: &str) -> RolloutRecord {
    RolloutRecord {
        case_key: Sym::from(format!("container:native:staging:bp:{case_id}")),
        case_id: Sym::from(case_id),
        deploy_target: Sym::from("container"),
        runtime_profile: Sym::from("native"),
        blueprint_id: Sym::from("bp"),
        environment: Sym::from("staging"),
        region: Sym::from("iad"),
        artifact: Sym::from("ghcr.io/x:1"),
        artifact_sha256: None,
        artifact_size_bytes: None,
        artifact_manifest: None,
        runtime_constraints: None,
        artifact_verified: None,
        replicas: 1,
        rollout_strategy: Strategy::Recreate,
        status_code: 202,
        outcome: Outcome::Success,
        error_code: None,
        updated_unix_ms: 7,
    }
}

#[test]
fn absent_artifact_details_are_written_as_the_tool_expects_never_null() {
    let text = serde_json::to_string(&record("a")).unwrap();
    assert!(!text.contains("null"), "{text}");
    let tool: ToolRollout = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (
            tool.artifact_sha256.as_str(),
            tool.artifact_size_bytes,
            tool.artifact_manifest.as_str(),
            tool.runtime_constraints.len(),
            tool.error_code.as_str()
        ),
        ("", 0, "", 0, "")
    );
    let back: RolloutRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(back, record("a"));
}

#[test]
fn a_constraint_profile_is_kept_whole_and_listed_by_name_for_the_tool() {
    let mut r = record("w");
    r.artifact_sha256 = Some(Sym::from("ab"));
    r.artifact_size_bytes = Some(9);
    r.runtime_constraints = Some(Arc::new(serde_json::json!({
        "profile_id": "p", "required_feature_gates": ["no_exec", "no_net"]
    })));
    r.artifact_verified = Some(true);
    let text = serde_json::to_string(&r).unwrap();
    let tool: ToolRollout = serde_json::from_str(&text).unwrap();
    assert_eq!(tool.runtime_constraints, ["no_exec", "no_net"]);
    let back: RolloutRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
}

#[test]
fn a_rollout_the_tool_wrote_reads_back_with_its_empty_values_as_absent() {
    let text = r#"{"case_key":"k","case_id":"c","deploy_target":"wasm","runtime_profile":"wasm_wasi",
        "blueprint_id":"b","environment":"staging","region":"iad","artifact":"a.wasm",
        "artifact_sha256":"","artifact_size_bytes":0,"artifact_manifest":"","runtime_constraints":[],
        "replicas":2,"rollout_strategy":"canary","status_code":201,"outcome":"success",
        "error_code":"","updated_unix_ms":5}"#;
    let r: RolloutRecord = serde_json::from_str(text).unwrap();
    assert_eq!(
        (
            r.artifact_sha256,
            r.artifact_size_bytes,
            r.artifact_manifest,
            r.runtime_constraints
        ),
        (None, None, None, None)
    );
    let named = text.replace(
        r#""runtime_constraints":[]"#,
        r#""runtime_constraints":["no_exec"]"#,
    );
    let r: RolloutRecord = serde_json::from_str(&named).unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap()["runtime_constraints"],
        serde_json::json!(["no_exec"])
    );
}

#[test]
fn an_unknown_error_code_names_the_accepted_ones() {
    let text = serde_json::to_string(&record("a"))
        .unwrap()
        .replace(r#""error_code":"""#, r#""error_code":"nope""#);
    let err = serde_json::from_str::<RolloutRecord>(&text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("deployment_missing_artifact"), "{err}");
}

proptest::proptest! {
    /// Whatever is known about an artifact, the record reads back equal and the tool's reader
    /// accepts it.
    #[test]
    fn every_record_round_trips_and_parses_for_the_tool(
        sha in proptest::option::of("[0-9a-f]{64}"),
        size in proptest::option::of(1u64..u64::MAX),
        manifest in proptest::option::of("[a-z/]{1,20}\\.json"),
        gates in proptest::option::of(proptest::collection::vec("[a-z_]{1,12}", 0..4)),
        verified in proptest::option::of(proptest::bool::ANY),
        code in proptest::option::of(0usize..4),
        target in "[ A-Za-z]{1,10}",
    ) {
        let mut r = record("p");
        r.artifact_sha256 = sha.map(Sym::from);
        r.artifact_size_bytes = size;
        r.artifact_manifest = manifest.map(Sym::from);
        r.runtime_constraints = gates
            .filter(|g| !g.is_empty())
            .map(|g| Arc::new(serde_json::json!({"required_feature_gates": g})));
        r.artifact_verified = verified;
        r.error_code = code.map(|i| ErrorCode::ALL[i]);
        r.deploy_target = Sym::from(target);
        let text = serde_json::to_string(&r).unwrap();
        proptest::prop_assert!(serde_json::from_str::<ToolRollout>(&text).is_ok(), "{}", text);
        let back: RolloutRecord = serde_json::from_str(&text).unwrap();
        proptest::prop_assert_eq!(back, r);
    }
}
