//! Each credential source of each provider's chain, against a recording server on 127.0.0.1
//! through the documented endpoint overrides: the exact request (method, path, headers, body)
//! and what comes back. No test reaches a link-local metadata address: every chain either has
//! its metadata source disabled or pointed at loopback.

mod aws;
mod azure;
mod gcp;
mod support;

/// A temp dir holding `name` with `text`, and its path.
pub fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}
