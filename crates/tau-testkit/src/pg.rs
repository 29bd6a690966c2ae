//! A fresh PostgreSQL database per test, on the machine's real server.
//!
//! [`Database::create`] makes sure Debian's cluster runs (`pg_ctlcluster … start` when it is
//! down), then creates a role with a random password and a database it owns, and hands the test a
//! `postgres://…@127.0.0.1:PORT/…` URL. Dropping the value drops both. Without PostgreSQL the
//! answer is `None` with the reason printed, unless `CI` is set: then it panics, because CI must
//! run these tests. `TAU_TEST_PG_PORT` points at another local server reachable as the
//! `postgres` OS user through `su`.
//!
//! [`TlsCluster`] is a private TLS-only server of its own, for the `sslmode` tests.

use std::process::Command;
use std::sync::OnceLock;

mod tls;
pub use tls::TlsCluster;

/// A database that exists for the life of this value.
pub struct Database {
    pub url: String,
    name: String,
    port: u16,
}

impl Database {
    /// A new empty database, or `None` (with a printed reason) when PostgreSQL is not available
    /// and `CI` is unset.
    pub fn create() -> Option<Database> {
        let port = match server() {
            Ok(port) => *port,
            Err(reason) => {
                if std::env::var_os("CI").is_some() {
                    panic!("PostgreSQL is required with CI set: {reason}");
                }
                eprintln!("skipped: PostgreSQL not available ({reason})");
                return None;
            }
        };
        let token = unique();
        let name = format!("tau_test_{token}");
        let password = format!("p{token}");
        psql(
            port,
            &format!("CREATE ROLE {name} LOGIN PASSWORD '{password}'"),
        )
        .expect("create test role");
        psql(port, &format!("CREATE DATABASE {name} OWNER {name}")).expect("create test database");
        Some(Database {
            url: format!("postgres://{name}:{password}@127.0.0.1:{port}/{name}"),
            name,
            port,
        })
    }

    /// Runs `sql` as the server's superuser in this database; returns psql's output.
    pub fn superuser(&self, sql: &str) -> String {
        run_psql(self.port, Some(&self.name), sql).expect("psql as superuser")
    }

    /// Everything in this database as `pg_dump` prints it (to look for values that must not be
    /// stored).
    pub fn dump(&self) -> String {
        let out = Command::new("su")
            .args(["postgres", "-c"])
            .arg(format!("pg_dump -p {} {}", self.port, self.name))
            .output()
            .expect("run pg_dump");
        crate::stdout_if_ok("pg_dump", out)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(
            self.port,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        let _ = psql(self.port, &format!("DROP ROLE IF EXISTS {}", self.name));
    }
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The running server's port, starting the cluster once per process if it is down.
fn server() -> &'static Result<u16, String> {
    static SERVER: OnceLock<Result<u16, String>> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(port) = std::env::var("TAU_TEST_PG_PORT") {
            return port
                .parse()
                .map_err(|_| "TAU_TEST_PG_PORT is not a port".to_string());
        }
        let clusters = Command::new("pg_lsclusters")
            .arg("-h")
            .output()
            .map_err(|e| format!("pg_lsclusters: {e}; run scripts/ci/postgres.sh"))?;
        let text = String::from_utf8_lossy(&clusters.stdout).into_owned();
        let fields: Vec<&str> = text
            .lines()
            .next()
            .ok_or("no PostgreSQL cluster; run scripts/ci/postgres.sh")?
            .split_whitespace()
            .collect();
        let (version, cluster, port, status) = (fields[0], fields[1], fields[2], fields[3]);
        let port: u16 = port
            .parse()
            .map_err(|_| format!("pg_lsclusters port {port:?}"))?;
        if status != "online" {
            // Another test process may start it at the same moment: check again either way.
            let _ = Command::new("pg_ctlcluster")
                .args([version, cluster, "start"])
                .output();
        }
        psql(port, "SELECT 1")
            .map_err(|e| format!("the server on port {port} does not answer: {e}"))?;
        Ok(port)
    })
}

fn psql(port: u16, sql: &str) -> Result<String, String> {
    run_psql(port, None, sql)
}

fn run_psql(port: u16, db: Option<&str>, sql: &str) -> Result<String, String> {
    let mut cmd = format!("psql -X -q -A -t -v ON_ERROR_STOP=1 -p {port}");
    if let Some(db) = db {
        cmd.push_str(&format!(" -d {db}"));
    }
    let out = Command::new("su")
        .args(["postgres", "-c", &cmd])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(sql.as_bytes())?;
            child.wait_with_output()
        })
        .map_err(|e| format!("su postgres -c psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
