//! Workload identity federation (`external_account` credentials): a subject token from a file
//! or a URL, exchanged at Google STS (RFC 8693) for a federated token, then, when the config
//! names one, for a service account's token through IAM Credentials `generateAccessToken`.

use serde_json::{json, Value};

use super::gcp::SCOPE;
use super::{fetch, oauth_token, parse_time, post_form, Token};

pub(super) async fn token(
    http: &reqwest::Client,
    creds: &Value,
) -> std::result::Result<Token, String> {
    let field = |k: &str| super::gcp::required(creds, "external_account field", k);
    let subject = subject_token(http, &creds["credential_source"]).await?;
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange".to_string(),
        ),
        ("audience", field("audience")?),
        ("scope", SCOPE.to_string()),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:access_token".to_string(),
        ),
        ("subject_token_type", field("subject_token_type")?),
        ("subject_token", subject),
    ];
    // Workforce pools bill the STS call to the user's project.
    if let Some(project) = creds["workforce_pool_user_project"].as_str() {
        form.push(("options", json!({ "userProject": project }).to_string()));
    }
    let token_url = field("token_url")?;
    let answer = post_form(http, &token_url, &form).await?;
    let federated = oauth_token(&answer, "workload identity federation")?;
    let Some(impersonate) = creds["service_account_impersonation_url"].as_str() else {
        return Ok(federated);
    };
    let lifetime = creds["service_account_impersonation"]["token_lifetime_seconds"]
        .as_u64()
        .unwrap_or(3600);
    let req = http
        .post(impersonate)
        .bearer_auth(federated.secret())
        .header("content-type", "application/json")
        .body(json!({ "scope": [SCOPE], "lifetime": format!("{lifetime}s") }).to_string());
    let (status, text) = fetch(req)
        .await
        .map_err(|e| format!("{impersonate}: {e}"))?;
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        return Err(format!(
            "{impersonate} answered HTTP {status}: {}",
            answer["error"]["message"].as_str().unwrap_or("")
        ));
    }
    let secret = answer["accessToken"]
        .as_str()
        .ok_or_else(|| format!("{impersonate} answered without accessToken"))?;
    Ok(Token::new(
        secret.to_string(),
        "workload identity federation (impersonated)",
        answer["expireTime"].as_str().and_then(parse_time),
    ))
}

/// The subject token from `credential_source`: a `file`, or a `url` (with its `headers`), as
/// plain text or a JSON document's `subject_token_field_name` (`format`).
async fn subject_token(
    http: &reqwest::Client,
    source: &Value,
) -> std::result::Result<String, String> {
    let raw = if let Some(file) = source["file"].as_str() {
        std::fs::read_to_string(file)
            .map_err(|e| format!("credential_source.file {file} cannot be read ({e})"))?
    } else if let Some(url) = source["url"].as_str() {
        let mut req = http.get(url);
        if let Some(headers) = source["headers"].as_object() {
            for (k, v) in headers {
                req = req.header(k, v.as_str().unwrap_or_default());
            }
        }
        match fetch(req)
            .await
            .map_err(|e| format!("credential_source.url {url}: {e}"))?
        {
            (200, text) => text,
            (status, _) => {
                return Err(format!(
                    "credential_source.url {url} answered HTTP {status}"
                ))
            }
        }
    } else if source["executable"].is_object() || source["environment_id"].is_string() {
        return Err("credential_source executable and AWS sources are not supported by tau; use a file- or URL-sourced configuration".into());
    } else {
        return Err("credential_source has neither file nor url".into());
    };
    match source["format"]["type"].as_str() {
        None | Some("text") => Ok(raw.trim().to_string()),
        Some("json") => {
            let name = source["format"]["subject_token_field_name"]
                .as_str()
                .ok_or("credential_source.format.subject_token_field_name is missing")?;
            let doc: Value = serde_json::from_str(&raw)
                .map_err(|_| "the subject token source is not JSON as format.type says")?;
            doc[name]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("the subject token document has no field {name}"))
        }
        Some(other) => Err(format!(
            "credential_source.format.type {other:?} is not text or json"
        )),
    }
}
