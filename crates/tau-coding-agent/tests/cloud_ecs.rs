//! `tau deploy run|status|destroy` on ECS Express Mode, with its `secret_env` value in Secrets
//! Manager, against a recording server on 127.0.0.1 that plays both AWS APIs (the real ones
//! cannot be reached from here).

mod cloud_support;

use cloud_support::*;
use serde_json::{json, Value};

const SERVICE_ARN: &str = "arn:aws:ecs:eu-west-1:123456789012:service/default/hello";

/// ECS Express: the first describe finds the load balancer still being set up (no endpoint).
fn ecs_express(req: &Recorded, seen: usize) -> (u16, Value) {
    if let Some(answer) = secrets_manager(req) {
        return answer;
    }
    let service = |paths: Value| {
        json!({"service": {"serviceArn": SERVICE_ARN, "serviceName": "hello", "cluster": "default",
            "status": {"statusCode": "ACTIVE"},
            "activeConfigurations": [{"ingressPaths": paths}]}})
    };
    let public = json!([{"accessType": "PUBLIC", "endpoint": "he-1a2b3c.ecs.eu-west-1.on.aws"}]);
    let op = req.headers.get("x-amz-target").map(String::as_str);
    match op.and_then(|t| t.strip_prefix("AmazonEC2ContainerServiceV20141113.")) {
        Some("CreateExpressGatewayService" | "UpdateExpressGatewayService") => {
            (200, service(json!([])))
        }
        Some("DescribeExpressGatewayService") if seen == 0 => (200, service(json!([]))),
        Some("DescribeExpressGatewayService") => (200, service(public)),
        Some("DeleteExpressGatewayService") => (200, service(json!([]))),
        _ => (
            400,
            json!({"__type": "InvalidParameterException", "message": "unknown"}),
        ),
    }
}

fn run(dir: &std::path::Path, envs: &[(&str, &str)], args: &[&str]) -> (Option<i32>, Value) {
    let out = tau_in(dir)
        .arg("deploy")
        .args(args)
        .arg("--json")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(
        !all_output(&out).contains(SECRET_VALUE),
        "the secret was printed"
    );
    (out.status.code(), json_of(&out))
}

fn targets(reqs: &[Recorded]) -> Vec<String> {
    reqs.iter()
        .map(|r| r.headers["x-amz-target"].clone())
        .collect()
}

#[test]
fn ecs_express_full_flow_creates_updates_and_destroys_with_the_secret_by_arn() {
    let server = Recorder::start(ecs_express);
    let dir = project(ECS_TARGET, AWS_REGISTRY);
    let envs = [
        ("TAU_CLOUD_AWS_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_AWS_SECRETS_ENDPOINT", server.base.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTEST"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret-key"),
        ("HELLO_DB_PASSWORD", SECRET_VALUE),
    ];
    let image = format!("{AWS_REGISTRY}/org/hello@{DIGEST}");
    let (code, doc) = run(dir.path(), &envs, &["run", "--image", &image]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        (
            doc["run"]["observed"]["url"].as_str(),
            doc["run"]["observed"]["state"].as_str()
        ),
        (
            Some("https://he-1a2b3c.ecs.eu-west-1.on.aws"),
            Some("ready")
        )
    );
    let reqs = server.requests();
    assert_eq!(
        targets(&reqs),
        [
            "secretsmanager.CreateSecret",
            "AmazonEC2ContainerServiceV20141113.CreateExpressGatewayService",
            "AmazonEC2ContainerServiceV20141113.DescribeExpressGatewayService",
            "AmazonEC2ContainerServiceV20141113.DescribeExpressGatewayService",
        ]
    );
    let create = &reqs[1];
    assert_eq!(create.headers["content-type"], "application/x-amz-json-1.1");
    assert!(
        create.headers["authorization"].contains("/eu-west-1/ecs/aws4_request"),
        "{}",
        create.headers["authorization"]
    );
    assert_eq!(create.json(), ecs_create_body(&image, SECRET_ARN));
    assert_eq!(reqs[2].json(), json!({"serviceArn": SERVICE_ARN}));

    let mark = server.requests().len();
    let (code, doc) = run(dir.path(), &envs, &["run", "--image", &image]);
    assert_eq!(
        (code, doc["run"]["updated"].as_bool()),
        (Some(0), Some(true))
    );
    let again = server.since(mark);
    assert_eq!(
        targets(&again)[..2],
        [
            "secretsmanager.PutSecretValue",
            "AmazonEC2ContainerServiceV20141113.UpdateExpressGatewayService"
        ]
    );
    let update = again[1].json();
    assert_eq!(update["serviceArn"], SERVICE_ARN);
    assert!(update.get("serviceName").is_none() && update.get("infrastructureRoleArn").is_none());

    let (code, doc) = run(dir.path(), &envs, &["status"]);
    assert_eq!(
        (code, doc["status"]["state"].as_str()),
        (Some(0), Some("ready"))
    );

    let mark = server.requests().len();
    let (code, doc) = run(dir.path(), &envs, &["destroy"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        targets(&server.since(mark)),
        [
            "AmazonEC2ContainerServiceV20141113.DeleteExpressGatewayService",
            "secretsmanager.DeleteSecret"
        ]
    );
    for r in server.requests() {
        let write = matches!(
            r.headers["x-amz-target"].as_str(),
            "secretsmanager.CreateSecret" | "secretsmanager.PutSecretValue"
        );
        assert_eq!(
            r.body.contains(SECRET_VALUE),
            write,
            "{}",
            r.headers["x-amz-target"]
        );
    }
    assert!(!all_files_text(&dir.path().join(".tau")).contains(SECRET_VALUE));
    assert!(!all_files_text(&dir.path().join(".tau")).contains(SERVICE_ARN));
}

#[test]
fn a_secret_that_already_existed_gets_the_value_and_survives_destroy() {
    let server = Recorder::start(|req, seen| {
        match req.headers.get("x-amz-target").map(String::as_str) {
            Some("secretsmanager.CreateSecret") => (
                400,
                json!({"__type": "ResourceExistsException", "message": "The operation failed because the secret tau/hello/DB_PASSWORD already exists."}),
            ),
            _ => ecs_express(req, seen),
        }
    });
    let dir = project(ECS_TARGET, AWS_REGISTRY);
    let envs = [
        ("TAU_CLOUD_AWS_ENDPOINT", server.base.as_str()),
        ("TAU_CLOUD_AWS_SECRETS_ENDPOINT", server.base.as_str()),
        ("AWS_ACCESS_KEY_ID", "A"),
        ("AWS_SECRET_ACCESS_KEY", "B"),
        ("HELLO_DB_PASSWORD", SECRET_VALUE),
    ];
    let image = format!("{AWS_REGISTRY}/org/hello@{DIGEST}");
    let (code, doc) = run(dir.path(), &envs, &["run", "--image", &image]);
    assert_eq!(code, Some(0), "{doc}");
    let reqs = server.requests();
    assert_eq!(
        targets(&reqs)[..3],
        [
            "secretsmanager.CreateSecret",
            "secretsmanager.PutSecretValue",
            "AmazonEC2ContainerServiceV20141113.CreateExpressGatewayService"
        ]
    );
    assert_eq!(
        reqs[1].json()["SecretId"],
        "tau/hello/DB_PASSWORD",
        "the existing secret is addressed by name"
    );
    let mark = server.requests().len();
    let (code, doc) = run(dir.path(), &envs, &["destroy"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        targets(&server.since(mark)),
        ["AmazonEC2ContainerServiceV20141113.DeleteExpressGatewayService"],
        "a secret tau did not create is not deleted"
    );
    assert_eq!(doc["secrets"], json!({"deleted": [], "kept": [SECRET_ARN]}));
}
