use axum::http::{HeaderName, HeaderValue};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{EncodingKey, Header};

use tau_testkit::rsa::key_pem;

use super::*;

fn access() -> CloudflareAccess {
    CloudflareAccess {
        team_domain: "team.cloudflareaccess.com".into(),
        audience: "aud-tag-1".into(),
        jwks: JwksSource::File("unused".into()),
    }
}

fn verifier() -> JwtVerifier {
    let key = EncodingKey::from_rsa_pem(key_pem()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("k1".into());
    JwtVerifier::new(&access(), JwkSet { keys: vec![jwk] })
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn token(kid: &str, claims: serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(key_pem()).unwrap(),
    )
    .unwrap()
}

fn claims(aud: &str, exp: u64) -> serde_json::Value {
    serde_json::json!({
        "aud": [aud], "iss": "https://team.cloudflareaccess.com", "exp": exp,
        "sub": "", "common_name": "deploy-ci.access"
    })
}

#[test]
fn a_signed_token_with_the_right_audience_names_its_service_token() {
    let got = verifier().verify(&token("k1", claims("aud-tag-1", now() + 300)));
    assert_eq!(got, Ok(Some("deploy-ci.access".into())));
}

#[test]
fn a_wrong_audience_an_expired_token_and_an_unknown_kid_are_refused() {
    let v = verifier();
    let err = v
        .verify(&token("k1", claims("other-app", now() + 300)))
        .unwrap_err();
    assert!(err.contains("audience"), "{err}");
    let err = v
        .verify(&token("k1", claims("aud-tag-1", now() - 3600)))
        .unwrap_err();
    assert!(err.contains("expired"), "{err}");
    let err = v
        .verify(&token("k2", claims("aud-tag-1", now() + 300)))
        .unwrap_err();
    assert!(err.contains("k2"), "{err}");
}

#[test]
fn a_token_from_another_issuer_or_with_a_forged_signature_is_refused() {
    let v = verifier();
    let mut c = claims("aud-tag-1", now() + 300);
    c["iss"] = "https://evil.cloudflareaccess.com".into();
    assert!(v.verify(&token("k1", c)).unwrap_err().contains("issuer"));
    let good = token("k1", claims("aud-tag-1", now() + 300));
    let (head, _sig) = good.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAA");
    assert!(v.verify(&forged).is_err());
    assert!(v.verify("not-a-jwt").unwrap_err().contains("malformed"));
}

fn auth(jwt: bool) -> Auth {
    Auth {
        tokens: tau_access::Policy::new([("ci.access", "s3cret")]).unwrap(),
        jwt: jwt.then(verifier),
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn missing_token_headers_are_401_and_a_wrong_secret_is_403() {
    let a = auth(false);
    assert_eq!(a.check(&headers(&[])).unwrap_err().status, 401);
    assert_eq!(
        a.check(&headers(&[("cf-access-client-id", "ci.access")]))
            .unwrap_err()
            .status,
        401
    );
    let wrong = a
        .check(&headers(&[
            ("cf-access-client-id", "ci.access"),
            ("cf-access-client-secret", "nope"),
        ]))
        .unwrap_err();
    assert_eq!(wrong.status, 403);
    assert!(!wrong.reason.contains("nope"));
    assert_eq!(
        a.check(&headers(&[
            ("cf-access-client-id", "ci.access"),
            ("cf-access-client-secret", "s3cret"),
        ])),
        Ok("ci.access".into())
    );
}

#[test]
fn with_access_configured_a_good_token_without_a_jwt_is_401_and_a_bad_jwt_403() {
    let a = auth(true);
    let creds = [
        ("cf-access-client-id", "ci.access"),
        ("cf-access-client-secret", "s3cret"),
    ];
    assert_eq!(a.check(&headers(&creds)).unwrap_err().status, 401);
    let bad = token("k1", claims("other", now() + 60));
    let mut h = headers(&creds);
    h.insert(
        "cf-access-jwt-assertion",
        HeaderValue::from_str(&bad).unwrap(),
    );
    assert_eq!(a.check(&h).unwrap_err().status, 403);
    let good = token("k1", claims("aud-tag-1", now() + 60));
    h.insert(
        "cf-access-jwt-assertion",
        HeaderValue::from_str(&good).unwrap(),
    );
    assert_eq!(a.check(&h), Ok("deploy-ci.access".into()));
}
