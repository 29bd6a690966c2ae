//! AWS App Runner through its JSON 1.0 API (`POST /` with `X-Amz-Target: AppRunner.<Operation>`,
//! SigV4-signed for service `apprunner`).
//!
//! App Runner stopped accepting new customers on 2026-04-30; AWS points new workloads to ECS
//! Express Mode. This target is kept for accounts that already use App Runner. It pulls only from
//! ECR, with `ecr_role_arn` as the access role.

use serde_json::{json, Map, Value};

use super::{ApiRequest, CloudApi, EnvVar, Observed, ServiceSpec, State};
use crate::config::{AwsTarget, ProviderKind};

pub const ENDPOINT_ENV: &str = "TAU_CLOUD_AWS_ENDPOINT";
pub const SIGNING_NAME: &str = "apprunner";

pub struct AppRunner {
    pub target: AwsTarget,
    pub base: String,
}

impl AppRunner {
    pub fn new(target: &AwsTarget) -> Self {
        let base = super::endpoint(
            ENDPOINT_ENV,
            target.endpoint.as_deref(),
            format!("https://apprunner.{}.amazonaws.com", target.region),
        );
        AppRunner {
            target: target.clone(),
            base,
        }
    }

    fn call(&self, action: &'static str, operation: &str, body: Value) -> ApiRequest {
        ApiRequest {
            action,
            method: "POST",
            url: format!("{}/", self.base),
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.0".into()),
                ("x-amz-target".into(), format!("AppRunner.{operation}")),
            ],
            body: Some(body),
        }
    }

    fn source(&self, spec: &ServiceSpec) -> Value {
        let vars: Map<String, Value> = spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.wire_value())))
            .collect();
        let public = spec.image.starts_with("public.ecr.aws/");
        let mut source = json!({
            "ImageRepository": {
                "ImageIdentifier": spec.image,
                "ImageRepositoryType": if public { "ECR_PUBLIC" } else { "ECR" },
                "ImageConfiguration": {
                    "Port": spec.port.to_string(),
                    "RuntimeEnvironmentVariables": vars,
                },
            },
            "AutoDeploymentsEnabled": false,
        });
        if !public {
            source["AuthenticationConfiguration"] =
                json!({ "AccessRoleArn": self.target.ecr_role_arn });
        }
        source
    }

    fn shape(&self, spec: &ServiceSpec) -> (Value, Value) {
        (
            json!({ "Cpu": self.target.cpu, "Memory": self.target.memory }),
            json!({ "Protocol": "HTTP", "Path": spec.health_check_path }),
        )
    }
}

impl CloudApi for AppRunner {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Aws
    }

    fn create(&self, spec: &ServiceSpec) -> ApiRequest {
        let (instance, health) = self.shape(spec);
        self.call(
            "create service",
            "CreateService",
            json!({
                "ServiceName": spec.service,
                "SourceConfiguration": self.source(spec),
                "InstanceConfiguration": instance,
                "HealthCheckConfiguration": health,
            }),
        )
    }

    fn update(&self, spec: &ServiceSpec, id: &str) -> ApiRequest {
        let (instance, health) = self.shape(spec);
        self.call(
            "update service",
            "UpdateService",
            json!({
                "ServiceArn": id,
                "SourceConfiguration": self.source(spec),
                "InstanceConfiguration": instance,
                "HealthCheckConfiguration": health,
            }),
        )
    }

    fn get(&self, id: &str) -> ApiRequest {
        self.call(
            "describe service",
            "DescribeService",
            json!({ "ServiceArn": id }),
        )
    }

    fn delete(&self, id: &str) -> ApiRequest {
        self.call(
            "delete service",
            "DeleteService",
            json!({ "ServiceArn": id }),
        )
    }

    fn id_after_deploy(&self, _spec: &ServiceSpec, answer: &Value) -> Option<String> {
        answer["Service"]["ServiceArn"].as_str().map(str::to_string)
    }

    fn observe(&self, id: &str, answer: &Value) -> Observed {
        let service = &answer["Service"];
        let status = service["Status"].as_str().unwrap_or("UNKNOWN").to_string();
        let state = match status.as_str() {
            "RUNNING" => State::Ready,
            "OPERATION_IN_PROGRESS" => State::Pending,
            "DELETED" => State::Missing,
            _ => State::Failed,
        };
        Observed {
            service_id: service["ServiceArn"].as_str().unwrap_or(id).to_string(),
            // App Runner answers a bare host name.
            url: super::public_url(&service["ServiceUrl"], true),
            state,
            provider_state: status,
        }
    }

    fn existing_on_conflict(
        &self,
        _spec: &ServiceSpec,
        _status: u16,
        _answer: &Value,
    ) -> Option<String> {
        // CreateService on a taken name answers InvalidRequestException without the ARN; finding
        // it would need ListServices paging. The error tells the user to record it instead.
        None
    }
}

impl EnvVar {
    pub(crate) fn is_secret(&self) -> bool {
        matches!(self, EnvVar::Secret { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tests::spec;

    fn target() -> AwsTarget {
        AwsTarget {
            region: "eu-west-1".into(),
            cpu: "1 vCPU".into(),
            memory: "2 GB".into(),
            ecr_role_arn: "arn:aws:iam::123456789012:role/AppRunnerECRAccess".into(),
            health_check_path: "/health".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
        }
    }

    #[test]
    fn create_service_matches_the_app_runner_schema() {
        let api = AppRunner::new(&target());
        let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/app@sha256:ab";
        let req = api.create(&spec(image));
        assert_eq!(
            (req.method, req.url.as_str()),
            ("POST", "http://127.0.0.1:9/")
        );
        assert_eq!(
            req.headers[1],
            ("x-amz-target".into(), "AppRunner.CreateService".into())
        );
        assert_eq!(
            req.body.unwrap(),
            json!({
                "ServiceName": "svc",
                "SourceConfiguration": {
                    "ImageRepository": {
                        "ImageIdentifier": image,
                        "ImageRepositoryType": "ECR",
                        "ImageConfiguration": {"Port": "8080", "RuntimeEnvironmentVariables": {"API_TOKEN": "<secret from $SVC_TOKEN>", "MODE": "prod"}},
                    },
                    "AutoDeploymentsEnabled": false,
                    "AuthenticationConfiguration": {"AccessRoleArn": "arn:aws:iam::123456789012:role/AppRunnerECRAccess"},
                },
                "InstanceConfiguration": {"Cpu": "1 vCPU", "Memory": "2 GB"},
                "HealthCheckConfiguration": {"Protocol": "HTTP", "Path": "/health"},
            })
        );
    }

    #[test]
    fn describe_answers_map_to_states_and_https_urls() {
        let api = AppRunner::new(&target());
        let seen = api.observe("arn", &json!({"Service": {"ServiceArn": "arn:x", "ServiceUrl": "abc.awsapprunner.com", "Status": "RUNNING"}}));
        assert_eq!(
            (seen.state, seen.url.as_deref()),
            (State::Ready, Some("https://abc.awsapprunner.com"))
        );
        assert_eq!(
            api.observe("arn", &json!({"Service": {"Status": "CREATE_FAILED"}}))
                .state,
            State::Failed
        );
    }
}
