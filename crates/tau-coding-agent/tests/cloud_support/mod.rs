//! Shared by the `cloud_*` tests: a recording HTTP server on 127.0.0.1 that stands in for a cloud
//! API (it answers from a script and keeps every request), and project directories with a
//! `tau.yaml` for each provider.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::Value;

#[path = "../common/mod.rs"]
pub mod common;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Recorded {
    /// Same method, target and (for AWS JSON APIs, which all POST to `/`) operation.
    fn same_call(&self, other: &Recorded) -> bool {
        self.method == other.method
            && self.target == other.target
            && self.headers.get("x-amz-target") == other.headers.get("x-amz-target")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The answer to a request, given the request and how many earlier requests were the same call (so a status can move from pending to ready).
pub type Script = dyn Fn(&Recorded, usize) -> (u16, Value) + Send + Sync;

pub struct Recorder {
    pub base: String,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    pub fn start(
        script: impl Fn(&Recorded, usize) -> (u16, Value) + Send + Sync + 'static,
    ) -> Recorder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = (log.clone(), script);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let (log, script) = state.clone();
                        async move {
                            let recorded = Recorded {
                                method: method.to_string(),
                                target: uri
                                    .path_and_query()
                                    .map(|p| p.to_string())
                                    .unwrap_or_default(),
                                headers: headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.as_str().to_string(),
                                            v.to_str().unwrap_or("").to_string(),
                                        )
                                    })
                                    .collect(),
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let seen = {
                                let mut log = log.lock().unwrap();
                                let seen = log.iter().filter(|r| r.same_call(&recorded)).count();
                                log.push(recorded.clone());
                                seen
                            };
                            let (status, answer) = script(&recorded, seen);
                            let body = if answer.is_null() {
                                String::new()
                            } else {
                                answer.to_string()
                            };
                            (
                                StatusCode::from_u16(status).unwrap(),
                                [("content-type", "application/json")],
                                body,
                            )
                                .into_response()
                        }
                    },
                );
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Recorder {
            base,
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// The requests after the first `skip` (to look at one command's requests).
    pub fn since(&self, skip: usize) -> Vec<Recorded> {
        self.requests().into_iter().skip(skip).collect()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `tau` in `dir`, with no provider credentials or engine inherited from the developer's shell.
pub fn tau_in(dir: &Path) -> Command {
    let mut cmd = common::tau();
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_")
            || key.starts_with("GOOGLE_")
            || key.starts_with("AZURE_")
            || key.starts_with("OTEL_")
            || key.starts_with("IDENTITY_")
            || key.starts_with("GCE_METADATA")
            || key == "CLOUDSDK_CONFIG"
            || key == "DOCKER_HOST"
        {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir)
        .env("HOME", dir)
        .env("TAU_CLOUD_POLL_MS", "10")
        // No credential chain may reach a link-local metadata address from a test.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_GCE_CHECK", "true")
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
    cmd
}

pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub const SECRET_VALUE: &str = "s3cr3t-value-that-must-not-leak";

/// A project with a small static site and a `tau.yaml` whose target block is `target`.
pub fn project(target: &str, registry: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("site")).unwrap();
    std::fs::write(dir.path().join("site/index.html"), "hello\n").unwrap();
    std::fs::write(dir.path().join("site/health"), "ok\n").unwrap();
    std::fs::write(dir.path().join("site/.dockerignore"), "*.tmp\n").unwrap();
    std::fs::write(dir.path().join("site/scratch.tmp"), "ignored\n").unwrap();
    let yaml = format!(
        "deployment:
  service: hello
  registry: {{url: '{registry}', repository: org/hello, tag_strategy: semver, version: 1.0.0}}
  target:
{target}
  port: 8080
  environment:
    MODE: prod
    DB_PASSWORD: {{secret_env: HELLO_DB_PASSWORD}}
  build: {{context: site, base_image: 'busybox:1.36', command: [httpd, -f, -p, '8080', -h, /app]}}
"
    );
    std::fs::write(dir.path().join("tau.yaml"), yaml).unwrap();
    dir
}

/// A `project` whose base image is the lab registry's `library/busybox:1.36` (the caller pushes
/// it), so a build on the real engine never reaches the internet.
pub fn lab_project(target: &str, registry: &str) -> tempfile::TempDir {
    let dir = project(target, registry);
    let yaml = std::fs::read_to_string(dir.path().join("tau.yaml")).unwrap();
    std::fs::write(
        dir.path().join("tau.yaml"),
        yaml.replace(
            "'busybox:1.36'",
            &format!("'{registry}/library/busybox:1.36'"),
        ),
    )
    .unwrap();
    dir
}

pub const AWS_TARGET: &str = "    provider: aws
    aws: {region: eu-west-1, ecr_role_arn: 'arn:aws:iam::123456789012:role/AppRunnerECRAccess', instance_role_arn: 'arn:aws:iam::123456789012:role/AppRunnerInstance'}";
pub const ECS_TARGET: &str = "    provider: aws
    aws: {service: ecs-express, region: eu-west-1, execution_role_arn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole', infrastructure_role_arn: 'arn:aws:iam::123456789012:role/ecsInfrastructureRole', max_tasks: 4}";
pub const AWS_REGISTRY: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

/// The `CreateExpressGatewayService` body for the `hello` project on [`ECS_TARGET`], running
/// `image` with `DB_PASSWORD` read from the secret `secret_ref`.
pub fn ecs_create_body(image: &str, secret_ref: &str) -> Value {
    serde_json::json!({
        "serviceName": "hello",
        "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "healthCheckPath": "/health",
        "primaryContainer": {
            "image": image,
            "containerPort": 8080,
            "environment": [{"name": "MODE", "value": "prod"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": secret_ref}],
        },
        "cpu": "1024",
        "memory": "2048",
        "scalingTarget": {"minTaskCount": 1, "maxTaskCount": 4},
        "tags": [{"key": "managed-by", "value": "tau"}],
    })
}
pub const GCP_TARGET: &str = "    provider: gcp
    gcp: {project_id: acme-prod, region: europe-west1, max_instances: 3}";
pub const GCP_REGISTRY: &str = "europe-docker.pkg.dev";
pub const AZURE_TARGET: &str = "    provider: azure
    azure: {subscription_id: 00000000-1111-2222-3333-444444444444, resource_group: rg-prod, environment_name: env-prod, location: westeurope}";
pub const AZURE_REGISTRY: &str = "acme.azurecr.io";
pub const DIGEST: &str = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

/// The ARN Secrets Manager answers for `tau/hello/DB_PASSWORD` (with its random suffix).
pub const SECRET_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tau/hello/DB_PASSWORD-Xy12Zw";

/// Secrets Manager's part of an AWS script: `None` for requests to other AWS APIs.
pub fn secrets_manager(req: &Recorded) -> Option<(u16, Value)> {
    let op = req
        .headers
        .get("x-amz-target")?
        .strip_prefix("secretsmanager.")?;
    let answer =
        serde_json::json!({"ARN": SECRET_ARN, "Name": "tau/hello/DB_PASSWORD", "VersionId": "v1"});
    Some(match op {
        "CreateSecret" | "PutSecretValue" => (200, answer),
        "DeleteSecret" => (
            200,
            serde_json::json!({"ARN": SECRET_ARN, "Name": "tau/hello/DB_PASSWORD"}),
        ),
        _ => (
            400,
            serde_json::json!({"__type": "InvalidAction", "message": "unknown"}),
        ),
    })
}

pub const GCP_SECRET: &str = "projects/acme-prod/secrets/tau-hello-DB_PASSWORD";

/// Secret Manager's part of a Google script: `None` for requests to other APIs. Versions count
/// up with each addVersion.
pub fn secret_manager(req: &Recorded, seen: usize) -> Option<(u16, Value)> {
    if !req.target.starts_with("/v1/projects/acme-prod/secrets") {
        return None;
    }
    Some(match req.method.as_str() {
        "POST" if req.target.ends_with(":addVersion") => (
            200,
            serde_json::json!({"name": format!("projects/314159/secrets/tau-hello-DB_PASSWORD/versions/{}", seen + 1), "state": "ENABLED"}),
        ),
        "POST" => (
            200,
            serde_json::json!({"name": "projects/314159/secrets/tau-hello-DB_PASSWORD", "replication": {"automatic": {}}}),
        ),
        "DELETE" => (200, serde_json::json!({})),
        _ => (
            404,
            serde_json::json!({"error": {"code": 404, "message": "not found"}}),
        ),
    })
}

/// Every file under `dir`, read as text (lossy), for leak checks.
pub fn all_files_text(dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.push_str(&all_files_text(&path));
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    out
}
