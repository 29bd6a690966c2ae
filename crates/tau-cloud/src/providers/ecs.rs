//! Amazon ECS Express Mode through the ECS JSON 1.1 API (`POST /` with
//! `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`, SigV4 for `ecs`): one call
//! creates the service with its load balancer, target group, security groups and scaling.
//! AWS points new customers here since App Runner closed to them on 2026-04-30.
//!
//! Keys and types follow the API reference of `CreateExpressGatewayService`,
//! `UpdateExpressGatewayService`, `DescribeExpressGatewayService` and
//! `DeleteExpressGatewayService` (and the `aws-sdk-ecs` 1.128 serializers generated from it).

use serde_json::{json, Value};

use super::{ApiRequest, CloudApi, Observed, ServiceSpec, State};
use crate::config::{AwsTarget, EcsExpressTarget, ProviderKind};

const PREFIX: &str = "AmazonEC2ContainerServiceV20141113";

pub struct EcsExpress {
    pub target: AwsTarget,
    pub service: EcsExpressTarget,
    pub base: String,
}

impl EcsExpress {
    pub fn new(target: &AwsTarget, service: &EcsExpressTarget) -> Self {
        let base = super::endpoint(
            super::aws::ENDPOINT_ENV,
            target.endpoint.as_deref(),
            format!("https://ecs.{}.amazonaws.com", target.region),
        );
        EcsExpress {
            target: target.clone(),
            service: service.clone(),
            base,
        }
    }

    fn call(&self, action: &'static str, operation: &str, body: Value) -> ApiRequest {
        super::aws::json_call(
            &self.base,
            "application/x-amz-json-1.1",
            format!("{PREFIX}.{operation}"),
            action,
            body,
        )
    }

    /// `primaryContainer`: plain values in `environment`, secrets by ARN in `secrets`.
    fn container(&self, spec: &ServiceSpec) -> Value {
        let mut environment = Vec::new();
        let mut secrets = Vec::new();
        for (name, value) in &spec.env {
            match value.reference() {
                Some(arn) => secrets.push(json!({ "name": name, "valueFrom": arn })),
                None => environment.push(json!({ "name": name, "value": value.wire_value() })),
            }
        }
        let mut container = json!({
            "image": spec.image,
            "containerPort": spec.port,
            "environment": environment,
        });
        if !secrets.is_empty() {
            container["secrets"] = Value::Array(secrets);
        }
        container
    }

    /// The fields create and update share.
    fn settings(&self, spec: &ServiceSpec, body: &mut Value) {
        let s = &self.service;
        body["executionRoleArn"] = json!(s.execution_role_arn);
        body["healthCheckPath"] = json!(spec.health_check_path);
        body["primaryContainer"] = self.container(spec);
        if let Some(role) = &s.task_role_arn {
            body["taskRoleArn"] = json!(role);
        }
        body["cpu"] = json!(s.cpu);
        body["memory"] = json!(s.memory);
        body["scalingTarget"] = json!({ "minTaskCount": s.min_tasks, "maxTaskCount": s.max_tasks });
    }
}

impl CloudApi for EcsExpress {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Aws
    }

    fn create(&self, spec: &ServiceSpec) -> ApiRequest {
        let mut body = json!({
            "serviceName": spec.service,
            "infrastructureRoleArn": self.service.infrastructure_role_arn,
            "tags": [{ "key": "managed-by", "value": "tau" }],
        });
        if let Some(cluster) = &self.service.cluster {
            body["cluster"] = json!(cluster);
        }
        self.settings(spec, &mut body);
        self.call(
            "create express service",
            "CreateExpressGatewayService",
            body,
        )
    }

    fn update(&self, spec: &ServiceSpec, id: &str) -> ApiRequest {
        // The service name, cluster and infrastructure role are fixed at creation.
        let mut body = json!({ "serviceArn": id });
        self.settings(spec, &mut body);
        self.call(
            "update express service",
            "UpdateExpressGatewayService",
            body,
        )
    }

    fn get(&self, id: &str) -> ApiRequest {
        self.call(
            "describe express service",
            "DescribeExpressGatewayService",
            json!({ "serviceArn": id }),
        )
    }

    fn delete(&self, id: &str) -> ApiRequest {
        self.call(
            "delete express service",
            "DeleteExpressGatewayService",
            json!({ "serviceArn": id }),
        )
    }

    fn id_after_deploy(&self, _spec: &ServiceSpec, answer: &Value) -> Option<String> {
        answer["service"]["serviceArn"].as_str().map(str::to_string)
    }

    fn observe(&self, id: &str, answer: &Value) -> Observed {
        let service = &answer["service"];
        let status = service["status"]["statusCode"]
            .as_str()
            .unwrap_or("UNKNOWN")
            .to_string();
        // The public ingress path of the newest active configuration.
        let url = service["activeConfigurations"]
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .flat_map(|c| c["ingressPaths"].as_array().into_iter().flatten())
            .find(|p| p["accessType"] == "PUBLIC")
            .and_then(|p| super::public_url(&p["endpoint"], true));
        // ACTIVE with an endpoint is ready: ECS itself rolls a revision back when it fails its
        // health checks. ACTIVE without one is still provisioning its load balancer.
        let state = match status.as_str() {
            "ACTIVE" if url.is_some() => State::Ready,
            "ACTIVE" => State::Pending,
            "INACTIVE" => State::Missing,
            "DRAINING" => State::Failed,
            _ => State::Failed,
        };
        Observed {
            service_id: service["serviceArn"].as_str().unwrap_or(id).to_string(),
            url,
            state,
            provider_state: status,
        }
    }

    // `existing_on_conflict` keeps the default: a taken name is refused without the existing
    // service's ARN; the error says so.

    fn secret_store(&self) -> Option<Box<dyn super::secrets::SecretStore + Send + Sync>> {
        super::aws_secrets::SecretsManager::boxed(&self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AwsService;
    use crate::providers::tests::spec;
    use crate::providers::EnvVar;

    fn api() -> EcsExpress {
        let service = EcsExpressTarget {
            cpu: "1024".into(),
            memory: "2048".into(),
            execution_role_arn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into(),
            infrastructure_role_arn: "arn:aws:iam::123456789012:role/ecsInfrastructureRole".into(),
            task_role_arn: None,
            cluster: Some("prod".into()),
            min_tasks: 1,
            max_tasks: 4,
        };
        let target = AwsTarget {
            region: "eu-west-1".into(),
            health_check_path: "/health".into(),
            endpoint: None,
            service: AwsService::EcsExpress(service.clone()),
        };
        EcsExpress::new(&target, &service)
    }

    #[test]
    fn create_matches_the_create_express_gateway_service_schema() {
        let api = api();
        let mut spec = spec("123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/app@sha256:ab");
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tau/svc/API_TOKEN-AbCdEf";
        spec.env[0].1 = EnvVar::Ref(arn.into());
        let req = api.create(&spec);
        crate::providers::aws::tests::assert_json_call(
            &req,
            "https://ecs.eu-west-1.amazonaws.com/",
            "application/x-amz-json-1.1",
            "AmazonEC2ContainerServiceV20141113.CreateExpressGatewayService",
            "ecs",
        );
        assert_eq!(
            req.body.unwrap(),
            json!({
                "serviceName": "svc",
                "cluster": "prod",
                "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
                "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
                "healthCheckPath": "/health",
                "primaryContainer": {
                    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/app@sha256:ab",
                    "containerPort": 8080,
                    "environment": [{"name": "MODE", "value": "prod"}],
                    "secrets": [{"name": "API_TOKEN", "valueFrom": arn}],
                },
                "cpu": "1024",
                "memory": "2048",
                "scalingTarget": {"minTaskCount": 1, "maxTaskCount": 4},
                "tags": [{"key": "managed-by", "value": "tau"}],
            })
        );
        let update = api.update(&spec, "arn:svc").body.unwrap();
        assert_eq!(update["serviceArn"], "arn:svc");
        for fixed in ["serviceName", "cluster", "infrastructureRoleArn", "tags"] {
            assert!(
                update.get(fixed).is_none(),
                "{fixed} is not an update field"
            );
        }
        assert_eq!(
            api.delete("arn:svc").body.unwrap(),
            json!({"serviceArn": "arn:svc"})
        );
    }

    #[test]
    fn describe_answers_map_to_states_and_the_public_endpoint() {
        let api = api();
        let answer = |code: &str, paths: Value| {
            json!({"service": {"serviceArn": "arn:svc", "status": {"statusCode": code},
                "activeConfigurations": [{"ingressPaths": paths}]}})
        };
        let ready = api.observe(
            "arn:svc",
            &answer(
                "ACTIVE",
                json!([{"accessType": "PUBLIC", "endpoint": "svc-ab12.ecs.eu-west-1.on.aws"}]),
            ),
        );
        assert_eq!(
            (ready.state, ready.url.as_deref()),
            (State::Ready, Some("https://svc-ab12.ecs.eu-west-1.on.aws"))
        );
        assert_eq!(
            api.observe("arn:svc", &answer("ACTIVE", json!([]))).state,
            State::Pending
        );
        assert_eq!(
            api.observe("arn:svc", &answer("INACTIVE", json!([]))).state,
            State::Missing
        );
        assert_eq!(
            api.observe("arn:svc", &answer("DRAINING", json!([]))).state,
            State::Failed
        );
    }
}
