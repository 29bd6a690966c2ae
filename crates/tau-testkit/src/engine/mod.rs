//! A real container engine and registry for tests: Podman's Docker-compatible service on a unix
//! socket and Debian's `docker-registry` on a free 127.0.0.1 port, both started from files under a
//! temporary directory and stopped (process groups killed, containers removed) when the [`Lab`]
//! is dropped. Nothing under `/etc` is read or changed except the engine's network defaults.
//!
//! [`Lab::start_auth_registry`] adds a second registry that wants an htpasswd login (see
//! [`auth`]).
//!
//! With `CI` set, a missing engine is a test failure ([`Lab::start`] panics); without it, tests
//! skip with a printed reason.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod auth;

/// Manifest and index media types, so a registry answers the digest a pull would use.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, \
                               application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// How long the engine and the registry get to answer after start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running engine and registry, owned by one test.
pub struct Lab {
    dir: PathBuf,
    podman: Child,
    registry: Child,
    registry_port: u16,
    /// Reserved at launch so the engine's registries.conf lists it; started on demand.
    auth_port: u16,
    auth_registry: Option<auth::AuthRegistry>,
}

impl Lab {
    /// Starts a fresh lab, or `None` (after printing why) when podman or docker-registry is not
    /// installed and `CI` is unset. Panics when they are missing under `CI`, or fail to start.
    pub fn start() -> Option<Lab> {
        for tool in ["podman", "docker-registry", "busybox"] {
            if which(tool).is_none() {
                let reason = format!("{tool} is not installed (apt-get install podman runc docker-registry busybox-static)");
                if std::env::var_os("CI").is_some() {
                    panic!("CI is set but {reason}");
                }
                eprintln!("skipping: {reason}");
                return None;
            }
        }
        Some(Lab::launch())
    }

    fn launch() -> Lab {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, Ordering::SeqCst);
        // Short: the socket path must fit a sockaddr_un (108 bytes).
        let dir = std::env::temp_dir().join(format!("tau-lab-{}-{seq}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let registry_port = free_port();
        let auth_port = free_port();
        std::fs::write(
            dir.join("containers.conf"),
            format!(
                "[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = \"cgroupfs\"\nruntime = \"runc\"\n\
                 events_logger = \"file\"\ntmp_dir = \"{}\"\n",
                dir.join("tmp").display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("registries.conf"),
            format!(
                "unqualified-search-registries = []\n\n[[registry]]\nlocation = \"127.0.0.1:{registry_port}\"\ninsecure = true\n\n\
                 [[registry]]\nlocation = \"127.0.0.1:{auth_port}\"\ninsecure = true\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("registry.yml"),
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: 127.0.0.1:{registry_port}\n",
                dir.join("registry").display()
            ),
        )
        .unwrap();
        let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
        let registry = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("registry.yml"))
            .stdin(Stdio::null())
            .stdout(log("registry.log"))
            .stderr(log("registry.err"))
            .process_group(0)
            .spawn()
            .expect("docker-registry starts");
        let mut podman = Command::new("podman");
        podman
            .args(storage_args(&dir))
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", dir.join("podman.sock").display()))
            .envs(lab_env(&dir))
            .stdin(Stdio::null())
            .stdout(log("podman.log"))
            .stderr(log("podman.err"))
            .process_group(0);
        let podman = podman.spawn().expect("podman system service starts");
        let lab = Lab {
            dir,
            podman,
            registry,
            registry_port,
            auth_port,
            auth_registry: None,
        };
        lab.wait_until("the registry's /v2/", |lab| {
            http_status(lab.registry_port, "GET", "/v2/", &[]).is_some_and(|(s, _)| s == 200)
        });
        lab.wait_until("podman's /_ping", |lab| lab.ping());
        lab
    }

    fn wait_until(&self, what: &str, ready: impl Fn(&Lab) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            if start.elapsed() > START_TIMEOUT {
                let logs = ["podman.err", "registry.err"]
                    .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default());
                panic!("{what} did not answer within {START_TIMEOUT:?}; logs: {logs:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ping(&self) -> bool {
        let Ok(mut stream) = std::os::unix::net::UnixStream::connect(self.dir.join("podman.sock"))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = "GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
        let mut answer = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }

    /// `unix:///…/podman.sock`, for `DOCKER_HOST` or `Engine::connect`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.dir.join("podman.sock").display())
    }

    /// `127.0.0.1:PORT` of the registry.
    pub fn registry(&self) -> String {
        format!("127.0.0.1:{}", self.registry_port)
    }

    /// The lab's own directory (logs, configuration, storage).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A container or volume name unique within this test process.
    pub fn unique(&self, prefix: &str) -> String {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        format!(
            "{prefix}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        )
    }

    /// Imports the static busybox rootfs as `REGISTRY/repo:tag` with `cmd` as its CMD, pushes it to
    /// the lab's registry and returns the registry's manifest digest.
    pub fn push_busybox(&self, repo: &str, tag: &str, cmd: &[&str]) -> String {
        let reference = format!("{}/{repo}:{tag}", self.registry());
        self.import_busybox(&reference, cmd);
        self.podman_ok(&["push", "--tls-verify=false", &reference]);
        // An agent host only ever pulls: keeping the imported copy would give the image a second,
        // local-only repo digest that no registry knows.
        self.podman_ok(&["rmi", &reference]);
        self.manifest_digest(repo, tag).unwrap_or_else(|| {
            panic!("the registry has no manifest for {reference} after the push")
        })
    }

    /// Imports the static busybox rootfs as `reference` with `cmd` as its CMD, in the engine's
    /// local storage only.
    fn import_busybox(&self, reference: &str, cmd: &[&str]) {
        let cmd_json = serde_json::to_string(cmd).unwrap();
        let rootfs = busybox_rootfs();
        self.podman_ok(&[
            "import",
            "--change",
            &format!("CMD {cmd_json}"),
            rootfs.to_str().unwrap(),
            reference,
        ]);
    }

    /// `Docker-Content-Digest` of `HEAD /v2/<repo>/manifests/<tag>`, `None` when unknown.
    pub fn manifest_digest(&self, repo: &str, tag: &str) -> Option<String> {
        let (status, headers) = http_status(
            self.registry_port,
            "HEAD",
            &format!("/v2/{repo}/manifests/{tag}"),
            &[("Accept", MANIFEST_ACCEPT)],
        )?;
        if status != 200 {
            return None;
        }
        header(&headers, "docker-content-digest")
    }

    pub fn create_volume(&self, name: &str) {
        self.podman_ok(&["volume", "create", name]);
    }

    /// Runs `podman ARGS` against this lab's storage; the caller checks the status.
    pub fn podman(&self, args: &[&str]) -> Output {
        Command::new("podman")
            .args(storage_args(&self.dir))
            .args(args)
            .envs(lab_env(&self.dir))
            .stdin(Stdio::null())
            .output()
            .expect("podman runs")
    }

    /// Runs `podman ARGS`, panicking with its stderr when it fails; returns its stdout.
    pub fn podman_ok(&self, args: &[&str]) -> String {
        crate::stdout_if_ok(&format!("podman {args:?} failed"), self.podman(args))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Containers first: their conmon processes live outside the service's process group.
        let _ = self.podman(&["rm", "--all", "--force", "--time", "0"]);
        let auth = self.auth_registry.as_mut().map(|a| &mut a.child);
        for child in [Some(&mut self.podman), Some(&mut self.registry), auth]
            .into_iter()
            .flatten()
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
        // Exec sessions leave a conmon waiting minutes for its exit delay; anything still naming
        // the lab's directory belongs to this lab.
        kill_processes_naming(&self.dir);
        // Storage may still hold mounts; unmount what lies under the lab before deleting it.
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            let mut under: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split_whitespace().nth(1))
                .filter(|m| Path::new(m).starts_with(&self.dir))
                .collect();
            under.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for mount in under {
                let _ = Command::new("umount").arg("-l").arg(mount).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn kill_processes_naming(dir: &Path) {
    let needle = dir.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn storage_args(dir: &Path) -> [String; 4] {
    [
        "--root".to_owned(),
        dir.join("root").display().to_string(),
        "--runroot".to_owned(),
        dir.join("runroot").display().to_string(),
    ]
}

fn lab_env(dir: &Path) -> [(&'static str, PathBuf); 2] {
    [
        ("CONTAINERS_CONF", dir.join("containers.conf")),
        ("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf")),
    ]
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One plain HTTP/1.1 request to 127.0.0.1:`port`; the status and the raw header block.
/// The value of header `name` in a raw header block.
fn header(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

pub(crate) fn http_status(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let (head, _) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_owned()))
}

/// A tar of a static busybox root: every applet linked under /bin, and one-line /etc/passwd and
/// /etc/group for root. Built once and kept in the temp dir for later test processes.
pub fn busybox_rootfs() -> PathBuf {
    static TAR: OnceLock<PathBuf> = OnceLock::new();
    TAR.get_or_init(|| {
        let cached = std::env::temp_dir().join("tau-lab-busybox-rootfs.tar");
        if cached.is_file() {
            return cached;
        }
        let base = std::env::temp_dir().join(format!("tau-lab-rootfs-{}", std::process::id()));
        let root = base.join("root");
        let _ = std::fs::remove_dir_all(&base);
        for d in ["bin", "etc", "tmp", "proc", "sys", "dev"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .expect("busybox-static is installed");
        std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
        let list = Command::new(busybox).arg("--list").output().unwrap();
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            if applet != "busybox" {
                let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(applet));
            }
        }
        std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
        let tar = base.join("rootfs.tar");
        let status = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success(), "tar of the busybox rootfs failed");
        // Rename is atomic: a concurrent test process sees the whole tar or none.
        std::fs::rename(&tar, &cached).unwrap();
        let _ = std::fs::remove_dir_all(&base);
        cached
    })
    .clone()
}
