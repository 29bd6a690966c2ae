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
fn unknown_imports_instantiate_but_trap_when_called() {
    let lazy = wat(r#"(module (import "env" "log" (func)) (func (export "run") call 0))"#);
    assert_eq!(run(&lazy, &Limits::default()).unwrap().entry, "instantiate");
    let eager = wat(r#"(module (import "env" "log" (func)) (func (export "_start") call 0))"#);
    let err = run(&eager, &Limits::default()).unwrap_err();
    assert!(err.0.starts_with("_start"), "{err}");
}

#[test]
fn a_runaway_module_runs_out_of_fuel() {
    let spin = wat(r#"(module (func (export "_start") (loop br 0)))"#);
    let limits = Limits {
        fuel: 1_000_000,
        ..Limits::default()
    };
    let err = run(&spin, &limits).unwrap_err();
    assert!(err.0.contains("fuel"), "{err}");
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
    assert!(err.0.contains("unreachable"), "{err}");
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
        .0
        .starts_with("compile"));
}
