//! The project's real `Dockerfile`, built and run on a real engine (`tau_testkit::engine::Lab`).
//!
//! The Dockerfile is used unchanged: `podman build --build-context` supplies its `debian:bookworm-slim`
//! base (a debootstrap minbase root, cached under the target dir, imported and pushed to the lab's
//! registry) and its `builder` stage (a directory holding this test's own `tau` binary at
//! `src/target/release/tau`). The image is then run with no arguments, its gateway endpoints are
//! checked over 127.0.0.1, and it must stop on SIGINT (the image's STOPSIGNAL) with exit code 0.
//!
//! Cost: about 25 s and 206 MB for the first debootstrap (then cached), plus the build (its
//! `RUN apt-get` reaches Debian's mirror) and a few seconds to run and stop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tau_testkit::engine::Lab;

#[test]
fn the_dockerfile_builds_and_the_image_serves_the_gateway_and_stops_cleanly_on_sigint() {
    let Some(lab) = Lab::start() else { return };
    let Some(debian) = debian_rootfs() else {
        return;
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let base = format!("{}/library/debian:bookworm-slim", lab.registry());
    lab.podman_ok(&["import", debian.to_str().unwrap(), &base]);
    lab.podman_ok(&["push", "--tls-verify=false", &base]);

    // The builder stage: the tau binary this test run built, where the Dockerfile copies it from.
    let work = tempfile::tempdir().unwrap();
    let builder = work.path().join("builder");
    let bin = builder.join("src/target/release");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_tau"), bin.join("tau")).unwrap();
    let _ = Command::new("strip").arg(bin.join("tau")).status();
    // Only the Dockerfile is needed as context: the final stage copies from `builder` alone.
    let context = work.path().join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(repo.join("Dockerfile"), context.join("Dockerfile")).unwrap();

    let image = format!("{}/tau/gateway:test", lab.registry());
    let started = Instant::now();
    lab.podman_ok(&[
        "build",
        "--build-context",
        &format!("debian:bookworm-slim=docker-image://{base}"),
        "--build-context",
        &format!("builder={}", builder.display()),
        "-t",
        &image,
        context.to_str().unwrap(),
    ]);
    eprintln!(
        "gateway image built in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let name = lab.unique("gateway");
    lab.podman_ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        &format!("127.0.0.1:{port}:8080"),
        &image,
    ]);
    for path in ["/gateway/status", "/gateway/health/live"] {
        let status = wait_for_status(port, path, Duration::from_secs(30));
        assert_eq!(
            status,
            Some(200),
            "GET {path}; logs: {}",
            lab.podman_ok(&["logs", &name])
        );
    }

    let stopping = Instant::now();
    lab.podman_ok(&["stop", "--time", "20", &name]);
    let exit = lab.podman_ok(&["inspect", "--format", "{{.State.ExitCode}}", &name]);
    assert_eq!(
        exit.trim(),
        "0",
        "SIGINT must stop the gateway cleanly; logs: {}",
        lab.podman_ok(&["logs", &name])
    );
    eprintln!(
        "gateway stopped on SIGINT in {:.1} s",
        stopping.elapsed().as_secs_f64()
    );
}

/// A debootstrap `minbase` bookworm root as a tar, cached in the target dir across runs. `None`
/// (after printing why) when debootstrap is missing and `CI` is unset.
fn debian_rootfs() -> Option<PathBuf> {
    let cached = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian-bookworm-minbase.tar");
    if cached.is_file() {
        return Some(cached);
    }
    if Command::new("debootstrap")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but debootstrap is not installed"
        );
        eprintln!("skipping: debootstrap is not installed");
        return None;
    }
    let root = tempfile::tempdir().unwrap();
    let status = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(root.path())
        .arg(debian_mirror())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "debootstrap failed");
    let partial = cached.with_extension("tar.partial");
    let status = Command::new("tar")
        .arg("-C")
        .arg(root.path())
        .arg("-cf")
        .arg(&partial)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar of the debootstrap root failed");
    std::fs::rename(&partial, &cached).unwrap();
    Some(cached)
}

/// The Debian mirror apt already uses on this machine.
fn debian_mirror() -> String {
    let mut sources = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for entry in dir.flatten() {
            sources.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    sources.push(std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default());
    for text in &sources {
        for line in text.lines().map(str::trim) {
            let url = line
                .strip_prefix("URIs:")
                .map(|rest| rest.split_whitespace().next().unwrap_or(""))
                .or_else(|| {
                    line.strip_prefix("deb ")
                        .and_then(|rest| rest.split_whitespace().find(|w| w.starts_with("http")))
                });
            if let Some(url) = url.filter(|u| u.starts_with("http") && u.ends_with("/debian")) {
                return url.to_owned();
            }
        }
    }
    "http://deb.debian.org/debian".to_owned()
}

fn wait_for_status(port: u16, path: &str, within: Duration) -> Option<u16> {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < within {
        last = get_status(port, path);
        if last == Some(200) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    last
}

fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split_whitespace().nth(1)?.parse().ok()
}
