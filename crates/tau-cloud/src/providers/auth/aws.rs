//! The AWS credential chain, in the order most AWS SDKs document (Java, Kotlin, PHP, the CLI):
//! environment variables; web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` →
//! STS `AssumeRoleWithWebIdentity`); the shared config and credentials files at `AWS_PROFILE`
//! (static keys, `credential_process`, a profile's web identity); container credentials (ECS,
//! EKS Pod Identity); the EC2 instance metadata service (IMDSv2).

use std::time::SystemTime;

use aws_credential_types::Credentials;

use super::aws_metadata::{container, imds};
pub use super::aws_metadata::{container_uri, imds_endpoint};
use super::{aws_profile, fetch, parse_time, Env, Step, Tried};
use crate::Result;

const HINT: &str = "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), run `aws configure` or `aws sso login` (then set AWS_PROFILE), or run where a role is attached (ECS task role, EKS, EC2 instance profile)";

/// Credentials from the first source of the chain that has them. `region` is the target's, for
/// the regional STS endpoint when `AWS_REGION` does not say otherwise.
pub async fn credentials(env: &Env, region: &str) -> Result<Credentials> {
    let mut tried = Tried::new("aws");
    // A found credential that has already expired is refused (`check_expiry`).
    macro_rules! step {
        ($name:expr, $attempt:expr) => {
            chain_step!(tried, HINT, $name, $attempt, |c| check_expiry(
                c, $name, &tried
            ))
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
