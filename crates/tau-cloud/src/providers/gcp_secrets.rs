//! Google Secret Manager (REST v1): holds `secret_env` values for Cloud Run, which refers to
//! them as `valueSource.secretKeyRef`. A secret is created empty (`secrets.create`, 409 when it
//! exists) and each value is a new version (`secrets.addVersion`); the service is pinned to that
//! version, so a later revision's value never changes what an earlier revision runs with.

use base64::Engine as _;
use serde_json::{json, Value};

use super::secrets::{shown, SecretStore};
use super::{ApiRequest, EnvVar};
use crate::config::GcpTarget;

pub const ENDPOINT_ENV: &str = "TAU_CLOUD_GCP_SECRETS_ENDPOINT";

pub struct SecretManager {
    pub project: String,
    pub base: String,
}

impl SecretManager {
    pub fn new(target: &GcpTarget) -> Self {
        SecretManager {
            project: target.project_id.clone(),
            base: super::endpoint(
                ENDPOINT_ENV,
                None,
                "https://secretmanager.googleapis.com".into(),
            ),
        }
    }

    fn resource(&self, name: &str) -> String {
        format!("projects/{}/secrets/{name}", self.project)
    }
}

/// A version payload is base64; a dry run's placeholder stays readable instead.
fn payload(value: &EnvVar) -> String {
    match value {
        EnvVar::Secret { value: Some(v), .. } => {
            base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
        }
        other => shown(other),
    }
}

impl SecretStore for SecretManager {
    fn name(&self, service: &str, var: &str) -> String {
        format!("tau-{service}-{var}")
    }

    fn create(&self, service: &str, name: &str, _value: &EnvVar) -> ApiRequest {
        ApiRequest::rest(
            "create the secret (Secret Manager)",
            "POST",
            format!(
                "{}/v1/projects/{}/secrets?secretId={name}",
                self.base, self.project
            ),
            Some(json!({
                "replication": { "automatic": {} },
                "labels": { "managed-by": "tau", "tau-service": service },
            })),
        )
    }

    fn exists(&self, status: u16, _answer: &Value) -> bool {
        status == 409
    }

    fn put(&self, id: &str, value: &EnvVar) -> ApiRequest {
        // `id` is the resource name (from the record) or the bare secret id (first deploy).
        let resource = if id.starts_with("projects/") {
            id.to_string()
        } else {
            self.resource(id)
        };
        ApiRequest::rest(
            "add the value as a new secret version (Secret Manager)",
            "POST",
            format!("{}/v1/{resource}:addVersion", self.base),
            Some(json!({ "payload": { "data": payload(value) } })),
        )
    }

    fn put_after_create(&self) -> bool {
        true
    }

    fn id(&self, name: &str, _answer: &Value) -> Option<String> {
        Some(if name.starts_with("projects/") {
            name.to_string()
        } else {
            self.resource(name)
        })
    }

    fn reference(&self, id: &str, answer: &Value) -> Option<String> {
        // The answer names the version with the project number; the service gets the project id
        // form with that version.
        let version = answer["name"].as_str()?.rsplit_once("/versions/")?.1;
        Some(format!("{id}/versions/{version}"))
    }

    fn placeholder_reference(&self, name: &str, known_id: Option<&str>) -> String {
        let id = known_id.map_or_else(|| self.resource(name), str::to_string);
        format!("{id}/versions/<the version the addVersion answer names>")
    }

    fn delete(&self, id: &str) -> ApiRequest {
        ApiRequest::rest(
            "delete the secret tau created (Secret Manager)",
            "DELETE",
            format!("{}/v1/{id}", self.base),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> SecretManager {
        SecretManager {
            project: "acme-prod".into(),
            base: "https://secretmanager.googleapis.com".into(),
        }
    }

    #[test]
    fn create_and_add_version_match_the_secret_manager_api() {
        let store = store();
        let dry = EnvVar::Secret {
            from: "SVC_TOKEN".into(),
            value: None,
        };
        let create = store.create("svc", "tau-svc-API_TOKEN", &dry);
        assert_eq!(
            (create.method, create.url.as_str()),
            (
                "POST",
                "https://secretmanager.googleapis.com/v1/projects/acme-prod/secrets?secretId=tau-svc-API_TOKEN"
            )
        );
        assert_eq!(
            create.body.unwrap(),
            json!({"replication": {"automatic": {}}, "labels": {"managed-by": "tau", "tau-service": "svc"}})
        );
        let real = EnvVar::Secret {
            from: "SVC_TOKEN".into(),
            value: Some("hello".into()),
        };
        let add = store.put("tau-svc-API_TOKEN", &real);
        assert_eq!(
            add.url,
            "https://secretmanager.googleapis.com/v1/projects/acme-prod/secrets/tau-svc-API_TOKEN:addVersion"
        );
        assert_eq!(add.body.unwrap(), json!({"payload": {"data": "aGVsbG8="}}));
        assert_eq!(
            store.put("tau-svc-API_TOKEN", &dry).body.unwrap(),
            json!({"payload": {"data": "<secret from $SVC_TOKEN>"}})
        );
        let id = store.id("tau-svc-API_TOKEN", &Value::Null).unwrap();
        assert_eq!(
            store.reference(
                &id,
                &json!({"name": "projects/123456/secrets/tau-svc-API_TOKEN/versions/4", "state": "ENABLED"})
            ),
            Some("projects/acme-prod/secrets/tau-svc-API_TOKEN/versions/4".into())
        );
        let delete = store.delete(&id);
        assert_eq!(
            (delete.method, delete.url.as_str(), delete.body),
            (
                "DELETE",
                "https://secretmanager.googleapis.com/v1/projects/acme-prod/secrets/tau-svc-API_TOKEN",
                None
            )
        );
    }
}
