//! `tau registry rollout|rollback` end to end: the real binary, a real Deploy Agent
//! (`tau agent serve`), a real engine and registry (the test lab), on both stores.

mod registry_support;

use std::process::Output;

use registry_support::agent::{secret, Agent, CLIENT_ID};
use registry_support::{agent_catalog, stderr, stdout, stores, Store};
use tau_testkit::engine::Lab;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

struct Scene<'a> {
    lab: &'a Lab,
    store: &'a Store,
    agent: Agent,
    name: String,
}

impl Scene<'_> {
    fn rollout(&self, tag: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "rollout",
            &self.name,
            tag,
            "--agent-url",
            &self.agent.url,
            "--verify-seconds",
            "4",
            "--timeout",
            "40",
            "--json",
        ];
        args.extend_from_slice(extra);
        let secret = secret();
        self.store
            .cmd(&args)
            .env("CF_ACCESS_CLIENT_ID", CLIENT_ID)
            .env("CF_ACCESS_CLIENT_SECRET", &secret)
            .env("SUPABASE_SERVICE_ROLE_KEY", "resolved-at-deploy-time")
            .output()
            .unwrap()
    }

    fn report(&self, out: &Output) -> serde_json::Value {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
    }

    /// `NAME STATE IMAGE` of every container whose name starts with the agent's, IMAGE being the
    /// reference the agent was asked for (the engine keeps it in the `io.tau.image` label).
    fn running(&self) -> Vec<String> {
        let format = "{{.Names}} {{.State}} {{index .Labels \"io.tau.image\"}}";
        let out = self.lab.podman_ok(&["ps", "--all", "--format", format]);
        out.lines()
            .filter(|l| l.starts_with(&self.name))
            .map(str::to_string)
            .collect()
    }
}

fn scenario(lab: &Lab, store: &Store) {
    let domain = lab.unique("t").replace('-', "x");
    let name = format!("cogo-{domain}-worker");
    let repo_name = format!("org/{}", lab.unique("app"));
    let repo = format!("{}/{repo_name}", lab.registry());
    lab.push_busybox(&repo_name, "v1.0.0", &["sleep", "3600"]);
    lab.push_busybox(&repo_name, "v2.0.0", &["sh", "-c", "sleep 3; exit 1"]);
    lab.push_busybox(&repo_name, "v1.1.0", &["sleep", "3601"]);
    lab.push_busybox(&repo_name, "v1.2.0", &["sleep", "3602"]);
    lab.push_busybox(&repo_name, "v1.3.0", &["sleep", "3603"]);
    let yaml = agent_catalog(&repo, &lab.registry(), &name);
    assert!(store.apply(&yaml).status.success());
    let dir = tempfile::tempdir().unwrap();
    let scene = Scene {
        lab,
        store,
        agent: Agent::start(lab, dir.path(), &name),
        name: name.clone(),
    };

    // A good tag becomes active; its trace id reaches the agent's audit log.
    let rec = store.json(&[
        "tag",
        "record",
        &name,
        "v1.0.0",
        "--trace-id",
        TRACE,
        "--json",
    ]);
    assert_eq!(rec["image_tag_history"]["trace_id"], TRACE);
    let out = scene.rollout("v1.0.0", &[]);
    assert!(
        out.status.success(),
        "{}: {}{}",
        store.name(),
        stdout(&out),
        stderr(&out)
    );
    let report = scene.report(&out);
    assert_eq!(report["result"], "active");
    assert_eq!(report["trace_id"], TRACE);
    assert!(report["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["trace_id"] == TRACE));
    let audit = std::fs::read_to_string(&scene.agent.audit_log).unwrap();
    assert!(
        audit.contains(TRACE),
        "the agent's audit log lacks the rollout's trace id"
    );
    assert!(
        !audit.contains("resolved-at-deploy-time"),
        "a secret env value reached the audit log"
    );
    assert!(
        !store.everything().contains("resolved-at-deploy-time"),
        "a secret env value reached the store"
    );

    // A tag whose container exits after 3 s fails verify and the old tag runs again.
    let out = scene.rollout("v2.0.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report = scene.report(&out);
    assert_eq!(report["result"], "rolled_back");
    assert_eq!(report["rolled_back_to"], "v1.0.0");
    assert!(report["elapsed_ms"].as_u64().unwrap() < 40_000, "{report}");
    let running = scene.running();
    assert_eq!(running.len(), 1, "{running:?}");
    // Podman 4.3 prints a running container's state as "Up …".
    assert!(
        running[0].starts_with(&format!("{name} Up ")),
        "{running:?}"
    );
    assert!(
        running[0].contains(&format!(" {repo}:v1.0.0@sha256:")),
        "{running:?}"
    );
    let history = store.json(&["history", &name, "--json"]);
    let status = |tag: &str| {
        history["image_tag_history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tag"] == tag)
            .unwrap()["rollout_status"]
            .clone()
    };
    assert_eq!(status("v2.0.0"), "failed");
    assert_eq!(status("v1.0.0"), "active");
    let show = store.json(&["catalog", "show", &name, "--json"]);
    assert_eq!(show["catalog"]["pinned_tag"], "v1.0.0");

    // The failed tag is not rolled out again without --force.
    let out = scene.rollout("v2.0.0", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(scene.report(&out)["error"]["code"], "tag_previously_failed");

    // A re-tagged image is refused before anything is deployed.
    store.json(&["tag", "record", &name, "v1.1.0", "--json"]);
    lab.push_busybox(&repo_name, "v1.1.0", &["sleep", "3599"]);
    let out = scene.rollout("v1.1.0", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(scene.report(&out)["error"]["code"], "tag_digest_changed");

    // Two rollouts of one agent at once: both finish active, one after the other.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| scene.rollout("v1.2.0", &[]));
        let b = s.spawn(|| scene.rollout("v1.3.0", &[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (a, b) = (scene.report(&a), scene.report(&b));
    assert_eq!(
        (a["result"].as_str(), b["result"].as_str()),
        (Some("active"), Some("active")),
        "{a}\n{b}"
    );
    let window = |r: &serde_json::Value| {
        (
            r["locked_from_unix_ms"].as_u64().unwrap(),
            r["locked_until_unix_ms"].as_u64().unwrap(),
        )
    };
    let ((a0, a1), (b0, b1)) = (window(&a), window(&b));
    assert!(
        a1 <= b0 || b1 <= a0,
        "rollout windows overlap: {a0}..{a1} and {b0}..{b1}"
    );

    // An explicit rollback moves off the pinned tag to the previous active one.
    let secret = secret();
    let out = store
        .cmd(&[
            "rollback",
            &name,
            "--agent-url",
            &scene.agent.url,
            "--verify-seconds",
            "2",
            "--json",
        ])
        .env("CF_ACCESS_CLIENT_ID", CLIENT_ID)
        .env("CF_ACCESS_CLIENT_SECRET", &secret)
        .env("SUPABASE_SERVICE_ROLE_KEY", "resolved-at-deploy-time")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let back = scene.report(&out);
    let last = if a1 <= b0 { "v1.3.0" } else { "v1.2.0" };
    assert_eq!(back["previous_tag"], last);
    assert_eq!(back["result"], "rolled_back");
}

#[test]
fn rollouts_activate_roll_back_refuse_and_serialize_on_both_stores() {
    let Some(lab) = Lab::start() else { return };
    for store in stores() {
        scenario(&lab, &store);
    }
}

/// Not a check: scripts/bench/registry.sh runs it (`--ignored`) to print rollout-to-active and
/// failure-to-rolled-back times against the real engine. Verify period: BENCH_VERIFY_SECONDS
/// (default 30, the CLI's default); repetitions: BENCH_RUNS (default 3).
#[test]
#[ignore = "benchmark; run by scripts/bench/registry.sh"]
fn bench_rollout_times_against_the_real_engine() {
    let Some(lab) = Lab::start() else { return };
    let verify = std::env::var("BENCH_VERIFY_SECONDS").unwrap_or_else(|_| "30".into());
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let store = Store::File(tempfile::tempdir().unwrap());
    let name = format!("cogo-{}-worker", lab.unique("b").replace('-', "x"));
    let repo_name = format!("org/{}", lab.unique("bench"));
    let repo = format!("{}/{repo_name}", lab.registry());
    lab.push_busybox(&repo_name, "v1.0.0", &["sleep", "3600"]);
    lab.push_busybox(&repo_name, "v1.1.0", &["sleep", "3601"]);
    lab.push_busybox(&repo_name, "v9.0.0", &["sh", "-c", "sleep 3; exit 1"]);
    let yaml = agent_catalog(&repo, &lab.registry(), &name);
    assert!(store.apply(&yaml).status.success());
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&lab, dir.path(), &name);
    let secret = secret();
    let run = |tag: &str, force: bool| -> serde_json::Value {
        let mut args = vec![
            "rollout",
            &name,
            tag,
            "--agent-url",
            &agent.url,
            "--verify-seconds",
            &verify,
            "--timeout",
            "60",
            "--json",
        ];
        if force {
            args.push("--force");
        }
        let out = store
            .cmd(&args)
            .env("CF_ACCESS_CLIENT_ID", CLIENT_ID)
            .env("CF_ACCESS_CLIENT_SECRET", &secret)
            .env("SUPABASE_SERVICE_ROLE_KEY", "bench")
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut active = Vec::new();
    let mut rolled_back = Vec::new();
    for i in 0..runs {
        let r = run(if i % 2 == 0 { "v1.0.0" } else { "v1.1.0" }, false);
        assert_eq!(r["result"], "active", "{r}");
        active.push(r["elapsed_ms"].as_u64().unwrap());
    }
    for i in 0..runs {
        let r = run("v9.0.0", i > 0);
        assert_eq!(r["result"], "rolled_back", "{r}");
        let failed_at = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"] == "failed")
            .unwrap()["at_ms"]
            .as_u64()
            .unwrap();
        rolled_back.push((r["elapsed_ms"].as_u64().unwrap(), failed_at));
    }
    println!("BENCH verify_seconds={verify} runs={runs}");
    println!(
        "BENCH rollout-to-active ms (deploy call to active, incl. the verify period): {active:?}"
    );
    println!("BENCH failure-to-rolled-back ms (deploy call to rolled back, failure seen at): {rolled_back:?}");
}
