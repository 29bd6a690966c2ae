//! What CI runs against a real agent: the deploy workflow's script, and `tau run --driver
//! deploy-agent` giving live evidence that `tau status` reports.

mod agent_support;

use std::path::Path;
use std::process::{Command, Output};

use agent_support::*;
use serde_json::{json, Value};

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/deploy/agent-deploy.sh")
}

fn run_script(setup: &Setup, url: &str, tag: &str, overrides: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .args(["dev", tag])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("DEPLOY_ENDPOINT", url)
        .env("CF_ACCESS_CLIENT_ID", CLIENT_ID)
        .env("CF_ACCESS_CLIENT_SECRET", SECRET)
        .env("DATABASE_URL", DB_URL)
        .env("IMAGE_REPOSITORY", &setup.repository)
        .env("CONTAINER_NAME", &setup.container)
        .env("EXECUTION_PLANE", "paper")
        .env("DEPLOY_VOLUMES", format!("{EVENTS_VOLUME}={EVENTS_PATH}"));
    for (k, v) in overrides {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_workflow_script_deploys_verifies_and_fails_on_missing_secrets_or_refusals() {
    let Some(setup) = Setup::start() else { return };
    setup.push_sleeper("v1.0.0");
    let agent = Agent::spawn(&setup.config("w", "dev", ""), &[]);

    let ok = run_script(&setup, &agent.url, "v1.0.0", &[]);
    let log = text(&ok);
    assert!(ok.status.success(), "{log}");
    assert!(log.contains("deploy answered HTTP 200"), "{log}");
    assert!(
        log.contains(&format!(
            "verified {} running {}:v1.0.0",
            setup.container, setup.repository
        )),
        "{log}"
    );
    assert!(
        !log.contains(SECRET) && !log.contains("hunter2"),
        "a secret was logged: {log}"
    );

    for missing in [
        "DEPLOY_ENDPOINT",
        "CF_ACCESS_CLIENT_ID",
        "CF_ACCESS_CLIENT_SECRET",
        "DATABASE_URL",
    ] {
        let out = run_script(&setup, &agent.url, "v1.0.0", &[(missing, "")]);
        assert!(!out.status.success(), "{missing}");
        assert!(text(&out).contains(missing), "{missing}: {}", text(&out));
    }
    // A refused deploy (unknown tag) fails the script with the agent's reason.
    let out = run_script(&setup, &agent.url, "v404", &[]);
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("\"status\":\"error\""), "{log}");
    // A wrong token fails too, and the script says the HTTP status.
    let out = run_script(
        &setup,
        &agent.url,
        "v1.0.0",
        &[("CF_ACCESS_CLIENT_SECRET", "nope")],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("HTTP 403"), "{}", text(&out));
}

#[test]
fn a_deploy_agent_driver_run_records_live_evidence() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let v2 = setup.push_sleeper("v2.0.0");
    let agent = Agent::spawn(&setup.config("d", "dev", ""), &[]);
    let case = |id: &str, image: &str| {
        json!({
            "schema_version": 1, "case_id": id, "deploy_target": "container",
            "runtime_profile": "native", "blueprint_id": "runtime", "environment": "staging",
            "region": "local", "container_image": image, "replicas": 1,
            "expected": {"outcome": "success", "status_code": 202, "error_code": "",
                "response_body": {"status": "accepted", "blueprint_id": "runtime",
                    "deploy_target": "container", "runtime_profile": "native",
                    "environment": "staging", "region": "local", "artifact": image,
                    "replicas": 1, "rollout_strategy": "recreate"}}
        })
    };
    let fixture = json!({"schema_version": 1, "name": "agent-live",
        "description": "container cases deployed through a real Deploy Agent",
        "cases": [case("runtime-v1", &v1), case("runtime-v2", &v2)]});
    let fixture_path = setup.dir.path().join("fixture.json");
    std::fs::write(&fixture_path, serde_json::to_vec_pretty(&fixture).unwrap()).unwrap();
    let state = setup.dir.path().join("tau-state");
    let tau_cmd = |args: &[&str]| {
        Command::new(tau())
            .args(args)
            .arg("--state-dir")
            .arg(&state)
            .env("CF_ACCESS_CLIENT_ID", CLIENT_ID)
            .env("CF_ACCESS_CLIENT_SECRET", SECRET)
            .env_remove("TAU_JSON")
            .output()
            .unwrap()
    };
    let run = tau_cmd(&[
        "run",
        "--fixture",
        fixture_path.to_str().unwrap(),
        "--driver",
        "deploy-agent",
        "--agent-url",
        &agent.url,
        "--json",
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["summary"]["applied"], json!(2), "{report}");
    assert_eq!(
        report["summary"]["contract_mismatches"],
        json!(0),
        "{report}"
    );

    let status = tau_cmd(&["status", "--json"]);
    let status_json: Value =
        serde_json::from_slice(&status.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&status)));
    let shown = status_json.to_string();
    assert!(shown.contains("\"driver\":\"deploy-agent\""), "{shown}");

    // The cases really ran: the agent now runs the last case's image.
    let rt = runtime();
    let live = rt.block_on(agent.client().status()).unwrap();
    assert_eq!(live.image.as_deref(), Some(v2.as_str()));
}
