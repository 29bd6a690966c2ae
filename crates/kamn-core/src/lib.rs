//! Identity primitives for browser and edge deployments (KAMN).
//!
//! An edge runtime needs an identity before it can be trusted, and the same inputs must give the
//! same identity whether it is derived by the `tau` CLI on a build machine or inside a wasm32
//! module in a browser or worker. This crate is that derivation and nothing else: no filesystem,
//! no clock, no randomness, so it builds for `wasm32-unknown-unknown` and gives identical bytes
//! everywhere.
//!
//! Flow: [`name::normalize`] checks the network and subject → [`Seed::derive`] hashes
//! `{method}:{network}:{subject}:{entropy}` into an Ed25519 secret key → [`Identity`] carries the
//! DID (`did:key` multibase or `did:web`) → [`document::Document`] is its W3C DID document.
//! `kamn-sdk` wraps this in a request/report and persists it.

pub mod did_key;
pub mod document;
mod error;
mod identity;
pub mod name;

pub use error::Error;
pub use identity::{Identity, Method, Seed};

/// Lower-case hex, used for fingerprints.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
