//! Azure Container Apps through Azure Resource Manager (`Microsoft.App/containerApps`,
//! api-version 2024-03-01), with a bearer token for `https://management.azure.com/.default`.
//! `PUT` is create-or-update, so a deploy is one idempotent request.

use serde_json::{json, Value};

use super::{ApiRequest, CloudApi, EnvVar, Observed, ServiceSpec, State};
use crate::config::{AzureTarget, ProviderKind};

pub const ENDPOINT_ENV: &str = "TAU_CLOUD_AZURE_ENDPOINT";
pub const API_VERSION: &str = "2024-03-01";

pub struct ContainerApps {
    pub target: AzureTarget,
    pub base: String,
}

impl ContainerApps {
    pub fn new(target: &AzureTarget) -> Self {
        let base = super::endpoint(
            ENDPOINT_ENV,
            target.endpoint.as_deref(),
            "https://management.azure.com".into(),
        );
        ContainerApps {
            target: target.clone(),
            base,
        }
    }

    fn group(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.target.subscription_id, self.target.resource_group
        )
    }

    fn id(&self, service: &str) -> String {
        format!(
            "{}/providers/Microsoft.App/containerApps/{service}",
            self.group()
        )
    }

    fn request(
        &self,
        action: &'static str,
        method: &'static str,
        id: &str,
        body: Option<Value>,
    ) -> ApiRequest {
        ApiRequest::rest(
            action,
            method,
            format!("{}{id}?api-version={API_VERSION}", self.base),
            body,
        )
    }

    fn app(&self, spec: &ServiceSpec) -> Value {
        let mut secrets = Vec::new();
        let mut env = Vec::new();
        let mut key_vault = false;
        for (name, value) in &spec.env {
            if let EnvVar::Ref(url) = value {
                // A Key Vault secret: the app reads it with its identity; only the URL is sent.
                let secret = secret_name(name);
                secrets.push(json!({ "name": secret, "keyVaultUrl": url, "identity": self.target.key_vault_identity }));
                env.push(json!({ "name": name, "secretRef": secret }));
                key_vault = true;
            } else if value.is_secret() {
                // Container Apps keeps secret values in the app's secret store; the container
                // sees them through a reference, so they never sit in the template in clear.
                let secret = secret_name(name);
                secrets.push(json!({ "name": secret, "value": value.wire_value() }));
                env.push(json!({ "name": name, "secretRef": secret }));
            } else {
                env.push(json!({ "name": name, "value": value.wire_value() }));
            }
        }
        let mut registries = Vec::new();
        if let Some(login) = &spec.registry_login {
            let secret = "registry-password";
            let password = EnvVar::Secret {
                from: login.password_env.clone(),
                value: login.password.clone(),
            };
            secrets.push(json!({ "name": secret, "value": password.wire_value() }));
            registries.push(json!({ "server": login.server, "username": login.username, "passwordSecretRef": secret }));
        }
        let cpu: f64 = self.target.cpu.parse().unwrap_or(0.5);
        let mut app = json!({
            "location": self.target.location,
            "properties": {
                "environmentId": format!("{}/providers/Microsoft.App/managedEnvironments/{}", self.group(), self.target.environment_name),
                "configuration": {
                    "activeRevisionsMode": "Single",
                    "ingress": { "external": true, "targetPort": spec.port, "transport": "auto" },
                    "secrets": secrets,
                    "registries": registries,
                },
                "template": {
                    "containers": [{
                        "name": spec.service,
                        "image": spec.image,
                        "env": env,
                        "resources": { "cpu": cpu, "memory": self.target.memory },
                        "probes": [{ "type": "Liveness", "httpGet": { "path": spec.health_check_path, "port": spec.port } }],
                    }],
                    "scale": { "minReplicas": self.target.min_replicas, "maxReplicas": self.target.max_replicas },
                },
            },
        });
        if key_vault {
            // The identity named in `secrets[].identity` must be attached to the app.
            app["identity"] = match self.target.key_vault_identity.as_str() {
                "system" => json!({ "type": "SystemAssigned" }),
                user => json!({ "type": "UserAssigned", "userAssignedIdentities": { user: {} } }),
            };
        }
        app
    }
}

/// Container Apps secret names are lowercase letters, digits and '-'.
fn secret_name(env_name: &str) -> String {
    env_name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

impl CloudApi for ContainerApps {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Azure
    }

    fn create(&self, spec: &ServiceSpec) -> ApiRequest {
        self.request(
            "create or update container app",
            "PUT",
            &self.id(&spec.service),
            Some(self.app(spec)),
        )
    }

    fn update(&self, spec: &ServiceSpec, id: &str) -> ApiRequest {
        self.request(
            "create or update container app",
            "PUT",
            id,
            Some(self.app(spec)),
        )
    }

    fn get(&self, id: &str) -> ApiRequest {
        self.request("get container app", "GET", id, None)
    }

    fn delete(&self, id: &str) -> ApiRequest {
        self.request("delete container app", "DELETE", id, None)
    }

    fn id_after_deploy(&self, spec: &ServiceSpec, answer: &Value) -> Option<String> {
        Some(
            answer["id"]
                .as_str()
                .map_or_else(|| self.id(&spec.service), str::to_string),
        )
    }

    fn observe(&self, id: &str, answer: &Value) -> Observed {
        let props = &answer["properties"];
        let provisioning = props["provisioningState"]
            .as_str()
            .unwrap_or("Unknown")
            .to_string();
        let state = match provisioning.as_str() {
            "Succeeded" => State::Ready,
            "Failed" | "Canceled" => State::Failed,
            _ => State::Pending,
        };
        Observed {
            service_id: answer["id"].as_str().unwrap_or(id).to_string(),
            url: super::public_url(&props["configuration"]["ingress"]["fqdn"], true),
            state,
            provider_state: provisioning,
        }
    }

    // `existing_on_conflict` keeps the default: PUT never conflicts with an existing app, it
    // updates it.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tests::spec;

    #[test]
    fn the_container_app_matches_the_arm_schema_with_secrets_by_reference() {
        let api = ContainerApps::new(&AzureTarget {
            subscription_id: "00000000-1111-2222-3333-444444444444".into(),
            resource_group: "rg-prod".into(),
            environment_name: "env-prod".into(),
            location: "westeurope".into(),
            cpu: "0.5".into(),
            memory: "1Gi".into(),
            min_replicas: 1,
            max_replicas: 10,
            key_vault_identity: "system".into(),
            health_check_path: "/health".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
        });
        let req = api.create(&spec("acr.azurecr.io/org/app@sha256:ab"));
        let id = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-prod/providers/Microsoft.App/containerApps/svc";
        assert_eq!(req.method, "PUT");
        assert_eq!(
            req.url,
            format!("http://127.0.0.1:9{id}?api-version=2024-03-01")
        );
        let body = req.body.unwrap();
        assert_eq!(
            body["properties"]["configuration"]["secrets"],
            json!([{"name": "api-token", "value": "<secret from $SVC_TOKEN>"}])
        );
        assert_eq!(
            body["properties"]["template"]["containers"][0]["env"],
            json!([{"name": "API_TOKEN", "secretRef": "api-token"}, {"name": "MODE", "value": "prod"}])
        );
        assert!(
            body.get("identity").is_none(),
            "no identity without Key Vault references"
        );
        let mut by_ref = spec("acr.azurecr.io/org/app@sha256:ab");
        by_ref.env.push((
            "DB_URL".into(),
            EnvVar::Ref("https://acme-kv.vault.azure.net/secrets/db-url".into()),
        ));
        let body2 = api.create(&by_ref).body.unwrap();
        assert_eq!(
            body2["properties"]["configuration"]["secrets"][1],
            json!({"name": "db-url", "keyVaultUrl": "https://acme-kv.vault.azure.net/secrets/db-url", "identity": "system"})
        );
        assert_eq!(
            body2["properties"]["template"]["containers"][0]["env"][2],
            json!({"name": "DB_URL", "secretRef": "db-url"})
        );
        assert_eq!(body2["identity"], json!({"type": "SystemAssigned"}));
        assert_eq!(
            body["properties"]["template"]["containers"][0]["resources"],
            json!({"cpu": 0.5, "memory": "1Gi"})
        );
        assert_eq!(body["properties"]["environmentId"],
            "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-prod/providers/Microsoft.App/managedEnvironments/env-prod");
        let seen = api.observe(id, &json!({"id": id, "properties": {"provisioningState": "Succeeded", "configuration": {"ingress": {"fqdn": "svc.x.azurecontainerapps.io"}}}}));
        assert_eq!(
            (seen.state, seen.url.as_deref()),
            (State::Ready, Some("https://svc.x.azurecontainerapps.io"))
        );
    }
}
