//! Helpers for the `tau registry` integration tests: the real binary against the embedded store
//! (a temp state dir) or a real PostgreSQL database (`tau_testkit::pg`).
#![allow(dead_code)]

pub mod agent;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tau_testkit::pg::{Database, TlsCluster};

/// Where a test's registry lives.
pub enum Store {
    File(tempfile::TempDir),
    Pg(Database, tempfile::TempDir),
    /// A private TLS-only server, reached with the given `DATABASE_URL`.
    PgTls(TlsCluster, tempfile::TempDir, String),
}

impl Store {
    pub fn name(&self) -> &'static str {
        match self {
            Store::File(_) => "file",
            Store::Pg(..) => "postgres",
            Store::PgTls(..) => "postgres over TLS",
        }
    }

    /// A scratch dir for files the test writes (the apply file).
    pub fn scratch(&self) -> &Path {
        match self {
            Store::File(d) | Store::Pg(_, d) | Store::PgTls(_, d, _) => d.path(),
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.scratch().join("state")
    }

    /// `tau registry ARGS` against this store.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tau"));
        for (key, _) in std::env::vars() {
            if key.starts_with("TAU_")
                || key == "DATABASE_URL"
                || key.starts_with("PGSSL")
                || key.starts_with("CF_ACCESS_")
            {
                cmd.env_remove(key);
            }
        }
        cmd.arg("registry").args(args);
        match self {
            Store::File(_) => {
                cmd.arg("--state-dir").arg(self.state_dir());
            }
            Store::Pg(db, _) => {
                cmd.env("DATABASE_URL", &db.url);
            }
            Store::PgTls(_, _, url) => {
                cmd.env("DATABASE_URL", url);
            }
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("tau runs")
    }

    /// Runs, requires exit 0, and parses stdout as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{} tau registry {args:?}: {}{}",
            self.name(),
            stdout(&out),
            stderr(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
    }

    /// Every byte the store holds: the state dir's files, or the database dump.
    pub fn everything(&self) -> String {
        match self {
            Store::File(_) => {
                let dir = self.state_dir();
                if !dir.exists() {
                    return String::new();
                }
                tau_testkit::files(&dir)
                    .iter()
                    .map(|f| {
                        String::from_utf8_lossy(&std::fs::read(dir.join(f)).unwrap()).into_owned()
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            Store::Pg(db, _) => db.dump(),
            Store::PgTls(cluster, ..) => cluster.dump(),
        }
    }

    pub fn apply(&self, yaml: &str) -> Output {
        let path = self.scratch().join("catalog.yaml");
        std::fs::write(&path, yaml).unwrap();
        self.run(&["apply", path.to_str().unwrap(), "--json"])
    }
}

/// Both stores: the file store always; PostgreSQL when available (skips with a printed reason
/// without `CI`, fails with it).
pub fn stores() -> Vec<Store> {
    let mut stores = vec![Store::File(tempfile::tempdir().unwrap())];
    if let Some(db) = Database::create() {
        let store = Store::Pg(db, tempfile::tempdir().unwrap());
        let out = store.run(&["migrate", "--json"]);
        assert!(out.status.success(), "migrate: {}", stderr(&out));
        stores.push(store);
    }
    stores
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A GitHub-token-shaped value, built at run time so the repository holds no such literal.
pub fn token() -> String {
    format!("ghp_{}", "Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8Vb7")
}

/// The seed-shaped catalog with one agent whose image lives in `repo`.
pub fn catalog(repo: &str, registry: &str) -> String {
    format!(
        r#"registry_accounts:
  - provider: ghcr
    registry_url: "{registry}"
    namespace: org
    credential_ref: k8s:cogo-dev/ghcr-pullsecret
    read_only: true
agent_catalog:
  - agent_name: cogo-codegen-worker
    service: codegen
    role: generate
    repo: "{repo}"
    default_tag: dev
    registry_account: org
    autodeploy_enabled: true
    deploy:
      shard: 0
      env:
        ARTIFACTS_BASE: /app/artifacts-local
        SUPABASE_SERVICE_ROLE_KEY: {{secret_env: SUPABASE_SERVICE_ROLE_KEY}}
      k8s_secret: cogo-secrets
k8s_pull_secret_links:
  - registry_account: org
    kube_namespace: cogo-dev
    secret_name: ghcr-pullsecret
"#
    )
}

/// The catalog for a real Deploy Agent rollout: its one agent named `agent_name`, deploying with
/// no volumes.
pub fn agent_catalog(repo: &str, registry: &str, agent_name: &str) -> String {
    catalog(repo, registry)
        .replace("cogo-codegen-worker", agent_name)
        .replace(
            "      k8s_secret: cogo-secrets\n",
            "      k8s_secret: cogo-secrets\n      volumes: {}\n",
        )
}

/// `value` with every `created_at`/`updated_at` string blanked (the fields that are times).
pub fn zero_times(mut value: serde_json::Value) -> serde_json::Value {
    match &mut value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "created_at" || k == "updated_at" {
                    *v = serde_json::Value::from("T");
                } else {
                    *v = zero_times(v.take());
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items.iter_mut() {
                *v = zero_times(v.take());
            }
        }
        _ => {}
    }
    value
}
