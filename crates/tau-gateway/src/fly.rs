//! `tau --fly-manifest-check`: the deployment contract between fly.toml, the Dockerfile and the
//! gateway, checked before `fly deploy` instead of discovered after it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::Value;

/// The longest drain the gateway needs after SIGINT/SIGTERM; Fly must wait at least this long.
pub const DRAIN_SECONDS: u64 = 5;

/// One rule and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub pass: bool,
    pub detail: String,
}

/// Why the manifest could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file of at most {MAX_FILE_BYTES} bytes", path.display())]
    NotASmallFile { path: PathBuf },
    #[error("{} is not valid TOML: {message}", path.display())]
    Toml { path: PathBuf, message: String },
}

/// fly.toml and Dockerfiles are a few kilobytes; anything bigger (or a device) is not one.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

fn check(name: &'static str, pass: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        pass,
        detail: detail.into(),
    }
}

/// A value from the file for a detail line: quoted and escaped, so control characters in the
/// file never reach a terminal raw; or `absent`.
fn shown(v: Option<impl std::fmt::Debug>) -> String {
    v.map_or_else(|| "absent".to_string(), |v| format!("{v:?}"))
}

/// Escapes control characters other than newlines (TOML errors quote the offending line).
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn str_at<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = doc;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str()
}

/// Fly durations: `"10s"`, `"1m"`, `"500ms"`, or a bare number of seconds. `None` when the text
/// is not one of these or the number does not fit.
fn seconds(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_integer() {
        return u64::try_from(n).ok();
    }
    let text = v.as_str()?.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number.parse().ok()?;
    match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "ms" => Some(n / 1000),
        _ => None,
    }
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`]; never a device, FIFO or huge file.
fn read_small(path: &Path) -> Result<String, Error> {
    let read = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read)?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return Err(Error::NotASmallFile {
            path: path.to_path_buf(),
        });
    }
    std::fs::read_to_string(path).map_err(read)
}

/// Checks the fly.toml at `path` (and the Dockerfile it names).
///
/// Every rule reads its input from the files; an input the files do not contain fails its rule
/// with a detail that says so. Fly's own defaults (SIGINT, 5 s, `./Dockerfile`) are deliberately
/// not assumed: the contract is what the file states, and a check that passes on a value nobody
/// wrote would pass for the wrong reason.
pub fn check_manifest(path: &Path) -> Result<Vec<Check>, Error> {
    let text = read_small(path)?;
    let doc: Value = toml::from_str(&text).map_err(|e| Error::Toml {
        path: path.to_path_buf(),
        message: escape_controls(&e.to_string()),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut checks = Vec::new();

    let app = str_at(&doc, &["app"]);
    checks.push(check(
        "app_name",
        app.is_some_and(|a| !a.trim().is_empty()),
        format!("app = {}", shown(app)),
    ));

    let mode = str_at(&doc, &["env", "TAU_TRANSPORT_MODE"]);
    checks.push(check(
        "env_transport_mode",
        mode == Some("gateway"),
        format!("TAU_TRANSPORT_MODE = {}, expected \"gateway\"", shown(mode)),
    ));

    let bind = str_at(&doc, &["env", "TAU_GATEWAY_OPENRESPONSES_BIND"]);
    let bind_addr = bind.and_then(|b| b.parse::<SocketAddr>().ok());
    checks.push(check(
        "env_gateway_bind",
        bind_addr.is_some_and(|a| a.ip().is_unspecified()),
        format!(
            "TAU_GATEWAY_OPENRESPONSES_BIND = {}, expected an all-interfaces address such as 0.0.0.0:8080",
            shown(bind)
        ),
    ));

    let internal_port = doc
        .get("http_service")
        .and_then(|s| s.get("internal_port"))
        .and_then(Value::as_integer);
    checks.push(check(
        "internal_port_matches_bind",
        matches!((internal_port, bind_addr), (Some(p), Some(a)) if p == i64::from(a.port())),
        format!(
            "[http_service] internal_port = {}, bind port = {}",
            shown(internal_port),
            shown(bind_addr.map(|a| a.port()))
        ),
    ));

    let status_check = doc
        .get("http_service")
        .and_then(|s| s.get("checks"))
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter().any(|c| {
                c.get("path").and_then(Value::as_str) == Some("/gateway/status")
                    && c.get("method")
                        .and_then(Value::as_str)
                        .is_none_or(|m| m.eq_ignore_ascii_case("get"))
            })
        });
    checks.push(check(
        "http_check_gateway_status",
        status_check,
        "[[http_service.checks]] with GET path \"/gateway/status\"",
    ));

    let dockerfile = str_at(&doc, &["build", "dockerfile"]);
    let dockerfile_text = dockerfile.map(|name| read_small(&dir.join(name)));
    checks.push(check(
        "dockerfile_exists",
        matches!(dockerfile_text, Some(Ok(_))),
        match (&dockerfile_text, dockerfile) {
            (Some(Err(e)), _) => escape_controls(&e.to_string()),
            (_, Some(name)) => format!("[build] dockerfile = {name:?}"),
            (_, None) => {
                "[build] dockerfile is absent; name the Dockerfile the image is built from".into()
            }
        },
    ));

    let state_dir = str_at(&doc, &["env", "TAU_DEPLOYMENT_STATE_DIR"]);
    let mounts: Vec<&Value> = match doc.get("mounts") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(table @ Value::Table(_)) => vec![table],
        _ => Vec::new(),
    };
    let destinations: Vec<&str> = mounts
        .iter()
        .filter_map(|m| m.get("destination").and_then(Value::as_str))
        .collect();
    checks.push(check(
        "mount_is_state_dir",
        state_dir.is_some_and(|s| destinations.contains(&s)),
        format!(
            "TAU_DEPLOYMENT_STATE_DIR = {}, [mounts] destination = {destinations:?}",
            shown(state_dir)
        ),
    ));

    let kill_signal = str_at(&doc, &["kill_signal"]);
    checks.push(check(
        "kill_signal_handled",
        matches!(kill_signal, Some("SIGINT" | "SIGTERM")),
        format!(
            "kill_signal = {}, expected \"SIGINT\" or \"SIGTERM\" (the gateway drains on both)",
            shown(kill_signal)
        ),
    ));
    let kill_timeout_value = doc.get("kill_timeout");
    let kill_timeout = kill_timeout_value.and_then(seconds);
    checks.push(check(
        "kill_timeout_covers_drain",
        kill_timeout.is_some_and(|t| t >= DRAIN_SECONDS),
        match (kill_timeout_value, kill_timeout) {
            (None, _) => format!(
                "kill_timeout is absent; set it to at least {DRAIN_SECONDS}s, the gateway's drain"
            ),
            (Some(v), None) => format!(
                "kill_timeout = {}, expected a duration such as \"10s\" or \"1m\"",
                escape_controls(&v.to_string())
            ),
            (Some(_), Some(t)) => {
                format!("kill_timeout = {t}s, the gateway drains for up to {DRAIN_SECONDS}s")
            }
        },
    ));

    let directive = |name: &str| {
        let text = dockerfile_text.as_ref()?.as_ref().ok()?;
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(name).map(|rest| rest.trim().to_string()))
    };
    let unreadable = "cannot be checked: no readable Dockerfile (see dockerfile_exists)";
    let stop = directive("STOPSIGNAL ");
    checks.push(check(
        "dockerfile_stopsignal_matches",
        stop.is_some() && stop.as_deref() == kill_signal,
        if matches!(dockerfile_text, Some(Ok(_))) {
            format!(
                "STOPSIGNAL {}, kill_signal {}",
                shown(stop.as_deref()),
                shown(kill_signal)
            )
        } else {
            format!("STOPSIGNAL {unreadable}")
        },
    ));
    let expose = directive("EXPOSE ");
    checks.push(check(
        "dockerfile_exposes_internal_port",
        matches!((&expose, internal_port), (Some(e), Some(p)) if e.split('/').next() == Some(p.to_string().as_str())),
        if matches!(dockerfile_text, Some(Ok(_))) {
            format!(
                "EXPOSE {}, internal_port {}",
                shown(expose.as_deref()),
                shown(internal_port)
            )
        } else {
            format!("EXPOSE {unreadable}")
        },
    ));
    Ok(checks)
}

#[cfg(test)]
#[path = "fly_tests.rs"]
mod tests;
