//! AWS credentials from link-local endpoints: the ECS/EKS container credentials endpoint and the
//! EC2 instance metadata service (IMDSv2).

use aws_credential_types::Credentials;

use super::{fetch, metadata_client, parse_time, Env, Step};

type Attempt = std::result::Result<Step<Credentials>, String>;

/// The JSON document container and instance endpoints answer with.
pub(super) fn from_json_document(
    text: &str,
    provider_name: &'static str,
) -> std::result::Result<Credentials, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|_| "the answer is not a credentials JSON document")?;
    let s = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    match (s("AccessKeyId"), s("SecretAccessKey")) {
        (Some(id), Some(secret)) => Ok(Credentials::new(
            id,
            secret,
            s("Token").or_else(|| s("SessionToken")),
            s("Expiration").as_deref().and_then(parse_time),
            provider_name,
        )),
        _ => Err("the answer has no AccessKeyId and SecretAccessKey".into()),
    }
}

/// The ECS/EKS container endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (under
/// http://169.254.170.2) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the authorization token from
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
pub fn container_uri(env: &Env) -> Option<std::result::Result<String, String>> {
    if let Some(relative) = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        return Some(Ok(format!("http://169.254.170.2{relative}")));
    }
    let full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")?;
    Some(check_full_uri(&full).map(|()| full))
}

/// The SDKs accept a full URI only over HTTPS or to a loopback or ECS/EKS agent address, so a
/// stray variable cannot send the authorization token anywhere else.
fn check_full_uri(uri: &str) -> std::result::Result<(), String> {
    let url = reqwest::Url::parse(uri)
        .map_err(|e| format!("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL ({e})"))?;
    let host = url.host_str().unwrap_or("");
    let allowed_host = host == "localhost"
        || match host.trim_start_matches('[').trim_end_matches(']').parse() {
            Ok(std::net::IpAddr::V4(ip)) => {
                ip.is_loopback() || [[169, 254, 170, 2], [169, 254, 170, 23]].contains(&ip.octets())
            }
            Ok(std::net::IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.segments() == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23]
            }
            Err(_) => false,
        };
    match url.scheme() {
        "https" => Ok(()),
        "http" if allowed_host => Ok(()),
        _ => Err(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI {uri} must be https, or http to a loopback or the ECS/EKS agent address"
        )),
    }
}

pub(super) async fn container(env: &Env) -> Attempt {
    let Some(uri) = container_uri(env) else {
        return Ok(Step::Skipped(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set"
                .into(),
        ));
    };
    let uri = uri?;
    let token = match env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(path) => Some(super::read_named_file(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            &path,
        )?),
        None => env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
    };
    let http = metadata_client()?;
    let mut req = http.get(&uri);
    if let Some(token) = token {
        req = req.header("authorization", token);
    }
    let (status, text) = fetch(req).await.map_err(|e| format!("{uri}: {e}"))?;
    if status != 200 {
        return Err(format!("{uri} answered HTTP {status}"));
    }
    from_json_document(&text, "container").map(Step::Found)
}

/// The instance metadata base URL, or why it is not used.
pub fn imds_endpoint(env: &Env) -> std::result::Result<String, String> {
    if env.is_true("AWS_EC2_METADATA_DISABLED") {
        return Err("disabled by AWS_EC2_METADATA_DISABLED".into());
    }
    Ok(env
        .get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or_else(|| "http://169.254.169.254".into())
        .trim_end_matches('/')
        .to_string())
}

/// IMDSv2: a session token (PUT), the role name, then the role's credentials.
pub(super) async fn imds(env: &Env) -> Attempt {
    let base = match imds_endpoint(env) {
        Ok(base) => base,
        Err(why) => return Ok(Step::Skipped(why)),
    };
    let http = metadata_client()?;
    let token_req = http
        .put(format!("{base}/latest/api/token"))
        .header("x-aws-ec2-metadata-token-ttl-seconds", "21600");
    let token = match fetch(token_req).await {
        Ok((200, token)) => token,
        Ok((status, _)) => {
            return Ok(Step::Skipped(format!(
                "{base} answered HTTP {status} to the IMDSv2 token request"
            )))
        }
        Err(why) => {
            return Ok(Step::Skipped(format!(
                "no metadata service at {base} ({why})"
            )))
        }
    };
    let roles_uri = format!("{base}/latest/meta-data/iam/security-credentials/");
    let get = |uri: String| {
        http.get(uri)
            .header("x-aws-ec2-metadata-token", token.trim())
    };
    let role = match fetch(get(roles_uri.clone()))
        .await
        .map_err(|e| format!("{roles_uri}: {e}"))?
    {
        (200, body) => body.lines().next().unwrap_or("").trim().to_string(),
        (404, _) => {
            return Ok(Step::Skipped(
                "the instance has no IAM role attached".into(),
            ))
        }
        (status, _) => return Err(format!("{roles_uri} answered HTTP {status}")),
    };
    if role.is_empty() {
        return Ok(Step::Skipped(
            "the instance has no IAM role attached".into(),
        ));
    }
    let creds_uri = format!("{roles_uri}{role}");
    let (status, text) = fetch(get(creds_uri.clone()))
        .await
        .map_err(|e| format!("{creds_uri}: {e}"))?;
    if status != 200 {
        return Err(format!("{creds_uri} answered HTTP {status}"));
    }
    let code = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["Code"].as_str().map(str::to_string));
    if code.as_deref().is_some_and(|c| c != "Success") {
        return Err(format!(
            "{creds_uri} answered Code {}",
            code.unwrap_or_default()
        ));
    }
    from_json_document(&text, "imds").map(Step::Found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_container_uri_goes_to_the_ecs_agent_and_full_uris_are_restricted() {
        let env = Env::from_pairs([(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/x",
        )]);
        assert_eq!(
            container_uri(&env).unwrap().unwrap(),
            "http://169.254.170.2/v2/credentials/x"
        );
        for ok in [
            "https://creds.example.com/x",
            "http://127.0.0.1:9/x",
            "http://169.254.170.23/v1/credentials",
            "http://[::1]:80/",
        ] {
            assert!(check_full_uri(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://creds.example.com/x",
            "http://10.0.0.1/x",
            "ftp://127.0.0.1/",
        ] {
            assert!(check_full_uri(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn imds_can_be_disabled_or_pointed_elsewhere() {
        assert!(imds_endpoint(&Env::from_pairs([("AWS_EC2_METADATA_DISABLED", "TRUE")])).is_err());
        assert_eq!(
            imds_endpoint(&Env::from_pairs([(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "http://127.0.0.1:1/"
            )]))
            .unwrap(),
            "http://127.0.0.1:1"
        );
        assert_eq!(
            imds_endpoint(&Env::default()).unwrap(),
            "http://169.254.169.254"
        );
    }
}
