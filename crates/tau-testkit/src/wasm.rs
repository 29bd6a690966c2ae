//! WebAssembly test inputs, generated from source: WAT through the `wat` crate, and the real
//! preview2 component built from `testdata/wasm/hello-component` (see
//! `scripts/dev/rebuild-wasm-testdata.sh`).

use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test WAT parses")
}

/// The runbook's edge runtime module, compiled from its committed WAT source.
pub fn edge_runtime() -> Vec<u8> {
    wat::parse_file(edge_runtime_wat()).expect("edge-runtime.wat parses")
}

pub fn edge_runtime_wat() -> PathBuf {
    repo().join("crates/tau-coding-agent/testdata/deployment-wasm/edge-runtime.wat")
}

/// A compliant core module importing a WASI preview2 interface and `env`.
pub fn compliant_core() -> Vec<u8> {
    wat(r#"(module
        (import "wasi:http/outgoing-handler@0.2.6" "handle" (func (param i32) (result i32)))
        (import "env" "log" (func (param i32)))
        (func (export "run") (result i32) i32.const 0))"#)
}

/// A core module with no imports at all.
pub fn no_imports() -> Vec<u8> {
    wat(
        r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#,
    )
}

/// A core module written against WASI preview1.
pub fn preview1() -> Vec<u8> {
    wat(r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1))"#)
}

/// A valid module that needs the threads proposal (a shared memory and an atomic add), with a
/// preview2 import so that nothing but the proposal keeps it from its profile.
pub fn threads() -> Vec<u8> {
    wat(r#"(module
        (import "wasi:cli/environment@0.2.6" "get-arguments" (func (param i32)))
        (memory 1 1 shared)
        (func (export "bump") (result i32)
            i32.const 0 i32.const 1 i32.atomic.rmw.add))"#)
}

/// A valid module that needs the wide-arithmetic proposal (`i64.add128`).
pub fn wide_arithmetic() -> Vec<u8> {
    wat(r#"(module
        (import "wasi:cli/environment@0.2.6" "get-arguments" (func (param i32)))
        (func (export "add") (param i64 i64 i64 i64) (result i64 i64)
            local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))"#)
}

/// Well-formed binary whose function body returns an i64 where an i32 is declared.
pub fn type_invalid() -> Vec<u8> {
    wat(r#"(module (func (result i32) i64.const 1))"#)
}

/// A valid module cut short.
pub fn truncated() -> Vec<u8> {
    let mut bytes = compliant_core();
    bytes.truncate(bytes.len() - 7);
    bytes
}

pub fn non_wasm() -> Vec<u8> {
    b"#!/bin/sh\necho this is not WebAssembly\n".to_vec()
}

/// A valid module padded with a custom section to `size` bytes.
pub fn sized(size: usize) -> Vec<u8> {
    let mut bytes = no_imports();
    let name = b"padding";
    // Custom section: id 0, LEB128 size, name length, name, payload.
    let overhead = bytes.len() + 1 + 5 + 1 + name.len();
    let payload = size.saturating_sub(overhead);
    let body_len = 1 + name.len() + payload;
    bytes.push(0);
    let mut len = body_len as u32;
    for i in 0..5 {
        let mut byte = (len & 0x7f) as u8;
        len >>= 7;
        if i < 4 {
            byte |= 0x80;
        }
        bytes.push(byte);
    }
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.resize(bytes.len() + payload, 0);
    bytes
}

/// The real preview2 command component built from Rust for `wasm32-wasip2`.
pub fn component() -> Vec<u8> {
    std::fs::read(repo().join("testdata/wasm/hello-component.wasm")).expect("committed component")
}

/// A component that imports a non-WASI interface and also embeds a core module that imports
/// preview1 internally (which the host never sees).
pub fn component_non_wasi() -> Vec<u8> {
    wat(r#"(component
        (import "acme:secrets/vault@1.0.0" (instance (export "ping" (func))))
        (core module $inner
            (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))
    )"#)
}

/// A component whose only host import is a WASI interface, with an inner core module that
/// imports preview1 (satisfied inside the component, so still compliant).
pub fn component_wasi_only() -> Vec<u8> {
    wat(r#"(component
        (import "wasi:cli/environment@0.2.6" (instance (export "get-arguments" (func))))
        (core module $inner
            (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))
    )"#)
}

/// Committed binaries and the WAT source each is compiled from.
pub fn committed_wat_binaries() -> Vec<(PathBuf, PathBuf)> {
    [
        "crates/tau-coding-agent/testdata/deployment-wasm/edge-runtime",
        "testdata/deployment-contract/modules/edge-runtime",
        "testdata/deployment-contract/modules/channel-automation",
    ]
    .iter()
    .map(|stem| {
        (
            repo().join(format!("{stem}.wat")),
            repo().join(format!("{stem}.wasm")),
        )
    })
    .collect()
}

#[cfg(test)]
mod tests {
    /// The committed `.wasm` files are exactly their `.wat` sources compiled; with
    /// `TAU_REGENERATE_TESTDATA=1` this test rewrites them instead.
    #[test]
    fn committed_wasm_matches_its_wat_source() {
        let regenerate = std::env::var_os("TAU_REGENERATE_TESTDATA").is_some();
        for (wat_path, wasm_path) in super::committed_wat_binaries() {
            let built = wat::parse_file(&wat_path).unwrap();
            if regenerate {
                std::fs::write(&wasm_path, &built).unwrap();
            }
            let committed = std::fs::read(&wasm_path).unwrap_or_default();
            assert!(
                committed == built,
                "{} is stale; run scripts/dev/rebuild-wasm-testdata.sh",
                wasm_path.display()
            );
        }
    }
}
