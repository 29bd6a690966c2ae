use super::*;

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

fn component() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/wasm/hello-component.wasm"
    ))
    .unwrap()
}

#[test]
fn a_real_command_component_runs_to_exit_zero() {
    let passed = run(&component(), &Limits::default()).unwrap();
    assert_eq!((passed.entry, passed.exit_code), ("wasi:cli/run", Some(0)));
    // Deny-by-default: the guest sees no environment variables.
    assert_eq!(
        passed.stdout.trim(),
        "hello from a wasi:cli/run component (0 environment variables visible)"
    );
    assert!(passed.fuel_consumed > 0);
}

#[test]
fn a_core_module_start_function_is_called() {
    let passed = run(
        &wat(r#"(module (func (export "_start")))"#),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(passed.entry, "_start");
}

#[test]
fn a_core_module_with_imports_is_unsupported_never_passed() {
    // Before, this instantiated with a trap stub and read as passed (`entry: instantiate`).
    let lazy = wat(
        r#"(module (import "env" "log" (func)) (import "wasi:cli/environment@0.2.6" "x" (func))
            (func (export "run") call 0))"#,
    );
    let err = run(&lazy, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        Failed::UnsupportedImports(vec!["env".into(), "wasi:cli/environment@0.2.6".into()])
    );
    assert_eq!(
        err.outcome(),
        "unsupported_imports:env,wasi:cli/environment@0.2.6"
    );
}

#[test]
fn a_component_importing_wasi_http_is_unsupported_never_passed() {
    let http = wat(r#"(component
        (import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func))))
        (import "wasi:cli/environment@0.2.6" (instance (export "get-arguments" (func (result (list string))))))
    )"#);
    let err = run(&http, &Limits::default()).unwrap_err();
    assert_eq!(
        err.outcome(),
        "unsupported_imports:wasi:http/outgoing-handler@0.2.0"
    );
    assert!(err.to_string().contains("does not provide"), "{err}");
}

#[test]
fn a_wasi_name_at_a_version_the_host_lacks_is_unsupported() {
    let future = wat(r#"(component
        (import "wasi:cli/environment@0.3.0" (instance (export "get-arguments" (func (result (list string))))))
    )"#);
    assert_eq!(
        run(&future, &Limits::default()).unwrap_err().outcome(),
        "unsupported_imports:wasi:cli/environment@0.3.0"
    );
}

#[test]
fn a_function_the_host_interface_lacks_is_unsupported() {
    let extra = wat(r#"(component
        (import "wasi:cli/environment@0.2.3" (instance (export "not-in-wasi" (func))))
    )"#);
    assert_eq!(
        run(&extra, &Limits::default()).unwrap_err().outcome(),
        "unsupported_imports:wasi:cli/environment@0.2.3"
    );
}

#[test]
fn a_provided_name_with_the_wrong_type_is_a_link_failure() {
    let mistyped = wat(r#"(component
        (import "wasi:cli/environment@0.2.6" (instance (export "get-arguments" (func (param "x" u32)))))
    )"#);
    let err = run(&mistyped, &Limits::default()).unwrap_err();
    assert_eq!(err.outcome(), "failed", "{err}");
    assert!(err.to_string().starts_with("link"), "{err}");
}

#[test]
fn a_runaway_module_runs_out_of_fuel() {
    let spin = wat(r#"(module (func (export "_start") (loop br 0)))"#);
    let limits = Limits {
        fuel: 1_000_000,
        ..Limits::default()
    };
    let err = run(&spin, &limits).unwrap_err();
    assert!(err.to_string().contains("fuel"), "{err}");
}

#[test]
fn a_runaway_module_is_stopped_by_the_deadline_too() {
    let spin = wat(r#"(module (func (export "_start") (loop br 0)))"#);
    let limits = Limits {
        fuel: u64::MAX,
        timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    assert!(run(&spin, &limits).is_err());
}

#[test]
fn a_trap_fails_the_smoke() {
    let err = run(
        &wat(r#"(module (func (export "_start") unreachable))"#),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
}

#[test]
fn memory_growth_is_capped() {
    let greedy = wat(
        r#"(module (memory 1) (func (export "_start") (if (i32.eq (memory.grow (i32.const 30000)) (i32.const -1)) (then unreachable))))"#,
    );
    assert!(run(&greedy, &Limits::default()).is_err());
}

#[test]
fn garbage_fails_to_compile() {
    assert!(run(b"\0asm\x01\0\0\0\xff", &Limits::default())
        .unwrap_err()
        .to_string()
        .starts_with("compile"));
}
