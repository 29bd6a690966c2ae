//! Full validation of a WebAssembly binary and the imports a host must satisfy.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmparser::{Encoding, FuncValidatorAllocations, Parser, Payload, ValidPayload, Validator};

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

/// Validates `bytes` as a core module or component and collects its host-facing imports.
pub fn validate(bytes: &[u8]) -> Result<Validated, Invalid> {
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(Invalid {
            offset: 0,
            message: "not a WebAssembly binary: the \\0asm magic header is missing".into(),
        });
    }
    // One pass: the validator sees every payload (function bodies included), and the host-facing
    // imports and exports are collected from the same payloads.
    let reader_error = |e: wasmparser::BinaryReaderError| Invalid {
        offset: e.offset(),
        message: e.message().to_string(),
    };
    let mut validator = Validator::new();
    let mut allocations = FuncValidatorAllocations::default();
    let mut kind = None;
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(reader_error)?;
        if let ValidPayload::Func(func, body) = validator.payload(&payload).map_err(reader_error)? {
            let mut func = func.into_validator(std::mem::take(&mut allocations));
            func.validate(&body).map_err(reader_error)?;
            allocations = func.into_allocations();
        }
        match payload {
            Payload::Version { encoding, .. } => {
                depth += 1;
                if depth == 1 {
                    kind = Some(match encoding {
                        Encoding::Module => ArtifactKind::CoreModule,
                        Encoding::Component => ArtifactKind::Component,
                    });
                }
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ImportSection(reader) if depth == 1 => {
                for import in reader.into_imports() {
                    imports.push(import.map_err(reader_error)?.module.to_string());
                }
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    imports.push(import.map_err(reader_error)?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    exports.push(export.map_err(reader_error)?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    imports.sort();
    imports.dedup();
    exports.sort();
    exports.dedup();
    Ok(Validated {
        kind: kind.expect("a validated binary has a version header"),
        imports,
        exports,
    })
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
