//! The Bearer flow against a registry and token service on loopback (a small HTTP server that
//! behaves as the distribution spec describes: 401 with a challenge, a token for a good login,
//! the manifest for a good token). Basic is exercised against the real registry by
//! `tests/registry_auth.rs` in tau-coding-agent.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const DIGEST: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
/// `Basic` + base64 of `bob:tok-pw-31337`.
const GOOD_BASIC: &str = "Basic Ym9iOnRvay1wdy0zMTMzNw==";

/// Starts the fake registry; returns its `127.0.0.1:PORT` and the request lines it saw.
async fn fake_registry() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (realm, log) = (format!("http://{addr}/token"), seen.clone());
    tokio::spawn(async move {
        // Bounded: the tests below send fewer requests than this.
        for _ in 0..32 {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let text = String::from_utf8_lossy(&buf).into_owned();
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
            let mut body = body.to_string();
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                })
            };
            let length: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            while body.len() < length {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                body.push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
            let line = head.lines().next().unwrap_or("").to_string();
            log.lock().unwrap().push(format!("{line} {body}"));
            let auth = header("authorization").unwrap_or_default();
            let answer = if line.starts_with("HEAD /v2/org/app/manifests/v1 ") {
                if auth == "Bearer tok-good" {
                    format!("HTTP/1.1 200 OK\r\nDocker-Content-Digest: {DIGEST}\r\nContent-Length: 0\r\n")
                } else {
                    format!("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:org/app:pull\"\r\nContent-Length: 0\r\n")
                }
            } else if line.starts_with("GET /token?") && auth == GOOD_BASIC {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{\"token\":\"tok-good\"}\n".to_string()
            } else if line.starts_with("POST /token ")
                && body.contains("refresh_token=refresh-good")
            {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n{\"access_token\":\"tok-good\"}\n".to_string()
            } else {
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n".to_string()
            };
            let answer = if answer.contains("\r\n\r\n") {
                answer
            } else {
                format!("{answer}Connection: close\r\n\r\n")
            };
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn bearer_tokens_are_asked_with_the_login_and_scope() {
    let (addr, seen) = fake_registry().await;
    std::env::set_var("TAU_T_BEARER_OK_USERNAME", "bob");
    std::env::set_var("TAU_T_BEARER_OK_PASSWORD", "tok-pw-31337");
    let resolver = HttpResolver::new()
        .unwrap()
        .with_credentials_env(Some("TAU_T_BEARER_OK".into()));
    let digest = resolver
        .digest(&format!("{addr}/org/app"), "v1")
        .await
        .unwrap();
    assert_eq!(digest, DIGEST);
    let seen = seen.lock().unwrap().clone();
    let token = seen.iter().find(|l| l.starts_with("GET /token")).unwrap();
    assert!(
        token.contains("scope=repository%3Aorg%2Fapp%3Apull"),
        "{token}"
    );
    assert!(token.contains("service=fake"), "{token}");
}

#[tokio::test]
async fn a_refused_bearer_login_is_registry_unauthorized_without_the_password() {
    let (addr, _) = fake_registry().await;
    std::env::set_var("TAU_T_BEARER_BAD_USERNAME", "bob");
    std::env::set_var("TAU_T_BEARER_BAD_PASSWORD", "not-it-8812");
    let resolver = HttpResolver::new()
        .unwrap()
        .with_credentials_env(Some("TAU_T_BEARER_BAD".into()));
    let err = resolver
        .digest(&format!("{addr}/org/app"), "v1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "registry_unauthorized", "{err}");
    let text = format!("{err} {err:?}");
    assert!(
        text.contains(&addr) && text.contains("TAU_T_BEARER_BAD_USERNAME"),
        "{text}"
    );
    assert!(!text.contains("not-it-8812"), "{text}");
}

#[tokio::test]
async fn identity_tokens_use_the_refresh_token_grant() {
    let (addr, seen) = fake_registry().await;
    let http = reqwest::Client::new();
    let header = format!(
        "Bearer realm=\"http://{addr}/token\",service=\"fake\",scope=\"repository:org/app:pull\""
    );
    let login = tau_engine::Credentials::identity_token(None, "refresh-good", "test");
    let auth = login::answer(&http, &addr, "org/app", &header, Some(&login))
        .await
        .unwrap();
    assert!(matches!(auth, Authorization::Bearer(t) if t == "tok-good"));
    let seen = seen.lock().unwrap().clone();
    assert!(seen[0].contains("grant_type=refresh_token"), "{seen:?}");

    let bad = tau_engine::Credentials::identity_token(None, "refresh-bad-77", "test");
    let err = login::answer(&http, &addr, "org/app", &header, Some(&bad))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), "registry_unauthorized");
    assert!(!err.to_string().contains("refresh-bad-77"));
}

#[tokio::test]
async fn a_basic_challenge_without_a_login_says_how_to_give_one() {
    let http = reqwest::Client::new();
    let err = login::answer(&http, "r.example", "org/app", "Basic realm=\"x\"", None)
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), "registry_unauthorized");
    assert!(
        err.to_string().contains("--registry-credentials-env"),
        "{err}"
    );
    let err = login::answer(&http, "r.example", "org/app", "Negotiate", None)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("Negotiate") || err.to_string().contains("negotiate"),
        "{err}"
    );
}

#[tokio::test]
async fn a_login_is_never_sent_to_a_plain_http_token_service_off_this_machine() {
    let http = reqwest::Client::new();
    let login = tau_engine::Credentials::password("bob", "pw-never-sent", "test");
    let err = login::answer(
        &http,
        "r.example",
        "org/app",
        "Bearer realm=\"http://auth.example/token\"",
        Some(&login),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), "registry_unauthorized");
    assert!(!err.to_string().contains("pw-never-sent"));
}
