//! The W3C DID document of an identity, with its key as a Multikey verification method.

use serde::{Deserialize, Serialize};

use crate::Identity;

/// A DID document (DID Core v1) with one Ed25519 verification method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    pub id: String,
    #[serde(rename = "verificationMethod")]
    pub verification_method: Vec<VerificationMethod>,
    pub authentication: Vec<String>,
    #[serde(rename = "assertionMethod")]
    pub assertion_method: Vec<String>,
}

/// A `Multikey` verification method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationMethod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub controller: String,
    #[serde(rename = "publicKeyMultibase")]
    pub public_key_multibase: String,
}

impl Document {
    /// The document of `identity`.
    pub fn of(identity: &Identity) -> Self {
        Document {
            context: vec![
                "https://www.w3.org/ns/did/v1".into(),
                "https://w3id.org/security/multikey/v1".into(),
            ],
            id: identity.did.clone(),
            verification_method: vec![VerificationMethod {
                id: identity.key_id.clone(),
                kind: "Multikey".into(),
                controller: identity.did.clone(),
                public_key_multibase: identity.public_key_multibase.clone(),
            }],
            authentication: vec![identity.key_id.clone()],
            assertion_method: vec![identity.key_id.clone()],
        }
    }
}
