//! A second registry in the lab that wants a login: Debian's `docker-registry` with its
//! `htpasswd` auth (bcrypt entries, written with the `bcrypt` crate), on the port the lab reserved
//! at launch so that the engine's registries.conf already names it (plain HTTP, loopback only).
//! The registry answers `401` with `WWW-Authenticate: Basic realm="tau-lab"` without a login.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use base64::Engine as _;

use super::{http_status, Lab};

/// bcrypt's lowest cost: the registry checks the hash on every request, and this is a test.
const BCRYPT_COST: u32 = 4;

pub(super) struct AuthRegistry {
    pub(super) child: Child,
    username: String,
    password: String,
}

impl Lab {
    /// Starts the login-protected registry with one account. Panics when it is already started
    /// or does not answer.
    pub fn start_auth_registry(&mut self, username: &str, password: &str) {
        assert!(
            self.auth_registry.is_none(),
            "the auth registry is already started"
        );
        let hash = bcrypt::hash(password, BCRYPT_COST).expect("bcrypt hashes");
        let htpasswd = self.dir.join("htpasswd");
        std::fs::write(&htpasswd, format!("{username}:{hash}\n")).unwrap();
        let config = self.dir.join("auth-registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 auth:\n  htpasswd:\n    realm: tau-lab\n    path: {}\nhttp:\n  addr: 127.0.0.1:{}\n",
                self.dir.join("auth-registry").display(),
                htpasswd.display(),
                self.auth_port
            ),
        )
        .unwrap();
        let log = |name: &str| std::fs::File::create(self.dir.join(name)).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log("auth-registry.log"))
            .stderr(log("auth-registry.err"))
            .process_group(0)
            .spawn()
            .expect("docker-registry starts");
        self.auth_registry = Some(AuthRegistry {
            child,
            username: username.to_owned(),
            password: password.to_owned(),
        });
        let port = self.auth_port;
        self.wait_until("the auth registry's /v2/", |_| {
            http_status(port, "GET", "/v2/", &[]).is_some_and(|(s, _)| s == 401)
        });
    }

    /// `127.0.0.1:PORT` of the login-protected registry (reserved even before it is started).
    pub fn auth_registry(&self) -> String {
        format!("127.0.0.1:{}", self.auth_port)
    }

    fn auth(&self) -> &AuthRegistry {
        self.auth_registry
            .as_ref()
            .expect("start_auth_registry first")
    }

    /// `Basic …` for the auth registry's account.
    fn basic_header(&self) -> String {
        let auth = self.auth();
        let pair = format!("{}:{}", auth.username, auth.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// Imports the busybox rootfs as `AUTH_REGISTRY/repo:tag` (CMD `cmd`) in the engine's local
    /// storage without pushing it: what a build leaves behind, ready for a push test.
    pub fn import_busybox_for_auth(&self, repo: &str, tag: &str, cmd: &[&str]) -> String {
        let reference = format!("{}/{repo}:{tag}", self.auth_registry());
        self.import_busybox(&reference, cmd);
        reference
    }

    /// Imports and pushes busybox to the auth registry with the account's login (podman's own
    /// push, not tau's), removes the local copy, and returns the registry's manifest digest.
    pub fn push_busybox_to_auth(&self, repo: &str, tag: &str, cmd: &[&str]) -> String {
        let reference = self.import_busybox_for_auth(repo, tag, cmd);
        let auth = self.auth();
        let creds = format!("{}:{}", auth.username, auth.password);
        self.podman_ok(&["push", "--tls-verify=false", "--creds", &creds, &reference]);
        self.podman_ok(&["rmi", &reference]);
        self.auth_manifest_digest(repo, tag)
            .unwrap_or_else(|| panic!("the auth registry has no manifest for {reference}"))
    }

    /// `Docker-Content-Digest` of the auth registry's manifest for `repo:tag`, asked with the
    /// account's login; `None` when unknown.
    pub fn auth_manifest_digest(&self, repo: &str, tag: &str) -> Option<String> {
        let basic = self.basic_header();
        let (status, headers) = http_status(
            self.auth_port,
            "HEAD",
            &format!("/v2/{repo}/manifests/{tag}"),
            &[
                ("Accept", super::MANIFEST_ACCEPT),
                ("Authorization", &basic),
            ],
        )?;
        if status != 200 {
            return None;
        }
        super::header(&headers, "docker-content-digest")
    }

    /// The status the auth registry answers `GET /v2/` without a login (401 when it works).
    pub fn auth_registry_anonymous_status(&self) -> Option<u16> {
        http_status(self.auth_port, "GET", "/v2/", &[]).map(|(s, _)| s)
    }
}
