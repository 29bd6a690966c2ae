//! `DATABASE_URL` TLS settings without a server: what is accepted, what is refused and how.
//! (`tls_suite` runs them against a real TLS PostgreSQL.)

use super::*;

const PASSWORD: &str = "s3cr3t-Pa55word";

fn no_env(_: &str) -> Option<String> {
    None
}

fn url(query: &str) -> String {
    format!("postgres://tau:{PASSWORD}@127.0.0.1:5432/tau?{query}")
}

fn refused(url: &str, env: impl Fn(&str) -> Option<String>) -> String {
    let err = ConnectTarget::parse(url, env).unwrap_err();
    let text = err.to_string();
    assert!(!text.contains(PASSWORD), "the password was echoed: {text}");
    assert!(!format!("{err:?}").contains(PASSWORD), "{err:?}");
    text
}

#[test]
fn the_default_is_prefer_and_every_libpq_mode_is_accepted() {
    assert_eq!(
        ConnectTarget::parse(&url(""), no_env).unwrap().mode(),
        SslMode::Prefer
    );
    for name in SslMode::ACCEPTED.split(", ") {
        let target = ConnectTarget::parse(&url(&format!("sslmode={name}")), no_env).unwrap();
        assert_eq!(target.mode().as_str(), name);
        let keywords = format!("host=127.0.0.1 user=tau password={PASSWORD} sslmode={name}");
        assert_eq!(
            ConnectTarget::parse(&keywords, no_env)
                .unwrap()
                .mode()
                .as_str(),
            name
        );
    }
}

#[test]
fn an_unknown_sslmode_names_database_url_the_parameter_and_the_accepted_values() {
    let text = refused(&url("sslmode=verify_full"), no_env);
    assert!(text.starts_with("DATABASE_URL: sslmode: "), "{text}");
    assert!(text.contains("\"verify_full\""), "{text}");
    assert!(text.contains(SslMode::ACCEPTED), "{text}");
    // A value that could be anything else is not repeated.
    let text = refused(&url(&format!("sslmode={PASSWORD}")), no_env);
    assert!(text.contains(SslMode::ACCEPTED), "{text}");
}

#[test]
fn pgsslmode_is_the_default_and_the_url_wins_over_it() {
    let env = |k: &str| (k == "PGSSLMODE").then(|| "verify-full".to_string());
    assert_eq!(
        ConnectTarget::parse(&url(""), env).unwrap().mode(),
        SslMode::VerifyFull
    );
    assert_eq!(
        ConnectTarget::parse(&url("sslmode=disable"), env)
            .unwrap()
            .mode(),
        SslMode::Disable
    );
    let bad = |k: &str| (k == "PGSSLMODE").then(|| "strict".to_string());
    let text = refused(&url(""), bad);
    assert!(text.starts_with("environment: PGSSLMODE: "), "{text}");
    assert!(text.contains(SslMode::ACCEPTED), "{text}");
}

#[test]
fn an_unreadable_root_certificate_names_where_it_was_named() {
    let text = refused(
        &url("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"),
        no_env,
    );
    assert!(text.starts_with("DATABASE_URL: sslrootcert: "), "{text}");
    assert!(text.contains("/nonexistent/ca.pem"), "{text}");
    assert!(text.contains("expected a readable PEM file"), "{text}");
    let env = |k: &str| (k == "PGSSLROOTCERT").then(|| "/nonexistent/env.pem".to_string());
    let text = refused(&url("sslmode=verify-ca"), env);
    assert!(text.starts_with("environment: PGSSLROOTCERT: "), "{text}");
    assert!(text.contains("/nonexistent/env.pem"), "{text}");
}

#[test]
fn a_root_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.pem");
    std::fs::write(&path, "not a certificate\n").unwrap();
    let text = refused(
        &url(&format!(
            "sslmode=verify-full&sslrootcert={}",
            path.display()
        )),
        no_env,
    );
    assert!(text.contains("holds no certificate"), "{text}");
}

#[test]
fn the_url_root_wins_over_pgsslrootcert() {
    let env = |k: &str| (k == "PGSSLROOTCERT").then(|| "/nonexistent/env.pem".to_string());
    let text = refused(
        &url("sslmode=verify-full&sslrootcert=/nonexistent/url.pem"),
        env,
    );
    assert!(text.contains("/nonexistent/url.pem"), "{text}");
}

#[test]
fn a_connection_string_tokio_postgres_refuses_is_reported_without_the_password() {
    let text = refused(
        &format!("postgres://tau:{PASSWORD}@127.0.0.1:notaport/tau?sslmode=require"),
        no_env,
    );
    assert!(
        text.starts_with("DATABASE_URL: connection string: "),
        "{text}"
    );
    let text = refused(&url("sslcert=/tmp/client.pem"), no_env);
    assert!(text.contains("sslcert"), "{text}");
}

#[test]
fn debug_output_hides_the_connection_string() {
    let target = ConnectTarget::parse(&url("sslmode=require"), no_env).unwrap();
    let shown = format!("{target:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(shown.contains("Require"), "{shown}");
}
