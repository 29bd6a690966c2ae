//! `sslmode` against a real TLS-only PostgreSQL (`tau_testkit::pg::TlsCluster`): which modes
//! connect, which are refused and what the refusal says. The store suite itself also runs over
//! `verify-full` (`suite.rs`, `postgres_tls_store`).

use tau_testkit::pg::TlsCluster;

use super::{ConnectTarget, PgStore, Store};

fn target(url: &str) -> ConnectTarget {
    ConnectTarget::parse(url, |_| None).unwrap()
}

/// Whether the session the server sees is encrypted (`pg_stat_ssl`).
async fn encrypted(url: &str) -> bool {
    let client = target(url).connect().await.unwrap();
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// The refusal's text; it must never hold the password.
async fn refused(cluster: &TlsCluster, url: &str) -> String {
    let err = target(url).connect().await.unwrap_err().to_string();
    assert!(
        !err.contains(&cluster.password),
        "the password was echoed: {err}"
    );
    assert!(
        err.starts_with("postgresql: cannot connect to DATABASE_URL"),
        "{err}"
    );
    err
}

/// `key=value` form naming `host` for the certificate check but connecting to 127.0.0.1.
fn keywords(cluster: &TlsCluster, host: &str, tls: &str) -> String {
    format!(
        "host={host} hostaddr=127.0.0.1 port={} user={} password={} dbname={} {tls}",
        cluster.port, cluster.user, cluster.password, cluster.database
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_against_a_tls_only_server() {
    let Some(cluster) = TlsCluster::start() else {
        return;
    };
    let ca = cluster.ca_path.display().to_string();
    let wrong = cluster.other_ca_path.display().to_string();

    // verify-full with the right CA: connected, encrypted, and the store works.
    let full = cluster.url(&format!("sslmode=verify-full&sslrootcert={ca}"));
    assert!(encrypted(&full).await);
    let store = PgStore::connect(&full).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), vec!["0001_registry_tables"]);
    assert!(store.snapshot().await.unwrap().accounts.is_empty());

    // require and prefer without a root: encrypted, certificate not checked (libpq's meaning).
    assert!(encrypted(&cluster.url("sslmode=require")).await);
    assert!(encrypted(&cluster.url("")).await, "prefer is the default");

    // verify-full with a CA that signed nothing the server shows.
    let err = refused(
        &cluster,
        &cluster.url(&format!("sslmode=verify-full&sslrootcert={wrong}")),
    )
    .await;
    assert!(err.contains("(sslmode=verify-full)"), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
    // require with a root checks the chain, as libpq does.
    let err = refused(
        &cluster,
        &cluster.url(&format!("sslmode=require&sslrootcert={wrong}")),
    )
    .await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    // A name the certificate does not hold: verify-full refuses, verify-ca only checks the chain.
    let err = refused(
        &cluster,
        &keywords(
            &cluster,
            "db.tau.invalid",
            &format!("sslmode=verify-full sslrootcert={ca}"),
        ),
    )
    .await;
    assert!(
        err.contains("not valid for name \"db.tau.invalid\""),
        "{err}"
    );
    assert!(
        encrypted(&keywords(
            &cluster,
            "db.tau.invalid",
            &format!("sslmode=verify-ca sslrootcert={ca}")
        ))
        .await
    );
    // The right name in the key=value form.
    assert!(
        encrypted(&keywords(
            &cluster,
            "localhost",
            &format!("sslmode=verify-full sslrootcert='{ca}'")
        ))
        .await
    );

    // Plain text: the server's hba has only hostssl for TCP.
    let err = refused(&cluster, &cluster.url("sslmode=disable")).await;
    assert!(err.contains("(sslmode=disable)"), "{err}");
    assert!(err.contains("no encryption"), "{err}");
}
