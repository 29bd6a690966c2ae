//! Google Cloud Run through the Admin API v2 (`run.googleapis.com/v2`), with an OAuth 2 bearer
//! token from the Application Default Credentials chain.

use serde_json::{json, Value};

use super::{ApiRequest, CloudApi, Observed, ServiceSpec, State};
use crate::config::{GcpTarget, ProviderKind};

pub const ENDPOINT_ENV: &str = "TAU_CLOUD_GCP_ENDPOINT";

pub struct CloudRun {
    pub target: GcpTarget,
    pub base: String,
}

impl CloudRun {
    pub fn new(target: &GcpTarget) -> Self {
        let base = super::endpoint(
            ENDPOINT_ENV,
            target.endpoint.as_deref(),
            "https://run.googleapis.com".into(),
        );
        CloudRun {
            target: target.clone(),
            base,
        }
    }

    fn parent(&self) -> String {
        format!(
            "projects/{}/locations/{}",
            self.target.project_id, self.target.region
        )
    }

    fn name(&self, service: &str) -> String {
        format!("{}/services/{service}", self.parent())
    }

    fn service(&self, spec: &ServiceSpec) -> Value {
        let env: Vec<Value> = spec
            .env
            .iter()
            .map(|(k, v)| match v.reference() {
                Some(r) => {
                    // The config checked the shape; a dry run's placeholder names the version
                    // still to be added.
                    let (secret, version) = match crate::config::secret_ref::gcp(&r) {
                        Some(g) => (g.secret, g.version),
                        None => match r.split_once("/versions/") {
                            Some((s, v)) => (s.to_string(), v.to_string()),
                            None => (r, "latest".to_string()),
                        },
                    };
                    json!({ "name": k, "valueSource": { "secretKeyRef": { "secret": secret, "version": version } } })
                }
                None => json!({ "name": k, "value": v.wire_value() }),
            })
            .collect();
        let probe = json!({ "httpGet": { "path": spec.health_check_path, "port": spec.port } });
        json!({
            "template": {
                "containers": [{
                    "image": spec.image,
                    "ports": [{ "containerPort": spec.port }],
                    "env": env,
                    "resources": { "limits": { "cpu": self.target.cpu, "memory": self.target.memory } },
                    "startupProbe": probe,
                    "livenessProbe": probe,
                }],
                "scaling": { "minInstanceCount": self.target.min_instances, "maxInstanceCount": self.target.max_instances },
                "maxInstanceRequestConcurrency": self.target.concurrency,
            }
        })
    }

    fn request(
        &self,
        action: &'static str,
        method: &'static str,
        path: &str,
        body: Option<Value>,
    ) -> ApiRequest {
        ApiRequest::rest(action, method, format!("{}/v2/{path}", self.base), body)
    }
}

impl CloudApi for CloudRun {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gcp
    }

    fn create(&self, spec: &ServiceSpec) -> ApiRequest {
        let path = format!("{}/services?serviceId={}", self.parent(), spec.service);
        self.request("create service", "POST", &path, Some(self.service(spec)))
    }

    fn update(&self, spec: &ServiceSpec, id: &str) -> ApiRequest {
        self.request("update service", "PATCH", id, Some(self.service(spec)))
    }

    fn get(&self, id: &str) -> ApiRequest {
        self.request("get service", "GET", id, None)
    }

    fn delete(&self, id: &str) -> ApiRequest {
        self.request("delete service", "DELETE", id, None)
    }

    fn id_after_deploy(&self, spec: &ServiceSpec, _answer: &Value) -> Option<String> {
        // The answer is a long-running Operation; the service's name is known up front.
        Some(self.name(&spec.service))
    }

    fn observe(&self, id: &str, answer: &Value) -> Observed {
        let condition = answer["terminalCondition"]["state"]
            .as_str()
            .unwrap_or("CONDITION_PENDING")
            .to_string();
        let reconciling = answer["reconciling"].as_bool().unwrap_or(false);
        let state = match condition.as_str() {
            "CONDITION_SUCCEEDED" if !reconciling => State::Ready,
            "CONDITION_FAILED" => State::Failed,
            _ => State::Pending,
        };
        Observed {
            service_id: answer["name"].as_str().unwrap_or(id).to_string(),
            url: super::public_url(&answer["uri"], false),
            state,
            provider_state: condition,
        }
    }

    fn existing_on_conflict(
        &self,
        spec: &ServiceSpec,
        status: u16,
        _answer: &Value,
    ) -> Option<String> {
        (status == 409).then(|| self.name(&spec.service))
    }

    fn secret_store(&self) -> Option<Box<dyn super::secrets::SecretStore + Send + Sync>> {
        Some(Box::new(super::gcp_secrets::SecretManager::new(
            &self.target,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tests::spec;

    #[test]
    fn create_service_matches_the_cloud_run_v2_schema() {
        let api = CloudRun::new(&GcpTarget {
            project_id: "acme-prod".into(),
            region: "europe-west1".into(),
            memory: "512Mi".into(),
            cpu: "1000m".into(),
            concurrency: 80,
            min_instances: 0,
            max_instances: 3,
            health_check_path: "/health".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
        });
        let mut spec = spec("europe-docker.pkg.dev/acme-prod/org/app@sha256:ab");
        spec.env[0].1 = crate::providers::EnvVar::Ref(
            "projects/acme-prod/secrets/tau-svc-API_TOKEN/versions/3".into(),
        );
        let req = api.create(&spec);
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "http://127.0.0.1:9/v2/projects/acme-prod/locations/europe-west1/services?serviceId=svc");
        let probe = json!({"httpGet": {"path": "/health", "port": 8080}});
        assert_eq!(
            req.body.unwrap(),
            json!({"template": {
                "containers": [{
                    "image": "europe-docker.pkg.dev/acme-prod/org/app@sha256:ab",
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "API_TOKEN", "valueSource": {"secretKeyRef": {"secret": "projects/acme-prod/secrets/tau-svc-API_TOKEN", "version": "3"}}}, {"name": "MODE", "value": "prod"}],
                    "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}},
                    "startupProbe": probe, "livenessProbe": probe,
                }],
                "scaling": {"minInstanceCount": 0, "maxInstanceCount": 3},
                "maxInstanceRequestConcurrency": 80,
            }})
        );
        let name = "projects/acme-prod/locations/europe-west1/services/svc";
        assert_eq!(api.get(name).url, format!("http://127.0.0.1:9/v2/{name}"));
        assert_eq!(
            api.existing_on_conflict(&spec, 409, &Value::Null)
                .as_deref(),
            Some(name)
        );
    }
}
