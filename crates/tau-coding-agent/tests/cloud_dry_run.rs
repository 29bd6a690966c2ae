//! `tau deploy --dry-run` for every provider: the Dockerfile, the image and each request with its
//! exact body are printed, and nothing is written anywhere, not even in the build context.

mod cloud_support;

use cloud_support::*;
use serde_json::{json, Value};

fn dry_run(target: &str, registry: &str, args: &[&str]) -> (Value, tempfile::TempDir) {
    let dir = project(target, registry);
    let before = tau_testkit::snapshot(dir.path());
    let out = tau_in(dir.path())
        .args([
            "deploy",
            "--dry-run",
            "--json",
            "--engine",
            "unix:///nonexistent/engine.sock",
        ])
        .args(args)
        .env("HELLO_DB_PASSWORD", SECRET_VALUE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(
        !all_output(&out).contains(SECRET_VALUE),
        "a secret value was printed"
    );
    assert_eq!(
        tau_testkit::snapshot(dir.path()),
        before,
        "a dry run wrote a file"
    );
    assert!(!dir.path().join(".tau").exists());
    (json_of(&out), dir)
}

fn calls(doc: &Value) -> Vec<(String, String)> {
    doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["url"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_dry_run_prints_the_reproducible_dockerfile_and_the_context_without_the_ignored_file() {
    let (a, _dir) = dry_run(GCP_TARGET, GCP_REGISTRY, &[]);
    let (b, _dir2) = dry_run(GCP_TARGET, GCP_REGISTRY, &[]);
    assert_eq!(a["build"]["dockerfile"], b["build"]["dockerfile"]);
    assert_eq!(
        a["build"]["context_digest"], b["build"]["context_digest"],
        "same files, same tar bytes"
    );
    let dockerfile = a["build"]["dockerfile"].as_str().unwrap();
    assert!(
        dockerfile.contains("\nUSER 65532:65532\n")
            && dockerfile.contains("\nEXPOSE 8080\n")
            && dockerfile.contains("\nHEALTHCHECK ")
    );
    assert_eq!(
        a["build"]["image"],
        "europe-docker.pkg.dev/org/hello:v1.0.0"
    );
    assert_eq!(
        a["requests"][0]["body"]["files"],
        // Sorted by bytes, scratch.tmp left out by .dockerignore, the generated Dockerfile added.
        json!([".dockerignore", "Dockerfile", "health", "index.html"])
    );
}

#[test]
fn gcp_dry_run_lists_build_push_create_and_get_with_the_cloud_run_body() {
    let (doc, _dir) = dry_run(GCP_TARGET, GCP_REGISTRY, &[]);
    assert_eq!(calls(&doc), [
        ("POST".into(), "unix:///nonexistent/engine.sock/v1.41/build?t=europe-docker.pkg.dev/org/hello:v1.0.0".into()),
        ("POST".into(), "unix:///nonexistent/engine.sock/v1.41/images/europe-docker.pkg.dev/org/hello/push?tag=v1.0.0".into()),
        ("POST".into(), "https://secretmanager.googleapis.com/v1/projects/acme-prod/secrets?secretId=tau-hello-DB_PASSWORD".into()),
        ("POST".into(), "https://secretmanager.googleapis.com/v1/projects/acme-prod/secrets/tau-hello-DB_PASSWORD:addVersion".into()),
        ("POST".into(), "https://run.googleapis.com/v2/projects/acme-prod/locations/europe-west1/services?serviceId=hello".into()),
        ("GET".into(), "https://run.googleapis.com/v2/projects/acme-prod/locations/europe-west1/services/hello".into()),
    ]);
    assert_eq!(
        doc["requests"][3]["body"],
        json!({"payload": {"data": "<secret from $HELLO_DB_PASSWORD>"}})
    );
    let container = &doc["requests"][4]["body"]["template"]["containers"][0];
    assert_eq!(
        container["env"],
        json!([
            {"name": "DB_PASSWORD", "valueSource": {"secretKeyRef": {
                "secret": "projects/acme-prod/secrets/tau-hello-DB_PASSWORD",
                "version": "<the version the addVersion answer names>"}}},
            {"name": "MODE", "value": "prod"},
        ])
    );
    assert_eq!(
        doc["requests"][4]["body"]["template"]["scaling"],
        json!({"minInstanceCount": 0, "maxInstanceCount": 3})
    );
}

#[test]
fn aws_dry_run_shows_the_app_runner_create_service_call() {
    let (doc, _dir) = dry_run(AWS_TARGET, AWS_REGISTRY, &[]);
    let secret = &doc["requests"][2];
    assert_eq!(
        secret["url"],
        "https://secretsmanager.eu-west-1.amazonaws.com/"
    );
    assert_eq!(
        secret["body"]["SecretString"],
        "<secret from $HELLO_DB_PASSWORD>"
    );
    let create = &doc["requests"][3];
    assert_eq!(create["url"], "https://apprunner.eu-west-1.amazonaws.com/");
    assert_eq!(
        create["headers"],
        json!([
            ["content-type", "application/x-amz-json-1.0"],
            ["x-amz-target", "AppRunner.CreateService"]
        ])
    );
    assert_eq!(
        create["body"]["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"],
        format!("{AWS_REGISTRY}/org/hello:v1.0.0")
    );
    assert_eq!(
        create["body"]["InstanceConfiguration"],
        json!({"Cpu": "1 vCPU", "Memory": "2 GB", "InstanceRoleArn": "arn:aws:iam::123456789012:role/AppRunnerInstance"})
    );
    assert_eq!(
        create["body"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"],
        json!({"Port": "8080", "RuntimeEnvironmentVariables": {"MODE": "prod"},
            "RuntimeEnvironmentSecrets": {"DB_PASSWORD": "<ARN of secret tau/hello/DB_PASSWORD from the CreateSecret answer>"}})
    );
}

#[test]
fn ecs_express_dry_run_shows_the_secret_write_and_the_create_express_gateway_service_call() {
    let (doc, _dir) = dry_run(ECS_TARGET, AWS_REGISTRY, &[]);
    let targets: Vec<&str> = doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["headers"].as_array())
        .flatten()
        .filter(|h| h[0] == "x-amz-target")
        .map(|h| h[1].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "secretsmanager.CreateSecret",
            "AmazonEC2ContainerServiceV20141113.CreateExpressGatewayService",
            "AmazonEC2ContainerServiceV20141113.DescribeExpressGatewayService"
        ]
    );
    let create = &doc["requests"][3];
    assert_eq!(create["url"], "https://ecs.eu-west-1.amazonaws.com/");
    assert_eq!(
        create["body"],
        ecs_create_body(
            &format!("{AWS_REGISTRY}/org/hello:v1.0.0"),
            "<ARN of secret tau/hello/DB_PASSWORD from the CreateSecret answer>"
        )
    );
    assert_eq!(
        doc["requests"][4]["body"],
        json!({"serviceArn": "<id from the create answer>"})
    );
}

#[test]
fn a_secret_ref_is_sent_as_a_reference_with_no_secret_manager_write() {
    let dir = project(GCP_TARGET, GCP_REGISTRY);
    let yaml = std::fs::read_to_string(dir.path().join("tau.yaml"))
        .unwrap()
        .replace(
            "{secret_env: HELLO_DB_PASSWORD}",
            "{secret_ref: projects/acme-prod/secrets/db-password/versions/7}",
        );
    std::fs::write(dir.path().join("tau.yaml"), yaml).unwrap();
    let out = tau_in(dir.path())
        .args([
            "deploy",
            "run",
            "--dry-run",
            "--json",
            "--image",
            "europe-docker.pkg.dev/acme-prod/org/hello@sha256:ab",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    let doc = json_of(&out);
    assert_eq!(
        calls(&doc).len(),
        2,
        "create and get only: {:?}",
        calls(&doc)
    );
    assert_eq!(
        doc["requests"][0]["body"]["template"]["containers"][0]["env"][0],
        json!({"name": "DB_PASSWORD", "valueSource": {"secretKeyRef": {"secret": "projects/acme-prod/secrets/db-password", "version": "7"}}})
    );
    // The same reference on aws is refused with the field and the shape aws expects.
    let aws = project(AWS_TARGET, AWS_REGISTRY);
    let yaml = std::fs::read_to_string(aws.path().join("tau.yaml"))
        .unwrap()
        .replace(
            "{secret_env: HELLO_DB_PASSWORD}",
            "{secret_ref: projects/acme-prod/secrets/db-password}",
        );
    std::fs::write(aws.path().join("tau.yaml"), yaml).unwrap();
    let out = tau_in(aws.path())
        .args(["deploy", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let problem = &json_of(&out)["error"]["problems"][0];
    assert_eq!(
        problem["field"],
        "deployment.environment.DB_PASSWORD.secret_ref"
    );
    assert!(problem["expected"]
        .as_str()
        .unwrap()
        .contains("arn:aws:secretsmanager"));
}

#[test]
fn app_runner_with_a_secret_and_no_instance_role_is_refused_with_the_field_named() {
    let target = AWS_TARGET.replace(
        ", instance_role_arn: 'arn:aws:iam::123456789012:role/AppRunnerInstance'",
        "",
    );
    let dir = project(&target, AWS_REGISTRY);
    let out = tau_in(dir.path())
        .args(["deploy", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let problem = &json_of(&out)["error"]["problems"][0];
    assert_eq!(problem["field"], "deployment.target.aws.instance_role_arn");
}

#[test]
fn azure_dry_run_shows_one_idempotent_put_with_the_secret_by_reference() {
    let (doc, _dir) = dry_run(
        AZURE_TARGET,
        AZURE_REGISTRY,
        &[
            "run",
            "--image",
            &format!("{AZURE_REGISTRY}/org/hello@{DIGEST}"),
        ],
    );
    let id = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-prod/providers/Microsoft.App/containerApps/hello";
    assert_eq!(
        calls(&doc),
        [
            (
                "PUT".into(),
                format!("https://management.azure.com{id}?api-version=2024-03-01")
            ),
            (
                "GET".into(),
                format!("https://management.azure.com{id}?api-version=2024-03-01")
            ),
        ]
    );
    let body = &doc["requests"][0]["body"];
    assert_eq!(
        body["properties"]["configuration"]["secrets"],
        json!([{"name": "db-password", "value": "<secret from $HELLO_DB_PASSWORD>"}])
    );
    assert_eq!(
        body["properties"]["template"]["containers"][0]["image"],
        format!("{AZURE_REGISTRY}/org/hello@{DIGEST}")
    );
}

#[test]
fn local_dry_run_shows_the_engine_calls_and_publishes_on_loopback_only() {
    let (doc, _dir) = dry_run(
        "    provider: local\n    local: {host_port: 18099}",
        "127.0.0.1:5000",
        &[],
    );
    let requests = doc["requests"].as_array().unwrap();
    let create = requests
        .iter()
        .find(|r| r["action"] == "create the new container under a temporary name")
        .unwrap();
    assert!(
        create["url"]
            .as_str()
            .unwrap()
            .ends_with("/containers/create?name=tau-deploy-hello.tau-next-<id>"),
        "{create}"
    );
    // A first deploy has nothing to stop; the new container is renamed only after it proved
    // itself.
    let actions: Vec<&str> = requests
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "build the image (the body is the context tar)",
            "push the image",
            "pull the image",
            "create the new container under a temporary name",
            "start the new container, then require it running and healthy",
            "rename the new container"
        ]
    );
    assert_eq!(
        create["body"]["HostConfig"]["PortBindings"]["8080/tcp"],
        json!([{"HostIp": "127.0.0.1", "HostPort": "18099"}])
    );
    assert_eq!(create["body"]["Image"], "127.0.0.1:5000/org/hello:v1.0.0");
}

#[test]
fn text_dry_run_prints_the_dockerfile_and_every_request_for_people() {
    let dir = project(GCP_TARGET, GCP_REGISTRY);
    let out = tau_in(dir.path())
        .args(["deploy", "--dry-run"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", all_output(&out));
    for needle in [
        "dry run: nothing is built",
        "--- Dockerfile (generated) ---",
        "FROM busybox:1.36",
        "image: europe-docker.pkg.dev/org/hello:v1.0.0",
        "--- request 3: create the secret (Secret Manager) ---",
        "--- request 5: create service ---",
        "\"containerPort\": 8080",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn an_invalid_config_lists_every_problem_as_json_with_exit_2() {
    let dir = project("    provider: gcp\n    gcp: {region: Europe}", GCP_REGISTRY);
    let out = tau_in(dir.path())
        .args(["deploy", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = json_of(&out);
    assert_eq!(doc["error"]["code"], "deploy_config_invalid");
    let fields: Vec<&str> = doc["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "deployment.target.gcp.project_id",
            "deployment.target.gcp.region"
        ]
    );
}
