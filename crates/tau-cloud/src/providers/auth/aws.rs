//! The AWS credential chain, in the order most AWS SDKs document (Java, Kotlin, PHP, the CLI):
//! environment variables; web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` →
//! STS `AssumeRoleWithWebIdentity`); the shared config and credentials files at `AWS_PROFILE`
//! (static keys, `credential_process`, a profile's web identity); container credentials (ECS,
//! EKS Pod Identity); the EC2 instance metadata service (IMDSv2).

use std::time::SystemTime;

use aws_credential_types::Credentials;

use super::{aws_profile, fetch, metadata_client, parse_time, Env, Step, Tried};
use crate::Result;

const HINT: &str = "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), run `aws configure` or `aws sso login` (then set AWS_PROFILE), or run where a role is attached (ECS task role, EKS, EC2 instance profile)";

/// Credentials from the first source of the chain that has them. `region` is the target's, for
/// the regional STS endpoint when `AWS_REGION` does not say otherwise.
pub async fn credentials(env: &Env, region: &str) -> Result<Credentials> {
    let mut tried = Tried::new("aws");
    macro_rules! step {
        ($name:expr, $attempt:expr) => {
            match $attempt {
                Ok(Step::Found(c)) => return check_expiry(c, $name, &tried),
                Ok(Step::Skipped(why)) => tried.skipped($name, why),
                Err(why) => return Err(tried.failed($name, why, HINT)),
            }
        };
    }
    step!("environment", from_env(env));
    step!("web identity", web_identity_from_env(env, region).await);
    step!(
        "shared config files",
        aws_profile::from_profile(env, region).await
    );
    step!("container credentials", container(env).await);
    step!("EC2 instance metadata (IMDSv2)", imds(env).await);
    Err(tried.none_found(HINT))
}

type Attempt = std::result::Result<Step<Credentials>, String>;

fn check_expiry(c: Credentials, source: &'static str, tried: &Tried) -> Result<Credentials> {
    match c.expiry() {
        Some(at) if at <= SystemTime::now() => Err(tried.failed(
            source,
            "the credentials it holds have expired".into(),
            "refresh them (`aws sso login`, a new session token) and retry",
        )),
        _ => Ok(c),
    }
}

fn from_env(env: &Env) -> Attempt {
    match (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Ok(Step::Found(Credentials::new(
            id,
            secret,
            env.get("AWS_SESSION_TOKEN"),
            None,
            "environment",
        ))),
        (Some(_), None) => Ok(Step::Skipped(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into(),
        )),
        _ => Ok(Step::Skipped("AWS_ACCESS_KEY_ID is not set".into())),
    }
}

async fn web_identity_from_env(env: &Env, region: &str) -> Attempt {
    let Some(token_file) = env.get("AWS_WEB_IDENTITY_TOKEN_FILE") else {
        return Ok(Step::Skipped(
            "AWS_WEB_IDENTITY_TOKEN_FILE is not set".into(),
        ));
    };
    let role = env
        .get("AWS_ROLE_ARN")
        .ok_or_else(|| "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not".to_string())?;
    let token = super::read_named_file("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)?;
    let session = env.get("AWS_ROLE_SESSION_NAME");
    assume_role_with_web_identity(env, region, &role, session, &token)
        .await
        .map(Step::Found)
}

/// The STS endpoint: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the regional one.
pub fn sts_endpoint(env: &Env, region: &str) -> String {
    env.get("AWS_ENDPOINT_URL_STS")
        .or_else(|| env.get("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| {
            let region = env
                .get("AWS_REGION")
                .or_else(|| env.get("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| region.to_string());
            format!("https://sts.{region}.amazonaws.com")
        })
        .trim_end_matches('/')
        .to_string()
}

/// STS `AssumeRoleWithWebIdentity` (Query protocol, unsigned: the token is the proof).
pub(super) async fn assume_role_with_web_identity(
    env: &Env,
    region: &str,
    role: &str,
    session: Option<String>,
    token: &str,
) -> std::result::Result<Credentials, String> {
    let session = session.unwrap_or_else(|| format!("tau-{}", super::now_secs()));
    let uri = format!("{}/", sts_endpoint(env, region));
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let form = [
        ("Action", "AssumeRoleWithWebIdentity".to_string()),
        ("Version", "2011-06-15".to_string()),
        ("RoleArn", role.to_string()),
        ("RoleSessionName", session),
        ("WebIdentityToken", token.to_string()),
    ];
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", super::form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = http
        .post(&uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    let (status, text) = fetch(req).await.map_err(|e| format!("STS {uri}: {e}"))?;
    let fields = xml_fields(
        &text,
        &[
            "AccessKeyId",
            "SecretAccessKey",
            "SessionToken",
            "Expiration",
            "Code",
            "Message",
        ],
    );
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if !(200..300).contains(&status) {
        // STS error documents carry a code and message about the request, never the token.
        return Err(format!(
            "STS {uri} refused AssumeRoleWithWebIdentity for {role}: HTTP {status} {} {}",
            get("Code").unwrap_or_default(),
            get("Message").unwrap_or_default()
        ));
    }
    match (get("AccessKeyId"), get("SecretAccessKey")) {
        (Some(id), Some(secret)) => Ok(Credentials::new(
            id,
            secret,
            get("SessionToken"),
            get("Expiration").as_deref().and_then(parse_time),
            "web-identity",
        )),
        _ => Err(format!("STS {uri} answered without credentials")),
    }
}

/// The text of the first element named each of `names` in an XML document. Entity and
/// character references arrive as their own events, so an element's text is gathered until
/// its end tag.
fn xml_fields(xml: &str, names: &[&str]) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut current: Option<(String, String)> = None;
    let mut out: Vec<(String, String)> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let wanted = names.contains(&name.as_str()) && !out.iter().any(|(n, _)| *n == name);
                current = wanted.then(|| (name, String::new()));
            }
            Ok(Event::Text(t)) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(&t.decode().unwrap_or_default());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some((_, text)) = current.as_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => text.push(c),
                        _ => {
                            let name = r.decode().unwrap_or_default();
                            text.push_str(
                                quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""),
                            );
                        }
                    }
                }
            }
            Ok(Event::End(_)) => {
                if let Some((name, text)) = current.take() {
                    out.push((name, text.trim().to_string()));
                }
            }
            Ok(Event::Eof) | Err(_) => return out,
            _ => {}
        }
    }
}

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

async fn container(env: &Env) -> Attempt {
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
async fn imds(env: &Env) -> Attempt {
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
    fn sts_answers_are_read_from_xml() {
        let xml = "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s&amp;k&#x2F;</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
        let f = xml_fields(xml, &["AccessKeyId", "SecretAccessKey", "Expiration"]);
        assert_eq!(
            f,
            [
                ("AccessKeyId".into(), "ASIA1".into()),
                ("SecretAccessKey".into(), "s&k/".into()),
                ("Expiration".into(), "2030-01-01T00:00:00Z".into())
            ]
        );
    }

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

    #[test]
    fn the_sts_endpoint_prefers_the_service_override_then_the_global_one_then_the_region() {
        let env = Env::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:2/"),
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1"),
        ]);
        assert_eq!(sts_endpoint(&env, "eu-west-1"), "http://127.0.0.1:1");
        let env = Env::from_pairs([("AWS_ENDPOINT_URL", "http://127.0.0.1:2/")]);
        assert_eq!(sts_endpoint(&env, "eu-west-1"), "http://127.0.0.1:2");
        assert_eq!(
            sts_endpoint(&Env::default(), "eu-west-1"),
            "https://sts.eu-west-1.amazonaws.com"
        );
    }
}
