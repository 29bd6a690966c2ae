//! The environment credential's certificate form: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//! `AZURE_CLIENT_CERTIFICATE_PATH` (a PEM file holding the private key and the certificate). The
//! client proves itself with a JWT it signs (PS256, `x5t#S256` = the certificate's SHA-256
//! thumbprint), as the Microsoft identity platform documents for certificate credentials.

use base64::Engine;
use sha2::Digest;

/// The signed client assertion for `token_uri`.
pub(super) fn client_assertion(
    pem: &str,
    client_id: &str,
    token_uri: &str,
    now: u64,
) -> std::result::Result<String, String> {
    let cert = pem_block(pem, "CERTIFICATE")
        .ok_or("the file has no CERTIFICATE block (a PEM with the key and certificate is expected; PFX is not supported)")?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(cert.lines().map(str::trim).collect::<String>())
        .map_err(|_| "the CERTIFICATE block is not base64")?;
    let key_block = ["PRIVATE KEY", "RSA PRIVATE KEY"]
        .into_iter()
        .find_map(|label| {
            pem_block(pem, label)
                .map(|body| format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"))
        })
        .ok_or("the file has no unencrypted PRIVATE KEY or RSA PRIVATE KEY block")?;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_block.as_bytes())
        .map_err(|_| "the private key is not an RSA key")?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
    header.x5t_s256 =
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der)));
    let claims = serde_json::json!({
        "aud": token_uri,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    });
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|_| "cannot sign the client assertion".into())
}

/// The body between `-----BEGIN label-----` and `-----END label-----`.
fn pem_block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    Some(pem[start..stop].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assertion_is_ps256_with_the_certificate_thumbprint() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
        let key = std::fs::read_to_string(format!("{dir}/test-service-account.key.pem")).unwrap();
        let cert = std::fs::read_to_string(format!("{dir}/test-client.cert.pem")).unwrap();
        let public = std::fs::read(format!("{dir}/test-service-account.pub.pem")).unwrap();
        let uri = "http://127.0.0.1:9/t/oauth2/v2.0/token";
        let jwt = client_assertion(
            &format!("{cert}{key}"),
            "client-1",
            uri,
            super::super::now_secs(),
        )
        .unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
        v.set_audience(&[uri]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &jwt,
            &jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap(),
            &v,
        )
        .unwrap();
        let der = base64::engine::general_purpose::STANDARD
            .decode(
                pem_block(&cert, "CERTIFICATE")
                    .unwrap()
                    .lines()
                    .collect::<String>(),
            )
            .unwrap();
        let thumb =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der));
        assert_eq!(data.header.x5t_s256.as_deref(), Some(thumb.as_str()));
        assert_eq!(
            (data.claims["iss"].as_str(), data.claims["sub"].as_str()),
            (Some("client-1"), Some("client-1"))
        );
        assert!(client_assertion(&key, "c", uri, 0)
            .unwrap_err()
            .contains("CERTIFICATE"));
        assert!(client_assertion(&cert, "c", uri, 0)
            .unwrap_err()
            .contains("PRIVATE KEY"));
    }
}
