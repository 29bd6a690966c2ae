use super::*;
use tau_testkit::wasm;

#[test]
fn core_modules_report_their_import_modules() {
    let v = validate(&wasm::compliant_core()).unwrap();
    assert_eq!(v.kind, ArtifactKind::CoreModule);
    assert_eq!(v.imports, ["env", "wasi:http/outgoing-handler@0.2.6"]);
}

#[test]
fn a_real_component_reports_its_wasi_imports_with_versions() {
    let v = validate(&wasm::component()).unwrap();
    assert_eq!(v.kind, ArtifactKind::Component);
    assert!(
        v.imports.iter().all(|i| i.starts_with("wasi:")),
        "{:?}",
        v.imports
    );
    assert!(
        v.imports
            .iter()
            .any(|i| i.starts_with("wasi:cli/environment@0.2.")),
        "{:?}",
        v.imports
    );
    assert!(v.exports_cli_run(), "{:?}", v.exports);
}

#[test]
fn nested_core_module_imports_are_not_host_imports() {
    let v = validate(&wasm::component_wasi_only()).unwrap();
    assert_eq!(v.imports, ["wasi:cli/environment@0.2.6"]);
    let v = validate(&wasm::component_non_wasi()).unwrap();
    assert_eq!(v.imports, ["acme:secrets/vault@1.0.0"]);
}

#[test]
fn proposals_beyond_the_baseline_are_named_not_called_invalid() {
    assert_eq!(validate(&wasm::threads()).unwrap().proposals, ["threads"]);
    assert_eq!(
        validate(&wasm::wide_arithmetic()).unwrap().proposals,
        ["wide_arithmetic"]
    );
    for baseline in [
        wasm::compliant_core(),
        wasm::edge_runtime(),
        wasm::component(),
    ] {
        assert!(validate(&baseline).unwrap().proposals.is_empty());
    }
}

#[test]
fn a_module_invalid_under_every_proposal_is_still_invalid() {
    let err = validate(&wasm::type_invalid()).unwrap_err();
    assert!(err.message.contains("type mismatch"), "{err}");
}

#[test]
fn type_errors_point_at_the_offending_byte() {
    let err = validate(&wasm::type_invalid()).unwrap_err();
    assert!(err.message.contains("type mismatch"), "{err}");
    assert!(err.offset > 8, "{err}");
    assert!(err
        .to_string()
        .contains(&format!("at byte offset {}", err.offset)));
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let err = validate(&wasm::truncated()).unwrap_err();
    assert!(err.offset > 0, "{err}");
    let err = validate(&wasm::non_wasm()).unwrap_err();
    assert_eq!(err.offset, 0);
    assert!(err.message.contains("magic header"), "{err}");
    assert!(validate(b"\0asm").is_err());
}

#[test]
fn sized_modules_are_valid_and_exact() {
    let bytes = wasm::sized(3 << 20);
    assert_eq!(bytes.len(), 3 << 20);
    validate(&bytes).unwrap();
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        let _ = validate(&bytes);
        let mut with_header = b"\0asm\x01\0\0\0".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = validate(&with_header);
    }
}
