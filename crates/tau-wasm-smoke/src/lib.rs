//! Runtime smoke of a WASM deliverable: does it actually load and run?
//!
//! Validation proves an artifact is well-formed; it does not prove a runtime will instantiate it.
//! This crate compiles the artifact with wasmtime and instantiates it behind a deny-by-default
//! WASI preview2 host: no preopened directories, no network, no inherited environment or
//! arguments, stdin empty, stdout and stderr captured. A component that exports `wasi:cli/run` is
//! run and its exit status recorded; a core module's `_start` (or `_initialize`) is called. Fuel and
//! an epoch deadline bound the guest, so a runaway module fails the smoke instead of hanging it.
//!
//! An artifact that imports something the host does not provide (`wasi:http`, a non-WASI
//! interface, any import of a core module, since the host links none for core modules) is not
//! run at all: the smoke reports [`Failed::UnsupportedImports`] with their names. Running it with
//! those imports stubbed could only prove that the parts not needing them start, which must never
//! read as a pass.
//!
//! wasmtime lives here, apart from `tau-wasm`, so the core crates still build for wasm32.

use std::time::Duration;

use serde::Serialize;
use wasmtime::component::{Component, Linker as ComponentLinker, ResourceTable};
use wasmtime::{Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Bounds on one smoke run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Units of wasmtime fuel (roughly one per instruction).
    pub fuel: u64,
    /// Largest linear memory the guest may grow to.
    pub memory_bytes: usize,
    /// Wall-clock budget for guest code, enforced through epoch interruption.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 2_000_000_000,
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What the smoke did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passed {
    /// `wasi:cli/run`, `_start`, `_initialize` or `instantiate`.
    pub entry: &'static str,
    pub exit_code: Option<i32>,
    pub fuel_consumed: u64,
    /// The first bytes the guest wrote to stdout.
    pub stdout: String,
}

/// Why a smoke did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failed {
    /// The host lacks these imports (sorted, as the artifact names them), so the artifact was not
    /// run and the smoke proves nothing about it.
    #[error("the smoke host does not provide {}; only WASI preview2 interfaces (cli, clocks, filesystem, io, random, sockets at 0.2) are linked, and nothing for core modules", .0.join(", "))]
    UnsupportedImports(Vec<String>),
    /// Compile, link, instantiate, trap, fuel or time exhaustion, non-zero exit.
    #[error("{0}")]
    Run(String),
}

impl Failed {
    /// The `runtime_smoke` value of a report: `unsupported_imports:<name>,<name>` or `failed`.
    pub fn outcome(&self) -> String {
        match self {
            Failed::UnsupportedImports(names) => format!("unsupported_imports:{}", names.join(",")),
            Failed::Run(_) => "failed".into(),
        }
    }
}

fn fail(stage: &str, e: wasmtime::Error) -> Failed {
    Failed::Run(format!("{stage}: {e:#}"))
}

struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

const STDOUT_CAPTURE: usize = 64 * 1024;

/// Compiles and runs `bytes` (a core module or a component) under `limits`.
pub fn run(bytes: &[u8], limits: &Limits) -> Result<Passed, Failed> {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .wasm_component_model(true);
    let engine = Engine::new(&config).map_err(|e| fail("engine", e))?;

    let stdout = MemoryOutputPipe::new(STDOUT_CAPTURE);
    // Deny by default: the builder grants nothing that is not asked for, and nothing is.
    let wasi = WasiCtxBuilder::new()
        .stdin(MemoryInputPipe::new(Vec::new()))
        .stdout(stdout.clone())
        .stderr(MemoryOutputPipe::new(STDOUT_CAPTURE))
        .allow_ip_name_lookup(false)
        .allow_tcp(false)
        .allow_udp(false)
        .build();
    let host = Host {
        wasi,
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .build(),
    };
    let mut store = Store::new(&engine, host);
    store.limiter(|h| &mut h.limits);
    store.set_fuel(limits.fuel).map_err(|e| fail("fuel", e))?;
    store.set_epoch_deadline(1);
    let watchdog = Watchdog::start(engine.clone(), limits.timeout);

    let outcome = if wasmparser_is_component(bytes) {
        run_component(&engine, &mut store, bytes)
    } else {
        run_module(&engine, &mut store, bytes)
    };
    drop(watchdog);
    let (entry, exit_code) = outcome?;
    let fuel_left = store.get_fuel().unwrap_or(0);
    let captured = stdout.contents();
    Ok(Passed {
        entry,
        exit_code,
        fuel_consumed: limits.fuel.saturating_sub(fuel_left),
        stdout: String::from_utf8_lossy(&captured[..captured.len().min(512)]).into_owned(),
    })
}

fn wasmparser_is_component(bytes: &[u8]) -> bool {
    // Layer byte 1 (bytes 6..8 of the preamble) marks a component.
    bytes.len() >= 8 && bytes[6..8] == [0x01, 0x00]
}

fn run_module(
    engine: &Engine,
    store: &mut Store<Host>,
    bytes: &[u8],
) -> Result<(&'static str, Option<i32>), Failed> {
    let module = Module::new(engine, bytes).map_err(|e| fail("compile", e))?;
    let mut unsupported: Vec<String> = module.imports().map(|i| i.module().to_string()).collect();
    if !unsupported.is_empty() {
        unsupported.sort();
        unsupported.dedup();
        return Err(Failed::UnsupportedImports(unsupported));
    }
    let linker: Linker<Host> = Linker::new(engine);
    let instance = linker
        .instantiate(&mut *store, &module)
        .map_err(|e| fail("instantiate", e))?;
    for entry in ["_start", "_initialize"] {
        if let Ok(func) = instance.get_typed_func::<(), ()>(&mut *store, entry) {
            func.call(&mut *store, ()).map_err(|e| fail(entry, e))?;
            return Ok((entry, Some(0)));
        }
    }
    Ok(("instantiate", None))
}

fn run_component(
    engine: &Engine,
    store: &mut Store<Host>,
    bytes: &[u8],
) -> Result<(&'static str, Option<i32>), Failed> {
    let component = Component::new(engine, bytes).map_err(|e| fail("compile", e))?;
    let mut linker: ComponentLinker<Host> = ComponentLinker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| fail("link wasi", e))?;
    let imports: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let mut unsupported: Vec<String> = imports
        .iter()
        .filter(|name| !host_provides(name))
        .cloned()
        .collect();
    if unsupported.is_empty() {
        // The name list is a fast path; the linker has the last word. An import it cannot
        // satisfy by name is unsupported too (its message names it).
        if let Err(e) = linker.instantiate_pre(&component) {
            match imports.iter().find(|name| missing_in(&e, name)) {
                Some(name) => unsupported.push(name.clone()),
                None => return Err(fail("link", e)),
            }
        }
    }
    if !unsupported.is_empty() {
        unsupported.sort();
        unsupported.dedup();
        return Err(Failed::UnsupportedImports(unsupported));
    }
    let exports_run = component
        .component_type()
        .exports(engine)
        .any(|(name, _)| name == "wasi:cli/run" || name.starts_with("wasi:cli/run@"));
    if !exports_run {
        linker
            .instantiate(&mut *store, &component)
            .map_err(|e| fail("instantiate", e))?;
        return Ok(("instantiate", None));
    }
    let command = Command::instantiate(&mut *store, &component, &linker)
        .map_err(|e| fail("instantiate", e))?;
    let status = match command.wasi_cli_run().call_run(&mut *store) {
        Ok(Ok(())) => 0,
        Ok(Err(())) => 1,
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => exit.0,
            None => return Err(fail("wasi:cli/run", e)),
        },
    };
    if status != 0 {
        return Err(Failed::Run(format!(
            "wasi:cli/run exited with status {status}"
        )));
    }
    Ok(("wasi:cli/run", Some(status)))
}

/// WASI packages the host links (`wasmtime_wasi::p2::add_to_linker_sync`), all at 0.2.
const HOST_PACKAGES: [&str; 6] = [
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
];

/// Whether `import` names an interface of a WASI package the host links, at a 0.2 version.
fn host_provides(import: &str) -> bool {
    let (name, version) = import.split_once('@').unwrap_or((import, ""));
    HOST_PACKAGES.iter().any(|p| name.starts_with(p)) && version.starts_with("0.2.")
}

/// Whether a link error is the linker lacking `name` or a function of it, as opposed to
/// providing it with a different type (a link failure of the artifact, reported as such).
fn missing_in(error: &wasmtime::Error, name: &str) -> bool {
    let top = error.to_string();
    let chain = format!("{error:#}");
    top.contains(&format!("`{name}`"))
        && top.contains("not found")
        && !chain.contains("type mismatch")
}

/// Bumps the engine's epoch once the timeout passes, interrupting guest code.
struct Watchdog {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(engine: Engine, timeout: Duration) -> Self {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(timeout) {
                engine.increment_epoch();
            }
        });
        Watchdog {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
