//! Shared set-up of the swap tests: a lab with the test images pushed, and the invariant check.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tau_agent::swap::{replace, Plan};
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
