use super::*;
use crate::profile::ReasonCode;
use tau_testkit::{files, wasm};

fn write_module(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The runbook's edge module written into `dir`, with the `out` and `state` dirs it packages into.
fn edge_layout(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let module = write_module(dir, "edge.wasm", &wasm::edge_runtime());
    (module, dir.join("out"), dir.join("state"))
}

fn request<'a>(module: &'a Path, out: &'a Path, state: &'a Path) -> Request<'a> {
    Request {
        module,
        blueprint_id: "edge-wasm",
        profile: RuntimeProfile::WasmWasi,
        output_dir: out,
        state_dir: state,
        generated_unix_ms: 1_700_000_000_000,
    }
}

#[test]
fn packaging_writes_content_addressed_files_and_a_state_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (module, out, state) = edge_layout(dir.path());
    let prepared = prepare(&request(&module, &out, &state)).unwrap();
    let packaged = write(&prepared, Wait::FailFast).unwrap();
    let sha = &prepared.manifest.artifact_sha256;
    assert_eq!(
        packaged.artifact_path,
        out.join("edge-wasm").join(format!("{sha}.wasm"))
    );
    assert_eq!(
        std::fs::read(&packaged.artifact_path).unwrap(),
        wasm::edge_runtime()
    );
    let manifest = Manifest::read(&packaged.manifest_path).unwrap();
    assert_eq!(manifest.artifact_path, format!("{sha}.wasm"));
    assert_eq!(manifest.source_module_path, "edge.wasm");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&packaged.state_path).unwrap()).unwrap();
    let entry = &state["wasm_deliverables"][0];
    assert_eq!(entry["artifact_sha256"], sha.as_str());
    assert_eq!(entry["constraint_profile_id"], "control_plane_gateway_v1");
}

#[test]
fn the_same_module_gives_the_same_manifest_bytes_in_any_output_dir() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_module(dir.path(), "edge.wasm", &wasm::edge_runtime());
    let mut manifests = Vec::new();
    for out in ["a", "b/c"] {
        let (out, state) = (
            dir.path().join(out),
            dir.path().join(format!("state-{}", manifests.len())),
        );
        let packaged = write(
            &prepare(&request(&module, &out, &state)).unwrap(),
            Wait::FailFast,
        )
        .unwrap();
        manifests.push(std::fs::read(packaged.manifest_path).unwrap());
    }
    assert_eq!(manifests[0], manifests[1]);
    assert!(!String::from_utf8_lossy(&manifests[0]).contains(&*dir.path().to_string_lossy()));
}

#[test]
fn repackaging_replaces_the_entry_and_keeps_other_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("state.json"),
        br#"{"schema_version":1,"rollouts":[],"browser_did":{"did":"x"}}"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    for bytes in [wasm::edge_runtime(), wasm::compliant_core()] {
        let module = write_module(dir.path(), "m.wasm", &bytes);
        write(
            &prepare(&request(&module, &out, &state)).unwrap(),
            Wait::FailFast,
        )
        .unwrap();
    }
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(value["wasm_deliverables"].as_array().unwrap().len(), 1);
    assert_eq!(value["browser_did"]["did"], "x");
    assert_eq!(value["rollouts"], serde_json::json!([]));
}

#[test]
fn refused_inputs_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, state) = (dir.path().join("out"), dir.path().join("state"));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("p1.wasm", wasm::preview1(), "import_module_forbidden"),
        ("bad.wasm", wasm::type_invalid(), "type mismatch"),
        ("cut.wasm", wasm::truncated(), "byte offset"),
        ("sh.wasm", wasm::non_wasm(), "magic header"),
        (
            "big.wasm",
            wasm::sized(3 << 20),
            "artifact_size_limit_exceeded",
        ),
        (
            "vault.wasm",
            wasm::component_non_wasi(),
            "import_module_not_allowlisted",
        ),
    ];
    for (name, bytes, expected) in cases {
        let module = write_module(dir.path(), name, &bytes);
        let err = prepare(&request(&module, &out, &state))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{name}: {err}");
    }
    assert!(!out.exists() && !state.exists());
}

#[test]
fn blueprint_ids_that_are_paths_are_refused_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_module(dir.path(), "m.wasm", &wasm::edge_runtime());
    for id in ["../escape", "a/b", "..", "sp ace"] {
        let mut r = request(&module, dir.path(), dir.path());
        r.blueprint_id = id;
        assert!(
            matches!(prepare(&r), Err(Error::BlueprintId { .. })),
            "{id}"
        );
    }
}

#[test]
fn no_imports_is_packaged_with_its_note() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_module(dir.path(), "m.wasm", &wasm::no_imports());
    let prepared = prepare(&request(&module, dir.path(), dir.path())).unwrap();
    assert_eq!(prepared.findings[0].code, ReasonCode::AbiAssumedNoImports);
}

#[test]
fn the_channel_profile_has_its_own_limit() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_module(dir.path(), "m.wasm", &wasm::sized(1536 * 1024));
    let mut r = request(&module, dir.path(), dir.path());
    assert!(prepare(&r).is_ok(), "1.5 MiB fits wasm_wasi");
    r.profile = RuntimeProfile::ChannelAutomationWasi;
    assert!(matches!(prepare(&r), Err(Error::NonCompliant { .. })));
}

#[test]
fn a_proposal_outside_the_profile_is_non_compliant_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, proposal) in [
        ("threads.wasm", wasm::threads(), "threads"),
        ("wide.wasm", wasm::wide_arithmetic(), "wide_arithmetic"),
    ] {
        let module = write_module(dir.path(), name, &bytes);
        match prepare(&request(&module, dir.path(), dir.path())) {
            Err(Error::NonCompliant { findings, .. }) => {
                assert_eq!(findings.len(), 1, "{findings:?}");
                assert_eq!(findings[0].code, ReasonCode::WasmFeatureNotAllowed);
                assert!(findings[0].detail.contains(proposal), "{findings:?}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn an_oversized_module_without_imports_also_reports_the_assumed_abi() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_module(dir.path(), "big.wasm", &wasm::sized(3 << 20));
    match prepare(&request(&module, dir.path(), dir.path())) {
        Err(Error::NonCompliant { findings, .. }) => assert_eq!(
            findings.iter().map(|f| f.code).collect::<Vec<_>>(),
            [
                ReasonCode::ArtifactSizeLimitExceeded,
                ReasonCode::AbiAssumedNoImports
            ]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failure_after_the_files_are_staged_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (module, out, state) = edge_layout(dir.path());
    let prepared = prepare(&request(&module, &out, &state)).unwrap();
    let mut staged_seen = Vec::new();
    let err = write_with_fault(&prepared, Wait::FailFast, || {
        staged_seen = files(&out);
        Err(Error::Manifest {
            path: out.clone(),
            message: "injected".into(),
        })
    })
    .unwrap_err();
    assert!(err.to_string().contains("injected"));
    assert_eq!(
        staged_seen.len(),
        2,
        "both temps were written: {staged_seen:?}"
    );
    assert!(files(&out).is_empty(), "{:?}", files(&out));
    assert!(!state.join("state.json").exists());
}

#[test]
fn a_failed_state_update_removes_the_files_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let (module, out, state) = edge_layout(dir.path());
    std::fs::create_dir_all(state.join("state.json")).unwrap();
    let prepared = prepare(&request(&module, &out, &state)).unwrap();
    assert!(write(&prepared, Wait::FailFast).is_err());
    assert!(files(&out).is_empty(), "{:?}", files(&out));
}

#[test]
fn a_temp_file_left_by_a_killed_run_is_swept_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let (module, out, state) = edge_layout(dir.path());
    let prepared = prepare(&request(&module, &out, &state)).unwrap();
    let stale = prepared.dir.join(format!(
        ".{}.wasm.tmp-999999999",
        prepared.manifest.artifact_sha256
    ));
    std::fs::create_dir_all(&prepared.dir).unwrap();
    std::fs::write(&stale, b"half a module").unwrap();
    write(&prepared, Wait::FailFast).unwrap();
    assert!(!stale.exists());
    assert_eq!(files(&prepared.dir).len(), 2, "{:?}", files(&prepared.dir));
}

#[cfg(unix)]
#[test]
fn symlinked_modules_and_output_dirs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = write_module(dir.path(), "real.wasm", &wasm::edge_runtime());
    let link = dir.path().join("link.wasm");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let err = prepare(&request(&link, dir.path(), dir.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("module") && err.contains("symlink"), "{err}");

    let (out, state) = (dir.path().join("out"), dir.path().join("state"));
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("edge-wasm")).unwrap();
    let prepared = prepare(&request(&real, &out, &state)).unwrap();
    let err = write(&prepared, Wait::FailFast).unwrap_err().to_string();
    assert!(err.contains("symlink"), "{err}");
    assert!(files(&elsewhere).is_empty());
}
