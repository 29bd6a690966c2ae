//! One suite, every store: each case is a generic fn over [`Store`], instantiated for the file
//! store (in a temp dir), for PostgreSQL (a fresh database from `tau_testkit::pg`) and for a
//! private TLS-only PostgreSQL reached with `sslmode=verify-full` (`tau_testkit::pg::TlsCluster`).

use std::path::Path;
use std::time::Duration;

use super::{new_history_id, AnyStore, FileStore, PgStore, Recorded, Store};
use crate::model::{ImageTagHistory, RolloutStatus};
use crate::Error;

pub(crate) const CATALOG: &str = r#"
registry_accounts:
  - provider: ghcr
    registry_url: ghcr.io
    namespace: my-org
    credential_ref: k8s:cogo-dev/ghcr-pullsecret
    read_only: true
    description: pull-only
agent_catalog:
  - agent_name: cogo-codegen-worker
    service: codegen
    role: generate
    repo: ghcr.io/my-org/cogo-codegen-worker
    default_tag: dev
    registry_account: my-org
    autodeploy_enabled: true
    deploy:
      shard: 0
      env:
        ARTIFACTS_BASE: /app/artifacts-local
        SUPABASE_SERVICE_ROLE_KEY: {secret_env: SUPABASE_SERVICE_ROLE_KEY}
      volumes: {cogo-artifacts: /app/artifacts-local}
      k8s_secret: cogo-secrets
k8s_pull_secret_links:
  - registry_account: my-org
    kube_namespace: cogo-dev
    secret_name: ghcr-pullsecret
"#;

pub(crate) async fn seeded<S: Store>(store: &S) -> String {
    let snap = store.snapshot().await.unwrap();
    let plan = crate::apply::parse(
        Path::new("catalog.yaml"),
        CATALOG,
        &snap,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    store.apply(&plan).await.unwrap();
    store.agent("cogo-codegen-worker").await.unwrap().catalog.id
}

/// The catalog's `pinned_tag` of `agent_name`, which must exist.
pub(crate) async fn pinned_tag<S: Store>(store: &S, agent_name: &str) -> Option<String> {
    store.agent(agent_name).await.unwrap().catalog.pinned_tag
}

/// The rollout status of `agent_id`'s `tag`, which must be recorded.
pub(crate) async fn status_of<S: Store>(store: &S, agent_id: &str, tag: &str) -> RolloutStatus {
    store
        .find_tag(agent_id, tag)
        .await
        .unwrap()
        .unwrap()
        .rollout_status
}

pub(crate) fn row(agent_id: &str, tag: &str, digest: &str) -> ImageTagHistory {
    ImageTagHistory {
        id: new_history_id(),
        agent_id: agent_id.to_string(),
        tag: tag.to_string(),
        digest: Some(format!("sha256:{}", digest.repeat(64 / digest.len()))),
        built_by: Some("ci-bot".into()),
        built_at: Some("2026-01-02T03:04:05Z".into()),
        changelog_url: None,
        rollout_status: RolloutStatus::Staged,
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
    }
}

async fn apply_is_idempotent_and_ids_are_stable<S: Store>(store: S) {
    seeded(&store).await;
    let first = store.snapshot().await.unwrap();
    seeded(&store).await;
    let second = store.snapshot().await.unwrap();
    assert_eq!(first.accounts, second.accounts);
    assert_eq!(first.links, second.links);
    assert_eq!(first.catalog.len(), 1);
    assert_eq!(first.catalog[0].0.id, second.catalog[0].0.id);
    assert_eq!(first.catalog[0].1, second.catalog[0].1);
    let entry = store.agent("cogo-codegen-worker").await.unwrap();
    assert_eq!(
        entry.account.unwrap().credential_ref.as_deref(),
        Some("k8s:cogo-dev/ghcr-pullsecret")
    );
    assert_eq!(entry.pull_secret_links.len(), 1);
    assert_eq!(entry.catalog.created_at, "2026-01-01T00:00:00Z");
}

async fn a_tag_is_recorded_once_and_never_moves<S: Store>(store: S) {
    let id = seeded(&store).await;
    let first = row(&id, "v1.0.0", "a");
    assert!(matches!(
        store
            .record_tag("cogo-codegen-worker", first.clone())
            .await
            .unwrap(),
        Recorded::New(_)
    ));
    let again = store
        .record_tag("cogo-codegen-worker", row(&id, "v1.0.0", "a"))
        .await
        .unwrap();
    assert_eq!(again, Recorded::Existing(first.clone()));
    let err = store
        .record_tag("cogo-codegen-worker", row(&id, "v1.0.0", "b"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TagDigestChanged { .. }), "{err}");
    assert_eq!(store.history(&id, None).await.unwrap(), vec![first]);
}

async fn history_is_newest_first_with_current_statuses<S: Store>(store: S) {
    let id = seeded(&store).await;
    let mut rows = Vec::new();
    for (i, tag) in ["v1.0.0", "v1.1.0", "v1.2.0"].iter().enumerate() {
        let r = row(&id, tag, &format!("{i}"));
        store
            .record_tag("cogo-codegen-worker", r.clone())
            .await
            .unwrap();
        rows.push(r);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    store
        .set_status(
            &id,
            &rows[0].id,
            RolloutStatus::Active,
            Some(Some("v1.0.0")),
        )
        .await
        .unwrap();
    store
        .set_status(&id, &rows[1].id, RolloutStatus::Failed, None)
        .await
        .unwrap();
    let history = store.history(&id, None).await.unwrap();
    let tags: Vec<(&str, RolloutStatus)> = history
        .iter()
        .map(|r| (r.tag.as_str(), r.rollout_status))
        .collect();
    assert_eq!(
        tags,
        [
            ("v1.2.0", RolloutStatus::Staged),
            ("v1.1.0", RolloutStatus::Failed),
            ("v1.0.0", RolloutStatus::Active)
        ]
    );
    assert_eq!(
        store.history(&id, Some(2)).await.unwrap(),
        history[..2].to_vec()
    );
    assert_eq!(store.history(&id, Some(0)).await.unwrap(), vec![]);
    assert_eq!(
        pinned_tag(&store, "cogo-codegen-worker").await.as_deref(),
        Some("v1.0.0")
    );
    assert_eq!(
        status_of(&store, &id, "v1.1.0").await,
        RolloutStatus::Failed
    );
    assert_eq!(store.find_tag(&id, "v9.9.9").await.unwrap(), None);
    store
        .set_status(&id, &rows[2].id, RolloutStatus::Active, None)
        .await
        .unwrap();
    assert_eq!(
        store.last_active(&id, None).await.unwrap().unwrap().tag,
        "v1.2.0"
    );
    assert_eq!(
        store
            .last_active(&id, Some("v1.2.0"))
            .await
            .unwrap()
            .unwrap()
            .tag,
        "v1.0.0"
    );
    store.set_pinned(&id, None).await.unwrap();
    assert_eq!(pinned_tag(&store, "cogo-codegen-worker").await, None);
}

async fn an_unknown_agent_is_not_found<S: Store>(store: S) {
    seeded(&store).await;
    assert!(matches!(
        store.agent("cogo-nobody-here").await,
        Err(Error::NotFound { .. })
    ));
}

async fn write_ten<S: Store>(store: &S, agent_id: &str, writer: usize) {
    for i in 0..10 {
        let tag = format!("v{writer}.{i}.0");
        store
            .record_tag("cogo-codegen-worker", row(agent_id, &tag, "c"))
            .await
            .unwrap();
    }
}

async fn the_rollout_lock_admits_one_holder_at_a_time<S: Store>(a: S, b: S) {
    let id = seeded(&a).await;
    let held = a.lock_agent(&id).await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(300), b.lock_agent(&id)).await;
    assert!(
        waiting.is_err(),
        "a second holder got the lock while the first held it"
    );
    drop(held);
    tokio::time::timeout(Duration::from_secs(10), b.lock_agent(&id))
        .await
        .expect("lock free after release")
        .unwrap();
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod file_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$case(super::FileStore::open(dir.path()).unwrap()).await;
                }
            )*
        }
        mod postgres_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = tau_testkit::pg::Database::create() else { return };
                    let store = super::pg_store(&db.url).await;
                    super::$case(store).await;
                }
            )*
        }
        mod postgres_tls_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(cluster) = tau_testkit::pg::TlsCluster::start() else { return };
                    let url = cluster.url(&format!(
                        "sslmode=verify-full&sslrootcert={}",
                        cluster.ca_path.display()
                    ));
                    let store = super::pg_store(&url).await;
                    super::$case(store).await;
                }
            )*
        }
    };
}

pub(crate) async fn pg_store(url: &str) -> PgStore {
    let store = PgStore::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

suite!(
    apply_is_idempotent_and_ids_are_stable,
    a_tag_is_recorded_once_and_never_moves,
    history_is_newest_first_with_current_statuses,
    an_unknown_agent_is_not_found,
);

#[test]
fn file_store_concurrent_writers_lose_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let rt = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let id = rt().block_on(seeded(&FileStore::open(dir.path()).unwrap()));
    // Four writers on four threads, each with its own handle on the same state dir.
    std::thread::scope(|scope| {
        for writer in 0..4 {
            let (dir, id) = (dir.path(), &id);
            scope.spawn(move || {
                rt().block_on(write_ten(&FileStore::open(dir).unwrap(), id, writer))
            });
        }
    });
    let store = FileStore::open(dir.path()).unwrap();
    assert_eq!(rt().block_on(store.history(&id, None)).unwrap().len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_writers_lose_no_row() {
    let Some(db) = tau_testkit::pg::Database::create() else {
        return;
    };
    let id = seeded(&pg_store(&db.url).await).await;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..4 {
        let (url, id) = (db.url.clone(), id.clone());
        tasks.spawn(
            async move { write_ten(&PgStore::connect(&url).await.unwrap(), &id, writer).await },
        );
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        pg_store(&db.url)
            .await
            .history(&id, None)
            .await
            .unwrap()
            .len(),
        40
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_rollout_lock_admits_one_holder() {
    let dir = tempfile::tempdir().unwrap();
    the_rollout_lock_admits_one_holder_at_a_time(
        FileStore::open(dir.path()).unwrap(),
        FileStore::open(dir.path()).unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rollout_lock_admits_one_holder() {
    let Some(db) = tau_testkit::pg::Database::create() else {
        return;
    };
    the_rollout_lock_admits_one_holder_at_a_time(pg_store(&db.url).await, pg_store(&db.url).await)
        .await;
}

#[tokio::test]
async fn a_database_without_tables_names_the_migrate_command() {
    let Some(db) = tau_testkit::pg::Database::create() else {
        return;
    };
    let store = AnyStore::open(Some(&db.url), Path::new("/nonexistent"))
        .await
        .unwrap();
    let err = store.agent("cogo-codegen-worker").await.unwrap_err();
    assert_eq!(err.code(), "store_not_migrated", "{err}");
    let AnyStore::Pg(pg) = store else {
        unreachable!()
    };
    assert_eq!(
        pg.migrate().await.unwrap(),
        vec!["0001_registry_tables".to_string()]
    );
    assert!(
        pg.migrate().await.unwrap().is_empty(),
        "a second migrate applies nothing"
    );
}
