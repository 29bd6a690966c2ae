use serde_json::{json, Value};
use tau_cloud::providers::auth::{gcp, Env};

use crate::file;
use crate::support::Server;

fn env(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Env {
    let mut pairs = vec![
        ("HOME".to_string(), dir.path().to_str().unwrap().to_string()),
        ("NO_GCE_CHECK".into(), "true".into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Env::from_pairs(pairs)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn an_access_token_in_the_environment_is_used_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let t = gcp::token(
        &env(&dir, &[("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.env")]),
        &http(),
    )
    .await
    .unwrap();
    assert_eq!(
        (t.secret(), t.source),
        ("ya29.env", "GOOGLE_OAUTH_ACCESS_TOKEN")
    );
}

#[tokio::test]
async fn authorized_user_credentials_at_the_well_known_path_use_the_refresh_grant() {
    let server = Server::start(|_| {
        (
            200,
            json!({"access_token": "ya29.user", "expires_in": 3599, "token_type": "Bearer"})
                .to_string(),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".config/gcloud")).unwrap();
    let adc = json!({"type": "authorized_user", "client_id": "cid.apps.googleusercontent.com", "client_secret": "csecret", "refresh_token": "1//refresh", "token_uri": format!("{}/token", server.base)});
    file(
        &dir,
        ".config/gcloud/application_default_credentials.json",
        &adc.to_string(),
    );
    let t = gcp::token(&env(&dir, &[]), &http()).await.unwrap();
    assert_eq!(t.secret(), "ya29.user");
    assert!(t.expires_at.is_some());
    let r = &server.first_request("POST", "/token");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        r.form(),
        pairs(&[
            ("grant_type", "refresh_token"),
            ("client_id", "cid.apps.googleusercontent.com"),
            ("client_secret", "csecret"),
            ("refresh_token", "1//refresh")
        ])
    );
}

#[tokio::test]
async fn a_service_account_key_is_traded_through_a_signed_jwt_bearer_grant() {
    let server = Server::start(|_| {
        (
            200,
            json!({"access_token": "ya29.sa", "expires_in": 3600}).to_string(),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    let private = std::fs::read_to_string(format!("{data}/test-service-account.key.pem")).unwrap();
    let public = std::fs::read(format!("{data}/test-service-account.pub.pem")).unwrap();
    let token_uri = format!("{}/token", server.base);
    let key = json!({"type": "service_account", "client_email": "deployer@acme.iam.gserviceaccount.com", "private_key": private, "private_key_id": "kid-1", "token_uri": token_uri});
    let path = file(&dir, "sa.json", &key.to_string());
    let t = gcp::token(
        &env(&dir, &[("GOOGLE_APPLICATION_CREDENTIALS", &path)]),
        &http(),
    )
    .await
    .unwrap();
    assert_eq!(t.secret(), "ya29.sa");
    let form = server.requests()[0].form();
    assert_eq!(
        form[0],
        (
            "grant_type".into(),
            "urn:ietf:params:oauth:grant-type:jwt-bearer".into()
        )
    );
    assert_eq!(form[1].0, "assertion");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[&token_uri]);
    let claims = jsonwebtoken::decode::<Value>(
        &form[1].1,
        &jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap(),
        &v,
    )
    .unwrap();
    assert_eq!(
        (claims.claims["iss"].as_str(), claims.header.kid.as_deref()),
        (Some("deployer@acme.iam.gserviceaccount.com"), Some("kid-1"))
    );
}

#[tokio::test]
async fn workload_identity_federation_exchanges_the_file_token_then_impersonates() {
    let server = Server::start(|r| match r.uri.as_str() {
        "/v1/token" => (200, json!({"access_token": "federated", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600}).to_string()),
        _ => (200, json!({"accessToken": "ya29.impersonated", "expireTime": "2099-01-01T00:00:00Z"}).to_string()),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let subject = file(&dir, "oidc.json", r#"{"id_token": "eyJ.github.oidc"}"#);
    let audience = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/github";
    let impersonate = format!("{}/v1/projects/-/serviceAccounts/deployer@acme.iam.gserviceaccount.com:generateAccessToken", server.base);
    let config = json!({"type": "external_account", "audience": audience, "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": format!("{}/v1/token", server.base), "service_account_impersonation_url": impersonate,
        "service_account_impersonation": {"token_lifetime_seconds": 1200},
        "credential_source": {"file": subject, "format": {"type": "json", "subject_token_field_name": "id_token"}}});
    let path = file(&dir, "wif.json", &config.to_string());
    let t = gcp::token(
        &env(&dir, &[("GOOGLE_APPLICATION_CREDENTIALS", &path)]),
        &http(),
    )
    .await
    .unwrap();
    assert_eq!(t.secret(), "ya29.impersonated");
    let reqs = server.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].uri.as_str()),
        ("POST", "/v1/token")
    );
    assert_eq!(
        reqs[0].form(),
        pairs(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange"
            ),
            ("audience", audience),
            ("scope", "https://www.googleapis.com/auth/cloud-platform"),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:access_token"
            ),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ("subject_token", "eyJ.github.oidc"),
        ])
    );
    assert_eq!((reqs[1].method.as_str(), reqs[1].uri.as_str()), ("POST", "/v1/projects/-/serviceAccounts/deployer@acme.iam.gserviceaccount.com:generateAccessToken"));
    assert_eq!(reqs[1].header("authorization"), Some("Bearer federated"));
    assert_eq!(reqs[1].header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&reqs[1].body).unwrap(),
        json!({"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "1200s"})
    );
}

#[tokio::test]
async fn the_metadata_server_is_asked_with_the_metadata_flavor_header() {
    let server = Server::start(|_| {
        (
            200,
            json!({"access_token": "ya29.gce", "expires_in": 1799, "token_type": "Bearer"})
                .to_string(),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let e = Env::from_pairs([
        ("HOME", dir.path().to_str().unwrap()),
        ("GCE_METADATA_HOST", server.host()),
    ]);
    let t = gcp::token(&e, &http()).await.unwrap();
    assert_eq!((t.secret(), t.source), ("ya29.gce", "metadata server"));
    let r = &server.first_request(
        "GET",
        "/computeMetadata/v1/instance/service-accounts/default/token",
    );
    assert_eq!(r.header("metadata-flavor"), Some("Google"));
}

#[tokio::test]
async fn with_no_source_the_error_lists_each_in_order_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let text = gcp::token(&env(&dir, &[]), &http())
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("1. GOOGLE_OAUTH_ACCESS_TOKEN: not set; 2. application default credentials: GOOGLE_APPLICATION_CREDENTIALS is not set and ") && text.contains("3. metadata server: disabled by NO_GCE_CHECK"), "{text}");
    assert!(
        text.contains("gcloud auth application-default login"),
        "{text}"
    );
    let broken = file(
        &dir,
        "broken.json",
        r#"{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----secretkeymaterial"#,
    );
    let text = gcp::token(
        &env(&dir, &[("GOOGLE_APPLICATION_CREDENTIALS", &broken)]),
        &http(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("is not a JSON credentials file") && !text.contains("secretkeymaterial"),
        "{text}"
    );
}
