use std::time::{Duration, Instant, UNIX_EPOCH};

use tau_cloud::providers::auth::{aws, Env};

use crate::file;
use crate::support::{closed_port_url, Server};

const EXPIRY: &str = "2099-01-01T00:00:00Z";
const EXPIRY_SECS: u64 = 4_070_908_800;

fn env(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Env {
    let mut pairs = vec![
        ("HOME".to_string(), dir.path().to_str().unwrap().to_string()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Env::from_pairs(pairs)
}

fn expiry(c: &aws_credential_types::Credentials) -> u64 {
    c.expiry()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sts_answer() -> String {
    format!("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>web-secret</SecretAccessKey><SessionToken>web-session</SessionToken><Expiration>{EXPIRY}</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
}

#[tokio::test]
async fn environment_keys_come_first_without_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(
        &dir,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_SESSION_TOKEN", "t"),
        ],
    );
    let c = aws::credentials(&e, "eu-west-1").await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.secret_access_key(), c.session_token()),
        ("AKIDENV", "s", Some("t"))
    );
}

#[tokio::test]
async fn web_identity_calls_sts_assume_role_with_web_identity_with_the_token_file() {
    let server = Server::start(|_| (200, sts_answer())).await;
    let dir = tempfile::tempdir().unwrap();
    let token = file(&dir, "token", "eyJ.web.identity\n");
    let e = env(
        &dir,
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", &token),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deployer"),
            ("AWS_ROLE_SESSION_NAME", "ci-run-7"),
            ("AWS_ENDPOINT_URL_STS", &server.base),
        ],
    );
    let c = aws::credentials(&e, "eu-west-1").await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.secret_access_key(), c.session_token()),
        ("ASIAWEB", "web-secret", Some("web-session"))
    );
    assert_eq!(expiry(&c), EXPIRY_SECS);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].uri.as_str()),
        ("POST", "/")
    );
    assert_eq!(
        reqs[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        reqs[0].header("authorization"),
        None,
        "the web identity call is unsigned"
    );
    let form = reqs[0].form();
    let expected: Vec<(String, String)> = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", "arn:aws:iam::123456789012:role/deployer"),
        ("RoleSessionName", "ci-run-7"),
        ("WebIdentityToken", "eyJ.web.identity"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(form, expected);
}

#[tokio::test]
async fn a_refused_web_identity_stops_the_chain_and_never_shows_the_token() {
    let server = Server::start(|_| (400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn't retrieve verification key</Message></Error></ErrorResponse>".into())).await;
    let dir = tempfile::tempdir().unwrap();
    let token = file(&dir, "token", "eyJ.secret-token-value");
    let e = env(
        &dir,
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", &token),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
            ("AWS_ENDPOINT_URL", &server.base),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                &file(
                    &dir,
                    "creds",
                    "[default]\naws_access_key_id=A\naws_secret_access_key=B\n",
                ),
            ),
        ],
    );
    let text = aws::credentials(&e, "eu-west-1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("web identity is set up but failed") && text.contains("InvalidIdentityToken"),
        "{text}"
    );
    assert!(
        text.contains("1. environment: AWS_ACCESS_KEY_ID is not set"),
        "{text}"
    );
    assert!(!text.contains("secret-token-value"), "{text}");
}

#[tokio::test]
async fn a_named_profile_merges_the_config_and_credentials_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = file(&dir, "config", "[default]\nregion = us-east-1\n[profile ci]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n");
    let creds = file(&dir, "credentials", "[default]\naws_access_key_id=D\naws_secret_access_key=D\n[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = ci-secret\naws_session_token = ci-token\n");
    let e = env(
        &dir,
        &[
            ("AWS_PROFILE", "ci"),
            ("AWS_CONFIG_FILE", &config),
            ("AWS_SHARED_CREDENTIALS_FILE", &creds),
        ],
    );
    let c = aws::credentials(&e, "eu-west-1").await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.secret_access_key(), c.session_token()),
        ("AKIDCI", "ci-secret", Some("ci-token"))
    );
    let e = env(
        &dir,
        &[
            ("AWS_PROFILE", "nope"),
            ("AWS_CONFIG_FILE", &config),
            ("AWS_SHARED_CREDENTIALS_FILE", &creds),
        ],
    );
    let text = aws::credentials(&e, "eu-west-1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("AWS_PROFILE=nope: no profile [nope]"),
        "{text}"
    );
}

#[tokio::test]
async fn credential_process_output_is_read_in_the_documented_format() {
    let dir = tempfile::tempdir().unwrap();
    let doc = format!(
        r#"{{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token", "Expiration": "{EXPIRY}"}}"#
    );
    let script = file(
        &dir,
        "helper.sh",
        &format!(
            "#!/bin/sh\n[ \"$1\" = --profile ] && [ \"$TAU_TEST_MARK\" = seen ] && echo '{doc}'\n"
        ),
    );
    let config = file(
        &dir,
        "config",
        &format!("[default]\ncredential_process = sh {script} --profile x\n"),
    );
    let e = env(
        &dir,
        &[("AWS_CONFIG_FILE", &config), ("TAU_TEST_MARK", "seen")],
    );
    let c = aws::credentials(&e, "eu-west-1").await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.secret_access_key(), c.session_token()),
        ("ASIAPROC", "proc-secret", Some("proc-token"))
    );
    assert_eq!(expiry(&c), EXPIRY_SECS);

    let bad = file(&dir, "bad", "[default]\ncredential_process = echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"leaked-secret\"}'\n");
    let text = aws::credentials(&env(&dir, &[("AWS_CONFIG_FILE", &bad)]), "eu-west-1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("credential_process printed a document without \"Version\": 1"),
        "{text}"
    );
    assert!(!text.contains("leaked-secret"), "{text}");

    let expired = file(&dir, "expired", "[default]\ncredential_process = echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"B\", \"Expiration\": \"2001-01-01T00:00:00Z\"}'\n");
    let text = aws::credentials(&env(&dir, &[("AWS_CONFIG_FILE", &expired)]), "eu-west-1")
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("have expired"), "{text}");
}

#[tokio::test]
async fn a_profile_with_web_identity_assumes_its_role() {
    let server = Server::start(|_| (200, sts_answer())).await;
    let dir = tempfile::tempdir().unwrap();
    let token = file(&dir, "token", "profile-token");
    let config = file(&dir, "config", &format!("[profile fed]\nrole_arn = arn:aws:iam::1:role/fed\nweb_identity_token_file = {token}\nrole_session_name = s1\n"));
    let e = env(
        &dir,
        &[
            ("AWS_PROFILE", "fed"),
            ("AWS_CONFIG_FILE", &config),
            ("AWS_ENDPOINT_URL_STS", &server.base),
        ],
    );
    assert_eq!(
        aws::credentials(&e, "eu-west-1")
            .await
            .unwrap()
            .access_key_id(),
        "ASIAWEB"
    );
    let form = server.requests()[0].form();
    assert!(
        form.contains(&("RoleArn".into(), "arn:aws:iam::1:role/fed".into()))
            && form.contains(&("WebIdentityToken".into(), "profile-token".into()))
            && form.contains(&("RoleSessionName".into(), "s1".into())),
        "{form:?}"
    );
}

#[tokio::test]
async fn container_credentials_are_fetched_with_the_authorization_token_file() {
    let body = format!(
        r#"{{"AccessKeyId": "ASIACTR", "SecretAccessKey": "ctr-secret", "Token": "ctr-token", "Expiration": "{EXPIRY}", "RoleArn": "arn:aws:iam::1:role/task"}}"#
    );
    let server = Server::start(move |_| (200, body.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let auth = file(&dir, "auth", "pod-identity-token\n");
    let uri = format!("{}/v1/credentials", server.base);
    let e = env(
        &dir,
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &auth),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"),
        ],
    );
    let c = aws::credentials(&e, "eu-west-1").await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.session_token()),
        ("ASIACTR", Some("ctr-token"))
    );
    assert_eq!(expiry(&c), EXPIRY_SECS);
    let reqs = server.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].uri.as_str()),
        ("GET", "/v1/credentials")
    );
    assert_eq!(reqs[0].header("authorization"), Some("pod-identity-token"));
}

#[tokio::test]
async fn imds_v2_takes_a_session_token_then_the_role_then_its_credentials() {
    let body = format!(
        r#"{{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "imds-secret", "Token": "imds-token", "Expiration": "{EXPIRY}"}}"#
    );
    let server = Server::start(move |r| match (r.method.as_str(), r.uri.as_str()) {
        ("PUT", "/latest/api/token") => (200, "imds-session".into()),
        ("GET", "/latest/meta-data/iam/security-credentials/") => (200, "web-role\n".into()),
        ("GET", "/latest/meta-data/iam/security-credentials/web-role") => (200, body.clone()),
        _ => (404, String::new()),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let e = Env::from_pairs([
        ("HOME", dir.path().to_str().unwrap()),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.base),
    ]);
    let c = aws::credentials(&e, "eu-west-1").await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.secret_access_key()),
        ("ASIAIMDS", "imds-secret")
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert!(reqs[1..]
        .iter()
        .all(|r| r.header("x-aws-ec2-metadata-token") == Some("imds-session")));
}

#[tokio::test]
async fn with_no_source_the_error_lists_each_in_order_and_comes_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let e = Env::from_pairs([
        ("HOME", dir.path().to_str().unwrap()),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &closed_port_url()),
    ]);
    let start = Instant::now();
    let text = aws::credentials(&e, "eu-west-1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let order = [
        "1. environment",
        "2. web identity",
        "3. shared config files",
        "4. container credentials",
        "5. EC2 instance metadata (IMDSv2): no metadata service",
    ];
    let mut at = 0;
    for part in order {
        at += text[at..]
            .find(part)
            .unwrap_or_else(|| panic!("{part} missing or out of order in {text}"));
    }
    assert!(text.contains("aws configure"), "{text}");
}
