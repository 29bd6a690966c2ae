use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::Environment;

fn config() -> Config {
    Config::parse(
        Path::new("/etc/agent.toml"),
        r#"
environment = "dev"
listen = "127.0.0.1:1"
container_name = "rt"
image_repositories = ["127.0.0.1:5000/org/app", "ghcr.io/o/r"]
audit_log = "a"
state_dir = "s"
[volumes]
events = "/var/lib/events"
[[service_tokens]]
client_id = "c"
secret_env = "X"
"#,
    )
    .unwrap()
}

fn request(image: &str) -> DeployRequest {
    DeployRequest {
        container_name: "rt".into(),
        image: image.into(),
        environment: Environment::Dev,
        env: BTreeMap::from([("DATABASE_URL".into(), "postgres://x".into())]),
        volumes: BTreeMap::from([("events".into(), "/var/lib/events".into())]),
    }
}

fn reason(r: DeployRequest) -> String {
    check(&config(), &r).unwrap_err().reason
}

#[test]
fn a_tagged_or_pinned_image_under_an_allowed_repository_passes() {
    for image in [
        "127.0.0.1:5000/org/app:v1.0.0",
        "127.0.0.1:5000/org/app/runtime:v2",
        "ghcr.io/o/r/runtime:sha-abc",
        "ghcr.io/o/r@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ] {
        check(&config(), &request(image)).unwrap_or_else(|e| panic!("{image}: {e:?}"));
    }
}

#[test]
fn latest_and_untagged_images_are_refused() {
    assert!(reason(request("127.0.0.1:5000/org/app:latest")).contains("latest"));
    assert!(reason(request("127.0.0.1:5000/org/app")).contains("no tag or digest"));
}

#[test]
fn a_repository_outside_the_allowed_prefixes_is_refused_even_when_it_shares_a_string_prefix() {
    assert!(reason(request("127.0.0.1:5000/org/application:v1")).contains("not under an allowed"));
    assert!(reason(request("docker.io/library/busybox:1")).contains("not under an allowed"));
}

#[test]
fn the_wrong_container_or_environment_is_refused() {
    let mut r = request("ghcr.io/o/r:v1");
    r.container_name = "other".into();
    assert!(reason(r).contains("container_name"));
    let mut r = request("ghcr.io/o/r:v1");
    r.environment = Environment::Prod;
    let why = reason(r);
    assert!(why.contains("a dev agent never deploys prod"), "{why}");
}

#[test]
fn volumes_must_be_configured_and_at_their_configured_path() {
    let mut r = request("ghcr.io/o/r:v1");
    r.volumes.insert("other".into(), "/x".into());
    assert!(reason(r).contains("not configured"));
    let mut r = request("ghcr.io/o/r:v1");
    r.volumes.insert("events".into(), "/elsewhere".into());
    assert!(reason(r).contains("must be mounted at \"/var/lib/events\""));
}

#[test]
fn a_refusal_never_echoes_env_values() {
    let mut r = request("ghcr.io/o/r:latest");
    r.env.insert("SECRET".into(), "hunter2".into());
    assert!(!reason(r).contains("hunter2"));
}
