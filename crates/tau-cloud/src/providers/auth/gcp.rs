//! The Google credential chain: `GOOGLE_OAUTH_ACCESS_TOKEN` (gcloud's and Terraform's
//! convention); Application Default Credentials from `GOOGLE_APPLICATION_CREDENTIALS` or the
//! well-known gcloud file, of type `service_account` (RS256 JWT bearer grant),
//! `authorized_user` (refresh token) or `external_account` (workload identity federation); the
//! GCE / Cloud Run metadata server.

use std::path::PathBuf;

use serde_json::Value;

use super::{fetch, metadata_client, oauth_token, post_form, Env, Step, Token, Tried};
use crate::Result;

const HINT: &str = "run `gcloud auth application-default login`, export GOOGLE_APPLICATION_CREDENTIALS=path/to/credentials.json (service account key or workload identity federation config), or run on GCE / Cloud Run with a service account attached";

pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// An access token for the Cloud Run and Secret Manager APIs.
pub async fn token(env: &Env, http: &reqwest::Client) -> Result<Token> {
    let mut tried = Tried::new("gcp");
    chain_step!(tried, HINT, "GOOGLE_OAUTH_ACCESS_TOKEN", from_env(env));
    chain_step!(
        tried,
        HINT,
        "application default credentials",
        adc(env, http).await
    );
    chain_step!(tried, HINT, "metadata server", metadata(env).await);
    Err(tried.none_found(HINT))
}

type Attempt = std::result::Result<Step<Token>, String>;

fn from_env(env: &Env) -> Attempt {
    Ok(match env.get("GOOGLE_OAUTH_ACCESS_TOKEN") {
        Some(t) => Step::Found(Token::new(t, "GOOGLE_OAUTH_ACCESS_TOKEN", None)),
        None => Step::Skipped("not set".into()),
    })
}

/// `GOOGLE_APPLICATION_CREDENTIALS` (must be readable when set), else
/// `$CLOUDSDK_CONFIG/application_default_credentials.json` or
/// `~/.config/gcloud/application_default_credentials.json` (skipped when absent).
async fn adc(env: &Env, http: &reqwest::Client) -> Attempt {
    let (path, explicit) = match env.get("GOOGLE_APPLICATION_CREDENTIALS") {
        Some(p) => (PathBuf::from(p), true),
        None => {
            let dir = env
                .get("CLOUDSDK_CONFIG")
                .map(PathBuf::from)
                .or_else(|| env.home().map(|h| h.join(".config/gcloud")));
            match dir {
                Some(d) => (d.join("application_default_credentials.json"), false),
                None => {
                    return Ok(Step::Skipped(
                        "GOOGLE_APPLICATION_CREDENTIALS is not set and HOME is unknown".into(),
                    ))
                }
            }
        }
    };
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if explicit => {
            return Err(format!(
                "GOOGLE_APPLICATION_CREDENTIALS={shown} cannot be read ({e})"
            ))
        }
        Err(_) => {
            return Ok(Step::Skipped(format!(
                "GOOGLE_APPLICATION_CREDENTIALS is not set and {shown} does not exist"
            )))
        }
    };
    // A parse error's message may quote the file, which holds a key: keep only its position.
    let creds: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{shown} is not a JSON credentials file (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    from_file(env, http, &creds)
        .await
        .map(Step::Found)
        .map_err(|why| format!("{shown}: {why}"))
}

async fn from_file(
    env: &Env,
    http: &reqwest::Client,
    creds: &Value,
) -> std::result::Result<Token, String> {
    let field = |k: &str| required(creds, "field", k);
    let token_uri = creds["token_uri"].as_str().map_or_else(
        || {
            env.get("TAU_CLOUD_GCP_TOKEN_ENDPOINT")
                .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into())
        },
        str::to_string,
    );
    match creds["type"].as_str() {
        Some("authorized_user") => {
            let form = [
                ("grant_type", "refresh_token".to_string()),
                ("client_id", field("client_id")?),
                ("client_secret", field("client_secret")?),
                ("refresh_token", field("refresh_token")?),
            ];
            let answer = post_form(http, &token_uri, &form).await?;
            oauth_token(&answer, "authorized_user")
        }
        Some("service_account") => {
            let assertion = service_account_assertion(creds, &token_uri, super::now_secs())?;
            let form = [
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer".to_string(),
                ),
                ("assertion", assertion),
            ];
            let answer = post_form(http, &token_uri, &form).await?;
            oauth_token(&answer, "service_account")
        }
        Some("external_account") => super::gcp_external::token(http, creds).await,
        other => Err(format!(
            "credential type {other:?} is not service_account, authorized_user or external_account"
        )),
    }
}

/// The string `key` of a credentials file, or an error naming it as `{what} {key}`.
pub(super) fn required(
    creds: &Value,
    what: &str,
    key: &str,
) -> std::result::Result<String, String> {
    creds[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{what} {key} is missing"))
}

/// The signed JWT a service account trades for an access token (RFC 7523, RS256, one hour).
pub(crate) fn service_account_assertion(
    creds: &Value,
    token_uri: &str,
    now: u64,
) -> std::result::Result<String, String> {
    let field = |k: &str| required(creds, "field", k);
    let claims = serde_json::json!({
        "iss": field("client_email")?,
        "scope": SCOPE,
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

/// The metadata server's base URL (`GCE_METADATA_HOST`, else 169.254.169.254, as the Go client
/// does to avoid a DNS lookup), or why it is not asked (`NO_GCE_CHECK`).
pub fn metadata_base(env: &Env) -> std::result::Result<String, String> {
    if env.is_true("NO_GCE_CHECK") {
        return Err("disabled by NO_GCE_CHECK".into());
    }
    let host = env
        .get("GCE_METADATA_HOST")
        .unwrap_or_else(|| "169.254.169.254".into());
    Ok(format!("http://{}", host.trim_end_matches('/')))
}

async fn metadata(env: &Env) -> Attempt {
    let base = match metadata_base(env) {
        Ok(b) => b,
        Err(why) => return Ok(Step::Skipped(why)),
    };
    let uri = format!("{base}/computeMetadata/v1/instance/service-accounts/default/token");
    let http = metadata_client()?;
    let req = http.get(&uri).header("Metadata-Flavor", "Google");
    match fetch(req).await {
        Err(why) => Ok(Step::Skipped(format!(
            "no metadata server at {base} ({why})"
        ))),
        Ok((404, _)) => Ok(Step::Skipped(format!(
            "{base} has no default service account"
        ))),
        Ok((200, text)) => {
            let answer: Value = serde_json::from_str(&text)
                .map_err(|_| format!("{uri} answered something other than a token document"))?;
            oauth_token(&answer, "metadata server").map(Step::Found)
        }
        Ok((status, _)) => Err(format!("{uri} answered HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

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
        assert_eq!(data.claims["scope"], SCOPE);
        assert_eq!(data.claims["exp"].as_u64(), Some(now + 3600));
        let broken = serde_json::json!({"client_email": "x", "private_key": "not a key"});
        assert!(service_account_assertion(&broken, "u", now)
            .unwrap_err()
            .contains("private_key"));
    }

    #[test]
    fn the_metadata_server_can_be_disabled_or_moved() {
        assert!(metadata_base(&Env::from_pairs([("NO_GCE_CHECK", "True")])).is_err());
        assert_eq!(
            metadata_base(&Env::from_pairs([("GCE_METADATA_HOST", "127.0.0.1:5")])).unwrap(),
            "http://127.0.0.1:5"
        );
    }
}
