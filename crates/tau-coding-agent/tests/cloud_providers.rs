//! `tau deploy run|status|destroy` against AWS App Runner, Cloud Run and Container Apps, played
//! by a recording server on 127.0.0.1 (the real services cannot be reached from here). Each test
//! checks the exact requests: method, path, the headers that matter, and the JSON body.

mod cloud_support;

use cloud_support::*;
use serde_json::{json, Value};

fn run(
    dir: &std::path::Path,
    envs: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, Value, String) {
    let out = tau_in(dir)
        .args(["deploy"])
        .args(args)
        .arg("--json")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let text = all_output(&out);
    (out.status.code(), json_of(&out), text)
}

/// `tau deploy run --image IMAGE --json`.
fn run_image(
    dir: &std::path::Path,
    envs: &[(&str, &str)],
    image: &str,
) -> (Option<i32>, Value, String) {
    run(dir, envs, &["run", "--image", image])
}

/// The pushed image each provider's test deploys, by digest.
fn aws_image() -> String {
    format!("{AWS_REGISTRY}/org/hello@{DIGEST}")
}

fn gcp_image() -> String {
    format!("{GCP_REGISTRY}/acme-prod/org/hello@{DIGEST}")
}

fn azure_image() -> String {
    format!("{AZURE_REGISTRY}/org/hello@{DIGEST}")
}

fn records(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join(".tau/deployments.json")).unwrap_or_default()
}

const ARN: &str =
    "arn:aws:apprunner:eu-west-1:123456789012:service/hello/8fe1e10304f84fd2b0df550fe98a71fa";

fn app_runner(req: &Recorded, seen: usize) -> (u16, Value) {
    if let Some(answer) = secrets_manager(req) {
        return answer;
    }
    let service = |status: &str| json!({"Service": {"ServiceArn": ARN, "ServiceName": "hello", "ServiceUrl": "h8x2.eu-west-1.awsapprunner.com", "Status": status}, "OperationId": "op-1"});
    match req.headers.get("x-amz-target").map(String::as_str) {
        Some("AppRunner.CreateService" | "AppRunner.UpdateService" | "AppRunner.DeleteService") => {
            (200, service("OPERATION_IN_PROGRESS"))
        }
        // The first describe after each of the two deploys finds the operation still going.
        Some("AppRunner.DescribeService") if seen < 4 && seen.is_multiple_of(2) => {
            (200, service("OPERATION_IN_PROGRESS"))
        }
        Some("AppRunner.DescribeService") => (200, service("RUNNING")),
        _ => (
            400,
            json!({"__type": "InvalidAction", "message": "unknown"}),
        ),
    }
}

#[test]
fn aws_app_runner_full_flow_signs_requests_and_updates_in_place() {
    let server = Recorder::start(app_runner);
    let dir = project(AWS_TARGET, AWS_REGISTRY);
    let envs = [
        ("TAU_CLOUD_AWS_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_AWS_SECRETS_ENDPOINT", server.base.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTEST"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret-key"),
        ("AWS_SESSION_TOKEN", "test-session-token"),
        ("HELLO_DB_PASSWORD", SECRET_VALUE),
    ];
    let image = aws_image();
    let (code, doc, text) = run_image(dir.path(), &envs, &image);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        doc["run"]["observed"]["url"],
        "https://h8x2.eu-west-1.awsapprunner.com"
    );
    assert_eq!(doc["run"]["observed"]["state"], "ready");

    let reqs = server.requests();
    let targets: Vec<&str> = reqs
        .iter()
        .map(|r| r.headers["x-amz-target"].as_str())
        .collect();
    assert_eq!(
        targets,
        [
            "secretsmanager.CreateSecret",
            "AppRunner.CreateService",
            "AppRunner.DescribeService",
            "AppRunner.DescribeService"
        ]
    );
    let secret = reqs[0].json();
    assert_eq!(
        (
            secret["Name"].as_str(),
            secret["SecretString"].as_str(),
            reqs[0].headers["content-type"].as_str()
        ),
        (
            Some("tau/hello/DB_PASSWORD"),
            Some(SECRET_VALUE),
            "application/x-amz-json-1.1"
        )
    );
    assert!(
        reqs[0].headers["authorization"].contains("/eu-west-1/secretsmanager/aws4_request"),
        "Secrets Manager requests are signed for secretsmanager"
    );
    let create = &reqs[1];
    assert_eq!(
        (create.method.as_str(), create.target.as_str()),
        ("POST", "/")
    );
    assert_eq!(create.headers["content-type"], "application/x-amz-json-1.0");
    let auth = &create.headers["authorization"];
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTESTTESTTEST/")
            && auth.contains("/eu-west-1/apprunner/aws4_request"),
        "{auth}"
    );
    assert!(
        auth.contains("SignedHeaders=") && auth.contains("x-amz-target"),
        "the operation header must be signed: {auth}"
    );
    assert_eq!(create.headers["x-amz-security-token"], "test-session-token");
    assert!(create.headers.contains_key("x-amz-date"));
    assert_eq!(
        create.json(),
        json!({
            "ServiceName": "hello",
            "SourceConfiguration": {
                "ImageRepository": {
                    "ImageIdentifier": image,
                    "ImageRepositoryType": "ECR",
                    "ImageConfiguration": {"Port": "8080", "RuntimeEnvironmentVariables": {"MODE": "prod"},
                        "RuntimeEnvironmentSecrets": {"DB_PASSWORD": SECRET_ARN}},
                },
                "AutoDeploymentsEnabled": false,
                "AuthenticationConfiguration": {"AccessRoleArn": "arn:aws:iam::123456789012:role/AppRunnerECRAccess"},
            },
            "InstanceConfiguration": {"Cpu": "1 vCPU", "Memory": "2 GB", "InstanceRoleArn": "arn:aws:iam::123456789012:role/AppRunnerInstance"},
            "HealthCheckConfiguration": {"Protocol": "HTTP", "Path": "/health"},
        })
    );
    assert_eq!(reqs[2].json(), json!({"ServiceArn": ARN}));
    assert_eq!(doc["run"]["secrets"], json!([SECRET_ARN]));
    assert!(
        !text.contains(SECRET_VALUE) && !records(dir.path()).contains(SECRET_VALUE),
        "the secret leaked into output or records"
    );
    assert!(records(dir.path()).contains(ARN) && records(dir.path()).contains(DIGEST));

    // A second run updates the recorded service instead of failing on the taken name.
    let mark = server.requests().len();
    let (code, doc, text) = run_image(dir.path(), &envs, &image);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(doc["run"]["updated"], true);
    let put = &server.since(mark)[0];
    assert_eq!(put.headers["x-amz-target"], "secretsmanager.PutSecretValue");
    assert_eq!(
        put.json()["SecretId"],
        SECRET_ARN,
        "the recorded secret gets the new value"
    );
    let update = &server.since(mark)[1];
    assert_eq!(update.headers["x-amz-target"], "AppRunner.UpdateService");
    assert_eq!(update.json()["ServiceArn"], ARN);
    assert!(
        update.json().get("ServiceName").is_none(),
        "UpdateService takes no ServiceName"
    );

    let (code, doc, _) = run(dir.path(), &envs, &["status"]);
    assert_eq!(
        (code, doc["status"]["state"].as_str()),
        (Some(0), Some("ready"))
    );

    let mark = server.requests().len();
    let (code, doc, text) = run(dir.path(), &envs, &["destroy"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(doc["destroy"]["service_id"], ARN);
    let deletes: Vec<(String, Value)> = server
        .since(mark)
        .iter()
        .map(|r| (r.headers["x-amz-target"].clone(), r.json()))
        .collect();
    assert_eq!(
        deletes,
        [
            (
                "AppRunner.DeleteService".to_string(),
                json!({"ServiceArn": ARN})
            ),
            (
                "secretsmanager.DeleteSecret".to_string(),
                json!({"SecretId": SECRET_ARN, "ForceDeleteWithoutRecovery": true})
            ),
        ]
    );
    assert_eq!(doc["secrets"]["deleted"], json!([SECRET_ARN]));
    // The value went to Secrets Manager only: no other request and no file under .tau has it.
    for r in server.requests() {
        let is_secret_write = matches!(
            r.headers["x-amz-target"].as_str(),
            "secretsmanager.CreateSecret" | "secretsmanager.PutSecretValue"
        );
        assert_eq!(
            r.body.contains(SECRET_VALUE) || r.target.contains(SECRET_VALUE),
            is_secret_write,
            "{} {}",
            r.headers["x-amz-target"],
            r.body
        );
    }
    assert!(!all_files_text(&dir.path().join(".tau")).contains(SECRET_VALUE));
    assert!(
        !records(dir.path()).contains(ARN),
        "the record outlived the service"
    );
}

#[test]
fn missing_aws_credentials_are_named_with_a_remedy_and_nothing_is_sent() {
    let server = Recorder::start(app_runner);
    let dir = project(AWS_TARGET, AWS_REGISTRY);
    let image = aws_image();
    let envs = [
        ("TAU_CLOUD_AWS_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_AWS_SECRETS_ENDPOINT", server.base.as_str()),
        ("HELLO_DB_PASSWORD", "x"),
    ];
    let (code, doc, _) = run_image(dir.path(), &envs, &image);
    assert_eq!(code, Some(2));
    assert_eq!(doc["error"]["code"], "credentials_missing");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("AWS_ACCESS_KEY_ID") && message.contains("aws configure"),
        "{message}"
    );
    assert!(server.requests().is_empty());
    assert!(!dir.path().join(".tau/deployments.json").exists());
}

#[test]
fn a_missing_secret_variable_is_named_and_its_service_is_not_touched() {
    let server = Recorder::start(app_runner);
    let dir = project(AWS_TARGET, AWS_REGISTRY);
    let envs = [
        ("TAU_CLOUD_AWS_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_AWS_SECRETS_ENDPOINT", server.base.as_str()),
        ("AWS_ACCESS_KEY_ID", "A"),
        ("AWS_SECRET_ACCESS_KEY", "B"),
    ];
    let (code, doc, _) = run_image(dir.path(), &envs, &aws_image());
    assert_eq!(
        (
            code,
            doc["error"]["code"].as_str(),
            doc["error"]["variable"].as_str()
        ),
        (Some(2), Some("secret_missing"), Some("HELLO_DB_PASSWORD"))
    );
    assert!(server.requests().is_empty());
}

const RUN_NAME: &str = "projects/acme-prod/locations/europe-west1/services/hello";

fn cloud_run(req: &Recorded, seen: usize) -> (u16, Value) {
    if let Some(answer) = secret_manager(req, seen) {
        return answer;
    }
    let operation =
        json!({"name": "projects/acme-prod/locations/europe-west1/operations/op-1", "done": false});
    match (req.method.as_str(), req.target.as_str()) {
        ("POST", "/token") => (
            200,
            json!({"access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"}),
        ),
        ("POST", t)
            if t.starts_with(
                "/v2/projects/acme-prod/locations/europe-west1/services?serviceId=",
            ) =>
        {
            (200, operation)
        }
        ("PATCH" | "DELETE", _) => (200, operation),
        ("GET", _) => (
            200,
            json!({"name": RUN_NAME, "uri": "https://hello-3x7q-ew.a.run.app", "reconciling": false,
            "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"}}),
        ),
        _ => (
            404,
            json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
        ),
    }
}

#[test]
fn gcp_cloud_run_full_flow_with_application_default_credentials() {
    let server = Recorder::start(cloud_run);
    let dir = project(GCP_TARGET, GCP_REGISTRY);
    let adc = dir.path().join("adc.json");
    std::fs::write(&adc, json!({"type": "authorized_user", "client_id": "cid.apps.googleusercontent.com", "client_secret": "csecret",
        "refresh_token": "1//refresh", "token_uri": format!("{}/token", server.base)}).to_string()).unwrap();
    let envs = [
        ("TAU_CLOUD_GCP_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_GCP_SECRETS_ENDPOINT", server.base.as_str()),
        ("GOOGLE_APPLICATION_CREDENTIALS", adc.to_str().unwrap()),
        ("HELLO_DB_PASSWORD", SECRET_VALUE),
    ];
    let image = gcp_image();
    let (code, doc, text) = run_image(dir.path(), &envs, &image);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        doc["run"]["observed"]["url"],
        "https://hello-3x7q-ew.a.run.app"
    );

    let reqs = server.requests();
    assert_eq!(reqs[0].target, "/token");
    assert_eq!(
        reqs[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(reqs[0].body, "grant_type=refresh_token&client_id=cid.apps.googleusercontent.com&client_secret=csecret&refresh_token=1%2F%2Frefresh");
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].target.as_str()),
        (
            "POST",
            "/v1/projects/acme-prod/secrets?secretId=tau-hello-DB_PASSWORD"
        )
    );
    assert_eq!(
        reqs[1].json(),
        json!({"replication": {"automatic": {}}, "labels": {"managed-by": "tau", "tau-service": "hello"}})
    );
    assert_eq!(reqs[2].target, format!("/v1/{GCP_SECRET}:addVersion"));
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET_VALUE);
    assert_eq!(reqs[2].json(), json!({"payload": {"data": b64}}));
    assert_eq!(reqs[2].headers["authorization"], "Bearer ya29.test-token");
    let create = &reqs[3];
    assert_eq!(
        (create.method.as_str(), create.target.as_str()),
        (
            "POST",
            "/v2/projects/acme-prod/locations/europe-west1/services?serviceId=hello"
        )
    );
    assert_eq!(create.headers["authorization"], "Bearer ya29.test-token");
    let probe = json!({"httpGet": {"path": "/health", "port": 8080}});
    assert_eq!(
        create.json(),
        json!({"template": {
            "containers": [{
                "image": image,
                "ports": [{"containerPort": 8080}],
                "env": [{"name": "DB_PASSWORD", "valueSource": {"secretKeyRef": {"secret": GCP_SECRET, "version": "1"}}}, {"name": "MODE", "value": "prod"}],
                "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}},
                "startupProbe": probe, "livenessProbe": probe,
            }],
            "scaling": {"minInstanceCount": 0, "maxInstanceCount": 3},
            "maxInstanceRequestConcurrency": 80,
        }})
    );
    assert_eq!(
        (reqs[4].method.as_str(), reqs[4].target.as_str()),
        ("GET", format!("/v2/{RUN_NAME}").as_str())
    );
    assert!(!text.contains(SECRET_VALUE) && !records(dir.path()).contains(SECRET_VALUE));

    let mark = server.requests().len();
    let (code, _, text) = run_image(dir.path(), &envs, &image);
    assert_eq!(code, Some(0), "{text}");
    let patch = server
        .since(mark)
        .into_iter()
        .find(|r| r.method != "POST")
        .unwrap();
    assert_eq!(
        (patch.method.as_str(), patch.target.as_str()),
        ("PATCH", format!("/v2/{RUN_NAME}").as_str())
    );
    // The update pins the version the second addVersion answered.
    assert_eq!(
        patch.json()["template"]["containers"][0]["env"][0]["valueSource"]["secretKeyRef"],
        json!({"secret": GCP_SECRET, "version": "2"})
    );

    let mark = server.requests().len();
    let (code, _, text) = run(dir.path(), &envs, &["destroy"]);
    assert_eq!(code, Some(0), "{text}");
    let deletes: Vec<(String, String)> = server
        .since(mark)
        .into_iter()
        .filter(|r| r.method != "POST")
        .map(|r| (r.method, r.target))
        .collect();
    assert_eq!(
        deletes,
        [
            ("DELETE".to_string(), format!("/v2/{RUN_NAME}")),
            ("DELETE".to_string(), format!("/v1/{GCP_SECRET}")),
        ]
    );
    for r in server.requests() {
        assert_eq!(
            r.body.contains(&b64) || r.body.contains(SECRET_VALUE),
            r.target.ends_with(":addVersion"),
            "the value is only in the addVersion payload: {} {}",
            r.method,
            r.target
        );
    }
    assert!(!all_files_text(&dir.path().join(".tau")).contains(SECRET_VALUE));
}

#[test]
fn gcp_create_on_an_existing_service_turns_into_an_update() {
    let server = Recorder::start(|req, seen| {
        match (
            req.method.as_str(),
            req.target
                .starts_with("/v2/projects/acme-prod/locations/europe-west1/services?"),
        ) {
            ("POST", true) => (
                409,
                json!({"error": {"code": 409, "message": "Resource 'hello' already exists.", "status": "ALREADY_EXISTS"}}),
            ),
            _ => cloud_run(req, seen),
        }
    });
    let dir = project(GCP_TARGET, GCP_REGISTRY);
    let envs = [
        ("TAU_CLOUD_GCP_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_GCP_SECRETS_ENDPOINT", server.base.as_str()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.direct"),
        ("HELLO_DB_PASSWORD", "x"),
    ];
    let (code, _, text) = run_image(dir.path(), &envs, &gcp_image());
    assert_eq!(code, Some(0), "{text}");
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "POST", "POST", "PATCH", "GET"]);
    assert_eq!(
        server.requests()[3].headers["authorization"],
        "Bearer ya29.direct"
    );
}

#[test]
fn a_provider_refusal_is_reported_with_its_message_and_no_record_is_written() {
    let server = Recorder::start(|_, _| {
        (
            403,
            json!({"error": {"code": 403, "message": "Permission 'run.services.create' denied", "status": "PERMISSION_DENIED"}}),
        )
    });
    let dir = project(GCP_TARGET, GCP_REGISTRY);
    let envs = [
        ("TAU_CLOUD_GCP_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_GCP_SECRETS_ENDPOINT", server.base.as_str()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", "t"),
        ("HELLO_DB_PASSWORD", "x"),
    ];
    let (code, doc, _) = run_image(dir.path(), &envs, &gcp_image());
    assert_eq!(
        (
            code,
            doc["error"]["code"].as_str(),
            doc["error"]["http_status"].as_u64()
        ),
        (Some(2), Some("provider_api_error"), Some(403))
    );
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("run.services.create"));
    assert!(!dir.path().join(".tau/deployments.json").exists());
}

const APP_ID: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-prod/providers/Microsoft.App/containerApps/hello";

fn container_apps(req: &Recorded, _seen: usize) -> (u16, Value) {
    let app = |state: &str| {
        json!({"id": APP_ID, "name": "hello", "properties": {"provisioningState": state,
        "configuration": {"ingress": {"fqdn": "hello.kindrock-1a2b3c.westeurope.azurecontainerapps.io"}}}})
    };
    match req.method.as_str() {
        "POST" => (
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ.azure.token"}),
        ),
        "PUT" => (201, app("InProgress")),
        "GET" => (200, app("Succeeded")),
        "DELETE" => (202, Value::Null),
        _ => (405, Value::Null),
    }
}

#[test]
fn azure_container_apps_full_flow_with_the_environment_credential() {
    let server = Recorder::start(container_apps);
    let dir = project(AZURE_TARGET, AZURE_REGISTRY);
    let envs = [
        ("TAU_CLOUD_AZURE_ENDPOINT", server.base.as_str()),
        ("AZURE_AUTHORITY_HOST", server.base.as_str()),
        ("AZURE_TENANT_ID", "tenant-1"),
        ("AZURE_CLIENT_ID", "client-1"),
        ("AZURE_CLIENT_SECRET", "client-secret"),
        ("HELLO_DB_PASSWORD", SECRET_VALUE),
    ];
    let image = azure_image();
    let (code, doc, text) = run_image(dir.path(), &envs, &image);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        doc["run"]["observed"]["url"],
        "https://hello.kindrock-1a2b3c.westeurope.azurecontainerapps.io"
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].target, "/tenant-1/oauth2/v2.0/token");
    assert_eq!(reqs[0].body, "grant_type=client_credentials&client_id=client-1&client_secret=client-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
    let put = &reqs[1];
    assert_eq!(
        (put.method.as_str(), put.target.as_str()),
        ("PUT", format!("{APP_ID}?api-version=2024-03-01").as_str())
    );
    assert_eq!(put.headers["authorization"], "Bearer eyJ.azure.token");
    let probe = json!([{"type": "Liveness", "httpGet": {"path": "/health", "port": 8080}}]);
    assert_eq!(
        put.json(),
        json!({
            "location": "westeurope",
            "properties": {
                "environmentId": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-prod/providers/Microsoft.App/managedEnvironments/env-prod",
                "configuration": {
                    "activeRevisionsMode": "Single",
                    "ingress": {"external": true, "targetPort": 8080, "transport": "auto"},
                    "secrets": [{"name": "db-password", "value": SECRET_VALUE}],
                    "registries": [],
                },
                "template": {
                    "containers": [{
                        "name": "hello",
                        "image": image,
                        "env": [{"name": "DB_PASSWORD", "secretRef": "db-password"}, {"name": "MODE", "value": "prod"}],
                        "resources": {"cpu": 0.5, "memory": "1Gi"},
                        "probes": probe,
                    }],
                    "scale": {"minReplicas": 1, "maxReplicas": 10},
                },
            },
        })
    );
    assert!(!text.contains(SECRET_VALUE) && !records(dir.path()).contains(SECRET_VALUE));

    let (code, doc, _) = run(dir.path(), &envs, &["status"]);
    assert_eq!(
        (code, doc["status"]["state"].as_str()),
        (Some(0), Some("ready"))
    );
    let mark = server.requests().len();
    let (code, _, text) = run(dir.path(), &envs, &["destroy"]);
    assert_eq!(code, Some(0), "{text}");
    let delete = server
        .since(mark)
        .into_iter()
        .find(|r| r.method == "DELETE")
        .unwrap();
    assert_eq!(delete.target, format!("{APP_ID}?api-version=2024-03-01"));
    let (code, doc, _) = run(dir.path(), &envs, &["status"]);
    assert_eq!(
        (code, doc["error"]["code"].as_str()),
        (Some(2), Some("not_deployed"))
    );
}

#[test]
fn deploy_spans_are_exported_over_otlp_when_the_endpoint_is_set() {
    let server = Recorder::start(|req, seen| match req.target.as_str() {
        "/v1/traces" => (200, Value::Null),
        _ => app_runner(req, seen),
    });
    let dir = project(AWS_TARGET, AWS_REGISTRY);
    let envs = [
        ("TAU_CLOUD_AWS_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_AWS_SECRETS_ENDPOINT", server.base.as_str()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", server.base.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTEST"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret-key"),
        ("HELLO_DB_PASSWORD", SECRET_VALUE),
    ];
    let (code, _, text) = run_image(dir.path(), &envs, &aws_image());
    assert_eq!(code, Some(0), "{text}");
    let exports: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.target == "/v1/traces")
        .collect();
    assert!(!exports.is_empty(), "no OTLP export reached the collector");
    assert_eq!(exports[0].method, "POST");
    assert_eq!(exports[0].headers["content-type"], "application/x-protobuf");
    let body: String = exports.iter().map(|r| r.body.clone()).collect();
    // Protobuf keeps strings as UTF-8 bytes: the span name is readable in the payload.
    assert!(
        body.contains("deploy.run"),
        "the deploy.run span was not exported"
    );
    assert!(!body.contains(SECRET_VALUE), "a secret reached the trace");
}

#[test]
fn without_an_otlp_endpoint_nothing_is_exported() {
    let server = Recorder::start(|req, seen| match req.target.as_str() {
        "/v1/traces" => (200, Value::Null),
        _ => app_runner(req, seen),
    });
    let dir = project(AWS_TARGET, AWS_REGISTRY);
    let envs = [
        ("TAU_CLOUD_AWS_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_AWS_SECRETS_ENDPOINT", server.base.as_str()),
        ("AWS_ACCESS_KEY_ID", "A"),
        ("AWS_SECRET_ACCESS_KEY", "B"),
        ("HELLO_DB_PASSWORD", "x"),
    ];
    let (code, _, text) = run_image(dir.path(), &envs, &aws_image());
    assert_eq!(code, Some(0), "{text}");
    assert!(server.requests().iter().all(|r| r.target != "/v1/traces"));
}

#[test]
fn a_service_still_pending_after_the_wait_is_refused_with_exit_3_but_recorded() {
    let server = Recorder::start(|req, _| match req.method.as_str() {
        "GET" => (
            200,
            json!({"name": RUN_NAME, "reconciling": true, "terminalCondition": {"type": "Ready", "state": "CONDITION_RECONCILING"}}),
        ),
        _ => cloud_run(req, 0),
    });
    let dir = project(GCP_TARGET, GCP_REGISTRY);
    let envs = [
        ("TAU_CLOUD_GCP_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_GCP_SECRETS_ENDPOINT", server.base.as_str()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", "t"),
        ("HELLO_DB_PASSWORD", "x"),
    ];
    let image = gcp_image();
    let (code, doc, _) = run(
        dir.path(),
        &envs,
        &["run", "--image", &image, "--wait-secs", "0"],
    );
    assert_eq!(
        (code, doc["error"]["code"].as_str()),
        (Some(3), Some("deploy_not_ready"))
    );
    // The service exists on the provider, so its record is kept for status and destroy.
    assert!(records(dir.path()).contains(RUN_NAME));
}

#[test]
fn quiet_prints_nothing_and_verbose_lists_each_request_on_stderr() {
    let server = Recorder::start(cloud_run);
    let dir = project(GCP_TARGET, GCP_REGISTRY);
    let image = gcp_image();
    let base = |args: &[&str]| {
        tau_in(dir.path())
            .args(["deploy", "run", "--image", &image])
            .args(args)
            .env("TAU_CLOUD_GCP_ENDPOINT", &server.base)
            .env("TAU_CLOUD_GCP_SECRETS_ENDPOINT", &server.base)
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", "t")
            .env("HELLO_DB_PASSWORD", SECRET_VALUE)
            .output()
            .unwrap()
    };
    let quiet = base(&["-q"]);
    assert!(
        quiet.status.success() && quiet.stdout.is_empty(),
        "{}",
        all_output(&quiet)
    );
    let verbose = base(&["-v"]);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(verbose.status.success());
    assert!(
        stderr.contains(&format!(
            "-> PATCH {}/v2/{RUN_NAME} (update service)",
            server.base
        )),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&verbose.stdout)
        .starts_with("updated hello on gcp: https://hello-3x7q-ew.a.run.app"));
    assert!(!all_output(&verbose).contains(SECRET_VALUE) && !stderr.contains("Bearer"));
}
