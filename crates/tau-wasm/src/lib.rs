//! WASM deliverables: what an edge or control-plane runtime is allowed to receive.
//!
//! Promotion trusts the manifest, so every step is strict:
//!
//! ```text
//! module bytes ──validate──▶ kind + host-facing imports + proposals used ──profile──▶ findings
//!      └──package──▶ <out>/<blueprint>/<sha256>.wasm + <sha256>.manifest.json + state.json entry
//! manifest ──inspect──▶ re-hash, re-validate, re-check the profile ──▶ report (compliant or not)
//! ```
//!
//! [`validate`] runs wasmparser's full validator over core modules and components and reports the
//! byte offset of the first error; a binary that is valid only with a WebAssembly proposal beyond
//! the 2.0 standard is not invalid but names the proposal, and [`profile`] refuses it
//! (`wasm_feature_not_allowed`). [`profile`] holds the runtime constraint profiles and the
//! compliance rules, one finding per reason code in the runbook tool's order. [`package`] writes
//! reproducible artifacts through temp files that no failure leaves behind; [`inspect`]
//! re-verifies them. Modules, manifests and artifacts are read only as regular files, never through
//! a symlink. The crate does no WebAssembly execution (that lives in `tau-wasm-smoke`), so it
//! builds for wasm32.

mod deliverables;
mod error;
mod fsx;
pub mod inspect;
pub mod manifest;
pub mod package;
pub mod profile;
mod sections;
mod staging;
pub mod validate;

pub use error::Error;

/// `text` with every control character written as a `\u{..}` escape: names and paths from
/// artifacts, manifests and the command line end up on report lines, where a raw newline or
/// terminal escape would forge or garble them.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped_and_nothing_else_changes() {
        assert_eq!(super::escape_controls("edge-wasm é"), "edge-wasm é");
        assert_eq!(
            super::escape_controls("a\nb\u{1b}[2J\0"),
            "a\\u{a}b\\u{1b}[2J\\u{0}"
        );
    }
}
