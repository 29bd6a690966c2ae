use super::*;
use crate::driver::Outcome;
use crate::fixture::{Expectation, SimulatedFailure};
use crate::sym::Sym;
use tau_durable::lock::Wait;
use tau_testkit::wasm;

fn case(module: Option<&str>, manifest: Option<&str>) -> Case {
    Case {
        schema_version: 1,
        case_id: Sym::new("c"),
        deploy_target: Sym::new("wasm"),
        runtime_profile: Sym::new("wasm_wasi"),
        blueprint_id: Sym::new("edge-wasm"),
        environment: Sym::new("staging"),
        region: Sym::new("global"),
        container_image: None,
        wasm_module: module.map(Sym::new),
        wasm_manifest: manifest.map(Sym::new),
        replicas: 1,
        simulate_retryable_failure: SimulatedFailure::Never,
        expected: Expectation {
            outcome: Outcome::Success,
            status_code: 201,
            error_code: Sym::default(),
            response_body: Default::default(),
        },
    }
}

fn reason(response: Response) -> String {
    response.body.reason().unwrap_or_default()
}

#[test]
fn an_existing_module_is_validated_and_hashed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.wasm"), wasm::edge_runtime()).unwrap();
    let artifact = Verifier::new(dir.path(), false)
        .verify(&case(Some("m.wasm"), None), Profile::WasmWasi)
        .unwrap();
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
fn a_missing_module_is_recorded_unverified_unless_artifacts_are_required() {
    let dir = tempfile::tempdir().unwrap();
    let c = case(Some("nope.wasm"), None);
    let lenient = Verifier::new(dir.path(), false)
        .verify(&c, Profile::WasmWasi)
        .unwrap();
    assert_eq!(lenient.verified, Some(false));
    let strict = Verifier::new(dir.path(), true)
        .verify(&c, Profile::WasmWasi)
        .unwrap_err();
    assert_eq!(strict.error_code, Some(ErrorCode::MissingArtifact));
    assert_eq!(reason(strict), "wasm_module_not_found");
}

#[test]
fn a_non_compliant_module_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p1.wasm"), wasm::preview1()).unwrap();
    let err = Verifier::new(dir.path(), false)
        .verify(&case(Some("p1.wasm"), None), Profile::WasmWasi)
        .unwrap_err();
    assert_eq!(
        (err.status_code, reason(err)),
        (400, "invalid_wasm_module".to_string())
    );
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
fn a_packaged_manifest_is_verified_and_its_profile_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = package(dir.path(), RuntimeProfile::WasmWasi);
    let c = case(None, Some(&manifest));
    let artifact = Verifier::new(dir.path(), false)
        .verify(&c, Profile::WasmWasi)
        .unwrap();
    assert_eq!(artifact.manifest.as_deref(), Some(manifest.as_str()));
    assert_eq!(artifact.size_bytes, Some(wasm::edge_runtime().len() as u64));
    let mismatch = Verifier::new(dir.path(), false)
        .verify(&c, Profile::ChannelAutomationWasi)
        .unwrap_err();
    assert_eq!(
        (mismatch.status_code, mismatch.error_code),
        (422, Some(ErrorCode::UnsupportedRuntime))
    );
    assert_eq!(reason(mismatch), "wasm_manifest_runtime_mismatch");
}

#[test]
fn a_tampered_or_missing_manifest_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = package(dir.path(), RuntimeProfile::WasmWasi);
    let artifact = std::fs::read_dir(dir.path().join("artifacts/edge-wasm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .unwrap();
    let mut bytes = std::fs::read(&artifact).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&artifact, bytes).unwrap();
    for c in [
        case(None, Some(&manifest)),
        case(None, Some("missing.manifest.json")),
    ] {
        let err = Verifier::new(dir.path(), false)
            .verify(&c, Profile::WasmWasi)
            .unwrap_err();
        assert_eq!(reason(err), "invalid_wasm_manifest");
    }
}
