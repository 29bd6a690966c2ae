//! `tau agent serve` against a real engine and registry: deploy, status, every request rule,
//! authentication, and the audit chain.

mod agent_support;

use agent_support::*;
use serde_json::{json, Value};
use tau_agent::{ClientError, Environment};

fn agent_error(err: ClientError) -> (u16, String, Option<String>, Option<bool>) {
    match err {
        ClientError::Agent {
            status,
            reason,
            step,
            restored,
        } => (status, reason, step, restored),
        other => panic!("expected the agent's error answer, got {other}"),
    }
}

#[test]
fn a_deploy_replaces_the_running_container_status_reports_it_and_the_audit_chain_verifies() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let v2 = setup.push_sleeper("v2.0.0");
    let agent = setup.dev_agent("a");
    let client = agent.client();
    let rt = runtime();

    let before = rt.block_on(client.status()).unwrap();
    assert!(!before.running);
    assert_eq!(before.image, None);

    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let first = rt
        .block_on(client.deploy(&setup.request(&v1), Some(traceparent), None))
        .unwrap();
    assert_eq!(first.status, "deployed");
    assert_eq!(first.image, v1);
    assert_eq!(first.environment, Environment::Dev);
    assert_eq!(first.container_name, setup.container);
    assert!(first
        .image_digest
        .as_deref()
        .is_some_and(|d| d.starts_with("sha256:")));
    assert_eq!(first.replaced, None);

    let second = rt
        .block_on(client.deploy(&setup.request(&v2), None, None))
        .unwrap();
    assert_eq!(second.replaced.as_deref(), Some(v1.as_str()));
    let steps: Vec<&str> = second.steps.iter().map(|s| s.step.as_str()).collect();
    for step in [
        "pull",
        "create",
        "stop_old",
        "start_new",
        "settle",
        "remove_old",
        "rename",
    ] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }

    let status = rt.block_on(client.status()).unwrap();
    assert!(status.running);
    assert_eq!(status.image.as_deref(), Some(v2.as_str()));
    assert_eq!(status.image_digest, second.image_digest);
    assert!(status
        .started_at
        .as_deref()
        .is_some_and(|t| t.contains('T')));
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );

    // The env value reached the container, and nowhere else.
    let inside = setup
        .lab
        .podman_ok(&["exec", &setup.container, "sh", "-c", "echo $DATABASE_URL"]);
    assert_eq!(inside.trim(), DB_URL);
    let audit = std::fs::read_to_string(setup.audit_log("a")).unwrap();
    assert!(!audit.contains("hunter2"), "{audit}");
    assert!(audit.contains("DATABASE_URL"));
    assert!(audit.contains("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert!(audit.contains(CLIENT_ID));

    let (code, report) = audit_verify(&setup.audit_log("a"));
    assert_eq!(
        (code, report["ok"].clone(), report["records"].clone()),
        (0, json!(true), json!(2))
    );

    // Tampering: rewrite the first record's image; verify names line 2 (whose prev no longer matches).
    let path = setup.audit_log("a");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("v1.0.0", "v9.9.9", 1)).unwrap();
    let (code, report) = audit_verify(&path);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["line"], json!(2), "{report}");
}

#[test]
fn refused_requests_are_4xx_naming_the_problem_and_leave_the_running_container_alone() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let latest = setup.push_sleeper("latest");
    let agent = setup.dev_agent("r");
    let client = agent.client();
    let rt = runtime();
    rt.block_on(client.deploy(&setup.request(&v1), None, None))
        .unwrap();
    let started = rt.block_on(client.status()).unwrap().started_at;

    // 415 without a JSON content type.
    let raw = rt
        .block_on(
            http()
                .post(format!("{}/v1/deploy", agent.url))
                .header("CF-Access-Client-Id", CLIENT_ID)
                .header("CF-Access-Client-Secret", SECRET)
                .header("Content-Type", "text/plain")
                .body(serde_json::to_vec(&setup.request(&v1)).unwrap())
                .send(),
        )
        .unwrap();
    assert_eq!(raw.status().as_u16(), 415);
    let body: Value = rt.block_on(raw.json()).unwrap();
    assert_eq!(body["status"], "error");

    // 400 naming an unknown field.
    let mut with_extra = serde_json::to_value(setup.request(&v1)).unwrap();
    with_extra["privileged"] = json!(true);
    let raw = rt
        .block_on(
            http()
                .post(format!("{}/v1/deploy", agent.url))
                .header("CF-Access-Client-Id", CLIENT_ID)
                .header("CF-Access-Client-Secret", SECRET)
                .json(&with_extra)
                .send(),
        )
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let body: Value = rt.block_on(raw.json()).unwrap();
    assert!(
        body["reason"].as_str().unwrap().contains("privileged"),
        "{body}"
    );

    let cases: Vec<(&str, tau_agent::DeployRequest, &str)> = vec![
        (
            "wrong container",
            {
                let mut r = setup.request(&v1);
                r.container_name = "someone-else".into();
                r
            },
            "container_name",
        ),
        (
            "prod on a dev agent",
            {
                let mut r = setup.request(&v1);
                r.environment = Environment::Prod;
                r
            },
            "a dev agent never deploys prod",
        ),
        ("latest", setup.request(&latest), "latest"),
        (
            "untagged",
            setup.request(&setup.repository),
            "no tag or digest",
        ),
        (
            "repository not allowed",
            setup.request(&format!("{}/other/app:v1", setup.lab.registry())),
            "not under an allowed",
        ),
        (
            "volume not configured",
            {
                let mut r = setup.request(&v1);
                r.volumes.insert("random-volume".into(), "/data".into());
                r
            },
            "not configured",
        ),
        (
            "volume at another path",
            {
                let mut r = setup.request(&v1);
                r.volumes.insert(EVENTS_VOLUME.into(), "/elsewhere".into());
                r
            },
            "must be mounted at",
        ),
    ];
    for (what, request, expected) in cases {
        let (status, reason, _, _) = agent_error(
            rt.block_on(client.deploy(&request, None, None))
                .unwrap_err(),
        );
        assert_eq!(status, 422, "{what}: {reason}");
        assert!(reason.contains(expected), "{what}: {reason}");
        assert!(!reason.contains("hunter2"), "{what}: {reason}");
    }

    // Configured but missing in the engine: refused by the swap's first step, never created.
    let mut missing = setup.request(&v1);
    missing
        .volumes
        .insert("unmade-volume".into(), "/var/lib/unmade".into());
    let (status, reason, step, _) = agent_error(
        rt.block_on(client.deploy(&missing, None, None))
            .unwrap_err(),
    );
    assert!((400..500).contains(&status), "{status} {reason}");
    assert_eq!(step.as_deref(), Some("check_volumes"), "{reason}");
    let volumes = setup
        .lab
        .podman_ok(&["volume", "ls", "--format", "{{.Name}}"]);
    assert!(!volumes.contains("unmade-volume"), "{volumes}");

    // An unknown tag fails at the pull; nothing changed.
    let (status, reason, step, _) = agent_error(
        rt.block_on(client.deploy(
            &setup.request(&format!("{}:v404", setup.repository)),
            None,
            None,
        ))
        .unwrap_err(),
    );
    assert_eq!(status, 422, "{reason}");
    assert_eq!(step.as_deref(), Some("pull"), "{reason}");
    assert!(reason.contains("v404"), "{reason}");

    let status = rt.block_on(client.status()).unwrap();
    assert!(status.running);
    assert_eq!(status.image.as_deref(), Some(v1.as_str()));
    assert_eq!(
        status.started_at, started,
        "the running container was restarted"
    );
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );

    // Every refusal by an authenticated caller is audited, and the chain holds.
    let (code, report) = audit_verify(&setup.audit_log("r"));
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["records"], json!(12), "{report}");
}

#[test]
fn missing_credentials_are_401_wrong_ones_403_and_healthz_needs_none() {
    let Some(setup) = Setup::start() else { return };
    let agent = setup.dev_agent("t");
    let rt = runtime();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = http().get(format!("{}{path}", agent.url));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = rt.block_on(request.send()).unwrap();
        let code = response.status().as_u16();
        (code, rt.block_on(response.text()).unwrap())
    };
    assert_eq!(get("/healthz", &[]).0, 200);
    let (code, body) = get("/v1/deploy", &[]);
    assert_eq!(code, 405);
    assert!(body.contains("\"status\":\"error\""), "{body}");
    assert_eq!(get("/v2/anything", &[]).0, 404);
    let (code, body) = get("/v1/status", &[]);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("\"status\":\"error\""), "{body}");
    assert_eq!(
        get("/v1/status", &[("CF-Access-Client-Id", CLIENT_ID)]).0,
        401
    );
    let (code, body) = get(
        "/v1/status",
        &[
            ("CF-Access-Client-Id", CLIENT_ID),
            ("CF-Access-Client-Secret", "wrong"),
        ],
    );
    assert_eq!(code, 403);
    assert!(!body.contains("wrong"), "{body}");
    let wrong = tau_agent::Client::new(&agent.url, CLIENT_ID, "wrong").unwrap();
    let err = rt
        .block_on(wrong.deploy(
            &setup.request(&format!("{}:v1", setup.repository)),
            None,
            None,
        ))
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    let ok = get(
        "/metrics",
        &[
            ("CF-Access-Client-Id", CLIENT_ID),
            ("CF-Access-Client-Secret", SECRET),
        ],
    );
    assert_eq!(ok.0, 200);
    assert!(
        ok.1.contains("tau_agent_deploys_total{result=\"denied\"} 1"),
        "{}",
        ok.1
    );
    assert!(ok.1.contains("tau_agent_status_requests_total"), "{}", ok.1);
}

#[test]
fn a_missing_secret_or_unknown_config_key_refuses_to_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    std::fs::write(
        &path,
        r#"environment = "dev"
listen = "127.0.0.1:0"
container_name = "rt"
image_repositories = ["127.0.0.1:5000/org"]
audit_log = "audit.jsonl"
state_dir = "state"
[volumes]
[[service_tokens]]
client_id = "ci.access"
secret_env = "TAU_AGENT_TEST_UNSET_SECRET"
"#,
    )
    .unwrap();
    let out = std::process::Command::new(tau())
        .args(["agent", "serve", "--config"])
        .arg(&path)
        .env_remove("TAU_AGENT_TEST_UNSET_SECRET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("ci.access") && stderr.contains("TAU_AGENT_TEST_UNSET_SECRET"),
        "{stderr}"
    );

    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("state_dir", "statedir");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(tau())
        .args(["agent", "serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("statedir") && stderr.contains("agent.toml"),
        "{stderr}"
    );
}
