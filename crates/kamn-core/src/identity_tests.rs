use super::*;
use crate::document::Document;

fn vector_seed(last: u8) -> Seed {
    let mut bytes = [0u8; 32];
    bytes[31] = last;
    Seed::from_bytes(bytes)
}

fn from_vector(last: u8) -> Identity {
    Identity::from_seed(Method::Key, "n".into(), "s".into(), &vector_seed(last))
}

#[test]
fn w3c_vector_all_zero_seed() {
    assert_eq!(
        from_vector(0).did,
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    );
}

#[test]
fn w3c_vector_seed_ending_in_one() {
    assert_eq!(
        from_vector(1).did,
        "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
    );
}

#[test]
fn key_id_repeats_the_multibase_after_the_did() {
    let id = from_vector(0);
    assert_eq!(
        id.key_id,
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    );
    assert_eq!(
        id.fingerprint,
        crate::hex(&Sha256::digest(vector_seed(0).public_key()))
    );
    assert_eq!(id.fingerprint.len(), 64);
}

#[test]
fn did_key_decodes_back_to_its_public_key() {
    let seed = vector_seed(1);
    let id = Identity::from_seed(Method::Key, "n".into(), "s".into(), &seed);
    assert_eq!(did_key::decode(&id.did).unwrap(), seed.public_key());
    assert_eq!(did_key::decode(&id.key_id).unwrap(), seed.public_key());
}

#[test]
fn malformed_did_keys_are_refused_with_a_reason() {
    for (did, reason) in [
        ("did:web:example.com", "does not start with did:key:"),
        ("did:key:mAAAA", "not base58btc"),
        ("did:key:z111", "multicodec is not ed25519-pub"),
        ("did:key:z0OIl", "bad multibase"),
    ] {
        let err = did_key::decode(did).unwrap_err().to_string();
        assert!(err.contains(reason), "{did}: {err}");
    }
}

#[test]
fn derivation_is_deterministic_and_sensitive_to_every_input() {
    let base =
        Identity::derive(Method::Key, "tau-devnet", "browser-agent", "local-dev-seed").unwrap();
    assert_eq!(
        base,
        Identity::derive(
            Method::Key,
            " TAU-devnet ",
            "Browser-Agent",
            "local-dev-seed"
        )
        .unwrap()
    );
    assert!(base.did.starts_with("did:key:z6Mk"));
    for other in [
        Identity::derive(
            Method::Key,
            "tau-mainnet",
            "browser-agent",
            "local-dev-seed",
        ),
        Identity::derive(Method::Key, "tau-devnet", "other-agent", "local-dev-seed"),
        Identity::derive(
            Method::Key,
            "tau-devnet",
            "browser-agent",
            "local-dev-seed2",
        ),
    ] {
        assert_ne!(other.unwrap().did, base.did);
    }
}

#[test]
fn seed_hashes_the_documented_string() {
    let seed = Seed::derive(Method::Key, "tau-devnet", "browser-agent", "e");
    let expected: [u8; 32] = Sha256::digest(b"key:tau-devnet:browser-agent:e").into();
    assert_eq!(seed.public_key(), Seed::from_bytes(expected).public_key());
}

#[test]
fn did_web_keeps_the_domain_and_uses_the_same_kind_of_key() {
    let id = Identity::derive(Method::Web, "Edge.Example.com", "agent-1", "seed").unwrap();
    assert_eq!(id.did, "did:web:edge.example.com:agent-1");
    assert!(id
        .key_id
        .starts_with("did:web:edge.example.com:agent-1#z6Mk"));
    // The method is part of the seed, so the key differs from the did:key identity's.
    let key = Identity::derive(Method::Key, "edge.example.com", "agent-1", "seed").unwrap();
    assert_ne!(key.public_key_multibase, id.public_key_multibase);
}

#[test]
fn empty_entropy_and_bad_names_are_refused() {
    assert_eq!(
        Identity::derive(Method::Key, "n", "s", "").unwrap_err(),
        Error::EmptyEntropy
    );
    let err = Identity::derive(Method::Key, "n", "a/b", "e").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Name {
                field: "subject",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(Method::parse("WEB").unwrap(), Method::Web);
    assert!(Method::parse("plc").is_err());
}

#[test]
fn document_lists_the_key_as_multikey_for_authentication_and_assertion() {
    let id = from_vector(0);
    let doc = serde_json::to_value(Document::of(&id)).unwrap();
    assert_eq!(doc["id"], id.did);
    assert_eq!(doc["@context"][0], "https://www.w3.org/ns/did/v1");
    assert_eq!(doc["verificationMethod"][0]["type"], "Multikey");
    assert_eq!(doc["verificationMethod"][0]["controller"], id.did);
    assert_eq!(
        doc["verificationMethod"][0]["publicKeyMultibase"],
        id.public_key_multibase
    );
    assert_eq!(doc["authentication"][0], id.key_id);
    assert_eq!(doc["assertionMethod"][0], id.key_id);
}

#[test]
fn seeds_never_show_in_debug_output() {
    assert_eq!(format!("{:?}", vector_seed(7)), "Seed(<redacted>)");
}
