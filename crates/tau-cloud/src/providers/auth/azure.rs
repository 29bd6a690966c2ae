//! The Azure credential chain, in `DefaultAzureCredential`'s documented order (without the
//! interactive and IDE sources): the environment credential (client secret, else client
//! certificate), workload identity
//! (`AZURE_FEDERATED_TOKEN_FILE`), managed identity (App Service / Container Apps
//! `IDENTITY_ENDPOINT`, else the instance metadata service), then the Azure CLI's
//! `az account get-access-token`.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::{
    epoch_seconds, fetch, metadata_client, oauth_token, post_form, Env, Step, Token, Tried,
};
use crate::Result;

const HINT: &str = "export AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal (`az ad sp create-for-rbac`), run `az login`, or run where a managed identity or workload identity is assigned";

/// The Azure Resource Manager audience.
pub const RESOURCE: &str = "https://management.azure.com";

/// An access token for Azure Resource Manager.
pub async fn token(env: &Env, http: &reqwest::Client) -> Result<Token> {
    let mut tried = Tried::new("azure");
    chain_step!(
        tried,
        HINT,
        "environment (client secret)",
        client_secret(env, http).await
    );
    chain_step!(
        tried,
        HINT,
        "environment (client certificate)",
        client_certificate(env, http).await
    );
    chain_step!(
        tried,
        HINT,
        "workload identity",
        workload_identity(env, http).await
    );
    chain_step!(tried, HINT, "managed identity", managed_identity(env).await);
    chain_step!(tried, HINT, "Azure CLI", azure_cli(env).await);
    Err(tried.none_found(HINT))
}

type Attempt = std::result::Result<Step<Token>, String>;

fn token_uri(env: &Env, tenant: &str) -> String {
    let authority = env
        .get("AZURE_AUTHORITY_HOST")
        .unwrap_or_else(|| "https://login.microsoftonline.com".into());
    format!(
        "{}/{tenant}/oauth2/v2.0/token",
        authority.trim_end_matches('/')
    )
}

fn missing(env: &Env, vars: &[&str]) -> Vec<String> {
    vars.iter()
        .filter(|v| env.get(v).is_none())
        .map(|v| v.to_string())
        .collect()
}

async fn client_secret(env: &Env, http: &reqwest::Client) -> Attempt {
    let vars = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"];
    let unset = missing(env, &vars);
    if !unset.is_empty() {
        return Ok(Step::Skipped(format!("{} not set", unset.join(", "))));
    }
    let [tenant, client, secret] = vars.map(|v| env.get(v).unwrap_or_default());
    let form = [
        ("grant_type", "client_credentials".to_string()),
        ("client_id", client),
        ("client_secret", secret),
        ("scope", format!("{RESOURCE}/.default")),
    ];
    let answer = post_form(http, &token_uri(env, &tenant), &form).await?;
    oauth_token(&answer, "environment").map(Step::Found)
}

async fn client_certificate(env: &Env, http: &reqwest::Client) -> Attempt {
    let vars = [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_CERTIFICATE_PATH",
    ];
    let unset = missing(env, &vars);
    if !unset.is_empty() {
        return Ok(Step::Skipped(format!("{} not set", unset.join(", "))));
    }
    let [tenant, client, path] = vars.map(|v| env.get(v).unwrap_or_default());
    let pem = super::read_named_file("AZURE_CLIENT_CERTIFICATE_PATH", &path)?;
    let uri = token_uri(env, &tenant);
    let assertion = super::azure_cert::client_assertion(&pem, &client, &uri, super::now_secs())
        .map_err(|why| format!("AZURE_CLIENT_CERTIFICATE_PATH={path}: {why}"))?;
    let form = [
        ("grant_type", "client_credentials".to_string()),
        ("client_id", client),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
        ),
        ("client_assertion", assertion),
        ("scope", format!("{RESOURCE}/.default")),
    ];
    let answer = post_form(http, &uri, &form).await?;
    oauth_token(&answer, "environment (client certificate)").map(Step::Found)
}

async fn workload_identity(env: &Env, http: &reqwest::Client) -> Attempt {
    let Some(file) = env.get("AZURE_FEDERATED_TOKEN_FILE") else {
        return Ok(Step::Skipped(
            "AZURE_FEDERATED_TOKEN_FILE is not set".into(),
        ));
    };
    let unset = missing(env, &["AZURE_TENANT_ID", "AZURE_CLIENT_ID"]);
    if !unset.is_empty() {
        return Err(format!(
            "AZURE_FEDERATED_TOKEN_FILE is set but {} not",
            unset.join(", ")
        ));
    }
    let assertion = super::read_named_file("AZURE_FEDERATED_TOKEN_FILE", &file)?;
    let tenant = env.get("AZURE_TENANT_ID").unwrap_or_default();
    let form = [
        ("grant_type", "client_credentials".to_string()),
        ("client_id", env.get("AZURE_CLIENT_ID").unwrap_or_default()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
        ),
        ("client_assertion", assertion),
        ("scope", format!("{RESOURCE}/.default")),
    ];
    let answer = post_form(http, &token_uri(env, &tenant), &form).await?;
    oauth_token(&answer, "workload identity").map(Step::Found)
}

/// The managed-identity request: App Service / Container Apps when `IDENTITY_ENDPOINT` and
/// `IDENTITY_HEADER` are set, else IMDS at `AZURE_POD_IDENTITY_AUTHORITY_HOST` (the Azure SDKs'
/// override) or 169.254.169.254. `AZURE_CLIENT_ID` selects a user-assigned identity.
pub fn managed_identity_request(env: &Env) -> (String, (&'static str, String), bool) {
    let client = env
        .get("AZURE_CLIENT_ID")
        .map(|c| format!("&client_id={}", super::form_encode(&c)))
        .unwrap_or_default();
    let resource = super::form_encode(RESOURCE);
    if let (Some(endpoint), Some(header)) =
        (env.get("IDENTITY_ENDPOINT"), env.get("IDENTITY_HEADER"))
    {
        let uri = format!("{endpoint}?api-version=2019-08-01&resource={resource}{client}");
        return (uri, ("X-IDENTITY-HEADER", header), true);
    }
    let host = env
        .get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
        .unwrap_or_else(|| "http://169.254.169.254".into());
    let uri = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}{client}",
        host.trim_end_matches('/')
    );
    (uri, ("Metadata", "true".into()), false)
}

async fn managed_identity(env: &Env) -> Attempt {
    let (uri, (name, value), configured) = managed_identity_request(env);
    // The query holds no secret; the header may, so only the URI is ever shown.
    let shown = uri.split('?').next().unwrap_or(&uri).to_string();
    let http = metadata_client()?;
    let answer = match fetch(http.get(&uri).header(name, value)).await {
        Ok(a) => a,
        Err(why) if !configured => {
            return Ok(Step::Skipped(format!(
                "no instance metadata service at {shown} ({why})"
            )))
        }
        Err(why) => return Err(format!("IDENTITY_ENDPOINT {shown}: {why}")),
    };
    match answer {
        (200, text) => {
            let doc: Value = serde_json::from_str(&text)
                .map_err(|_| format!("{shown} answered something other than a token document"))?;
            let mut token = oauth_token(&doc, "managed identity")?;
            if let Some(secs) = doc["expires_on"].as_str().and_then(|s| s.parse().ok()) {
                token.expires_at = Some(epoch_seconds(secs));
            }
            Ok(Step::Found(token))
        }
        // IMDS answers 400 when the machine has no identity assigned.
        (400 | 404, _) if !configured => Ok(Step::Skipped(format!(
            "{shown} has no managed identity for this machine"
        ))),
        (status, _) => Err(format!("{shown} answered HTTP {status}")),
    }
}

/// `az account get-access-token --resource https://management.azure.com --output json`
/// (with `--tenant` when `AZURE_TENANT_ID` is set), when `az` is on `PATH`.
async fn azure_cli(env: &Env) -> Attempt {
    let Some(az) = env.which("az") else {
        return Ok(Step::Skipped("az is not on PATH".into()));
    };
    let mut cmd = tokio::process::Command::new(az);
    cmd.args([
        "account",
        "get-access-token",
        "--output",
        "json",
        "--resource",
        RESOURCE,
    ]);
    if let Some(tenant) = env.get("AZURE_TENANT_ID") {
        cmd.args(["--tenant", &tenant]);
    }
    cmd.env_clear()
        .envs(env.vars())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let out = match tokio::time::timeout(Duration::from_secs(30), cmd.output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Ok(Step::Skipped(format!("az cannot be started ({e})"))),
        Err(_) => return Ok(Step::Skipped("az did not answer within 30s".into())),
    };
    if !out.status.success() {
        return Ok(Step::Skipped(format!(
            "`az account get-access-token` exited with {} (not logged in? run `az login`)",
            out.status
        )));
    }
    let doc: Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| "`az account get-access-token` did not print JSON".to_string())?;
    let secret = doc["accessToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or("`az account get-access-token` printed no accessToken")?;
    let expires = doc["expires_on"].as_u64().map(epoch_seconds);
    Ok(Step::Found(Token::new(
        secret.to_string(),
        "Azure CLI",
        expires,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_identity_uses_the_app_service_endpoint_when_set_else_imds() {
        let env = Env::from_pairs([
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41/msi/token"),
            ("IDENTITY_HEADER", "h"),
            ("AZURE_CLIENT_ID", "c-1"),
        ]);
        let (uri, header, configured) = managed_identity_request(&env);
        assert_eq!(uri, "http://127.0.0.1:41/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com&client_id=c-1");
        assert_eq!(
            (header, configured),
            (("X-IDENTITY-HEADER", "h".into()), true)
        );
        let (uri, header, configured) = managed_identity_request(&Env::default());
        assert_eq!(uri, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com");
        assert_eq!((header, configured), (("Metadata", "true".into()), false));
    }
}
