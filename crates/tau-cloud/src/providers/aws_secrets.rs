//! AWS Secrets Manager (JSON 1.1 API, `X-Amz-Target: secretsmanager.<Operation>`, SigV4 for
//! `secretsmanager`): holds `secret_env` values for App Runner and ECS Express, which refer to
//! them by ARN.

use serde_json::{json, Value};

use super::secrets::{shown, SecretStore};
use super::{ApiRequest, EnvVar};
use crate::config::AwsTarget;

pub const ENDPOINT_ENV: &str = "TAU_CLOUD_AWS_SECRETS_ENDPOINT";

pub struct SecretsManager {
    pub base: String,
}

impl SecretsManager {
    pub fn new(target: &AwsTarget) -> Self {
        SecretsManager {
            base: super::endpoint(
                ENDPOINT_ENV,
                None,
                format!("https://secretsmanager.{}.amazonaws.com", target.region),
            ),
        }
    }

    /// The store of an AWS target's `secret_env` values, as [`super::CloudApi::secret_store`]
    /// answers it for App Runner and ECS Express.
    pub fn boxed(target: &AwsTarget) -> Option<Box<dyn SecretStore + Send + Sync>> {
        Some(Box::new(SecretsManager::new(target)))
    }

    fn call(&self, action: &'static str, operation: &str, body: Value) -> ApiRequest {
        super::aws::json_call(
            &self.base,
            "application/x-amz-json-1.1",
            format!("secretsmanager.{operation}"),
            action,
            body,
        )
    }
}

/// The idempotency token a raw (non-SDK) request must carry: random for a real write, a
/// placeholder in a dry run so that its output stays the same from run to run (as long as a
/// real token, 32 to 64 characters, so the dry run still meets the published schema). Not derived from
/// the value: AWS shows the token as the version id to anyone allowed to list versions.
fn token(value: &EnvVar) -> String {
    match value {
        EnvVar::Secret { value: None, .. } => "<idempotency token chosen at deploy time>".into(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

impl SecretStore for SecretsManager {
    fn name(&self, service: &str, var: &str) -> String {
        format!("tau/{service}/{var}")
    }

    fn create(&self, service: &str, name: &str, value: &EnvVar) -> ApiRequest {
        self.call(
            "store the secret (Secrets Manager)",
            "CreateSecret",
            json!({
                "Name": name,
                "Description": format!("{name}: written by tau deploy for service {service}"),
                "SecretString": shown(value),
                "ClientRequestToken": token(value),
                "Tags": [
                    {"Key": "managed-by", "Value": "tau"},
                    {"Key": "tau-service", "Value": service},
                ],
            }),
        )
    }

    fn exists(&self, status: u16, answer: &Value) -> bool {
        status == 400
            && answer["__type"]
                .as_str()
                .is_some_and(|t| t.ends_with("ResourceExistsException"))
    }

    fn put(&self, id: &str, value: &EnvVar) -> ApiRequest {
        self.call(
            "store a new value of the secret (Secrets Manager)",
            "PutSecretValue",
            json!({
                "SecretId": id,
                "SecretString": shown(value),
                "ClientRequestToken": token(value),
            }),
        )
    }

    fn put_after_create(&self) -> bool {
        false
    }

    fn id(&self, _name: &str, answer: &Value) -> Option<String> {
        answer["ARN"].as_str().map(str::to_string)
    }

    fn reference(&self, id: &str, _answer: &Value) -> Option<String> {
        // The ARN without a version: the service reads the current version (AWSCURRENT), which
        // the write just made the new value.
        Some(id.to_string())
    }

    fn placeholder_reference(&self, name: &str, known_id: Option<&str>) -> String {
        known_id.map_or_else(
            || format!("<ARN of secret {name} from the CreateSecret answer>"),
            str::to_string,
        )
    }

    fn delete(&self, id: &str) -> ApiRequest {
        self.call(
            "delete the secret tau created (Secrets Manager)",
            "DeleteSecret",
            json!({ "SecretId": id, "ForceDeleteWithoutRecovery": true }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_match_the_secrets_manager_api_and_never_carry_a_dry_run_value() {
        let store = SecretsManager::new(&crate::providers::aws::tests::target());
        let dry = EnvVar::Secret {
            from: "SVC_TOKEN".into(),
            value: None,
        };
        let create = store.create("svc", "tau/svc/API_TOKEN", &dry);
        crate::providers::aws::tests::assert_json_call(
            &create,
            "https://secretsmanager.eu-west-1.amazonaws.com/",
            "application/x-amz-json-1.1",
            "secretsmanager.CreateSecret",
            "secretsmanager",
        );
        assert_eq!(
            create.body.unwrap(),
            json!({
                "Name": "tau/svc/API_TOKEN",
                "Description": "tau/svc/API_TOKEN: written by tau deploy for service svc",
                "SecretString": "<secret from $SVC_TOKEN>",
                "ClientRequestToken": "<idempotency token chosen at deploy time>",
                "Tags": [{"Key": "managed-by", "Value": "tau"}, {"Key": "tau-service", "Value": "svc"}],
            })
        );
        let real = EnvVar::Secret {
            from: "SVC_TOKEN".into(),
            value: Some("v4lue".into()),
        };
        let put = store.put("arn:x", &real).body.unwrap();
        assert_eq!(
            (put["SecretId"].as_str(), put["SecretString"].as_str()),
            (Some("arn:x"), Some("v4lue"))
        );
        assert_eq!(put["ClientRequestToken"].as_str().unwrap().len(), 36);
        assert_eq!(
            store.delete("arn:x").body.unwrap(),
            json!({"SecretId": "arn:x", "ForceDeleteWithoutRecovery": true})
        );
        assert!(store.exists(
            400,
            &json!({"__type": "ResourceExistsException", "message": "exists"})
        ));
        assert!(!store.exists(400, &json!({"__type": "AccessDeniedException"})));
    }
}
