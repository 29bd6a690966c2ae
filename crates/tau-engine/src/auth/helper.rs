//! Docker's credential-helper protocol: `docker-credential-<name> get` reads the server address
//! on stdin and answers `{"ServerURL", "Username", "Secret"}` on stdout; `Username` `<token>`
//! means `Secret` is an identity token. A helper that knows nothing for the server exits non-zero
//! saying "credentials not found".

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Credentials;
use crate::Error;

/// A helper may ask a keychain or a GPG agent; one that hangs is stopped after this.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `docker-credential-<name> get` for `server`; `Ok(None)` when the helper has nothing.
/// The program is looked for on `search_path` when given (the lookup's own view of `PATH`).
pub(super) fn get(
    name: &str,
    server: &str,
    search_path: Option<&str>,
) -> Result<Option<Credentials>, Error> {
    let program = format!("docker-credential-{name}");
    let fail = |message: String| Error::Credentials {
        origin: format!("credential helper {program}"),
        message,
    };
    let mut command = Command::new(&program);
    if let Some(search_path) = search_path {
        command.env("PATH", search_path);
    }
    let mut child = command
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(format!(
                "cannot run it ({e}); install it or remove it from the Docker config"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > HELPER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "gave no answer within {}s",
                    HELPER_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(fail(format!("cannot wait for it: {e}"))),
        }
    }
    let output = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot read its answer: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        if stdout
            .to_ascii_lowercase()
            .contains("credentials not found")
        {
            return Ok(None);
        }
        // The protocol puts the helper's error on stdout; it describes a failure, not a secret.
        let said = [
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim(),
        ]
        .into_iter()
        .find(|s| !s.is_empty())
        .map(|s| s.lines().next().unwrap_or("").chars().take(200).collect())
        .unwrap_or_else(|| "nothing".to_owned());
        return Err(fail(format!("`get` failed ({}): {said}", output.status)));
    }
    let Some((user, secret)) = parse_answer(&stdout).map_err(|field| {
        fail(format!(
            "`get` answered without {field}: expected JSON with Username and Secret strings"
        ))
    })?
    else {
        return Ok(None);
    };
    let origin = format!("credential helper {program}");
    Ok(Some(if user == "<token>" {
        Credentials::identity_token(None, &secret, origin)
    } else {
        Credentials::password(&user, &secret, origin)
    }))
}

/// `(Username, Secret)` from a helper's answer, `None` when both are empty; `Err(field)` names
/// the field that is missing or not a string (never a value).
pub(super) fn parse_answer(stdout: &str) -> Result<Option<(String, String)>, &'static str> {
    let answer: Value = serde_json::from_str(stdout).map_err(|_| "a JSON object")?;
    let field = |key: &'static str| match answer.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(key),
    };
    let (user, secret) = (field("Username")?, field("Secret")?);
    if user.is_empty() && secret.is_empty() {
        return Ok(None);
    }
    Ok(Some((user, secret)))
}
