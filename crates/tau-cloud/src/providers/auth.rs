//! Credentials from each provider's standard chain. A missing credential is an error that names
//! what was looked for and how to provide it; a credential's value is never part of a message.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::{Error, Result};

/// AWS: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`), else the shared
/// credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`) at profile
/// `AWS_PROFILE` (default `default`).
pub fn aws_credentials() -> Result<aws_credential_types::Credentials> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(aws_credential_types::Credentials::new(
            id,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        ));
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".aws/credentials")));
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    if let Some(text) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
        let section = ini_section(&text, &profile);
        let get = |k: &str| {
            section
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            return Ok(aws_credential_types::Credentials::new(
                id,
                secret,
                get("aws_session_token"),
                None,
                "shared-credentials-file",
            ));
        }
    }
    Err(Error::Credentials {
        provider: "aws",
        message: format!(
            "neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY nor profile [{profile}] in {} were found",
            file.map_or_else(|| "~/.aws/credentials".into(), |f| f.display().to_string())
        ),
        hint: "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), or run `aws configure`".into(),
    })
}

fn ini_section(text: &str, profile: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == profile;
        } else if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
    }
    out
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Google: `GOOGLE_OAUTH_ACCESS_TOKEN`, else Application Default Credentials
/// (`GOOGLE_APPLICATION_CREDENTIALS`, default `~/.config/gcloud/application_default_credentials.json`)
/// of type `authorized_user` or `service_account`, exchanged for an access token.
pub async fn gcp_token(http: &reqwest::Client) -> Result<String> {
    if let Some(token) = std::env::var("GOOGLE_OAUTH_ACCESS_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return Ok(token);
    }
    let missing = |message: String| {
        Error::Credentials {
        provider: "gcp",
        message,
        hint: "run `gcloud auth application-default login`, or export GOOGLE_APPLICATION_CREDENTIALS=path/to/service-account.json".into(),
    }
    };
    let path = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".config/gcloud/application_default_credentials.json")))
        .ok_or_else(|| {
            missing("GOOGLE_APPLICATION_CREDENTIALS is not set and HOME is unknown".into())
        })?;
    let text = std::fs::read_to_string(&path).map_err(|e| {
        missing(format!(
            "GOOGLE_OAUTH_ACCESS_TOKEN is not set and {} cannot be read ({e})",
            path.display()
        ))
    })?;
    let creds: Value = serde_json::from_str(&text).map_err(|e| {
        missing(format!(
            "{} is not a credentials JSON file ({e})",
            path.display()
        ))
    })?;
    let field = |k: &str| {
        creds[k]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| missing(format!("{}: field {k} is missing", path.display())))
    };
    let default_uri = std::env::var("TAU_CLOUD_GCP_TOKEN_ENDPOINT")
        .unwrap_or_else(|_| "https://oauth2.googleapis.com/token".into());
    let form = match creds["type"].as_str() {
        Some("authorized_user") => {
            let uri = creds["token_uri"]
                .as_str()
                .map_or(default_uri, str::to_string);
            let form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("client_id", field("client_id")?),
                ("client_secret", field("client_secret")?),
                ("refresh_token", field("refresh_token")?),
            ];
            (uri, form)
        }
        Some("service_account") => {
            let uri = creds["token_uri"]
                .as_str()
                .map_or(default_uri, str::to_string);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let assertion = service_account_assertion(&creds, &uri, now)
                .map_err(|why| missing(format!("{}: {why}", path.display())))?;
            (
                uri,
                vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".to_string(),
                    ),
                    ("assertion", assertion),
                ],
            )
        }
        other => {
            return Err(missing(format!(
                "{}: credential type {other:?} is not authorized_user or service_account",
                path.display()
            )))
        }
    };
    exchange(http, "gcp", &form.0, &form.1).await
}

/// The signed JWT a service account trades for an access token (RFC 7523, RS256, one hour).
pub(crate) fn service_account_assertion(
    creds: &Value,
    token_uri: &str,
    now: u64,
) -> std::result::Result<String, String> {
    let field = |k: &str| {
        creds[k]
            .as_str()
            .ok_or_else(|| format!("field {k} is missing"))
    };
    let claims = serde_json::json!({
        "iss": field("client_email")?,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        "aud": token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(field("private_key")?.as_bytes())
        .map_err(|e| format!("private_key is not an RSA PEM key ({e})"))?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = creds["private_key_id"].as_str().map(str::to_string);
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| format!("cannot sign the token request ({e})"))
}

/// Azure: the environment credential (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
/// `AZURE_CLIENT_SECRET`, authority `AZURE_AUTHORITY_HOST`), client-credentials grant for ARM.
pub async fn azure_token(http: &reqwest::Client) -> Result<String> {
    let vars = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"];
    let values: Vec<Option<String>> = vars
        .iter()
        .map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .collect();
    let missing: Vec<&str> = vars
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Credentials {
            provider: "azure",
            message: format!("{} not set", missing.join(", ")),
            hint: "create a service principal (`az ad sp create-for-rbac`) and export AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET".into(),
        });
    }
    let [tenant, client, secret] = [0, 1, 2].map(|i| values[i].clone().unwrap_or_default());
    let authority = std::env::var("AZURE_AUTHORITY_HOST")
        .unwrap_or_else(|_| "https://login.microsoftonline.com".into());
    let uri = format!(
        "{}/{tenant}/oauth2/v2.0/token",
        authority.trim_end_matches('/')
    );
    let form = vec![
        ("grant_type", "client_credentials".to_string()),
        ("client_id", client),
        ("client_secret", secret),
        ("scope", "https://management.azure.com/.default".to_string()),
    ];
    exchange(http, "azure", &uri, &form).await
}

async fn exchange(
    http: &reqwest::Client,
    provider: &'static str,
    uri: &str,
    form: &[(&str, String)],
) -> Result<String> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let fail = |message: String| Error::Credentials {
        provider,
        message: format!("the token endpoint {uri} refused: {message}"),
        hint: "check that the credentials are current and allowed to manage the service".into(),
    };
    let answer = http
        .post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = answer.status();
    let json: Value = answer
        .json()
        .await
        .map_err(|e| fail(format!("HTTP {status}, unreadable answer ({e})")))?;
    match json["access_token"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_string()),
        // The error fields of OAuth answers describe the failure, never echo the secret.
        _ => Err(fail(format!(
            "HTTP {status}: {} {}",
            json["error"].as_str().unwrap_or(""),
            json["error_description"].as_str().unwrap_or("")
        ))),
    }
}

/// `application/x-www-form-urlencoded` value encoding.
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_credentials_file_is_read_by_profile() {
        let text = "[default]\naws_access_key_id = A\naws_secret_access_key = B\n[ci]\naws_access_key_id=C\naws_secret_access_key=D\n";
        assert_eq!(
            ini_section(text, "ci"),
            [
                ("aws_access_key_id".into(), "C".into()),
                ("aws_secret_access_key".into(), "D".into())
            ]
        );
    }

    #[test]
    fn a_service_account_assertion_is_an_rs256_jwt_for_the_token_uri() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
        let private =
            std::fs::read_to_string(format!("{dir}/test-service-account.key.pem")).unwrap();
        let public = std::fs::read(format!("{dir}/test-service-account.pub.pem")).unwrap();
        let creds = serde_json::json!({"type": "service_account", "client_email": "deployer@acme-prod.iam.gserviceaccount.com",
            "private_key": private, "private_key_id": "k1"});
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let jwt = service_account_assertion(&creds, "http://127.0.0.1:9/token", now).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&["http://127.0.0.1:9/token"]);
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
        let data = jsonwebtoken::decode::<Value>(&jwt, &key, &validation).unwrap();
        assert_eq!(data.header.kid.as_deref(), Some("k1"));
        assert_eq!(
            data.claims["iss"],
            "deployer@acme-prod.iam.gserviceaccount.com"
        );
        assert_eq!(
            data.claims["scope"],
            "https://www.googleapis.com/auth/cloud-platform"
        );
        assert_eq!(data.claims["exp"].as_u64(), Some(now + 3600));
        let broken = serde_json::json!({"client_email": "x", "private_key": "not a key"});
        assert!(service_account_assertion(&broken, "u", now)
            .unwrap_err()
            .contains("private_key"));
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(form_encode("a b/c+d=e&"), "a%20b%2Fc%2Bd%3De%26");
    }
}
