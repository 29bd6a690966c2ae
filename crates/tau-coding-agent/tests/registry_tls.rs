//! `tau registry` on a shared PostgreSQL that requires TLS: the real binary against a private
//! TLS-only server (`tau_testkit::pg::TlsCluster`, its own CA and a certificate for 127.0.0.1)
//! and, for tags, a real registry from the test lab.

mod registry_support;

use registry_support::{catalog, stderr, stdout, Store};
use tau_testkit::pg::TlsCluster;

fn tls_store(query: impl Fn(&TlsCluster) -> String) -> Option<Store> {
    let cluster = TlsCluster::start()?;
    let url = cluster.url(&query(&cluster));
    Some(Store::PgTls(cluster, tempfile::tempdir().unwrap(), url))
}

fn password(store: &Store) -> &str {
    let Store::PgTls(cluster, ..) = store else {
        unreachable!()
    };
    &cluster.password
}

/// Runs `tau registry migrate --json`, expecting a refusal; returns its message, after checking
/// the password appears nowhere in the output.
fn refused_migrate(store: &Store) -> String {
    let out = store.run(&["migrate", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains(password(store)) && !stderr(&out).contains(password(store)),
        "the password was echoed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    answer["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn migrate_apply_tag_record_and_history_work_over_verify_full() {
    let Some(store) =
        tls_store(|c| format!("sslmode=verify-full&sslrootcert={}", c.ca_path.display()))
    else {
        return;
    };
    let Some(lab) = tau_testkit::engine::Lab::start() else {
        return;
    };
    let repo_name = lab.unique("org/tls");
    let repo = format!("{}/{repo_name}", lab.registry());
    let digest = lab.push_busybox(&repo_name, "v1.0.0", &["sleep", "3600"]);

    let migrated = store.json(&["migrate", "--json"]);
    assert_eq!(
        migrated["applied"],
        serde_json::json!(["0001_registry_tables"])
    );
    let out = store.apply(&catalog(&repo, &lab.registry()));
    assert!(out.status.success(), "{}", stderr(&out));
    let rec = store.json(&["tag", "record", "cogo-codegen-worker", "v1.0.0", "--json"]);
    assert_eq!(rec["image_tag_history"]["digest"], digest.as_str());
    let history = store.json(&["history", "cogo-codegen-worker", "--json"]);
    let rows = history["image_tag_history"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["tag"], "v1.0.0");
    // The rows really are on the TLS server.
    assert!(store.everything().contains("v1.0.0"));
}

#[test]
fn pgsslrootcert_names_the_root_when_the_url_does_not() {
    let Some(store) = tls_store(|_| "sslmode=verify-full".into()) else {
        return;
    };
    let Store::PgTls(cluster, ..) = &store else {
        unreachable!()
    };
    // Without a root, verify-full checks against the bundled web roots: refused.
    let message = refused_migrate(&store);
    assert!(message.contains("UnknownIssuer"), "{message}");
    let out = store
        .cmd(&["migrate", "--json"])
        .env("PGSSLROOTCERT", &cluster.ca_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn a_wrong_ca_is_refused_naming_the_mode_and_the_check() {
    let Some(store) = tls_store(|c| {
        format!(
            "sslmode=verify-full&sslrootcert={}",
            c.other_ca_path.display()
        )
    }) else {
        return;
    };
    let message = refused_migrate(&store);
    assert!(
        message.contains("cannot connect to DATABASE_URL (sslmode=verify-full)"),
        "{message}"
    );
    assert!(
        message.contains("invalid peer certificate: UnknownIssuer"),
        "{message}"
    );
}

#[test]
fn plain_text_is_refused_by_a_hostssl_only_server() {
    let Some(store) = tls_store(|_| "sslmode=disable".into()) else {
        return;
    };
    let message = refused_migrate(&store);
    assert!(message.contains("(sslmode=disable)"), "{message}");
    assert!(message.contains("no encryption"), "{message}");
}

#[test]
fn require_encrypts_without_a_root_certificate() {
    let Some(store) = tls_store(|_| "sslmode=require".into()) else {
        return;
    };
    let migrated = store.json(&["migrate", "--json"]);
    assert_eq!(
        migrated["applied"],
        serde_json::json!(["0001_registry_tables"])
    );
    // The server admits TCP only as `hostssl` (plain TCP meets `reject`, as the test above
    // shows), so a successful migrate was encrypted.
}

#[test]
fn a_bad_sslmode_or_root_file_names_the_parameter_and_never_the_password() {
    let Some(store) = tls_store(|_| "sslmode=verify-everything".into()) else {
        return;
    };
    let message = refused_migrate(&store);
    assert!(message.starts_with("DATABASE_URL: sslmode: "), "{message}");
    assert!(
        message.contains("disable, prefer, require, verify-ca, verify-full"),
        "{message}"
    );
    let Store::PgTls(cluster, dir, _) = store else {
        unreachable!()
    };
    let url = cluster.url("sslmode=verify-full&sslrootcert=/nonexistent/root.pem");
    let store = Store::PgTls(cluster, dir, url);
    let message = refused_migrate(&store);
    assert!(
        message.starts_with("DATABASE_URL: sslrootcert: "),
        "{message}"
    );
    assert!(message.contains("/nonexistent/root.pem"), "{message}");
}
