use super::*;
use crate::validate::ArtifactKind;

fn artifact(imports: &[&str]) -> Validated {
    Validated {
        kind: ArtifactKind::CoreModule,
        imports: imports.iter().map(|s| s.to_string()).collect(),
        exports: vec![],
        proposals: vec![],
    }
}

fn codes(findings: &[Finding]) -> Vec<ReasonCode> {
    findings.iter().map(|f| f.code).collect()
}

const WASI: RuntimeProfile = RuntimeProfile::WasmWasi;

#[test]
fn profiles_follow_the_runbook() {
    let wasi = RuntimeProfile::WasmWasi.constraints();
    assert_eq!(
        (wasi.profile_id.as_str(), wasi.max_artifact_size_bytes),
        ("control_plane_gateway_v1", 2 << 20)
    );
    let channel = RuntimeProfile::ChannelAutomationWasi.constraints();
    assert_eq!(channel.profile_id, "channel_automation_runtime_v1");
    assert_eq!(channel.max_artifact_size_bytes, 1 << 20);
    assert_eq!(channel.required_feature_gates.len(), 5);
    assert_eq!(
        RuntimeProfile::parse("channel-automation-wasi"),
        Some(RuntimeProfile::ChannelAutomationWasi)
    );
}

#[test]
fn wasi_interfaces_match_whatever_their_version() {
    assert!(matches("wasi:*", "wasi:cli/environment@0.2.6"));
    assert!(matches("env", "env"));
    assert!(!matches("wasi:*", "wasi_snapshot_preview1"));
    assert!(matches("wasi_snapshot_preview1", "wasi_snapshot_preview1"));
}

#[test]
fn compliant_imports_have_no_findings() {
    assert!(check(WASI, &artifact(&["env", "wasi:http/types@0.2.0"]), 10).is_empty());
}

#[test]
fn no_imports_is_the_one_compliant_finding() {
    let findings = check(WASI, &artifact(&[]), 10);
    assert_eq!(codes(&findings), [ReasonCode::AbiAssumedNoImports]);
    assert!(compliant(&findings));
}

#[test]
fn legacy_wasi_is_not_allowlisted_and_forbidden_with_a_fix_as_the_runbook_tool_reports() {
    for legacy in ["wasi_snapshot_preview1", "wasi_unstable"] {
        let findings = check(WASI, &artifact(&[legacy]), 10);
        assert_eq!(
            codes(&findings),
            [
                ReasonCode::RequiredAbiMissing,
                ReasonCode::ImportModuleNotAllowlisted,
                ReasonCode::ImportModuleForbidden,
            ],
            "{legacy}"
        );
        assert!(findings[2].detail.contains("wasm-tools component new"));
        assert!(!compliant(&findings));
    }
}

#[test]
fn each_code_is_reported_once_in_code_order_with_every_detail() {
    let findings = check(
        WASI,
        &artifact(&[
            "acme:a/b",
            "acme:c/d",
            "wasi_snapshot_preview1",
            "wasi_unstable",
        ]),
        10,
    );
    assert_eq!(
        codes(&findings),
        [
            ReasonCode::RequiredAbiMissing,
            ReasonCode::ImportModuleNotAllowlisted,
            ReasonCode::ImportModuleForbidden,
        ]
    );
    let not_allowlisted = &findings[1].detail;
    for name in [
        "acme:a/b",
        "acme:c/d",
        "wasi_snapshot_preview1",
        "wasi_unstable",
    ] {
        assert!(not_allowlisted.contains(name), "{not_allowlisted}");
    }
}

#[test]
fn a_proposal_the_profile_does_not_allow_is_named() {
    let mut threaded = artifact(&["wasi:cli/environment@0.2.6"]);
    threaded.proposals = vec!["threads".into(), "wide_arithmetic".into()];
    let findings = check(WASI, &threaded, 10);
    assert_eq!(codes(&findings), [ReasonCode::WasmFeatureNotAllowed]);
    assert!(
        findings[0].detail.contains("threads proposal"),
        "{findings:?}"
    );
    assert!(
        findings[0].detail.contains("wide_arithmetic proposal"),
        "{findings:?}"
    );
    assert!(!compliant(&findings));
}

#[test]
fn control_characters_in_import_names_match_nothing_and_are_escaped() {
    let findings = check(WASI, &artifact(&["wasi:cli/\u{1b}[2Jx", "env"]), 10);
    assert_eq!(
        codes(&findings),
        [
            ReasonCode::RequiredAbiMissing,
            ReasonCode::ImportModuleNotAllowlisted
        ]
    );
    assert!(!findings[1].detail.contains('\u{1b}'), "{findings:?}");
    assert!(findings[1].detail.contains("\\u{1b}"), "{findings:?}");
    assert!(!compliant(&findings));
}

#[test]
fn unknown_interfaces_and_size_are_reported() {
    let findings = check(
        RuntimeProfile::ChannelAutomationWasi,
        &artifact(&["acme:secrets/vault", "wasi:io/streams@0.2.0"]),
        2 << 20,
    );
    assert_eq!(
        codes(&findings),
        [
            ReasonCode::ArtifactSizeLimitExceeded,
            ReasonCode::ImportModuleNotAllowlisted
        ]
    );
}

const ALL_CODES: [ReasonCode; 14] = [
    ReasonCode::RuntimeProfileMismatch,
    ReasonCode::ArtifactSizeLimitExceeded,
    ReasonCode::RequiredFeatureGateMissing,
    ReasonCode::AbiAssumedNoImports,
    ReasonCode::RequiredAbiMissing,
    ReasonCode::ImportModuleNotAllowlisted,
    ReasonCode::ImportModuleForbidden,
    ReasonCode::WasmFeatureNotAllowed,
    ReasonCode::ArtifactMissing,
    ReasonCode::ArtifactHashMismatch,
    ReasonCode::ArtifactSizeMismatch,
    ReasonCode::ArtifactInvalid,
    ReasonCode::ManifestProfileDrift,
    ReasonCode::RuntimeSmokeFailed,
];

proptest::proptest! {
    /// Merged findings list each code once, in code order, keep every detail, and merging again
    /// changes nothing.
    #[test]
    fn merge_lists_each_code_once_and_loses_no_detail(
        raw in proptest::collection::vec((0usize..14, "[a-z]{1,6}"), 0..24)
    ) {
        let findings: Vec<Finding> = raw
            .iter()
            .map(|(i, d)| Finding::new(ALL_CODES[*i], d.clone()))
            .collect();
        let merged = merge(findings.clone());
        proptest::prop_assert!(merged.windows(2).all(|w| w[0].code < w[1].code));
        for f in &findings {
            let slot = merged.iter().find(|m| m.code == f.code).unwrap();
            proptest::prop_assert!(slot.detail.split("; ").any(|d| d == f.detail));
        }
        proptest::prop_assert_eq!(merge(merged.clone()), merged.clone());
        proptest::prop_assert_eq!(crate::profile::codes(&findings), crate::profile::codes(&merged));
    }
}
