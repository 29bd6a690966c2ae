//! A rollback whose stops take the whole stop timeout: both images ignore SIGTERM, so each time
//! the Deploy Agent stops the running container it waits its `stop_timeout_seconds` (Docker's
//! default, 10 s) before the engine kills. The new tag never answers its health URL, so the
//! agent's swap fails (after one full stop, settle and the health wait) and the rollout must roll
//! back, through a second swap with another full stop. The real binary, a real agent, engine and
//! registry (the test lab). Measured here: 32.2 s of the 40 s limit (18.8 s to the failed
//! deploy, 13.4 s for the rollback swap).

mod registry_support;

use std::time::Instant;

use registry_support::agent::{secret, Agent, CLIENT_ID};
use registry_support::{agent_catalog, stderr, stdout, Store};
use tau_testkit::engine::Lab;

/// Serves `/health` on 127.0.0.1:8080 inside the container; PID 1 ignores TERM.
const GOOD: &str =
    "trap '' TERM; mkdir -p /www && echo ok > /www/health && exec httpd -f -p 127.0.0.1:8080 -h /www";
/// Runs, ignores TERM, and never serves `/health`.
const UNHEALTHY: &str = "trap '' TERM; while true; do sleep 1; done";

const TIMEOUT_SECONDS: u64 = 40;

#[test]
fn a_rollback_through_stops_that_wait_the_whole_stop_timeout_ends_within_the_limit() {
    let Some(lab) = Lab::start() else { return };
    let store = Store::File(tempfile::tempdir().unwrap());
    let name = format!("cogo-{}-worker", lab.unique("s").replace('-', "x"));
    let repo_name = format!("org/{}", lab.unique("slowstop"));
    let repo = format!("{}/{repo_name}", lab.registry());
    lab.push_busybox(&repo_name, "v1.0.0", &["sh", "-c", GOOD]);
    lab.push_busybox(&repo_name, "v2.0.0", &["sh", "-c", UNHEALTHY]);
    assert!(store
        .apply(&agent_catalog(&repo, &lab.registry(), &name))
        .status
        .success());
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start_tuned(
        &lab,
        dir.path(),
        &name,
        "settle_seconds = 2\nstop_timeout_seconds = 10\nhealth_url = \"http://127.0.0.1:8080/health\"\n",
    );
    let timeout = TIMEOUT_SECONDS.to_string();
    let rollout = |tag: &str| {
        let started = Instant::now();
        let out = store
            .cmd(&[
                "rollout",
                &name,
                tag,
                "--agent-url",
                &agent.url,
                "--verify-seconds",
                "5",
                "--timeout",
                &timeout,
                "--json",
            ])
            .env("CF_ACCESS_CLIENT_ID", CLIENT_ID)
            .env("CF_ACCESS_CLIENT_SECRET", secret())
            .env("SUPABASE_SERVICE_ROLE_KEY", "resolved-at-deploy-time")
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
        (out, report, started.elapsed())
    };

    let (out, report, _) = rollout("v1.0.0");
    assert!(out.status.success(), "{report}{}", stderr(&out));
    assert_eq!(report["result"], "active");

    let (out, report, wall) = rollout("v2.0.0");
    eprintln!(
        "slow-stop rollout: result {} elapsed_ms {} (wall {} ms, limit {TIMEOUT_SECONDS} s)\nevents: {}",
        report["result"],
        report["elapsed_ms"],
        wall.as_millis(),
        report["events"]
    );
    assert_eq!(out.status.code(), Some(3), "{report}{}", stderr(&out));
    assert_eq!(report["result"], "rolled_back", "{report}");
    assert_eq!(report["rolled_back_to"], "v1.0.0");
    assert!(
        report["elapsed_ms"].as_u64().unwrap() <= TIMEOUT_SECONDS * 1000,
        "the rollout and its rollback took longer than --timeout: {report}"
    );

    // The old container runs under the agent's name, and only it.
    let format = "{{.Names}} {{.State}} {{index .Labels \"io.tau.image\"}}";
    let listed = lab.podman_ok(&["ps", "--all", "--format", format]);
    let ours: Vec<&str> = listed.lines().filter(|l| l.starts_with(&name)).collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].starts_with(&format!("{name} Up ")), "{ours:?}");
    assert!(
        ours[0].contains(&format!(" {repo}:v1.0.0@sha256:")),
        "{ours:?}"
    );
}
