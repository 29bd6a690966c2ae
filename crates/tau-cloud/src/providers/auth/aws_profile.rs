//! The shared AWS config and credentials files at the selected profile: `AWS_PROFILE`
//! [default], `[profile NAME]` (or `[default]`) in the config file (`AWS_CONFIG_FILE`,
//! `~/.aws/config`) and `[NAME]` in the credentials file (`AWS_SHARED_CREDENTIALS_FILE`,
//! `~/.aws/credentials`), the credentials file winning on a key both set.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_credential_types::Credentials;

use super::{parse_time, Env, Step};

type Attempt = std::result::Result<Step<Credentials>, String>;

/// How long a `credential_process` may take (it may open a browser for SSO).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(120);

pub(super) async fn from_profile(env: &Env, region: &str) -> Attempt {
    let explicit = env.get("AWS_PROFILE");
    let profile = explicit.clone().unwrap_or_else(|| "default".into());
    let config_path = env
        .get("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".aws/config")));
    let creds_path = env
        .get("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".aws/credentials")));
    let read = |p: &Option<PathBuf>| p.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
    let config_name = if profile == "default" {
        vec!["default".to_string(), "profile default".to_string()]
    } else {
        vec![format!("profile {profile}")]
    };
    let mut keys = read(&config_path)
        .map(|t| ini_section(&t, &config_name))
        .unwrap_or_default();
    let from_creds = read(&creds_path)
        .map(|t| ini_section(&t, std::slice::from_ref(&profile)))
        .unwrap_or_default();
    let found_section = keys.is_some() || from_creds.is_some();
    for (k, v) in from_creds.unwrap_or_default() {
        keys.get_or_insert_with(Vec::new)
            .retain(|(key, _)| *key != k);
        keys.get_or_insert_with(Vec::new).push((k, v));
    }
    let files = format!(
        "{} and {}",
        show(&config_path, "~/.aws/config"),
        show(&creds_path, "~/.aws/credentials")
    );
    if !found_section {
        let why = format!("no profile [{profile}] in {files}");
        // A profile the user named must exist; the default one may be absent.
        return if explicit.is_some() {
            Err(format!("AWS_PROFILE={profile}: {why}"))
        } else {
            Ok(Step::Skipped(why))
        };
    }
    let keys = keys.unwrap_or_default();
    let get = |k: &str| {
        keys.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
        return Ok(Step::Found(Credentials::new(
            id,
            secret,
            get("aws_session_token"),
            None,
            "profile",
        )));
    }
    if let Some(command) = get("credential_process") {
        return credential_process(env, &profile, &command)
            .await
            .map(Step::Found);
    }
    if let (Some(role), Some(file)) = (get("role_arn"), get("web_identity_token_file")) {
        let token = std::fs::read_to_string(&file).map_err(|e| {
            format!("profile [{profile}] web_identity_token_file {file} cannot be read ({e})")
        })?;
        return super::aws::assume_role_with_web_identity(
            env,
            region,
            &role,
            get("role_session_name"),
            token.trim(),
        )
        .await
        .map(Step::Found);
    }
    let unsupported = [
        "source_profile",
        "credential_source",
        "sso_session",
        "sso_start_url",
    ]
    .into_iter()
    .find(|k| get(k).is_some());
    if let Some(key) = unsupported {
        return Err(format!(
            "profile [{profile}] uses {key}, which tau does not resolve itself; add `credential_process = aws configure export-credentials --profile {profile} --format process` to a profile and select it with AWS_PROFILE"
        ));
    }
    Ok(Step::Skipped(format!(
        "profile [{profile}] in {files} has no credentials (aws_access_key_id, credential_process or web_identity_token_file)"
    )))
}

fn show(path: &Option<PathBuf>, default: &str) -> String {
    path.as_ref()
        .map_or_else(|| default.to_string(), |p| p.display().to_string())
}

/// The `key = value` pairs of the first section named one of `names`; `None` when there is no
/// such section. Indented lines (sub-settings such as `s3 =` blocks) and comments are skipped.
pub(super) fn ini_section(text: &str, names: &[String]) -> Option<Vec<(String, String)>> {
    let mut inside = false;
    let mut seen = false;
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            inside = !seen && names.contains(&name);
            seen |= inside;
        } else if inside && !raw.starts_with([' ', '\t']) {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
    }
    seen.then_some(out)
}

/// Runs `credential_process` through the shell and reads the documented JSON it prints
/// (`Version` 1, `AccessKeyId`, `SecretAccessKey`, optional `SessionToken` and `Expiration`).
/// Its output holds secrets, so neither stdout nor stderr is ever quoted in an error.
async fn credential_process(
    env: &Env,
    profile: &str,
    command: &str,
) -> std::result::Result<Credentials, String> {
    let what = format!("profile [{profile}] credential_process");
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .env_clear()
        .envs(env.vars())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let run = tokio::time::timeout(PROCESS_TIMEOUT, cmd.output());
    let out = run
        .await
        .map_err(|_| {
            format!(
                "{what} did not finish within {}s",
                PROCESS_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("{what} cannot be started ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} exited with {}; run it yourself to see why",
            out.status
        ));
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("{what} did not print a JSON document"))?;
    if doc["Version"].as_u64() != Some(1) {
        return Err(format!("{what} printed a document without \"Version\": 1"));
    }
    let s = |k: &str| {
        doc[k]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let expiry = match s("Expiration") {
        Some(text) => Some(
            parse_time(&text)
                .ok_or_else(|| format!("{what}: Expiration is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    match (s("AccessKeyId"), s("SecretAccessKey")) {
        (Some(id), Some(secret)) => Ok(Credentials::new(
            id,
            secret,
            s("SessionToken"),
            expiry,
            "credential-process",
        )),
        _ => Err(format!("{what} printed no AccessKeyId and SecretAccessKey")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_found_by_name_with_comments_and_sub_settings_skipped() {
        let text = "[default]\naws_access_key_id = A\n# c\n[profile ci]\nregion=eu-west-1\ns3 =\n  max_concurrent_requests = 2\nCredential_Process = x y\n[ci]\nk=v\n";
        assert_eq!(
            ini_section(text, &["profile ci".into()]),
            Some(vec![
                ("region".into(), "eu-west-1".into()),
                ("s3".into(), "".into()),
                ("credential_process".into(), "x y".into())
            ])
        );
        assert_eq!(ini_section(text, &["nope".into()]), None);
    }
}
