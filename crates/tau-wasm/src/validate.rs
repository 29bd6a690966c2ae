//! Full validation of a WebAssembly binary and the imports a host must satisfy.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmparser::{
    Encoding, FuncValidatorAllocations, Parser, Payload, ValidPayload, Validator, WasmFeatures,
};

/// What kind of binary an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    CoreModule,
    Component,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::CoreModule => "core_module",
            ArtifactKind::Component => "component",
        }
    }
}

/// A binary that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    pub kind: ArtifactKind,
    /// Sorted, without duplicates. For a core module: its import module names (`wasi_snapshot_preview1`,
    /// `env`). For a component: its own top-level import names exactly as declared, version
    /// included (`wasi:cli/environment@0.2.6`). Imports of core modules nested inside a component
    /// are satisfied inside the component, not by the host, so they are not listed.
    pub imports: Vec<String>,
    /// Top-level export names of a component (interface names such as `wasi:cli/run@0.2.6`).
    pub exports: Vec<String>,
    /// WebAssembly proposals beyond [`BASELINE`] that the binary needs, named as wasmparser names
    /// its feature flags (`threads`, `wide_arithmetic`, `tail_call`), sorted. Empty for nearly
    /// every binary; a profile decides which of these it allows.
    pub proposals: Vec<String>,
}

impl Validated {
    /// Whether the component exports `wasi:cli/run` (any version), i.e. can be run as a command.
    pub fn exports_cli_run(&self) -> bool {
        self.exports
            .iter()
            .any(|e| e == "wasi:cli/run" || e.starts_with("wasi:cli/run@"))
    }
}

/// Why a binary is not valid WebAssembly, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Byte offset of the offending construct.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} (at byte offset {})", self.message, self.offset)
    }
}

impl std::error::Error for Invalid {}

const MAGIC: &[u8; 4] = b"\0asm";

/// What every binary may use without naming a proposal: the finished WebAssembly 2.0 standard and
/// the component model itself (not its async, threading or other follow-up proposals).
pub const BASELINE: WasmFeatures = WasmFeatures::WASM2.union(WasmFeatures::COMPONENT_MODEL);

/// Validates `bytes` as a core module or component and collects its host-facing imports.
///
/// A binary that is invalid even with every proposal enabled is [`Invalid`]. One that is valid
/// only with proposals beyond [`BASELINE`] is returned with those proposals in
/// [`Validated::proposals`], so the profile can refuse it by name instead of calling it invalid.
pub fn validate(bytes: &[u8]) -> Result<Validated, Invalid> {
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(Invalid {
            offset: 0,
            message: "not a WebAssembly binary: the \\0asm magic header is missing".into(),
        });
    }
    // The common case costs one pass; the extra passes run only for binaries that need more.
    let baseline_error = match validate_with(bytes, BASELINE) {
        Ok(validated) => return Ok(validated),
        Err(invalid) => invalid,
    };
    let mut validated = validate_with(bytes, WasmFeatures::all())?;
    validated.proposals = proposals_used(bytes);
    if validated.proposals.is_empty() {
        // Valid with everything on, yet no single proposal explains it (it needs one of several):
        // the baseline error still names what it uses.
        validated
            .proposals
            .push(format!("unknown ({baseline_error})"));
    }
    Ok(validated)
}

/// Names each proposal outside [`BASELINE`] without which `bytes` (valid with every proposal)
/// stops validating.
fn proposals_used(bytes: &[u8]) -> Vec<String> {
    let extra = WasmFeatures::all().difference(BASELINE);
    let mut used: Vec<String> = extra
        .iter_names()
        .filter(|(_, flag)| validate_with(bytes, WasmFeatures::all().difference(*flag)).is_err())
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    used.sort();
    used.dedup();
    used
}

fn reader_error(e: wasmparser::BinaryReaderError) -> Invalid {
    Invalid {
        offset: e.offset(),
        message: e.message().to_string(),
    }
}

/// Host-facing names seen while walking the payloads of one binary.
#[derive(Default)]
struct Names {
    kind: Option<ArtifactKind>,
    imports: Vec<String>,
    exports: Vec<String>,
    depth: usize,
}

impl Names {
    /// Records the top-level imports and exports of `payload`; nested modules and components are
    /// satisfied inside the binary, so their names are skipped.
    fn note(&mut self, payload: Payload<'_>) -> Result<(), Invalid> {
        match payload {
            Payload::Version { encoding, .. } => {
                self.depth += 1;
                if self.depth == 1 {
                    self.kind = Some(match encoding {
                        Encoding::Module => ArtifactKind::CoreModule,
                        Encoding::Component => ArtifactKind::Component,
                    });
                }
            }
            Payload::End(_) => self.depth = self.depth.saturating_sub(1),
            Payload::ImportSection(reader) if self.depth == 1 => {
                for import in reader.into_imports() {
                    self.imports
                        .push(import.map_err(reader_error)?.module.to_string());
                }
            }
            Payload::ComponentImportSection(reader) if self.depth == 1 => {
                for import in reader {
                    self.imports
                        .push(import.map_err(reader_error)?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if self.depth == 1 => {
                for export in reader {
                    self.exports
                        .push(export.map_err(reader_error)?.name.name.to_string());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self) -> Validated {
        self.imports.sort();
        self.imports.dedup();
        self.exports.sort();
        self.exports.dedup();
        Validated {
            kind: self.kind.expect("a parsed binary has a version header"),
            imports: self.imports,
            exports: self.exports,
            proposals: Vec::new(),
        }
    }
}

fn validate_with(bytes: &[u8], features: WasmFeatures) -> Result<Validated, Invalid> {
    // One pass: the validator sees every payload (function bodies included), and the host-facing
    // imports and exports are collected from the same payloads.
    let mut validator = Validator::new_with_features(features);
    let mut allocations = FuncValidatorAllocations::default();
    let mut names = Names::default();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(reader_error)?;
        if let ValidPayload::Func(func, body) = validator.payload(&payload).map_err(reader_error)? {
            let mut func = func.into_validator(std::mem::take(&mut allocations));
            func.validate(&body).map_err(reader_error)?;
            allocations = func.into_allocations();
        }
        names.note(payload)?;
    }
    Ok(names.finish())
}

/// The host imports of `bytes` from parsing alone, without validation (for binaries refused
/// before they are validated, such as oversized ones).
pub(crate) fn parse_host_imports(bytes: &[u8]) -> Result<Vec<String>, Invalid> {
    let mut names = Names::default();
    for payload in Parser::new(0).parse_all(bytes) {
        names.note(payload.map_err(reader_error)?)?;
    }
    if names.kind.is_none() {
        return Err(Invalid {
            offset: 0,
            message: "no WebAssembly header".into(),
        });
    }
    Ok(names.finish().imports)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
