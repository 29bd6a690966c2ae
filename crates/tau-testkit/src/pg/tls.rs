//! A private PostgreSQL that speaks only TLS over TCP, for the store's `sslmode` tests.
//!
//! [`TlsCluster::start`] generates a CA and a server certificate for `127.0.0.1` and `localhost`
//! (rcgen), runs `initdb` and `postgres` from Debian's packages in a temp dir on a free loopback
//! port with `ssl=on`, and an `hba` that admits TCP only as `hostssl` (plain TCP is rejected). It
//! also writes a second CA that signed nothing, for the "wrong root" case. The server runs as the
//! `postgres` OS user when the test runs as root (PostgreSQL refuses root). Dropping the value
//! stops the server and removes the directory.
//!
//! Without the binaries the answer is `None` with the reason printed, unless `CI` is set: then it
//! panics, because CI must run these tests.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

/// A running TLS-only PostgreSQL with one login role and database.
pub struct TlsCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// PEM of the CA that signed the server's certificate.
    pub ca_path: PathBuf,
    /// PEM of a CA that signed nothing the server shows.
    pub other_ca_path: PathBuf,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl TlsCluster {
    /// A new server, or `None` (with a printed reason) when PostgreSQL's binaries are missing and
    /// `CI` is unset.
    pub fn start() -> Option<TlsCluster> {
        let bin = match server_bin() {
            Ok(bin) => bin,
            Err(reason) => {
                if std::env::var_os("CI").is_some() {
                    panic!("PostgreSQL binaries are required with CI set: {reason}");
                }
                eprintln!("skipped: {reason}");
                return None;
            }
        };
        Some(Self::start_with(bin))
    }

    fn start_with(bin: PathBuf) -> TlsCluster {
        let dir = tempfile::Builder::new()
            .prefix("tau-pg-tls-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path();
        let (ca_pem, cert_pem, key_pem) = certificates("tau test CA");
        let (other_ca, _, _) = certificates("tau other CA");
        let ca_path = root.join("ca.pem");
        let other_ca_path = root.join("other-ca.pem");
        std::fs::write(&ca_path, ca_pem).unwrap();
        std::fs::write(&other_ca_path, other_ca).unwrap();
        std::fs::write(root.join("server.crt"), cert_pem).unwrap();
        write_private(&root.join("server.key"), &key_pem);
        let as_root = is_root();
        if as_root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root));
        }
        let data = root.join("data");
        run(pg_command(as_root, &bin.join("initdb"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data));
        let port = free_port();
        let conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{dir}'\n\
             ssl = on\nssl_cert_file = '{dir}/server.crt'\nssl_key_file = '{dir}/server.key'\n\
             fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n",
            dir = root.display()
        );
        append(&data.join("postgresql.conf"), &conf);
        // TCP only with TLS: a plain connection finds a `reject` line.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostnossl all all 0.0.0.0/0 reject\n",
        )
        .unwrap();
        run(pg_command(as_root, &bin.join("pg_ctl"))
            .args(["-w", "-t", "60", "-l"])
            .arg(root.join("server.log"))
            .arg("-D")
            .arg(&data)
            .arg("start"));
        let cluster = TlsCluster {
            bin,
            port,
            ca_path,
            other_ca_path,
            user: "tau_tls".into(),
            password: format!("tls-{}", super::unique()),
            database: "tau_tls".into(),
            dir,
        };
        cluster.psql(&format!(
            "CREATE ROLE {} LOGIN PASSWORD '{}'",
            cluster.user, cluster.password
        ));
        cluster.psql(&format!(
            "CREATE DATABASE {} OWNER {}",
            cluster.database, cluster.user
        ));
        cluster
    }

    /// `postgres://USER:PASSWORD@127.0.0.1:PORT/DB`, followed by `?query` when `query` is not
    /// empty.
    pub fn url(&self, query: &str) -> String {
        let base = format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            self.user, self.password, self.port, self.database
        );
        if query.is_empty() {
            base
        } else {
            format!("{base}?{query}")
        }
    }

    /// Runs `sql` as the superuser over the Unix socket; returns psql's output.
    pub fn psql(&self, sql: &str) -> String {
        let out = pg_command(is_root(), &self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
            ])
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", sql])
            .output()
            .expect("run psql");
        crate::stdout_if_ok("psql", out)
    }

    /// The test database as `pg_dump` prints it (to look for values that must not be stored).
    pub fn dump(&self) -> String {
        let out = pg_command(is_root(), &self.bin.join("pg_dump"))
            .args(["-U", "postgres", "-h"])
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), &self.database])
            .output()
            .expect("run pg_dump");
        crate::stdout_if_ok("pg_dump", out)
    }

    /// The server's log (connection refusals, TLS errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = pg_command(is_root(), &self.bin.join("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .output();
    }
}

/// Debian's newest `postgres` server binaries (`/usr/lib/postgresql/<version>/bin`).
fn server_bin() -> Result<PathBuf, String> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").map_err(|e| {
        format!("no /usr/lib/postgresql ({e}); run scripts/ci/postgres.sh to install PostgreSQL")
    })?;
    let mut found: Vec<(u32, PathBuf)> = versions
        .filter_map(|v| v.ok())
        .filter_map(|v| {
            let n: u32 = v.file_name().to_str()?.parse().ok()?;
            let bin = v.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((n, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no initdb under /usr/lib/postgresql/*/bin; run scripts/ci/postgres.sh".into()
    })
}

/// (CA PEM, server certificate PEM, server key PEM); the server certificate names 127.0.0.1
/// and localhost.
fn certificates(ca_name: &str) -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server
        .subject_alt_names
        .push(SanType::IpAddress(Ipv4Addr::LOCALHOST.into()));
    server
        .distinguished_name
        .push(DnType::CommonName, "tau test server");
    let cert = server.signed_by(&key, &issuer).unwrap();
    (ca_pem, cert.pem(), key.serialize_pem())
}

fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap();
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program`, as the `postgres` OS user when we are root.
fn pg_command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
