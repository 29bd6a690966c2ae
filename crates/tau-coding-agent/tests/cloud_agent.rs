//! `tau deploy` on the `local` target through a real Deploy Agent (`tau agent serve`) on the
//! real Podman engine and registry: build and push here, the agent swaps the container and
//! audits it, `status` asks the agent, and `destroy` never goes around it.

#[path = "agent_support/mod.rs"]
mod agent_support;
mod cloud_support;

use agent_support::{Setup, CLIENT_ID, SECRET, SECRET_ENV};
use cloud_support::*;
use serde_json::Value;

#[test]
fn local_deploy_through_the_deploy_agent_builds_pushes_swaps_and_reports_status() {
    let Some(setup) = Setup::start() else { return };
    let lab = &setup.lab;
    let registry = lab.registry();
    lab.push_busybox("library/busybox", "1.36", &["sh"]);
    let agent = setup.dev_agent("cloud");
    let target = format!(
        "    provider: local\n    local:\n      agent: {{url: '{}', container_name: {}, environment: dev, client_id: {CLIENT_ID}, secret_env: {SECRET_ENV}}}",
        agent.url, setup.container
    );
    let dir = lab_project(&target, &registry);
    let deploy = |args: &[&str]| {
        let out = tau_in(dir.path())
            .arg("deploy")
            .args(args)
            .args(["--json", "--engine", &lab.docker_host()])
            .env(SECRET_ENV, SECRET)
            .env("HELLO_DB_PASSWORD", SECRET_VALUE)
            .output()
            .unwrap();
        (out.status.code(), json_of(&out), all_output(&out))
    };

    let (code, doc, text) = deploy(&[]);
    assert_eq!(code, Some(0), "{text}");
    let digest = doc["push"]["digest"].as_str().unwrap().to_string();
    assert_eq!(
        Some(digest.clone()),
        lab.manifest_digest("org/hello", "v1.0.0")
    );
    assert_eq!(doc["run"]["observed"]["state"], "ready");
    assert_eq!(
        doc["run"]["observed"]["service_id"],
        setup.container.as_str()
    );
    assert_eq!(setup.containers(), [format!("{} running", setup.container)]);
    let audit = std::fs::read_to_string(setup.audit_log("cloud")).unwrap();
    assert!(
        audit.contains(&digest) || audit.contains("org/hello@"),
        "the agent did not audit the deploy: {audit}"
    );
    assert!(
        !audit.contains(SECRET_VALUE) && !text.contains(SECRET_VALUE) && !text.contains(SECRET)
    );

    let (code, doc, text) = deploy(&["status"]);
    assert_eq!(
        (code, doc["status"]["state"].as_str()),
        (Some(0), Some("ready")),
        "{text}"
    );

    // The agent has no remove call: destroy refuses while the container runs, record kept.
    let (code, doc, _) = deploy(&["destroy"]);
    assert_eq!(
        (code, doc["error"]["code"].as_str()),
        (Some(3), Some("deploy_failed"))
    );
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no remove call"));
    assert_eq!(setup.containers(), [format!("{} running", setup.container)]);
    lab.podman_ok(&["rm", "-f", &setup.container]);
    let (code, _, text) = deploy(&["destroy"]);
    assert_eq!(code, Some(0), "{text}");
    let records: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".tau/deployments.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(records["deployments"], serde_json::json!({}));
}
