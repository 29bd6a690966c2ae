//! `tau deploy` on the `local` target against a real Podman engine and registry (the test lab):
//! build from the generated Dockerfile on a base image pushed to the registry first, push
//! (the record keeps the registry's digest), run, status, update in place, destroy.

mod cloud_support;

use std::io::{Read, Write};

use cloud_support::*;
use serde_json::Value;
use tau_testkit::engine::Lab;

fn deploy(lab: &Lab, dir: &std::path::Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = tau_in(dir)
        .arg("deploy")
        .args(args)
        .args([
            "--json",
            "--engine",
            &lab.docker_host(),
            "--wait-secs",
            "60",
        ])
        .env("HELLO_DB_PASSWORD", SECRET_VALUE)
        .output()
        .unwrap();
    (out.status.code(), json_of(&out), all_output(&out))
}

fn get(url: &str, path: &str) -> String {
    let addr = url.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn local_build_push_run_status_update_and_destroy_on_the_real_engine() {
    let Some(lab) = Lab::start() else { return };
    let registry = lab.registry();
    lab.push_busybox("library/busybox", "1.36", &["sh"]);
    let dir = lab_project("    provider: local\n    local: {host_port: 0}", &registry);
    let context_before = tau_testkit::snapshot(&dir.path().join("site"));

    let (code, doc, text) = deploy(&lab, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    let digest = doc["push"]["digest"].as_str().unwrap().to_string();
    assert_eq!(
        Some(digest.clone()),
        lab.manifest_digest("org/hello", "v1.0.0"),
        "the digest reported must be the registry's"
    );
    assert_ne!(
        doc["build"]["image_id"].as_str(),
        Some(digest.as_str()),
        "the engine's image id is not the registry digest"
    );
    assert_eq!(doc["run"]["observed"]["state"], "ready", "{doc}");
    let url = doc["run"]["observed"]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(get(&url, "/index.html").contains("hello"));
    assert_eq!(
        tau_testkit::snapshot(&dir.path().join("site")),
        context_before,
        "the build wrote into the context"
    );

    let records = std::fs::read_to_string(dir.path().join(".tau/deployments.json")).unwrap();
    let records: Value = serde_json::from_str(&records).unwrap();
    let record = &records["deployments"]["local/hello"];
    assert_eq!(record["image_digest"], digest.as_str());
    assert_eq!(record["service_id"], "tau-deploy-hello");
    assert!(!records.to_string().contains(SECRET_VALUE));
    // The secret reached the container's environment, and only there.
    let env = lab.podman_ok(&["exec", "tau-deploy-hello", "env"]);
    assert!(env.contains(&format!("DB_PASSWORD={SECRET_VALUE}")) && env.contains("MODE=prod"));
    let user = lab.podman_ok(&["exec", "tau-deploy-hello", "id", "-u"]);
    assert_eq!(
        user.trim(),
        "65532",
        "the service must run as the numeric non-root user"
    );

    let (code, doc, text) = deploy(&lab, dir.path(), &["status"]);
    assert_eq!(
        (code, doc["status"]["state"].as_str()),
        (Some(0), Some("ready")),
        "{text}"
    );

    let (code, doc, text) = deploy(&lab, dir.path(), &["run"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        (
            doc["run"]["updated"].as_bool(),
            doc["run"]["observed"]["url"].as_str()
        ),
        (Some(true), Some(url.as_str())),
        "an update keeps the port"
    );

    let (code, _, text) = deploy(&lab, dir.path(), &["destroy"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        !lab.podman(&["container", "exists", "tau-deploy-hello"])
            .status
            .success(),
        "the container is still there"
    );
    let (code, doc, _) = deploy(&lab, dir.path(), &["status"]);
    assert_eq!(
        (code, doc["error"]["code"].as_str()),
        (Some(2), Some("not_deployed"))
    );
}

#[test]
fn a_failing_build_step_reports_the_engine_error_and_records_nothing() {
    let Some(lab) = Lab::start() else { return };
    let dir = project("    provider: local", &lab.registry());
    // A base image that is in no registry the lab knows.
    let yaml = std::fs::read_to_string(dir.path().join("tau.yaml")).unwrap();
    std::fs::write(
        dir.path().join("tau.yaml"),
        yaml.replace(
            "'busybox:1.36'",
            &format!("'{}/library/absent:0.0.1'", lab.registry()),
        ),
    )
    .unwrap();
    let (code, doc, text) = deploy(&lab, dir.path(), &[]);
    assert_eq!(
        (code, doc["error"]["code"].as_str()),
        (Some(2), Some("engine_error")),
        "{text}"
    );
    assert!(!dir.path().join(".tau/deployments.json").exists());
}
