//! AWS App Runner through its JSON 1.0 API (`POST /` with `X-Amz-Target: AppRunner.<Operation>`,
//! SigV4-signed for service `apprunner`).
//!
//! App Runner stopped accepting new customers on 2026-04-30; AWS points new workloads to ECS
//! Express Mode ([`super::ecs`]). This target is kept for accounts that already use App Runner.
//! It pulls only from ECR, with `ecr_role_arn` as the access role. Secrets go in
//! `RuntimeEnvironmentSecrets` by ARN and are read with `instance_role_arn`.

use serde_json::{json, Map, Value};

use super::{ApiRequest, CloudApi, Observed, ServiceSpec, State};
use crate::config::{AppRunnerTarget, AwsTarget, ProviderKind};

pub const ENDPOINT_ENV: &str = "TAU_CLOUD_AWS_ENDPOINT";

/// The SigV4 service name of an AWS JSON request, from its operation header: each AWS API signs
/// for its own name, and the operation header says which API a request belongs to.
pub fn signing_name(req: &ApiRequest) -> &'static str {
    let target = req
        .headers
        .iter()
        .find(|(k, _)| k == "x-amz-target")
        .map_or("", |(_, v)| v.as_str());
    match target.split_once('.').map(|(prefix, _)| prefix) {
        Some("AmazonEC2ContainerServiceV20141113") => "ecs",
        Some("secretsmanager") => "secretsmanager",
        _ => "apprunner",
    }
}

/// An AWS JSON-protocol call: `POST /` with the operation in `X-Amz-Target`.
pub(crate) fn json_call(
    base: &str,
    content_type: &str,
    target: String,
    action: &'static str,
    body: Value,
) -> ApiRequest {
    ApiRequest {
        action,
        method: "POST",
        url: format!("{base}/"),
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("x-amz-target".into(), target),
        ],
        body: Some(body),
    }
}

pub struct AppRunner {
    pub target: AwsTarget,
    pub service: AppRunnerTarget,
    pub base: String,
}

impl AppRunner {
    pub fn new(target: &AwsTarget, service: &AppRunnerTarget) -> Self {
        let base = super::endpoint(
            ENDPOINT_ENV,
            target.endpoint.as_deref(),
            format!("https://apprunner.{}.amazonaws.com", target.region),
        );
        AppRunner {
            target: target.clone(),
            service: service.clone(),
            base,
        }
    }

    fn call(&self, action: &'static str, operation: &str, body: Value) -> ApiRequest {
        json_call(
            &self.base,
            "application/x-amz-json-1.0",
            format!("AppRunner.{operation}"),
            action,
            body,
        )
    }

    fn source(&self, spec: &ServiceSpec) -> Value {
        let mut vars = Map::new();
        let mut secrets = Map::new();
        for (k, v) in &spec.env {
            match v.reference() {
                Some(arn) => secrets.insert(k.clone(), Value::String(arn)),
                None => vars.insert(k.clone(), Value::String(v.wire_value())),
            };
        }
        let public = spec.image.starts_with("public.ecr.aws/");
        let mut image_config = json!({
            "Port": spec.port.to_string(),
            "RuntimeEnvironmentVariables": vars,
        });
        if !secrets.is_empty() {
            image_config["RuntimeEnvironmentSecrets"] = Value::Object(secrets);
        }
        let mut source = json!({
            "ImageRepository": {
                "ImageIdentifier": spec.image,
                "ImageRepositoryType": if public { "ECR_PUBLIC" } else { "ECR" },
                "ImageConfiguration": image_config,
            },
            "AutoDeploymentsEnabled": false,
        });
        if !public {
            source["AuthenticationConfiguration"] =
                json!({ "AccessRoleArn": self.service.ecr_role_arn });
        }
        source
    }

    fn shape(&self, spec: &ServiceSpec) -> (Value, Value) {
        let mut instance = json!({ "Cpu": self.service.cpu, "Memory": self.service.memory });
        if let Some(role) = &self.service.instance_role_arn {
            instance["InstanceRoleArn"] = json!(role);
        }
        (
            instance,
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

    // `existing_on_conflict` keeps the default: CreateService on a taken name answers
    // InvalidRequestException without the ARN; finding it would need ListServices paging. The
    // error tells the user to record it instead.

    fn secret_store(&self) -> Option<Box<dyn super::secrets::SecretStore + Send + Sync>> {
        super::aws_secrets::SecretsManager::boxed(&self.target)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::providers::tests::spec;
    use crate::providers::EnvVar;

    pub(crate) fn target() -> AwsTarget {
        AwsTarget {
            region: "eu-west-1".into(),
            health_check_path: "/health".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            service: crate::config::AwsService::AppRunner(runner()),
        }
    }

    /// Checks that `req` is an AWS JSON-protocol call to `url` for `operation` (the
    /// `X-Amz-Target` value), sent as `content_type` and signed for `signing`.
    pub(crate) fn assert_json_call(
        req: &ApiRequest,
        url: &str,
        content_type: &str,
        operation: &str,
        signing: &str,
    ) {
        assert_eq!((req.method, req.url.as_str()), ("POST", url));
        assert_eq!(
            req.headers,
            [
                ("content-type".to_string(), content_type.to_string()),
                ("x-amz-target".to_string(), operation.to_string()),
            ]
        );
        assert_eq!(signing_name(req), signing);
    }

    fn runner() -> AppRunnerTarget {
        AppRunnerTarget {
            cpu: "1 vCPU".into(),
            memory: "2 GB".into(),
            ecr_role_arn: "arn:aws:iam::123456789012:role/AppRunnerECRAccess".into(),
            instance_role_arn: Some("arn:aws:iam::123456789012:role/AppRunnerInstance".into()),
        }
    }

    #[test]
    fn create_service_matches_the_app_runner_schema_with_secrets_by_arn() {
        let api = AppRunner::new(&target(), &runner());
        let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/app@sha256:ab";
        let mut spec = spec(image);
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tau/svc/API_TOKEN-AbCdEf";
        spec.env[0].1 = EnvVar::Ref(arn.into());
        let req = api.create(&spec);
        assert_json_call(
            &req,
            "http://127.0.0.1:9/",
            "application/x-amz-json-1.0",
            "AppRunner.CreateService",
            "apprunner",
        );
        assert_eq!(
            req.body.unwrap(),
            json!({
                "ServiceName": "svc",
                "SourceConfiguration": {
                    "ImageRepository": {
                        "ImageIdentifier": image,
                        "ImageRepositoryType": "ECR",
                        "ImageConfiguration": {"Port": "8080", "RuntimeEnvironmentVariables": {"MODE": "prod"},
                            "RuntimeEnvironmentSecrets": {"API_TOKEN": arn}},
                    },
                    "AutoDeploymentsEnabled": false,
                    "AuthenticationConfiguration": {"AccessRoleArn": "arn:aws:iam::123456789012:role/AppRunnerECRAccess"},
                },
                "InstanceConfiguration": {"Cpu": "1 vCPU", "Memory": "2 GB", "InstanceRoleArn": "arn:aws:iam::123456789012:role/AppRunnerInstance"},
                "HealthCheckConfiguration": {"Protocol": "HTTP", "Path": "/health"},
            })
        );
    }

    #[test]
    fn a_secret_env_not_yet_stored_is_never_sent_as_a_value() {
        let api = AppRunner::new(&target(), &runner());
        let mut spec = spec("x.dkr.ecr.eu-west-1.amazonaws.com/a@sha256:ab");
        spec.env[0].1 = EnvVar::Secret {
            from: "SVC_TOKEN".into(),
            value: Some("hunter2-hunter2".into()),
        };
        let body = api.create(&spec).body.unwrap().to_string();
        assert!(!body.contains("hunter2"), "{body}");
    }

    #[test]
    fn describe_answers_map_to_states_and_https_urls() {
        let api = AppRunner::new(&target(), &runner());
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
