use serde_json::json;
use tau_cloud::providers::auth::{azure, Env};

use crate::file;
use crate::support::{closed_port_url, Server};

/// No CLI on PATH and IMDS pointed at a closed loopback port, unless a test says otherwise.
fn env(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Env {
    let mut pairs = vec![
        ("HOME".to_string(), dir.path().to_str().unwrap().to_string()),
        (
            "PATH".into(),
            dir.path().join("bin").to_str().unwrap().to_string(),
        ),
        (
            "AZURE_POD_IDENTITY_AUTHORITY_HOST".into(),
            closed_port_url(),
        ),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Env::from_pairs(pairs)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn token_answer() -> String {
    json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ.arm"}).to_string()
}

#[tokio::test]
async fn a_client_secret_in_the_environment_uses_the_client_credentials_grant() {
    let server = Server::start(|_| (200, token_answer())).await;
    let dir = tempfile::tempdir().unwrap();
    let e = env(
        &dir,
        &[
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "client-1"),
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_AUTHORITY_HOST", &server.base),
        ],
    );
    let t = azure::token(&e, &reqwest::Client::new()).await.unwrap();
    assert_eq!(t.secret(), "eyJ.arm");
    let r = &server.first_request("POST", "/tenant-1/oauth2/v2.0/token");
    assert_eq!(
        r.form(),
        pairs(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client-1"),
            ("client_secret", "s3cret"),
            ("scope", "https://management.azure.com/.default")
        ])
    );
}

#[tokio::test]
async fn a_client_certificate_signs_a_ps256_client_assertion() {
    let server = Server::start(|_| (200, token_answer())).await;
    let dir = tempfile::tempdir().unwrap();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
    let read = |f: &str| std::fs::read_to_string(format!("{data}/{f}")).unwrap();
    let pem = file(
        &dir,
        "client.pem",
        &(read("test-service-account.key.pem") + &read("test-client.cert.pem")),
    );
    let e = env(
        &dir,
        &[
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "client-1"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", &pem),
            ("AZURE_AUTHORITY_HOST", &server.base),
        ],
    );
    assert_eq!(
        azure::token(&e, &reqwest::Client::new())
            .await
            .unwrap()
            .source,
        "environment (client certificate)"
    );
    let r = &server.first_request("POST", "/tenant-1/oauth2/v2.0/token");
    let form = r.form();
    let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "grant_type",
            "client_id",
            "client_assertion_type",
            "client_assertion",
            "scope"
        ]
    );
    assert_eq!(
        form[2].1,
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
    v.set_audience(&[format!("{}/tenant-1/oauth2/v2.0/token", server.base)]);
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(read("test-service-account.pub.pem").as_bytes())
            .unwrap();
    let jwt = jsonwebtoken::decode::<serde_json::Value>(&form[3].1, &key, &v).unwrap();
    assert_eq!(jwt.claims["iss"], "client-1");
    assert!(jwt.header.x5t_s256.is_some());
}

#[tokio::test]
async fn workload_identity_sends_the_federated_token_as_a_client_assertion() {
    let server = Server::start(|_| (200, token_answer())).await;
    let dir = tempfile::tempdir().unwrap();
    let token = file(&dir, "azure-identity-token", "eyJ.k8s.sa\n");
    let e = env(
        &dir,
        &[
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "client-1"),
            ("AZURE_FEDERATED_TOKEN_FILE", &token),
            ("AZURE_AUTHORITY_HOST", &server.base),
        ],
    );
    azure::token(&e, &reqwest::Client::new()).await.unwrap();
    let r = &server.first_request("POST", "/tenant-1/oauth2/v2.0/token");
    assert_eq!(
        r.form(),
        pairs(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client-1"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ),
            ("client_assertion", "eyJ.k8s.sa"),
            ("scope", "https://management.azure.com/.default"),
        ])
    );
}

#[tokio::test]
async fn app_service_managed_identity_sends_the_identity_header() {
    let server = Server::start(|_| (200, json!({"access_token": "eyJ.msi", "expires_on": "4070908800", "resource": "https://management.azure.com", "token_type": "Bearer"}).to_string())).await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("{}/msi/token", server.base);
    let e = env(
        &dir,
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "header-secret"),
        ],
    );
    let t = azure::token(&e, &reqwest::Client::new()).await.unwrap();
    assert_eq!((t.secret(), t.source), ("eyJ.msi", "managed identity"));
    assert_eq!(
        t.expires_at
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        4_070_908_800
    );
    let r = &server.first_request(
        "GET",
        "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com",
    );
    assert_eq!(r.header("x-identity-header"), Some("header-secret"));
}

#[tokio::test]
async fn imds_managed_identity_is_asked_with_the_metadata_header_and_client_id() {
    let server = Server::start(|_| {
        (
            200,
            json!({"access_token": "eyJ.imds", "expires_on": "4070908800"}).to_string(),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let e = env(
        &dir,
        &[
            ("AZURE_POD_IDENTITY_AUTHORITY_HOST", &server.base),
            ("AZURE_CLIENT_ID", "user-assigned-1"),
        ],
    );
    assert_eq!(
        azure::token(&e, &reqwest::Client::new())
            .await
            .unwrap()
            .secret(),
        "eyJ.imds"
    );
    let r = &server.first_request("GET", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com&client_id=user-assigned-1");
    assert_eq!(r.header("metadata"), Some("true"));
}

#[tokio::test]
async fn the_azure_cli_is_asked_for_an_arm_token_when_on_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    let args = dir.path().join("args");
    let script = format!("#!/bin/sh\necho \"$@\" > {}\necho '{{\"accessToken\": \"eyJ.cli\", \"expires_on\": 4070908800, \"tokenType\": \"Bearer\"}}'\n", args.display());
    let az = file(&dir, "bin/az", &script);
    std::fs::set_permissions(&az, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let e = env(&dir, &[("AZURE_TENANT_ID", "tenant-1")]);
    let t = azure::token(&e, &reqwest::Client::new()).await.unwrap();
    assert_eq!((t.secret(), t.source), ("eyJ.cli", "Azure CLI"));
    assert_eq!(std::fs::read_to_string(args).unwrap().trim(), "account get-access-token --output json --resource https://management.azure.com --tenant tenant-1");
}

#[tokio::test]
async fn with_no_source_the_error_lists_each_in_order_and_never_the_partial_secret() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(&dir, &[("AZURE_CLIENT_SECRET", "half-configured-secret")]);
    let text = azure::token(&e, &reqwest::Client::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("1. environment (client secret): AZURE_TENANT_ID, AZURE_CLIENT_ID not set; 2. environment (client certificate): AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_CERTIFICATE_PATH not set; 3. workload identity: AZURE_FEDERATED_TOKEN_FILE is not set; 4. managed identity: no instance metadata service at http://127.0.0.1:"), "{text}");
    assert!(
        text.contains("5. Azure CLI: az is not on PATH") && text.contains("az login"),
        "{text}"
    );
    assert!(!text.contains("half-configured-secret"), "{text}");
}
