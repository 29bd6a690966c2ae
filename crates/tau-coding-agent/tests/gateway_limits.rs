//! The gateway's connection limit and clocks through the real binary on loopback (issue 9,
//! defect 3: idle and slow sockets used to be kept for ever, until descriptors ran out and even
//! liveness stopped answering).

mod common;
mod gateway_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use gateway_support::Gateway;

fn serve_with(cmd: &mut Command, state: &Path, extra: &[&str]) -> Gateway {
    cmd.args(["--gateway-serve", "--gateway-bind", "127.0.0.1:0"])
        .arg("--deployment-state-dir")
        .arg(state)
        .args(extra);
    Gateway::start(cmd)
}

fn idle_sockets(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n).map(|_| TcpStream::connect(addr).unwrap()).collect()
}

/// Waits up to `limit` for the server to close `stream`; `None` if it stayed open.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Some(started.elapsed()),
            Err(_) => return None,
        }
        if started.elapsed() > limit {
            return None;
        }
    }
}

/// Polls liveness until it answers 200; how long that took, or `None` after `limit`.
fn live_within(gw: &Gateway, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok((200, _)) = gw.try_get("/gateway/health/live") {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn gateway_over_the_connection_limit_answers_liveness_refuses_the_rest_and_closes_idle_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let gw = serve_with(
        &mut tau(),
        dir.path(),
        &[
            "--gateway-max-connections",
            "4",
            "--gateway-idle-timeout-ms",
            "3000",
            "--gateway-header-timeout-ms",
            "1000",
        ],
    );
    let opened = Instant::now();
    let mut idle = idle_sockets(&gw.addr, 4);
    std::thread::sleep(Duration::from_millis(300));

    let (code, body) = gw.get("/gateway/status");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("connection_limit"), "{body}");
    let took = live_within(&gw, Duration::from_secs(2));
    assert!(took.is_some(), "liveness did not answer over the limit");

    for socket in &mut idle {
        let closed = closed_within(socket, Duration::from_secs(8));
        assert!(
            closed.is_some(),
            "an idle connection was kept past the timeout"
        );
    }
    let all_closed = opened.elapsed();
    assert!(
        all_closed >= Duration::from_millis(2800),
        "idle sockets closed after {all_closed:?}, before the 3 s idle timeout"
    );
    let (code, body) = gw.get("/gateway/status");
    assert_eq!(code, 200, "the limit should have room again: {body}");
    let (_, metrics) = gw.get("/metrics");
    for line in [
        "tau_gateway_connection_timeouts_total{clock=\"idle\"} 4\n",
        "tau_gateway_connections_total{admission=\"reserve\"} 2\n",
        "tau_gateway_requests_total{route=\"/gateway/status\",status=\"503\"} 1\n",
    ] {
        assert!(metrics.contains(line), "{line:?} missing from\n{metrics}");
    }
}

#[test]
fn gateway_closes_a_slowloris_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let gw = serve_with(
        &mut tau(),
        dir.path(),
        &[
            "--gateway-header-timeout-ms",
            "500",
            "--gateway-idle-timeout-ms",
            "20000",
        ],
    );
    let mut slow = TcpStream::connect(&gw.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /gateway/status HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let closed = loop {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a slowloris kept its connection for 5 s"
        );
        match slow.read(&mut buf) {
            Ok(0) => break started.elapsed(),
            Ok(n) => panic!(
                "answered an unfinished request: {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break started.elapsed(),
        }
        // One more header line every 100 ms: always progressing, never finishing.
        if slow.write_all(b"X-Slow: a\r\n").is_err() {
            break started.elapsed();
        }
    };
    assert!(
        closed >= Duration::from_millis(400),
        "closed after {closed:?}, before the 500 ms header timeout"
    );
    assert!(live_within(&gw, Duration::from_secs(3)).is_some());
    let (_, metrics) = gw.get("/metrics");
    assert!(
        metrics.contains("tau_gateway_connection_timeouts_total{clock=\"header\"} 1\n"),
        "{metrics}"
    );
}

#[test]
fn gateway_short_of_descriptors_keeps_answering_liveness_under_a_flood_of_idle_sockets() {
    let dir = tempfile::tempdir().unwrap();
    // 64 descriptors for the whole process; the flood is more than that.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_tau"));
    without_tau_env(&mut cmd);
    let gw = serve_with(
        &mut cmd,
        dir.path(),
        &[
            "--gateway-max-connections",
            "16",
            "--gateway-header-timeout-ms",
            "500",
            "--gateway-idle-timeout-ms",
            "30000",
        ],
    );
    let _flood = idle_sockets(&gw.addr, 100);
    std::thread::sleep(Duration::from_millis(200));
    let took = live_within(&gw, Duration::from_secs(5));
    assert!(
        took.is_some(),
        "liveness stopped answering under 100 idle sockets"
    );
}

#[test]
fn gateway_stops_at_once_with_idle_keep_alive_connections_open() {
    let dir = tempfile::tempdir().unwrap();
    let gw = serve_with(&mut tau(), dir.path(), &[]);
    let mut kept = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(&gw.addr).unwrap();
        stream
            .write_all(b"GET /gateway/health/live HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        kept.push(stream);
    }
    // The default idle timeout is a minute; shutdown must not wait for it.
    let (took, clean) = gw.stop_with("TERM");
    assert!(clean, "unclean exit");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}
