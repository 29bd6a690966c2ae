use super::*;
use tau_durable::lock::Wait;
use tau_testkit::wasm;

fn reason(response: Response) -> String {
    response.body.reason().unwrap_or_default()
}

fn module(dir: &Path, reference: &str, options: Options) -> Result<Artifact, Response> {
    Verifier::new(dir, options).verify(None, Some(&Sym::new(reference)), Profile::WasmWasi)
}

fn manifest(dir: &Path, reference: &str, profile: Profile) -> Result<Artifact, Response> {
    Verifier::new(dir, Options::default()).verify(Some(&Sym::new(reference)), None, profile)
}

#[test]
fn an_existing_module_is_validated_and_hashed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.wasm"), wasm::edge_runtime()).unwrap();
    let artifact = module(dir.path(), "m.wasm", Options::default()).unwrap();
    assert_eq!(
        artifact.sha256.as_deref(),
        Some(tau_wasm::sha256_hex(&wasm::edge_runtime()).as_str())
    );
    assert_eq!(artifact.verified, Some(true));
    assert_eq!(&*artifact.reference, "m.wasm");
    assert_eq!(
        artifact.runtime_constraints.unwrap()["profile_id"],
        "control_plane_gateway_v1"
    );
}

#[test]
fn a_missing_module_is_refused_as_a_missing_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let err = module(dir.path(), "nope.wasm", Options::default()).unwrap_err();
    assert_eq!(err.error_code, Some(ErrorCode::MissingArtifact));
    assert_eq!(err.status_code, 400);
    assert_eq!(reason(err), "wasm_module_not_found");
}

#[test]
fn a_non_compliant_module_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p1.wasm"), wasm::preview1()).unwrap();
    let err = module(dir.path(), "p1.wasm", Options::default()).unwrap_err();
    assert_eq!(
        (err.status_code, reason(err)),
        (400, "invalid_wasm_module".to_string())
    );
}

#[test]
fn absolute_and_parent_paths_are_refused_unless_allowed() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("fixtures");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(outer.path().join("m.wasm"), wasm::edge_runtime()).unwrap();
    let absolute = outer.path().join("m.wasm").to_string_lossy().into_owned();
    for reference in ["../m.wasm", "./../m.wasm", absolute.as_str()] {
        let err = module(&dir, reference, Options::default()).unwrap_err();
        assert_eq!(err.error_code, Some(ErrorCode::MissingArtifact));
        assert_eq!(
            reason(err),
            "artifact_path_outside_fixture_dir",
            "{reference}"
        );
        let allowed = Options {
            allow_outside_fixture_dir: true,
            ..Options::default()
        };
        assert_eq!(
            module(&dir, reference, allowed).unwrap().verified,
            Some(true)
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_leading_out_of_the_fixture_dir_is_refused() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("fixtures");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(outer.path().join("m.wasm"), wasm::edge_runtime()).unwrap();
    std::os::unix::fs::symlink(outer.path().join("m.wasm"), dir.join("link.wasm")).unwrap();
    let err = module(&dir, "link.wasm", Options::default()).unwrap_err();
    assert_eq!(reason(err), "artifact_path_outside_fixture_dir");
    // A symlink that stays inside is refused too: module checks never follow symlinks.
    std::fs::write(dir.join("real.wasm"), wasm::edge_runtime()).unwrap();
    std::os::unix::fs::symlink(dir.join("real.wasm"), dir.join("inside.wasm")).unwrap();
    assert!(module(&dir, "inside.wasm", Options::default()).is_err());
    assert!(module(&dir, "real.wasm", Options::default()).is_ok());
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.wasm")).unwrap();
    let fifo = dir.path().join("fifo.wasm");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let allowed = Options {
        allow_outside_fixture_dir: true,
        ..Options::default()
    };
    // Opening a FIFO with no writer would block for ever; a refusal proves it was never opened.
    let err = module(dir.path(), "zero.wasm", allowed).unwrap_err();
    assert_eq!(reason(err), "artifact_not_regular_file");
    if made.is_ok_and(|s| s.success()) {
        let err = module(dir.path(), "fifo.wasm", allowed).unwrap_err();
        assert_eq!(reason(err), "artifact_not_regular_file");
        let err = manifest(dir.path(), "fifo.wasm", Profile::WasmWasi).unwrap_err();
        assert_eq!(reason(err), "artifact_not_regular_file");
    }
}

#[test]
fn files_over_the_cap_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.wasm"), wasm::edge_runtime()).unwrap();
    let tight = Options {
        max_bytes: 8,
        ..Options::default()
    };
    let err = module(dir.path(), "m.wasm", tight).unwrap_err();
    assert_eq!(reason(err), "artifact_too_large");
}

fn package(dir: &Path, profile: RuntimeProfile) -> String {
    let module = dir.join("m.wasm");
    std::fs::write(&module, wasm::edge_runtime()).unwrap();
    let request = tau_wasm::package::Request {
        module: &module,
        blueprint_id: "edge-wasm",
        profile,
        output_dir: &dir.join("artifacts"),
        state_dir: &dir.join("state"),
        generated_unix_ms: 0,
    };
    let packaged = tau_wasm::package::write(
        &tau_wasm::package::prepare(&request).unwrap(),
        Wait::FailFast,
    )
    .unwrap();
    packaged
        .manifest_path
        .strip_prefix(dir)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_packaged_manifest_answers_with_its_artifact_path_and_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let reference = package(dir.path(), RuntimeProfile::WasmWasi);
    let artifact = manifest(dir.path(), &reference, Profile::WasmWasi).unwrap();
    let sha = tau_wasm::sha256_hex(&wasm::edge_runtime());
    assert_eq!(artifact.manifest.as_deref(), Some(reference.as_str()));
    assert_eq!(&*artifact.reference, format!("{sha}.wasm"));
    assert_eq!(artifact.sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(artifact.size_bytes, Some(wasm::edge_runtime().len() as u64));
    let gates = artifact.capability_constraints.unwrap();
    assert!(!gates.is_empty());
    let mismatch = manifest(dir.path(), &reference, Profile::ChannelAutomationWasi).unwrap_err();
    assert_eq!(
        (mismatch.status_code, mismatch.error_code),
        (422, Some(ErrorCode::UnsupportedRuntime))
    );
    assert_eq!(reason(mismatch), "wasm_manifest_runtime_mismatch");
}

#[test]
fn a_manifest_whose_deploy_target_is_not_wasm_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let reference = package(dir.path(), RuntimeProfile::WasmWasi);
    let path = dir.path().join(&reference);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"deploy_target\": \"wasm\""), "{text}");
    std::fs::write(
        &path,
        text.replace(
            "\"deploy_target\": \"wasm\"",
            "\"deploy_target\": \"container\"",
        ),
    )
    .unwrap();
    let err = manifest(dir.path(), &reference, Profile::WasmWasi).unwrap_err();
    assert_eq!(err.error_code, Some(ErrorCode::MissingArtifact));
    assert_eq!(reason(err), "invalid_wasm_manifest");
}

#[test]
fn a_tampered_or_missing_manifest_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let reference = package(dir.path(), RuntimeProfile::WasmWasi);
    let artifact = std::fs::read_dir(dir.path().join("artifacts/edge-wasm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .unwrap();
    let mut bytes = std::fs::read(&artifact).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&artifact, bytes).unwrap();
    for reference in [reference.as_str(), "missing.manifest.json"] {
        let err = manifest(dir.path(), reference, Profile::WasmWasi).unwrap_err();
        assert_eq!(reason(err), "invalid_wasm_manifest");
    }
}
