//! Is the new container good? Settle (it stays up) and health (its URL answers). Engines start a
//! container that exits at once with a success answer, and image healthchecks never run without
//! systemd, so the agent watches and probes itself, and only ever over loopback or from inside the
//! container, never through the container's bridge address.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tau_engine::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const POLL: Duration = Duration::from_millis(200);
const HEALTH_ATTEMPT: Duration = Duration::from_secs(3);
/// The health URL gets at least this long to answer after settle.
const MIN_HEALTH_WINDOW: Duration = Duration::from_secs(5);

/// Why a probe failed: the container's fault, or the engine's.
pub(crate) enum ProbeError {
    Container(String),
    Engine(tau_engine::Error),
}

impl From<tau_engine::Error> for ProbeError {
    fn from(e: tau_engine::Error) -> Self {
        ProbeError::Engine(e)
    }
}

/// Watches `name` for `settle`: it must stay running, with the restart count and start time it
/// had when first seen.
pub(crate) async fn settle(
    engine: &Engine,
    name: &str,
    settle: Duration,
) -> Result<String, ProbeError> {
    let start = Instant::now();
    let first = engine.inspect(name).await?.ok_or_else(|| {
        ProbeError::Container("the new container disappeared right after start".to_owned())
    })?;
    let mut checks = 0u32;
    loop {
        let now = engine.inspect(name).await?.ok_or_else(|| {
            ProbeError::Container("the new container disappeared while settling".to_owned())
        })?;
        checks += 1;
        let after = start.elapsed().as_secs_f64();
        if !now.running {
            let code = now
                .exit_code
                .map_or("unknown".to_owned(), |c| c.to_string());
            return Err(ProbeError::Container(format!(
                "the new container exited with code {code} {after:.1} s after start"
            )));
        }
        if now.restart_count != first.restart_count || now.started_at != first.started_at {
            return Err(ProbeError::Container(format!(
                "the new container restarted {after:.1} s after start (restart count {} → {})",
                first.restart_count, now.restart_count
            )));
        }
        if start.elapsed() >= settle && checks >= 2 {
            return Ok(format!(
                "running for {:.1} s, no restart",
                start.elapsed().as_secs_f64()
            ));
        }
        tokio::time::sleep(
            POLL.min(settle.saturating_sub(start.elapsed()))
                .max(Duration::from_millis(20)),
        )
        .await;
    }
}

/// Probes `url` until it answers 2xx or the window closes: through the published 127.0.0.1 port
/// when the URL's port is a published container port, else with `wget` inside the container.
pub(crate) async fn health(
    engine: &Engine,
    name: &str,
    url: &str,
    ports: &BTreeMap<u16, u16>,
    settle: Duration,
) -> Result<String, ProbeError> {
    let target = Target::parse(url);
    let window = settle.max(MIN_HEALTH_WINDOW);
    let start = Instant::now();
    let mut last;
    loop {
        let published = target
            .as_ref()
            .and_then(|t| ports.get(&t.port).map(|host| (*host, t.path.as_str())));
        let attempt = match published {
            Some((host_port, path)) => http_get(host_port, path)
                .await
                .map(|s| format!("127.0.0.1:{host_port}{path} answered {s}")),
            None => {
                let out = engine
                    .exec(name, &["wget", "-q", "-O", "/dev/null", url])
                    .await?;
                if out.exit_code == 0 {
                    Ok(format!("{url} answered from inside the container"))
                } else {
                    Err(format!(
                        "wget {url} inside the container exited with code {}",
                        out.exit_code
                    ))
                }
            }
        };
        match attempt {
            Ok(detail) => return Ok(detail),
            Err(reason) => last = reason,
        }
        if start.elapsed() >= window {
            return Err(ProbeError::Container(format!(
                "the health URL did not answer within {:.0} s: {last}",
                window.as_secs_f64()
            )));
        }
        // The container must still be up for a retry to mean anything.
        match engine.inspect(name).await? {
            Some(c) if c.running => {}
            _ => {
                return Err(ProbeError::Container(format!(
                    "the new container stopped during the health check: {last}"
                )))
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The container-side port and path of an `http://127.0.0.1:PORT/path` URL.
struct Target {
    port: u16,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Option<Target> {
        let rest = url.strip_prefix("http://")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (authority, 80),
        };
        matches!(host, "127.0.0.1" | "localhost").then_some(Target { port, path })
    }
}

/// One `GET` to 127.0.0.1:`port`; Ok with the status line when it is 2xx.
async fn http_get(port: u16, path: &str) -> Result<String, String> {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connect to 127.0.0.1:{port}: {e}"))?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await.map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&head[..n]);
        let line = line.lines().next().unwrap_or("").to_owned();
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok());
        match status {
            Some(s) if (200..300).contains(&s) => Ok(s.to_string()),
            Some(s) => Err(format!("127.0.0.1:{port}{path} answered {s}")),
            None => Err(format!("127.0.0.1:{port}{path} answered no HTTP status")),
        }
    };
    tokio::time::timeout(HEALTH_ATTEMPT, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "127.0.0.1:{port}{path} did not answer within {HEALTH_ATTEMPT:?}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_give_their_port_and_path() {
        let t = Target::parse("http://127.0.0.1:8080/gateway/health/live").unwrap();
        assert_eq!((t.port, t.path.as_str()), (8080, "/gateway/health/live"));
        let t = Target::parse("http://localhost").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        assert!(Target::parse("http://10.88.0.5:8080/").is_none());
        assert!(Target::parse("https://127.0.0.1/").is_none());
    }
}
