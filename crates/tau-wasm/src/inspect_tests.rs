use super::*;
use crate::package::{self, Request};
use crate::profile::RuntimeProfile;
use proptest::prelude::*;
use tau_durable::lock::Wait;
use tau_testkit::wasm;

fn packaged(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let module = dir.join("m.wasm");
    std::fs::write(&module, bytes).unwrap();
    let request = Request {
        module: &module,
        blueprint_id: "edge-wasm",
        profile: RuntimeProfile::WasmWasi,
        output_dir: &dir.join("out"),
        state_dir: &dir.join("state"),
        generated_unix_ms: 0,
    };
    package::write(&package::prepare(&request).unwrap(), Wait::FailFast)
        .unwrap()
        .manifest_path
}

/// The runbook's edge module packaged into a fresh temp dir, kept alive by the returned guard.
fn edge_package() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = packaged(dir.path(), &wasm::edge_runtime());
    (dir, manifest)
}

fn artifact_of(manifest: &Path) -> std::path::PathBuf {
    Manifest::read(manifest)
        .unwrap()
        .artifact_file(manifest)
        .unwrap()
}

/// Edits the manifest's text in place, as a hand or a tool outside tau would.
fn rewrite(manifest: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(manifest).unwrap().replace(from, to);
    std::fs::write(manifest, text).unwrap();
}

fn codes(path: &Path) -> Vec<ReasonCode> {
    inspect(path).unwrap().report.reason_codes
}

#[test]
fn a_fresh_package_inspects_compliant() {
    let (_dir, manifest) = edge_package();
    let report = inspect(&manifest).unwrap().report;
    assert!(report.compliant, "{report:?}");
    assert_eq!(report.constraint_target_role, "control_plane_gateway");
    assert_eq!(report.required_abi, "wasi:*");
    assert_eq!(report.max_artifact_size_bytes, 2 << 20);
}

#[test]
fn a_missing_artifact_is_reported() {
    let (_dir, manifest) = edge_package();
    std::fs::remove_file(artifact_of(&manifest)).unwrap();
    assert_eq!(codes(&manifest), [ReasonCode::ArtifactMissing]);
}

#[test]
fn a_resized_artifact_is_reported() {
    let (_dir, manifest) = edge_package();
    let artifact = artifact_of(&manifest);
    std::fs::write(&artifact, wasm::no_imports()).unwrap();
    let c = codes(&manifest);
    assert!(
        c.contains(&ReasonCode::ArtifactSizeMismatch)
            && c.contains(&ReasonCode::ArtifactHashMismatch),
        "{c:?}"
    );
}

#[test]
fn edited_constraints_are_drift() {
    let (_dir, manifest) = edge_package();
    rewrite(&manifest, "2097152", "99999999");
    assert_eq!(codes(&manifest), [ReasonCode::ManifestProfileDrift]);
    rewrite(&manifest, "\"no_native_process_exec\",\n", "");
    assert!(codes(&manifest).contains(&ReasonCode::RequiredFeatureGateMissing));
}

#[test]
fn artifact_paths_that_leave_the_manifest_dir_are_refused() {
    let (_dir, manifest) = edge_package();
    let original = std::fs::read_to_string(&manifest).unwrap();
    let sha = Manifest::read(&manifest).unwrap().artifact_sha256;
    for bad in ["../m.wasm", "/etc/passwd", "sub/x.wasm", ".."] {
        let text = original.replace(&format!("\"{sha}.wasm\""), &format!("{bad:?}"));
        std::fs::write(&manifest, text).unwrap();
        assert!(
            matches!(inspect(&manifest), Err(Error::Manifest { .. })),
            "{bad}"
        );
    }
}

#[test]
fn unreadable_manifests_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        inspect(&dir.path().join("nope.json")),
        Err(Error::Io { .. })
    ));
    let path = dir.path().join("m.json");
    std::fs::write(&path, b"{\"schema_version\":1}").unwrap();
    assert!(matches!(inspect(&path), Err(Error::Manifest { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Package then inspect is compliant and reproducible; flipping any artifact byte is caught.
    #[test]
    fn flipping_one_artifact_byte_is_a_hash_mismatch(position in 0usize..10_000, bit in 0u8..8) {
        let (_dir, manifest) = edge_package();
        prop_assert!(inspect(&manifest).unwrap().report.compliant);
        let (_again, second) = edge_package();
        prop_assert_eq!(std::fs::read(&manifest).unwrap(), std::fs::read(&second).unwrap());
        let artifact = artifact_of(&manifest);
        let mut bytes = std::fs::read(&artifact).unwrap();
        let at = position % bytes.len();
        bytes[at] ^= 1 << bit;
        std::fs::write(&artifact, &bytes).unwrap();
        let report = inspect(&manifest).unwrap().report;
        prop_assert!(!report.compliant);
        prop_assert!(report.reason_codes.contains(&ReasonCode::ArtifactHashMismatch));
    }

    #[test]
    fn arbitrary_manifest_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Manifest::parse(&bytes, Path::new("m.json"));
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_artifact_or_manifest_is_refused_not_hashed() {
    let (dir, manifest) = edge_package();
    let artifact = artifact_of(&manifest);
    let outside = dir.path().join("hostname");
    std::fs::write(&outside, b"not the deliverable\n").unwrap();
    std::fs::remove_file(&artifact).unwrap();
    std::os::unix::fs::symlink(&outside, &artifact).unwrap();
    let err = inspect(&manifest).unwrap_err().to_string();
    assert!(err.contains("artifact") && err.contains("symlink"), "{err}");

    let link = dir.path().join("link.manifest.json");
    std::os::unix::fs::symlink(&manifest, &link).unwrap();
    let err = inspect(&link).unwrap_err().to_string();
    assert!(err.contains("manifest") && err.contains("symlink"), "{err}");
}

#[test]
fn control_characters_from_the_manifest_are_escaped_in_the_report() {
    let (_dir, manifest) = edge_package();
    rewrite(&manifest, "\"edge-wasm\"", "\"edge\\u001b[2J\\nforged=1\"");
    let report = inspect(&manifest).unwrap().report;
    assert!(
        !report.blueprint_id.chars().any(char::is_control),
        "{:?}",
        report.blueprint_id
    );
    assert!(
        report.blueprint_id.contains("\\u{1b}"),
        "{}",
        report.blueprint_id
    );
}

#[test]
fn smoke_findings_added_later_keep_each_code_once() {
    let (_dir, manifest) = edge_package();
    let mut inspected = inspect(&manifest).unwrap();
    for detail in ["first", "second"] {
        inspected.add_finding(Finding::new(ReasonCode::RuntimeSmokeFailed, detail));
    }
    assert_eq!(
        inspected.report.reason_codes,
        [ReasonCode::RuntimeSmokeFailed]
    );
    assert_eq!(inspected.report.findings.len(), 1);
    assert!(!inspected.report.compliant);
}

#[test]
fn an_oversized_artifact_reports_what_its_imports_imply() {
    let (_dir, manifest) = edge_package();
    let artifact = artifact_of(&manifest);
    std::fs::write(&artifact, wasm::sized(3 << 20)).unwrap();
    let c = codes(&manifest);
    assert!(
        c.contains(&ReasonCode::ArtifactSizeLimitExceeded)
            && c.contains(&ReasonCode::AbiAssumedNoImports),
        "{c:?}"
    );
}

#[test]
fn a_manifest_the_runbook_tool_wrote_without_artifact_kind_inspects() {
    let (_dir, manifest) = edge_package();
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("artifact_kind");
    value["source_module_path"] = "/home/ci/build/edge.wasm".into();
    std::fs::write(&manifest, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let report = inspect(&manifest).unwrap().report;
    assert!(report.compliant, "{report:?}");
    assert_eq!(report.artifact_kind, Some(ArtifactKind::CoreModule));
}
