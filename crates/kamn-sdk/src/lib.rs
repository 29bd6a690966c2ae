//! Browser/edge DID bootstrap on top of `kamn-core`.
//!
//! [`init`] turns an [`InitRequest`] into an [`InitReport`]: the identity and its DID document,
//! the exact payload a browser or edge runtime is provisioned with. It is pure and builds for
//! wasm32, which is how the edge smoke harness checks that a wasm build derives the same DID as
//! the native CLI. On native targets [`persist`] writes the report and records the identity in
//! the deployment state dir; the filesystem code is not compiled for wasm32 at all.

use kamn_core::document::Document;
use kamn_core::{Identity, Method};
use serde::{Deserialize, Serialize};

#[cfg(not(target_arch = "wasm32"))]
mod persist;
#[cfg(not(target_arch = "wasm32"))]
pub use persist::{persist, Persisted, STATE_KEY};

/// Schema of the report and of the persisted file.
pub const SCHEMA_VERSION: u32 = 1;
/// The runtime the bootstrap payload is for.
pub const RUNTIME: &str = "wasm_browser";
pub const DEFAULT_NETWORK: &str = "tau-devnet";
pub const DEFAULT_SUBJECT: &str = "browser-agent";

/// What to derive. The entropy is the only secret and never leaves this struct.
#[derive(Clone, Deserialize)]
pub struct InitRequest {
    #[serde(default = "default_method")]
    pub method: Method,
    #[serde(default = "default_network")]
    pub network: String,
    #[serde(default = "default_subject")]
    pub subject: String,
    pub entropy: String,
}

fn default_method() -> Method {
    Method::Key
}
fn default_network() -> String {
    DEFAULT_NETWORK.into()
}
fn default_subject() -> String {
    DEFAULT_SUBJECT.into()
}

impl std::fmt::Debug for InitRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("InitRequest")
            .field("method", &self.method)
            .field("network", &self.network)
            .field("subject", &self.subject)
            .field("entropy", &"<redacted>")
            .finish()
    }
}

/// The bootstrap payload: public identity and DID document, never the seed or the entropy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitReport {
    pub schema_version: u32,
    pub runtime: String,
    pub interoperability_profile: String,
    pub identity: Identity,
    pub did_document: Document,
}

/// The interoperability profile a method's identities follow.
pub fn profile(method: Method) -> &'static str {
    match method {
        Method::Key => "w3c_did_key_ed25519_multikey_v1",
        Method::Web => "w3c_did_web_ed25519_multikey_v1",
    }
}

/// Derives the bootstrap payload of `request`.
pub fn init(request: &InitRequest) -> Result<InitReport, Error> {
    let identity = Identity::derive(
        request.method,
        &request.network,
        &request.subject,
        &request.entropy,
    )?;
    Ok(InitReport {
        schema_version: SCHEMA_VERSION,
        runtime: RUNTIME.into(),
        interoperability_profile: profile(identity.method).into(),
        did_document: Document::of(&identity),
        identity,
    })
}

/// Why a bootstrap failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Identity(#[from] kamn_core::Error),
    #[cfg(not(target_arch = "wasm32"))]
    #[error(transparent)]
    Durable(#[from] tau_durable::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(entropy: &str) -> InitRequest {
        serde_json::from_value(serde_json::json!({ "entropy": entropy })).unwrap()
    }

    #[test]
    fn defaults_follow_the_runbook() {
        let r = request("local-dev-seed");
        assert_eq!(
            (r.method, r.network.as_str(), r.subject.as_str()),
            (Method::Key, "tau-devnet", "browser-agent")
        );
    }

    #[test]
    fn report_holds_no_secret() {
        let report = init(&request("super-secret-entropy")).unwrap();
        let text = serde_json::to_string(&report).unwrap();
        assert!(!text.contains("super-secret-entropy"));
        assert!(
            !text.contains("entropy") && !text.contains("seed"),
            "{text}"
        );
        assert!(!format!("{:?}", request("super-secret-entropy")).contains("super-secret"));
        assert_eq!(report.did_document.id, report.identity.did);
        assert_eq!(
            report.interoperability_profile,
            "w3c_did_key_ed25519_multikey_v1"
        );
    }

    #[test]
    fn same_request_same_bytes() {
        let a = serde_json::to_vec(&init(&request("e")).unwrap()).unwrap();
        let b = serde_json::to_vec(&init(&request("e")).unwrap()).unwrap();
        assert_eq!(a, b);
    }
}
