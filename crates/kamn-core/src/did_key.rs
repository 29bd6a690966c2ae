//! The `did:key` encoding of an Ed25519 public key (W3C did:key method, Ed25519 variant).
//!
//! `did:key:` + multibase base58btc (`z`) of the multicodec `ed25519-pub` prefix (varint 0xed,
//! encoded as the bytes 0xed 0x01) followed by the 32-byte key. The prefix bytes are why every such
//! DID starts with `did:key:z6Mk`.

use multibase::Base;

use crate::Error;

/// Multicodec `ed25519-pub`, as the two-byte unsigned varint of 0xed.
pub const ED25519_PUB_PREFIX: [u8; 2] = [0xed, 0x01];

/// The multibase string (`z6Mk…`) of an Ed25519 public key.
pub fn multibase(public_key: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB_PREFIX);
    bytes.extend_from_slice(public_key);
    multibase::encode(Base::Base58Btc, bytes)
}

/// The `did:key` DID of an Ed25519 public key.
pub fn encode(public_key: &[u8; 32]) -> String {
    format!("did:key:{}", multibase(public_key))
}

/// Decodes a `did:key` DID (with or without a `#fragment`) back to its Ed25519 public key.
pub fn decode(did: &str) -> Result<[u8; 32], Error> {
    let fail = |reason: &str| Error::NotDidKey {
        did: did.to_string(),
        reason: reason.to_string(),
    };
    let body = did
        .strip_prefix("did:key:")
        .ok_or_else(|| fail("it does not start with did:key:"))?;
    let body = body.split('#').next().unwrap_or_default();
    let (base, bytes) =
        multibase::decode(body).map_err(|e| fail(&format!("bad multibase: {e}")))?;
    if base != Base::Base58Btc {
        return Err(fail("multibase is not base58btc ('z')"));
    }
    let key = bytes
        .strip_prefix(&ED25519_PUB_PREFIX)
        .ok_or_else(|| fail("multicodec is not ed25519-pub (0xed 0x01)"))?;
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| fail(&format!("key is {} bytes, expected 32", key.len())))?;
    Ok(key)
}
