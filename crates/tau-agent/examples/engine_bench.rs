//! Engine and swap timings against a real Podman service and registry (`tau_testkit::engine::Lab`):
//! pull of a cached image, create, start, stop, rename and remove each, and a full replace with a
//! 1 s settle. Run by `scripts/bench/engine.sh`; prints one line per operation.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tau_agent::swap::{replace, Plan};
use tau_engine::{ContainerSpec, Engine, Reference};
use tau_testkit::engine::Lab;

const ROUNDS: usize = 10;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(ROUNDS);
    let Some(lab) = Lab::start() else {
        eprintln!("engine bench: podman or docker-registry missing");
        std::process::exit(2);
    };
    lab.push_busybox("bench/app", "v1", &["sleep", "3600"]);
    lab.push_busybox("bench/app", "v2", &["sleep", "3600"]);
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let v1 = Reference::parse(&format!("{}/bench/app:v1", lab.registry())).unwrap();
    let v2 = Reference::parse(&format!("{}/bench/app:v2", lab.registry())).unwrap();
    engine.pull(&v1, None).await.unwrap();
    engine.pull(&v2, None).await.unwrap();

    let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for round in 0..rounds {
        let t = Instant::now();
        engine.pull(&v1, None).await.unwrap();
        times
            .entry("pull (cached image)")
            .or_default()
            .push(t.elapsed());

        let name = format!("bench-{round}");
        let spec = ContainerSpec {
            name: name.clone(),
            image: v1.clone(),
            env: BTreeMap::new(),
            volumes: BTreeMap::new(),
            ports: BTreeMap::new(),
            labels: BTreeMap::new(),
            cmd: None,
        };
        let mut step =
            |label: &'static str, t: Instant| times.entry(label).or_default().push(t.elapsed());
        let t = Instant::now();
        engine.create(&spec).await.unwrap();
        step("create", t);
        let t = Instant::now();
        engine.start(&name).await.unwrap();
        step("start", t);
        let t = Instant::now();
        engine.stop(&name, Duration::from_secs(1)).await.unwrap();
        step("stop (t=1, sleep ignores SIGTERM)", t);
        let renamed = format!("{name}-r");
        let t = Instant::now();
        engine.rename(&name, &renamed).await.unwrap();
        step("rename", t);
        let t = Instant::now();
        engine.remove(&renamed).await.unwrap();
        step("remove", t);
    }

    let journal_dir = tempfile::tempdir().unwrap();
    let journal = journal_dir.path().join("swap.json");
    let mut plan = Plan {
        container_name: "bench-swap".to_owned(),
        image: v1.clone(),
        env: BTreeMap::new(),
        volumes: BTreeMap::new(),
        ports: BTreeMap::new(),
        settle: Duration::from_secs(1),
        stop_timeout: Duration::from_secs(1),
        health_url: None,
        labels: BTreeMap::new(),
    };
    replace(&engine, &journal, &plan).await.unwrap();
    for round in 0..rounds {
        plan.image = if round % 2 == 0 {
            v2.clone()
        } else {
            v1.clone()
        };
        let t = Instant::now();
        let outcome = replace(&engine, &journal, &plan).await.unwrap();
        times
            .entry("replace (settle 1 s)")
            .or_default()
            .push(t.elapsed());
        for s in outcome.steps {
            let label: &'static str =
                Box::leak(format!("  replace step {}", s.step).into_boxed_str());
            times
                .entry(label)
                .or_default()
                .push(Duration::from_millis(s.duration_ms));
        }
    }

    println!(
        "engine bench: {rounds} rounds, Podman {}",
        podman_version(&lab)
    );
    for (label, mut samples) in times {
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{label:<40} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms",
            ms(samples[samples.len() / 2]),
            ms(samples[0]),
            ms(samples[samples.len() - 1])
        );
    }
}

fn podman_version(lab: &Lab) -> String {
    lab.podman_ok(&["version", "--format", "{{.Client.Version}}"])
        .trim()
        .to_owned()
}
