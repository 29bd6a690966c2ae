//! Shared set-up of the swap tests: a lab with the test images pushed, and the invariant check.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tau_agent::swap::{replace, Failure, FailureClass, Outcome, Plan, Step, StepName};
use tau_engine::{Engine, Reference};
use tau_testkit::engine::Lab;

pub struct Fixture {
    pub lab: Lab,
    pub engine: Engine,
    pub digests: BTreeMap<&'static str, String>,
    dir: tempfile::TempDir,
}

/// Tag → the image's command.
const IMAGES: [(&str, &[&str]); 5] = [
    ("v1", &["sleep", "3600"]),
    ("v2", &["sleep", "3600"]),
    ("exits", &["sh", "-c", "exit 3"]),
    ("crashes", &["sh", "-c", "sleep 2; exit 1"]),
    (
        "web",
        &[
            "sh",
            "-c",
            "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www",
        ],
    ),
];

impl Fixture {
    pub async fn start() -> Option<Fixture> {
        let lab = Lab::start()?;
        let digests = IMAGES
            .iter()
            .map(|(tag, cmd)| (*tag, lab.push_busybox("org/app", tag, cmd)))
            .collect();
        let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
        Some(Fixture {
            lab,
            engine,
            digests,
            dir: tempfile::tempdir().unwrap(),
        })
    }

    pub fn image(&self, tag: &str) -> Reference {
        Reference::parse(&format!("{}/org/app:{tag}", self.lab.registry())).unwrap()
    }

    pub fn journal(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.swap.json"))
    }

    /// A first deploy of v1 under `name`.
    pub async fn deploy_first(&self, name: &str) -> Reference {
        let v1 = self.image("v1");
        replace(&self.engine, &self.journal(name), &plan(name, &v1))
            .await
            .unwrap();
        assert_single_running(&self.engine, name, &v1).await;
        v1
    }

    /// A fresh container name starting with `prefix`, with v1 already running under it.
    pub async fn running_v1(&self, prefix: &str) -> (String, Reference) {
        let name = self.lab.unique(prefix);
        let v1 = self.deploy_first(&name).await;
        (name, v1)
    }

    /// Runs `plan`, with its container's journal.
    pub async fn swap(&self, plan: &Plan) -> Result<Outcome, Failure> {
        replace(&self.engine, &self.journal(&plan.container_name), plan).await
    }

    /// Runs `plan`, which must fail at `step` as `class` with the old container restored.
    pub async fn swap_fails(&self, plan: &Plan, step: StepName, class: FailureClass) -> Failure {
        let f = self.swap(plan).await.unwrap_err();
        assert_eq!((f.step, f.class, f.restored), (step, class, true), "{f:?}");
        f
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The outcome's `health` step, which must be there.
pub fn health_step(outcome: &Outcome) -> &Step {
    outcome
        .steps
        .iter()
        .find(|s| s.step == StepName::Health)
        .unwrap()
}

pub fn plan(name: &str, image: &Reference) -> Plan {
    Plan {
        container_name: name.to_owned(),
        image: image.clone(),
        env: BTreeMap::from([("SECRET_TOKEN".to_owned(), "s3cr3t-value".to_owned())]),
        volumes: BTreeMap::new(),
        ports: BTreeMap::new(),
        settle: Duration::from_secs(1),
        stop_timeout: Duration::from_secs(1),
        health_url: None,
        labels: BTreeMap::from([("io.tau.test".to_owned(), "swap".to_owned())]),
    }
}

/// Exactly one container whose name starts with `name` (the configured name itself, or a
/// temporary `name.tau-next-…`), and it is `name`, running `image`.
pub async fn assert_single_running(engine: &Engine, name: &str, image: &Reference) {
    let all = engine.list(name).await.unwrap();
    let ours: Vec<_> = all
        .iter()
        .filter(|c| c.name == name || c.name.starts_with(&format!("{name}.tau-next-")))
        .collect();
    let names: Vec<&str> = ours.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [name],
        "exactly one container, under the configured name"
    );
    assert!(ours[0].running, "{name} is not running: {:?}", ours[0]);
    assert_eq!(ours[0].image, image.to_string());
}
