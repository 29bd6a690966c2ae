//! The rollout state machine against a scripted agent and registry, on the real file store, in
//! virtual time (tokio's paused clock), so minutes of verify and timeout run instantly.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::*;
use crate::digest::Resolver;
use crate::model::RolloutStatus;
use crate::store::suite::{pinned_tag, status_of};
use crate::store::{FileStore, Store};
use crate::Error;

const AGENT: &str = "cogo-codegen-worker";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Runs until replaced.
    Good,
    /// Starts, then exits after this many seconds.
    Crashes(u64),
    /// The agent refuses the deploy.
    Refused,
    /// The agent's status never answers.
    Silent,
    /// The deploy call never reaches an agent (connection refused).
    Unreachable,
}

struct FakeAgent {
    behaviour: HashMap<String, Behaviour>,
    running: RefCell<Option<(String, Instant)>>,
    deploys: RefCell<Vec<(String, String)>>,
}

impl FakeAgent {
    fn new(behaviour: &[(&str, Behaviour)]) -> Self {
        FakeAgent {
            behaviour: behaviour.iter().map(|(t, b)| (t.to_string(), *b)).collect(),
            running: RefCell::new(None),
            deploys: RefCell::new(Vec::new()),
        }
    }

    fn tag_of(image: &str) -> String {
        image
            .split(':')
            .nth(1)
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_string()
    }

    fn behaviour(&self, image: &str) -> Behaviour {
        self.behaviour
            .get(&Self::tag_of(image))
            .copied()
            .unwrap_or(Behaviour::Good)
    }

    fn running_tag(&self) -> Option<String> {
        self.running.borrow().as_ref().map(|(i, _)| Self::tag_of(i))
    }
}

impl Deployer for FakeAgent {
    async fn deploy(
        &self,
        request: &DeployRequest,
        traceparent: &str,
        _key: &str,
    ) -> Result<(), DeployError> {
        if self.behaviour(&request.image) == Behaviour::Unreachable {
            return Err(DeployError::Unreached("connection refused".into()));
        }
        self.deploys
            .borrow_mut()
            .push((request.image.clone(), traceparent.to_string()));
        tokio::time::sleep(Duration::from_secs(2)).await;
        if self.behaviour(&request.image) == Behaviour::Refused {
            return Err(DeployError::Failed("pull failed".into()));
        }
        *self.running.borrow_mut() = Some((request.image.clone(), Instant::now()));
        Ok(())
    }

    async fn status(&self) -> Result<Observed, String> {
        let running = self.running.borrow().clone();
        let Some((image, since)) = running else {
            return Ok(Observed {
                running: false,
                image: None,
            });
        };
        match self.behaviour(&image) {
            Behaviour::Silent => Err("connection refused".into()),
            Behaviour::Crashes(after) if since.elapsed() >= Duration::from_secs(after) => {
                Ok(Observed {
                    running: false,
                    image: Some(image),
                })
            }
            _ => Ok(Observed {
                running: true,
                image: Some(image),
            }),
        }
    }
}

struct FakeRegistry(RefCell<HashMap<String, String>>);

impl FakeRegistry {
    fn new() -> Self {
        FakeRegistry(RefCell::new(HashMap::new()))
    }
    fn retag(&self, tag: &str) {
        self.0
            .borrow_mut()
            .insert(tag.to_string(), format!("sha256:{}", "f".repeat(64)));
    }
}

impl Resolver for FakeRegistry {
    async fn digest(&self, _repo: &str, tag: &str) -> crate::Result<String> {
        let default = {
            let h = tag.bytes().fold(0u8, |a, b| a.wrapping_add(b)) % 10;
            format!("sha256:{}", h.to_string().repeat(64))
        };
        Ok(self.0.borrow().get(tag).cloned().unwrap_or(default))
    }
}

fn opts() -> Options {
    Options {
        verify: Duration::from_secs(30),
        timeout: Duration::from_secs(60),
        poll: Duration::from_secs(1),
        ..Options::default()
    }
}

fn env(_: &str) -> Option<String> {
    Some("from-env".into())
}

async fn seeded() -> (tempfile::TempDir, FileStore, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let id = crate::store::suite::seeded(&store).await;
    (dir, store, id)
}

async fn go(
    store: &FileStore,
    reg: &FakeRegistry,
    agent: &FakeAgent,
    tag: &str,
    o: &Options,
) -> crate::Result<Report> {
    rollout(store, reg, agent, &env, AGENT, tag, o).await
}

async fn pinned(store: &FileStore) -> Option<String> {
    pinned_tag(store, AGENT).await
}

#[tokio::test(start_paused = true)]
async fn a_good_tag_becomes_active_and_pinned_with_one_trace_id() {
    let (_d, store, id) = seeded().await;
    let (reg, agent) = (FakeRegistry::new(), FakeAgent::new(&[]));
    let report = go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    assert_eq!(report.result, Outcome::Active);
    assert_eq!(
        status_of(&store, &id, "v1.0.0").await,
        RolloutStatus::Active
    );
    assert_eq!(pinned(&store).await.as_deref(), Some("v1.0.0"));
    let row = store.find_tag(&id, "v1.0.0").await.unwrap().unwrap();
    assert!(report.events.iter().all(|e| e.trace_id == row.trace_id));
    let (image, traceparent) = agent.deploys.borrow()[0].clone();
    assert_eq!(
        image,
        format!(
            "ghcr.io/my-org/cogo-codegen-worker:v1.0.0@{}",
            row.digest.unwrap()
        )
    );
    assert!(
        traceparent.starts_with(&format!("00-{}-", row.trace_id)),
        "{traceparent}"
    );
    assert_eq!(report.environment, crate::policy::Environment::Prod);
}

#[tokio::test(start_paused = true)]
async fn a_crashing_tag_is_failed_and_the_last_active_tag_redeployed_within_the_limit() {
    let (_d, store, id) = seeded().await;
    let (reg, agent) = (
        FakeRegistry::new(),
        FakeAgent::new(&[("v2.0.0", Behaviour::Crashes(5))]),
    );
    go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    let report = go(&store, &reg, &agent, "v2.0.0", &opts()).await.unwrap();
    assert_eq!(report.result, Outcome::RolledBack);
    assert_eq!(report.rolled_back_to.as_deref(), Some("v1.0.0"));
    assert!(report.elapsed_ms < 60_000, "{}", report.elapsed_ms);
    assert_eq!(
        status_of(&store, &id, "v2.0.0").await,
        RolloutStatus::Failed
    );
    assert_eq!(
        status_of(&store, &id, "v1.0.0").await,
        RolloutStatus::Active
    );
    assert_eq!(pinned(&store).await.as_deref(), Some("v1.0.0"));
    assert_eq!(agent.running_tag().as_deref(), Some("v1.0.0"));
}

#[tokio::test(start_paused = true)]
async fn a_tag_never_seen_running_times_out_and_rolls_back_within_the_limit() {
    let (_d, store, _id) = seeded().await;
    let (reg, agent) = (
        FakeRegistry::new(),
        FakeAgent::new(&[("v2.0.0", Behaviour::Silent)]),
    );
    go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    let report = go(&store, &reg, &agent, "v2.0.0", &opts()).await.unwrap();
    assert_eq!(report.result, Outcome::RolledBack);
    assert!(report.reason.unwrap().contains("60s limit"));
    assert_eq!(agent.running_tag().as_deref(), Some("v1.0.0"));
    // The rollback's own deploy and check fit inside the same 60 s, not after it.
    assert!(report.elapsed_ms <= 60_000, "{}", report.elapsed_ms);
    assert!(report.elapsed_ms >= 45_000, "{}", report.elapsed_ms);
}

#[tokio::test(start_paused = true)]
async fn a_failed_tag_is_refused_until_forced() {
    let (_d, store, id) = seeded().await;
    let (reg, agent) = (
        FakeRegistry::new(),
        FakeAgent::new(&[("v2.0.0", Behaviour::Refused)]),
    );
    go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    assert_eq!(
        go(&store, &reg, &agent, "v2.0.0", &opts())
            .await
            .unwrap()
            .result,
        Outcome::RolledBack
    );
    let deploys = agent.deploys.borrow().len();
    let err = go(&store, &reg, &agent, "v2.0.0", &opts())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tag_previously_failed", "{err}");
    assert_eq!(
        agent.deploys.borrow().len(),
        deploys,
        "a refused rollout deployed something"
    );
    let forced = Options {
        force: true,
        ..opts()
    };
    let report = go(&store, &reg, &agent, "v2.0.0", &forced).await.unwrap();
    assert_eq!(report.result, Outcome::RolledBack);
    assert_eq!(
        status_of(&store, &id, "v2.0.0").await,
        RolloutStatus::Failed
    );
}

#[tokio::test(start_paused = true)]
async fn autodeploy_disabled_needs_a_manual_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let text = crate::store::suite::CATALOG
        .replace("autodeploy_enabled: true", "autodeploy_enabled: false");
    let plan = crate::apply::parse(
        std::path::Path::new("c.yaml"),
        &text,
        &Default::default(),
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    store.apply(&plan).await.unwrap();
    let (reg, agent) = (FakeRegistry::new(), FakeAgent::new(&[]));
    let err = go(&store, &reg, &agent, "v1.0.0", &opts())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "autodeploy_disabled");
    assert!(agent.deploys.borrow().is_empty());
    let manual = Options {
        manual: true,
        ..opts()
    };
    assert_eq!(
        go(&store, &reg, &agent, "v1.0.0", &manual)
            .await
            .unwrap()
            .result,
        Outcome::Active
    );
}

#[tokio::test(start_paused = true)]
async fn a_retagged_image_is_refused_and_nothing_changes() {
    let (_d, store, id) = seeded().await;
    let (reg, agent) = (FakeRegistry::new(), FakeAgent::new(&[]));
    go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    crate::record::record(&store, &reg, AGENT, "v2.0.0", &Default::default())
        .await
        .unwrap();
    reg.retag("v2.0.0");
    let err = go(&store, &reg, &agent, "v2.0.0", &opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TagDigestChanged { .. }), "{err}");
    assert_eq!(agent.deploys.borrow().len(), 1);
    assert_eq!(
        status_of(&store, &id, "v2.0.0").await,
        RolloutStatus::Staged
    );
    assert_eq!(pinned(&store).await.as_deref(), Some("v1.0.0"));
}

#[tokio::test(start_paused = true)]
async fn a_first_rollout_that_fails_has_nothing_to_go_back_to() {
    let (_d, store, _id) = seeded().await;
    let (reg, agent) = (
        FakeRegistry::new(),
        FakeAgent::new(&[("v1.0.0", Behaviour::Crashes(1))]),
    );
    let report = go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    assert_eq!(report.result, Outcome::Failed);
    assert_eq!(pinned(&store).await, None);
}

#[tokio::test(start_paused = true)]
async fn an_explicit_rollback_marks_the_pinned_tag_rolled_back() {
    let (_d, store, id) = seeded().await;
    let (reg, agent) = (FakeRegistry::new(), FakeAgent::new(&[]));
    go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    go(&store, &reg, &agent, "v1.1.0", &opts()).await.unwrap();
    let report = rollback(&store, &reg, &agent, &env, AGENT, &opts())
        .await
        .unwrap();
    assert_eq!(
        (report.result, report.tag.as_str()),
        (Outcome::RolledBack, "v1.0.0")
    );
    assert_eq!(
        status_of(&store, &id, "v1.1.0").await,
        RolloutStatus::RolledBack
    );
    assert_eq!(pinned(&store).await.as_deref(), Some("v1.0.0"));
    assert_eq!(agent.running_tag().as_deref(), Some("v1.0.0"));
    let err = go(&store, &reg, &agent, "v1.1.0", &opts())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tag_previously_failed");
    let err = rollback(&store, &reg, &agent, &env, AGENT, &opts())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "no_rollback_target");
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        3 => Just(Behaviour::Good),
        1 => (1u64..30).prop_map(Behaviour::Crashes),
        1 => Just(Behaviour::Refused),
        1 => Just(Behaviour::Silent),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any sequence of rollouts of tags with any behaviour: a rollout ends active exactly when its
    /// container stays up through verify; otherwise the tag is failed, the pinned tag is the last
    /// active one and that one is what the agent runs; a bad tag is never deployed again unforced.
    #[test]
    fn rollouts_keep_pinned_running_and_bad_tags_out(
        plan in proptest::collection::vec((0usize..4, behaviour(), any::<bool>()), 1..6),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        rt.block_on(async {
            let (_d, store, id) = seeded().await;
            let tags = ["v1.0.0", "v1.1.0", "dev-20260101000000", "v2.0.0_abcdef1"];
            let mut script: HashMap<&str, Behaviour> = HashMap::new();
            for (i, b, _) in &plan { script.entry(tags[*i]).or_insert(*b); }
            let agent = FakeAgent::new(&script.iter().map(|(t, b)| (*t, *b)).collect::<Vec<_>>());
            let reg = FakeRegistry::new();
            let mut last_active: Option<&str> = None;
            for (i, _, force) in &plan {
                let tag = tags[*i];
                let before = store.find_tag(&id, tag).await.unwrap().map(|r| r.rollout_status);
                let o = Options { force: *force, ..opts() };
                let deploys = agent.deploys.borrow().len();
                match go(&store, &reg, &agent, tag, &o).await {
                    Err(e) => {
                        prop_assert_eq!(e.code(), "tag_previously_failed");
                        prop_assert!(before.is_some_and(RolloutStatus::is_bad) && !force);
                        prop_assert_eq!(agent.deploys.borrow().len(), deploys);
                    }
                    Ok(report) => {
                        let good = script[tag] == Behaviour::Good;
                        prop_assert_eq!(report.result == Outcome::Active, good);
                        prop_assert!(report.elapsed_ms <= 2 * 60_000 + 5_000, "{}", report.elapsed_ms);
                        let pinned = pinned_tag(&store, AGENT).await;
                        if good {
                            last_active = Some(tag);
                            prop_assert_eq!(status_of(&store, &id, tag).await, RolloutStatus::Active);
                        } else {
                            prop_assert_eq!(status_of(&store, &id, tag).await, RolloutStatus::Failed);
                            if last_active == Some(tag) {
                                // Its own earlier success was overwritten: the newest other active tag.
                                last_active = store.last_active(&id, None).await.unwrap().map(|r| tags.iter().copied().find(|t| *t == r.tag).unwrap());
                            }
                            prop_assert_eq!(report.rolled_back_to.as_deref(), last_active);
                        }
                        prop_assert_eq!(pinned.as_deref(), last_active);
                        if let Some(active) = last_active {
                            let running = agent.running_tag();
                            prop_assert_eq!(running.as_deref(), Some(active));
                        }
                    }
                }
            }
            Ok(())
        })?;
    }
}

#[tokio::test(start_paused = true)]
async fn a_rollout_refused_for_a_missing_secret_variable_records_nothing() {
    let (_d, store, id) = seeded().await;
    let (reg, agent) = (FakeRegistry::new(), FakeAgent::new(&[]));
    let missing = |_: &str| None;
    let e = rollout(&store, &reg, &agent, &missing, AGENT, "v1.0.0", &opts())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("SUPABASE_SERVICE_ROLE_KEY"), "{e}");
    assert!(store.find_tag(&id, "v1.0.0").await.unwrap().is_none());
    assert!(agent.deploys.borrow().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_agent_deploys_nothing_and_does_not_mark_the_tag_failed() {
    let (_d, store, id) = seeded().await;
    let (reg, agent) = (
        FakeRegistry::new(),
        FakeAgent::new(&[("v2.0.0", Behaviour::Unreachable)]),
    );
    go(&store, &reg, &agent, "v1.0.0", &opts()).await.unwrap();
    let report = go(&store, &reg, &agent, "v2.0.0", &opts()).await.unwrap();
    assert_eq!(report.result, Outcome::Failed);
    assert!(report.reason.unwrap().contains("nothing was deployed"));
    assert_eq!(
        status_of(&store, &id, "v2.0.0").await,
        RolloutStatus::Staged
    );
    assert_eq!(
        crate::store::suite::pinned_tag(&store, AGENT)
            .await
            .as_deref(),
        Some("v1.0.0")
    );
    // No rollback deploy: the old tag was never replaced.
    assert_eq!(agent.deploys.borrow().len(), 1);
    assert_eq!(agent.running_tag().as_deref(), Some("v1.0.0"));
}
