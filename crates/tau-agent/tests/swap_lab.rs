//! The atomic replace against a real Podman service and registry: good swaps, and failures that
//! must each leave the old container running and say why.

mod swap_support;

use std::collections::BTreeMap;
use std::time::Duration;

use swap_support::{assert_single_running, free_port, health_step, plan, Fixture};
use tau_agent::swap::{FailureClass, StepName};
use tau_engine::Reference;

#[tokio::test]
async fn a_good_replace_runs_the_new_image_under_the_configured_name_with_no_leftovers() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let (name, v1) = fx.running_v1("app").await;
    let v2 = fx.image("v2");
    let outcome = fx.swap(&plan(&name, &v2)).await.unwrap();
    assert_eq!(outcome.replaced.as_deref(), Some(v1.to_string().as_str()));
    assert_eq!(
        outcome.image_digest.as_deref(),
        Some(fx.digests["v2"].as_str())
    );
    let names: Vec<StepName> = outcome.steps.iter().map(|s| s.step).collect();
    use StepName::*;
    assert_eq!(
        names,
        [
            CheckVolumes,
            Pull,
            Create,
            StopOld,
            StartNew,
            Settle,
            RemoveOld,
            Rename
        ]
    );
    assert!(outcome.steps.iter().all(|s| s.ok));
    assert_single_running(&fx.engine, &name, &v2).await;
    assert!(
        !fx.journal(&name).exists(),
        "the journal is removed after a swap"
    );
}

#[tokio::test]
async fn an_unknown_tag_is_refused_at_pull_and_the_old_container_keeps_running() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let (name, v1) = fx.running_v1("app").await;
    let before = fx.engine.inspect(&name).await.unwrap().unwrap();
    let missing = fx.image("v404");
    let f = fx
        .swap_fails(
            &plan(&name, &missing),
            StepName::Pull,
            FailureClass::Refused,
        )
        .await;
    assert!(
        f.reason.contains("pull") && f.reason.contains("v404"),
        "{}",
        f.reason
    );
    assert_single_running(&fx.engine, &name, &v1).await;
    assert_eq!(
        fx.engine.inspect(&name).await.unwrap().unwrap().id,
        before.id
    );
}

#[tokio::test]
async fn an_unreachable_registry_fails_at_pull_as_an_engine_error_and_changes_nothing() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let (name, v1) = fx.running_v1("app").await;
    let port = free_port();
    let image = Reference::parse(&format!("127.0.0.1:{port}/org/app:v2")).unwrap();
    fx.swap_fails(&plan(&name, &image), StepName::Pull, FailureClass::Engine)
        .await;
    assert_single_running(&fx.engine, &name, &v1).await;
}

#[tokio::test]
async fn a_container_that_exits_at_once_fails_settle_and_the_old_one_runs_again() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let (name, v1) = fx.running_v1("app").await;
    let before = fx.engine.inspect(&name).await.unwrap().unwrap();
    let f = fx
        .swap_fails(
            &plan(&name, &fx.image("exits")),
            StepName::Settle,
            FailureClass::Container,
        )
        .await;
    assert!(
        f.reason.contains("settle") && f.reason.contains("exited with code 3"),
        "{}",
        f.reason
    );
    assert!(f.reason.contains("runs again"), "{}", f.reason);
    assert_eq!(
        f.steps.last().map(|s| (s.step, s.ok)),
        Some((StepName::Restore, true))
    );
    assert_single_running(&fx.engine, &name, &v1).await;
    assert_eq!(
        fx.engine.inspect(&name).await.unwrap().unwrap().id,
        before.id,
        "the same old container"
    );
}

#[tokio::test]
async fn a_container_that_crashes_after_two_seconds_fails_a_four_second_settle() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let (name, v1) = fx.running_v1("app").await;
    let mut p = plan(&name, &fx.image("crashes"));
    p.settle = Duration::from_secs(4);
    let f = fx
        .swap_fails(&p, StepName::Settle, FailureClass::Container)
        .await;
    assert!(f.reason.contains("exited with code 1"), "{}", f.reason);
    assert_single_running(&fx.engine, &name, &v1).await;
}

#[tokio::test]
async fn a_missing_volume_is_refused_before_anything_and_is_not_created() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let (name, v1) = fx.running_v1("app").await;
    let volume = fx.lab.unique("data");
    let mut p = plan(&name, &fx.image("v2"));
    p.volumes = BTreeMap::from([(volume.clone(), "/data".to_owned())]);
    let f = fx
        .swap_fails(&p, StepName::CheckVolumes, FailureClass::Refused)
        .await;
    assert!(f.reason.contains(&volume), "{}", f.reason);
    assert!(!fx.engine.volume_exists(&volume).await.unwrap());
    assert_single_running(&fx.engine, &name, &v1).await;

    fx.lab.create_volume(&volume);
    fx.swap(&p).await.unwrap();
    let out = fx
        .engine
        .exec(&name, &["sh", "-c", "echo kept > /data/f && cat /data/f"])
        .await
        .unwrap();
    assert_eq!(out.stdout, "kept\n");
}

#[tokio::test]
async fn the_health_url_is_probed_inside_the_container_and_through_a_published_port() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let name = fx.lab.unique("web");
    fx.deploy_first(&name).await;
    let web = fx.image("web");

    let mut inside = plan(&name, &web);
    inside.health_url = Some("http://127.0.0.1:8080/index.html".to_owned());
    let outcome = fx.swap(&inside).await.unwrap();
    let health = health_step(&outcome);
    assert!(
        health.ok && health.detail.as_deref().unwrap().contains("inside"),
        "{health:?}"
    );

    let host_port = free_port();
    let mut published = inside.clone();
    published.ports = BTreeMap::from([(8080, host_port)]);
    let outcome = fx.swap(&published).await.unwrap();
    let health = health_step(&outcome);
    assert!(
        health
            .detail
            .as_deref()
            .unwrap()
            .contains(&format!("127.0.0.1:{host_port}")),
        "{health:?}"
    );
    assert_single_running(&fx.engine, &name, &web).await;
}

#[tokio::test]
async fn a_health_url_that_never_answers_restores_the_old_container() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let (name, v1) = fx.running_v1("app").await;
    let mut p = plan(&name, &fx.image("v2"));
    p.health_url = Some("http://127.0.0.1:9/health".to_owned());
    let f = fx
        .swap_fails(&p, StepName::Health, FailureClass::Container)
        .await;
    assert!(f.reason.contains("health"), "{}", f.reason);
    assert_single_running(&fx.engine, &name, &v1).await;
}
