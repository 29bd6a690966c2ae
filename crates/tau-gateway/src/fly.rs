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
    #[error("{} is not valid TOML: {message}", path.display())]
    Toml { path: PathBuf, message: String },
}

fn check(name: &'static str, pass: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        pass,
        detail: detail.into(),
    }
}

/// A value for a detail line: the value, or `missing`.
fn shown(v: Option<impl std::fmt::Display>) -> String {
    v.map_or_else(|| "missing".to_string(), |v| v.to_string())
}

fn str_at<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = doc;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str()
}

/// Fly durations: `"10s"`, `"1m"`, or a bare number of seconds.
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
        "m" => Some(n * 60),
        "ms" => Some(n / 1000),
        _ => None,
    }
}

/// Checks the fly.toml at `path` (and the Dockerfile it names).
pub fn check_manifest(path: &Path) -> Result<Vec<Check>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let doc: Value = toml::from_str(&text).map_err(|e| Error::Toml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut checks = Vec::new();

    let app = str_at(&doc, &["app"]).unwrap_or("");
    checks.push(check(
        "app_name",
        !app.trim().is_empty(),
        format!("app = {app:?}"),
    ));

    let mode = str_at(&doc, &["env", "TAU_TRANSPORT_MODE"]);
    checks.push(check(
        "env_transport_mode",
        mode == Some("gateway"),
        format!("TAU_TRANSPORT_MODE = {}, expected gateway", shown(mode)),
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

    let dockerfile = str_at(&doc, &["build", "dockerfile"]).unwrap_or("Dockerfile");
    let dockerfile_path = dir.join(dockerfile);
    let dockerfile_text = std::fs::read_to_string(&dockerfile_path).ok();
    checks.push(check(
        "dockerfile_exists",
        dockerfile_text.is_some(),
        format!("[build] dockerfile = {dockerfile:?}"),
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
            "TAU_DEPLOYMENT_STATE_DIR = {state_dir:?}, [mounts] destination = {destinations:?}"
        ),
    ));

    let kill_signal = str_at(&doc, &["kill_signal"]).unwrap_or("SIGINT");
    checks.push(check(
        "kill_signal_handled",
        matches!(kill_signal, "SIGINT" | "SIGTERM"),
        format!("kill_signal = {kill_signal:?}; the gateway drains on SIGINT and SIGTERM"),
    ));
    let kill_timeout = doc.get("kill_timeout").and_then(seconds).unwrap_or(5);
    checks.push(check(
        "kill_timeout_covers_drain",
        kill_timeout >= DRAIN_SECONDS,
        format!("kill_timeout = {kill_timeout}s, the gateway drains for up to {DRAIN_SECONDS}s"),
    ));

    if let Some(text) = &dockerfile_text {
        let directive = |name: &str| {
            text.lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix(name).map(|rest| rest.trim().to_string()))
        };
        let stop = directive("STOPSIGNAL ");
        checks.push(check(
            "dockerfile_stopsignal_matches",
            stop.as_deref() == Some(kill_signal),
            format!(
                "STOPSIGNAL {}, kill_signal {kill_signal}",
                shown(stop.as_deref())
            ),
        ));
        let expose = directive("EXPOSE ");
        checks.push(check(
            "dockerfile_exposes_internal_port",
            matches!((&expose, internal_port), (Some(e), Some(p)) if e.split('/').next() == Some(p.to_string().as_str())),
            format!("EXPOSE {}, internal_port {}", shown(expose.as_deref()), shown(internal_port)),
        ));
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_manifest() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fly.toml")
    }

    #[test]
    fn the_repository_manifest_passes_every_check() {
        let checks = check_manifest(&repo_manifest()).unwrap();
        let failed: Vec<_> = checks.iter().filter(|c| !c.pass).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        assert!(checks.len() >= 11);
    }

    #[test]
    fn a_broken_manifest_fails_the_rules_it_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(repo_manifest())
            .unwrap()
            .replace("internal_port = 8080", "internal_port = 3000")
            .replace("path = \"/gateway/status\"", "path = \"/healthz\"")
            .replace("kill_timeout = \"10s\"", "kill_timeout = \"2s\"");
        let path = dir.path().join("fly.toml");
        std::fs::write(&path, text).unwrap();
        let failed: Vec<&str> = check_manifest(&path)
            .unwrap()
            .into_iter()
            .filter(|c| !c.pass)
            .map(|c| c.name)
            .collect();
        // The copy has no Dockerfile beside it, so that check fails too.
        for name in [
            "internal_port_matches_bind",
            "http_check_gateway_status",
            "kill_timeout_covers_drain",
            "dockerfile_exists",
        ] {
            assert!(failed.contains(&name), "{name} not failed: {failed:?}");
        }
    }

    #[test]
    fn durations_follow_fly_syntax() {
        assert_eq!(seconds(&Value::String("10s".into())), Some(10));
        assert_eq!(seconds(&Value::String("1m".into())), Some(60));
        assert_eq!(seconds(&Value::Integer(7)), Some(7));
        assert_eq!(seconds(&Value::String("soon".into())), None);
    }

    #[test]
    fn unparsable_toml_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fly.toml");
        std::fs::write(&path, "app = ").unwrap();
        assert!(matches!(check_manifest(&path), Err(Error::Toml { .. })));
    }
}
