use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{did_key, hex, name, Error};

/// DID methods an identity can be expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// `did:key`: self-certifying, resolvable from the DID alone.
    Key,
    /// `did:web:<network>:<subject>`: resolved through the network's domain.
    Web,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Key => "key",
            Method::Web => "web",
        }
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "key" => Ok(Method::Key),
            "web" => Ok(Method::Web),
            _ => Err(Error::UnknownMethod(text.to_string())),
        }
    }
}

/// The 32-byte Ed25519 secret key (RFC 8032 seed). Never serialized, never printed.
pub struct Seed([u8; 32]);

impl Seed {
    /// SHA-256 of `{method}:{network}:{subject}:{entropy}` over the normalized names.
    pub fn derive(method: Method, network: &str, subject: &str, entropy: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(format!("{}:{network}:{subject}:", method.as_str()));
        hasher.update(entropy.as_bytes());
        Seed(hasher.finalize().into())
    }

    /// A seed given directly, as in the W3C test vectors.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }

    /// The Ed25519 public key of this secret key.
    pub fn public_key(&self) -> [u8; 32] {
        SigningKey::from_bytes(&self.0).verifying_key().to_bytes()
    }
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

/// A derived identity: everything public about it, nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub method: Method,
    pub network: String,
    pub subject: String,
    pub did: String,
    pub key_id: String,
    /// Hex SHA-256 of the public key.
    pub fingerprint: String,
    pub public_key_multibase: String,
}

impl Identity {
    /// Derives the identity of `(method, network, subject, entropy)`; names are normalized first.
    pub fn derive(
        method: Method,
        network: &str,
        subject: &str,
        entropy: &str,
    ) -> Result<Self, Error> {
        let network = name::normalize("network", network)?;
        let subject = name::normalize("subject", subject)?;
        if entropy.is_empty() {
            return Err(Error::EmptyEntropy);
        }
        let seed = Seed::derive(method, &network, &subject, entropy);
        Ok(Self::from_seed(method, network, subject, &seed))
    }

    /// The identity of an explicit seed, for already-normalized names.
    pub fn from_seed(method: Method, network: String, subject: String, seed: &Seed) -> Self {
        let public_key = seed.public_key();
        let public_key_multibase = did_key::multibase(&public_key);
        let did = match method {
            Method::Key => did_key::encode(&public_key),
            Method::Web => format!("did:web:{network}:{subject}"),
        };
        Identity {
            method,
            key_id: format!("{did}#{public_key_multibase}"),
            fingerprint: hex(&Sha256::digest(public_key)),
            did,
            network,
            subject,
            public_key_multibase,
        }
    }
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
