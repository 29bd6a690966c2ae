//! Store benchmark (scripts/bench/registry.sh): `tag record` and history queries with ROWS
//! history rows already stored for one agent, on the file store or PostgreSQL.
//!
//!   store_bench file DIR ROWS SAMPLES
//!   store_bench postgres URL ROWS SAMPLES
//!
//! Prints one line per operation: p50 and p99 in milliseconds over SAMPLES calls.

use std::path::Path;
use std::time::Instant;

use tau_registry::model::{ImageTagHistory, RolloutStatus};
use tau_registry::store::{new_history_id, FileStore, PgStore, Store};

const CATALOG: &str = r#"
registry_accounts:
  - {provider: ghcr, registry_url: ghcr.io, namespace: bench-org, credential_ref: "k8s:bench/pull"}
agent_catalog:
  - {agent_name: cogo-bench-worker, service: bench, role: work, repo: ghcr.io/bench-org/worker, registry_account: bench-org, autodeploy_enabled: true}
"#;

fn row(agent_id: &str, i: usize) -> ImageTagHistory {
    ImageTagHistory {
        id: new_history_id(),
        agent_id: agent_id.to_string(),
        tag: format!("v1.{}.{}", i / 1000, i % 1000),
        digest: Some(format!("sha256:{:064x}", i)),
        built_by: Some("ci-bot".into()),
        built_at: Some("2026-01-02T03:04:05Z".into()),
        changelog_url: Some(format!("https://example.com/releases/{i}")),
        rollout_status: if i.is_multiple_of(10) {
            RolloutStatus::Active
        } else {
            RolloutStatus::Staged
        },
        trace_id: format!("{:032x}", i + 1),
    }
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

async fn measure<S: Store>(name: &str, store: &S, agent_id: &str, rows: usize, samples: usize) {
    let mut record = Vec::new();
    for i in 0..samples {
        let r = row(agent_id, rows + i);
        let t = Instant::now();
        store.record_tag("cogo-bench-worker", r).await.unwrap();
        record.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut recent = Vec::new();
    let mut find = Vec::new();
    let mut full = Vec::new();
    for i in 0..samples {
        let t = Instant::now();
        assert_eq!(store.history(agent_id, Some(50)).await.unwrap().len(), 50);
        recent.push(t.elapsed().as_secs_f64() * 1e3);
        // An old tag: the file store walks most of the log for it.
        let tag = row(agent_id, (i * 7919) % rows).tag;
        let t = Instant::now();
        assert!(store.find_tag(agent_id, &tag).await.unwrap().is_some());
        find.push(t.elapsed().as_secs_f64() * 1e3);
        if i < 20 {
            let t = Instant::now();
            assert!(store.history(agent_id, None).await.unwrap().len() >= rows);
            full.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    for (op, v) in [
        ("tag record (new tag)", record),
        ("history --limit 50", recent),
        ("find one old tag", find),
        ("history (all rows, 20 runs)", full),
    ] {
        let (p50, p99) = percentiles(v);
        println!("{name:<8} rows={rows:<7} {op:<28} p50={p50:>8.2} ms  p99={p99:>8.2} ms");
    }
}

/// Applies the bench catalog; its agent's id and `rows` history rows to import.
async fn catalog_and_rows<S: Store>(
    store: &S,
    rows: usize,
    now: &str,
) -> (String, Vec<ImageTagHistory>) {
    let plan = tau_registry::apply::parse(
        Path::new("bench.yaml"),
        CATALOG,
        &store.snapshot().await.unwrap(),
        now,
    )
    .unwrap();
    store.apply(&plan).await.unwrap();
    let id = store.agent("cogo-bench-worker").await.unwrap().catalog.id;
    let seed = (0..rows).map(|i| row(&id, i)).collect();
    (id, seed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (kind, target, rows, samples) = (
        &args[1],
        &args[2],
        args[3].parse::<usize>().unwrap(),
        args[4].parse::<usize>().unwrap(),
    );
    let now = "2026-01-01T00:00:00Z";
    match kind.as_str() {
        "file" => {
            let store = FileStore::open(Path::new(target)).unwrap();
            let (id, seed) = catalog_and_rows(&store, rows, now).await;
            store.import_history(&id, &seed).unwrap();
            measure("file", &store, &id, rows, samples).await;
        }
        "postgres" => {
            let store = PgStore::connect(target).await.unwrap();
            store.migrate().await.unwrap();
            let (id, seed) = catalog_and_rows(&store, rows, now).await;
            store.import_history(&id, &seed).await.unwrap();
            measure("postgres", &store, &id, rows, samples).await;
        }
        other => panic!("unknown store {other}"),
    }
}
