//! Every request tau's cloud providers build, checked against the API's published schema
//! (`tests/schemas/`, extracted by `scripts/dev/cloud-schemas.py` from botocore, Google's
//! discovery documents and the Container Apps SDK models), not against hand-written expectations.

mod configs;
#[path = "../schema_check/mod.rs"]
mod schema_check;

use serde_json::{json, Value};
use tau_cloud::config::{
    AppRunnerTarget, AwsService, AwsTarget, AzureTarget, EcsExpressTarget, GcpTarget,
};
use tau_cloud::providers::secrets::SecretStore;
use tau_cloud::providers::{
    aws, aws_secrets, azure, ecs, gcp, gcp_secrets, ApiRequest, CloudApi, EnvVar, RegistryLogin,
    ServiceSpec,
};

use schema_check::{assert_operation, check_operation, check_shape, unknown_query_params, Schema};

const DIGEST: &str = "sha256:4f5c8a9e0b1d2c3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f";

/// A spec with a plain variable, an unresolved secret (dry run) and a resolved one (deploy).
fn spec(image: &str, login: Option<RegistryLogin>) -> ServiceSpec {
    ServiceSpec {
        service: "hello-api".into(),
        image: image.into(),
        port: 8080,
        health_check_path: "/healthz".into(),
        env: vec![
            ("MODE".into(), EnvVar::Plain("prod".into())),
            (
                "DB_PASSWORD".into(),
                EnvVar::Secret {
                    from: "HELLO_DB_PASSWORD".into(),
                    value: None,
                },
            ),
            (
                "API_TOKEN".into(),
                EnvVar::Secret {
                    from: "HELLO_TOKEN".into(),
                    value: Some("t0ken".into()),
                },
            ),
        ],
        registry_login: login,
    }
}

/// The spec as a deploy sends it to a provider that takes secrets by reference: each secret has
/// become the reference its secret manager gave.
fn spec_with_refs(image: &str, reference: &str) -> ServiceSpec {
    let mut s = spec(image, None);
    for (_, value) in s.env.iter_mut() {
        if matches!(value, EnvVar::Secret { .. }) {
            *value = EnvVar::Ref(reference.into());
        }
    }
    s
}

fn header<'a>(req: &'a ApiRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Checks an AWS JSON-protocol request against operation `op` of the botocore model in
/// `schema_file`: method, `X-Amz-Target`, content type and body.
fn assert_aws_json(schema: &Schema, schema_file: &str, op: &str, req: &ApiRequest, json: &str) {
    let model = schema.operation(op);
    assert_eq!(req.method, model["http"]["method"], "{op}");
    assert_eq!(
        header(req, "x-amz-target"),
        model["target"].as_str(),
        "{op}"
    );
    assert_eq!(header(req, "content-type"), Some(json), "{op}");
    assert_operation(schema_file, op, req.body.as_ref().unwrap());
}

fn gcp_target(endpoint: Option<&str>) -> GcpTarget {
    GcpTarget {
        project_id: "acme-prod".into(),
        region: "europe-west1".into(),
        memory: "512Mi".into(),
        cpu: "1".into(),
        concurrency: 80,
        min_instances: 0,
        max_instances: 3,
        health_check_path: "/healthz".into(),
        endpoint: endpoint.map(str::to_string),
    }
}

fn aws_target(service: AwsService) -> AwsTarget {
    AwsTarget {
        region: "eu-west-1".into(),
        health_check_path: "/healthz".into(),
        endpoint: Some("http://127.0.0.1:9".into()),
        service,
    }
}

fn app_runner() -> aws::AppRunner {
    let service = AppRunnerTarget {
        cpu: "1 vCPU".into(),
        memory: "2 GB".into(),
        ecr_role_arn: "arn:aws:iam::123456789012:role/service-role/AppRunnerECRAccessRole".into(),
        instance_role_arn: Some("arn:aws:iam::123456789012:role/hello-instance".into()),
    };
    aws::AppRunner::new(
        &aws_target(AwsService::AppRunner(service.clone())),
        &service,
    )
}

const SECRET_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tau/hello-api/DB_PASSWORD-AbCdEf";

#[test]
fn every_app_runner_request_matches_the_botocore_model() {
    let api = app_runner();
    let arn = "arn:aws:apprunner:eu-west-1:123456789012:service/hello-api/8fe1e10304f84fd2b0df550fe98a71fa";
    let schema = Schema::load("aws-apprunner.json");
    for (image, refs) in [
        (
            format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/hello@{DIGEST}"),
            false,
        ),
        ("public.ecr.aws/acme/hello:1.2.3".to_string(), false),
        (
            format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/hello@{DIGEST}"),
            true,
        ),
    ] {
        let s = if refs {
            spec_with_refs(&image, SECRET_ARN)
        } else {
            spec(&image, None)
        };
        let requests = [
            ("CreateService", api.create(&s)),
            ("UpdateService", api.update(&s, arn)),
            ("DescribeService", api.get(arn)),
            ("DeleteService", api.delete(arn)),
        ];
        for (op, req) in requests {
            let path = schema.operation(op)["http"]["path"].as_str().unwrap();
            assert_eq!(req.url, format!("http://127.0.0.1:9{path}"));
            let file = "aws-apprunner.json";
            assert_aws_json(&schema, file, op, &req, "application/x-amz-json-1.0");
        }
    }
}

#[test]
fn every_cloud_run_request_matches_the_v2_discovery_document() {
    let api = gcp::CloudRun::new(&gcp_target(Some("http://127.0.0.1:9")));
    let s = spec(
        &format!("europe-docker.pkg.dev/acme-prod/org/hello@{DIGEST}"),
        None,
    );
    let name = "projects/acme-prod/locations/europe-west1/services/hello-api";
    let requests = [
        (
            "run.projects.locations.services.create",
            api.create(&s),
            "v2/projects/acme-prod/locations/europe-west1/services",
        ),
        (
            "run.projects.locations.services.patch",
            api.update(&s, name),
            &*format!("v2/{name}"),
        ),
        (
            "run.projects.locations.services.get",
            api.get(name),
            &*format!("v2/{name}"),
        ),
        (
            "run.projects.locations.services.delete",
            api.delete(name),
            &*format!("v2/{name}"),
        ),
    ]
    .map(|(op, req, path)| (op, req, path.to_string()));
    let schema = Schema::load("gcp-run-v2.json");
    for (op, req, path) in requests {
        let method = schema.operation(op);
        assert_eq!(req.method, method["http"]["method"], "{op}");
        let url_path = req.url.trim_start_matches("http://127.0.0.1:9/");
        assert_eq!(url_path.split('?').next().unwrap(), path, "{op}");
        assert_eq!(
            unknown_query_params("gcp-run-v2.json", op, &req.url),
            Vec::<String>::new(),
            "{op}"
        );
        match (&req.body, method["input"].as_str()) {
            (Some(body), Some(_)) => assert_operation("gcp-run-v2.json", op, body),
            (None, None) => {}
            (body, input) => panic!("{op}: body {body:?} but the method takes {input:?}"),
        }
    }
}

#[test]
fn every_container_apps_request_matches_the_arm_models() {
    let api = azure::ContainerApps::new(&AzureTarget {
        subscription_id: "00000000-1111-2222-3333-444444444444".into(),
        resource_group: "rg-prod".into(),
        environment_name: "env-prod".into(),
        location: "westeurope".into(),
        cpu: "0.5".into(),
        memory: "1Gi".into(),
        min_replicas: 1,
        max_replicas: 10,
        key_vault_identity: "system".into(),
        health_check_path: "/healthz".into(),
        endpoint: Some("http://127.0.0.1:9".into()),
    });
    let login = RegistryLogin {
        server: "acme.azurecr.io".into(),
        username: "puller".into(),
        password_env: "REGISTRY_PASSWORD".into(),
        password: None,
    };
    let schema = Schema::load("azure-containerapps.json");
    let api_version = schema_api_version("azure-containerapps.json");
    let id = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-prod/providers/Microsoft.App/containerApps/hello-api";
    for login in [None, Some(login)] {
        let s = spec(&format!("acme.azurecr.io/org/hello@{DIGEST}"), login);
        for (op, req) in [
            ("ContainerApps_CreateOrUpdate", api.create(&s)),
            ("ContainerApps_CreateOrUpdate", api.update(&s, id)),
            ("ContainerApps_Get", api.get(id)),
            ("ContainerApps_Delete", api.delete(id)),
        ] {
            assert_eq!(req.method, schema.operation(op)["http"]["method"], "{op}");
            assert_eq!(
                req.url,
                format!("http://127.0.0.1:9{id}?api-version={api_version}")
            );
            if let Some(body) = &req.body {
                assert_operation("azure-containerapps.json", op, body);
            }
        }
    }
}

fn schema_api_version(file: &str) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/tests/schemas/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["source"]["api_version"].as_str().unwrap().to_string()
}

#[test]
fn the_azure_models_are_the_api_version_tau_calls() {
    assert_eq!(
        schema_api_version("azure-containerapps.json"),
        azure::API_VERSION
    );
}

/// The checker itself: each kind of departure is caught, so the tests above can fail.
#[test]
fn the_validator_reports_each_kind_of_departure() {
    let problems = check_operation(
        "aws-apprunner.json",
        "CreateService",
        &json!({
            "ServiceName": "x",
            "SourceConfiguration": {"ImageRepository": {"ImageIdentifier": "docker.io/library/nginx", "ImageRepositoryType": "DOCKERHUB", "ImageConfiguration": {"Port": 8080}}},
            "InstanceConfiguration": {"cpu": "1 vCPU", "Memory": "3 vCPU"},
            "HealthCheckConfiguration": {"Interval": "5"},
        }),
    );
    let expect = [
        "$.ServiceName: \"x\" does not match the pattern",
        "$.ServiceName: length 1 is below the minimum 4",
        "$.SourceConfiguration.ImageRepository.ImageIdentifier: \"docker.io/library/nginx\" does not match",
        "$.SourceConfiguration.ImageRepository.ImageRepositoryType: \"DOCKERHUB\" is not one of",
        "$.SourceConfiguration.ImageRepository.ImageConfiguration.Port: expected string",
        "$.InstanceConfiguration.cpu: unknown member (the schema spells it Cpu)",
        "$.InstanceConfiguration.Memory: \"3 vCPU\" does not match the pattern",
        "$.HealthCheckConfiguration.Interval: expected integer",
    ];
    for e in expect {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "{e} not in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");

    let problems = check_shape(
        "azure-containerapps.json",
        "ContainerApp",
        &json!({"id": "/x", "properties": {"template": {"containers": [{"probes": [{"type": "liveness", "httpGet": {"path": "/"}}]}]}}}),
    );
    for e in [
        "$: required member location is missing",
        "$.id: output-only member sent in a request",
        "$.properties.template.containers[0].probes[0].httpGet: required member port is missing",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "{e} not in {problems:#?}"
        );
    }
    assert_eq!(
        problems.len(),
        3,
        "Azure enums are case-insensitive: {problems:#?}"
    );
    let problems = check_shape(
        "gcp-run-v2.json",
        "GoogleCloudRunV2Service",
        &json!({"uri": "https://x", "template": {"scaling": {"minInstanceCount": "0"}}}),
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(
        unknown_query_params(
            "gcp-run-v2.json",
            "run.projects.locations.services.create",
            "http://h/v2/p?serviceId=a&service_id=b"
        ),
        ["service_id"]
    );
}

#[test]
fn every_schema_file_is_whole_and_its_patterns_compile() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 6, "{files:?}");
    for file in files {
        let schema = Schema::load(&file);
        assert!(
            !schema.source().contains('?'),
            "{file} names no source package and version"
        );
        assert_eq!(
            schema_check::integrity(&file),
            Vec::<String>::new(),
            "{file}"
        );
    }
}

/// The ECS Express Mode shapes are ready for its target: a body in the documented form passes,
/// and the JSON 1.1 API's camelCase members are told apart from App Runner's PascalCase.
#[test]
fn the_ecs_express_schema_checks_create_bodies() {
    let body = json!({
        "serviceName": "hello-api",
        "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForExpressServices",
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "primaryContainer": {"image": format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/hello@{DIGEST}"), "containerPort": 8080,
            "environment": [{"name": "MODE", "value": "prod"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"}]},
        "healthCheckPath": "/healthz",
        "cpu": "1024", "memory": "2048",
        "scalingTarget": {"minTaskCount": 1, "maxTaskCount": 4, "autoScalingMetric": "AVERAGE_CPU", "autoScalingTargetValue": 60},
    });
    assert_operation("aws-ecs-express.json", "CreateExpressGatewayService", &body);
    let problems = check_operation(
        "aws-ecs-express.json",
        "CreateExpressGatewayService",
        &json!({"ServiceName": "x"}),
    );
    assert_eq!(problems, [
        "$: required member infrastructureRoleArn is missing (CreateExpressGatewayServiceRequest)",
        "$.ServiceName: unknown member (the schema spells it serviceName)",
    ], "{problems:#?}");
    let tags = check_shape(
        "aws-apprunner.json",
        "TagList",
        &json!([{"Key": "aws:owner", "Value": "x"}, {"Key": "team", "Value": "y"}]),
    );
    assert_eq!(tags.len(), 1, "look-ahead patterns are checked: {tags:#?}");
    assert_eq!(
        Schema::load("aws-ecs-express.json").operation("CreateExpressGatewayService")["target"],
        "AmazonEC2ContainerServiceV20141113.CreateExpressGatewayService"
    );
}

#[test]
fn every_ecs_express_request_matches_the_botocore_model() {
    let service = EcsExpressTarget {
        cpu: "1024".into(),
        memory: "2048".into(),
        execution_role_arn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into(),
        infrastructure_role_arn:
            "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForExpressServices".into(),
        task_role_arn: Some("arn:aws:iam::123456789012:role/hello-task".into()),
        cluster: Some("prod".into()),
        min_tasks: 1,
        max_tasks: 4,
    };
    let api = ecs::EcsExpress::new(
        &aws_target(AwsService::EcsExpress(service.clone())),
        &service,
    );
    let arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/hello-api";
    let schema = Schema::load("aws-ecs-express.json");
    let image = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/org/hello@{DIGEST}");
    for s in [spec(&image, None), spec_with_refs(&image, SECRET_ARN)] {
        for (op, req) in [
            ("CreateExpressGatewayService", api.create(&s)),
            ("UpdateExpressGatewayService", api.update(&s, arn)),
            ("DescribeExpressGatewayService", api.get(arn)),
            ("DeleteExpressGatewayService", api.delete(arn)),
        ] {
            let file = "aws-ecs-express.json";
            assert_aws_json(&schema, file, op, &req, "application/x-amz-json-1.1");
        }
    }
}

#[test]
fn every_secrets_manager_request_matches_the_botocore_model() {
    let store =
        aws_secrets::SecretsManager::new(&aws_target(AwsService::AppRunner(AppRunnerTarget {
            cpu: "1 vCPU".into(),
            memory: "2 GB".into(),
            ecr_role_arn: "arn:aws:iam::123456789012:role/r".into(),
            instance_role_arn: None,
        })));
    let schema = Schema::load("aws-secretsmanager.json");
    let name = store.name("hello-api", "DB_PASSWORD");
    for value in [
        EnvVar::Secret {
            from: "HELLO_DB_PASSWORD".into(),
            value: None,
        },
        EnvVar::Secret {
            from: "HELLO_DB_PASSWORD".into(),
            value: Some("s3cret-value".into()),
        },
    ] {
        for (op, req) in [
            ("CreateSecret", store.create("hello-api", &name, &value)),
            ("PutSecretValue", store.put(SECRET_ARN, &value)),
            ("DeleteSecret", store.delete(SECRET_ARN)),
        ] {
            let file = "aws-secretsmanager.json";
            assert_aws_json(&schema, file, op, &req, "application/x-amz-json-1.1");
        }
    }
}

#[test]
fn every_secret_manager_request_matches_the_v1_discovery_document() {
    let store = gcp_secrets::SecretManager::new(&gcp_target(None));
    let file = "gcp-secretmanager-v1.json";
    let schema = Schema::load(file);
    let name = store.name("hello-api", "DB_PASSWORD");
    let id = format!("projects/acme-prod/secrets/{name}");
    let value = EnvVar::Secret {
        from: "HELLO_DB_PASSWORD".into(),
        value: Some("s3cret-value".into()),
    };
    for (op, req) in [
        (
            "secretmanager.projects.secrets.create",
            store.create("hello-api", &name, &value),
        ),
        (
            "secretmanager.projects.secrets.addVersion",
            store.put(&id, &value),
        ),
        ("secretmanager.projects.secrets.delete", store.delete(&id)),
    ] {
        let method = schema.operation(op);
        assert_eq!(req.method, method["http"]["method"], "{op}");
        assert_eq!(
            unknown_query_params(file, op, &req.url),
            Vec::<String>::new(),
            "{op}: {}",
            req.url
        );
        match (&req.body, method["input"].as_str()) {
            (Some(body), Some(_)) => assert_operation(file, op, body),
            (None, None) => {}
            (body, input) => panic!("{op}: body {body:?} but the method takes {input:?}"),
        }
    }
}
