//! `kill -9` at every step of a swap, then start-up recovery: exactly one container whose name
//! starts with the configured one, running under the configured name, old image or new.
//!
//! The swap runs in a child process (this test binary re-invoked on the ignored `child_swap`
//! test) with `TAU_AGENT_ABORT_AT=<step>`, which aborts it right after journaling that step.

mod swap_support;

use std::process::Command;
use std::time::Duration;

use swap_support::{assert_single_running, plan, Fixture};
use tau_agent::swap::{recover, replace, RecoveryAction, StepName};

const CHILD_ENV: &str = "TAU_SWAP_CHILD";

/// Runs one swap described by `TAU_SWAP_CHILD` (docker host, journal, name, image, health URL).
#[test]
#[ignore = "run by the recovery tests in a child process"]
fn child_swap() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let [host, journal, name, image, health]: [&str; 5] = spec
        .split('\n')
        .collect::<Vec<_>>()
        .try_into()
        .expect("five lines");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let engine = tau_engine::Engine::connect(Some(host)).unwrap();
        let mut p = plan(name, &tau_engine::Reference::parse(image).unwrap());
        p.health_url = (!health.is_empty()).then(|| health.to_owned());
        let _ = replace(&engine, journal.as_ref(), &p).await;
    });
}

#[tokio::test]
async fn a_swap_killed_at_any_step_recovers_to_one_running_container() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let v2 = fx.image("v2");
    let exits = fx.image("exits");
    let web = fx.image("web");
    // (abort at, image to deploy, health URL, which image runs after recovery)
    let cases = [
        (StepName::CheckVolumes, &v2, "", "old"),
        (StepName::Pull, &v2, "", "old"),
        (StepName::Create, &v2, "", "old"),
        (StepName::StopOld, &v2, "", "old"),
        (StepName::StartNew, &v2, "", "old"),
        (StepName::Settle, &v2, "", "old"),
        (
            StepName::Health,
            &web,
            "http://127.0.0.1:8080/index.html",
            "old",
        ),
        (StepName::RemoveOld, &v2, "", "new"),
        (StepName::Rename, &v2, "", "new"),
        (StepName::Restore, &exits, "", "old"),
    ];
    for (step, image, health, expected) in cases {
        let name = fx.lab.unique(&format!("kill-{step}"));
        let v1 = fx.deploy_first(&name).await;
        let journal = fx.journal(&name);
        let spec = [
            fx.lab.docker_host(),
            journal.display().to_string(),
            name.clone(),
            image.to_string(),
            health.to_owned(),
        ]
        .join("\n");
        let status = Command::new(std::env::current_exe().unwrap())
            .args([
                "child_swap",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, spec)
            .env("TAU_AGENT_ABORT_AT", step.as_str())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the child was to abort at {step}");

        let recovery = recover(&fx.engine, &journal, &name).await.unwrap();
        let want = if expected == "old" { &v1 } else { image };
        assert_single_running(&fx.engine, &name, want).await;
        assert_eq!(
            recovery.running_image.as_deref(),
            Some(want.to_string().as_str()),
            "after {step}"
        );
        assert!(!journal.exists(), "journal cleared after recovering {step}");
        let journaled = !matches!(step, StepName::CheckVolumes | StepName::Pull);
        assert_eq!(
            recovery.interrupted_at,
            journaled.then_some(step),
            "after {step}: {recovery:?}"
        );
        if journaled {
            let action = if expected == "old" {
                RecoveryAction::RolledBack
            } else {
                RecoveryAction::RolledForward
            };
            assert_eq!(recovery.action, action, "after {step}");
        }
        // Recovery is idempotent, and the next deploy works.
        let again = recover(&fx.engine, &journal, &name).await.unwrap();
        assert_eq!(
            again.action,
            RecoveryAction::Nothing,
            "second recovery after {step}"
        );
        let mut next = plan(&name, &v2);
        next.settle = Duration::from_millis(300);
        replace(&fx.engine, &journal, &next).await.unwrap();
        assert_single_running(&fx.engine, &name, &v2).await;
        fx.engine.remove(&name).await.unwrap();
    }
}

#[tokio::test]
async fn a_temporary_leftover_without_a_journal_is_removed_and_a_lone_one_is_adopted() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let name = fx.lab.unique("leftover");
    let v1 = fx.deploy_first(&name).await;
    let journal = fx.journal(&name);
    let stray = format!("{name}.tau-next-deadbeef");
    fx.lab
        .podman_ok(&["create", "--name", &stray, &fx.image("v2").to_string()]);
    let recovery = recover(&fx.engine, &journal, &name).await.unwrap();
    assert_eq!(recovery.action, RecoveryAction::CleanedUp);
    assert_eq!(recovery.removed, [stray.clone()]);
    assert_single_running(&fx.engine, &name, &v1).await;

    // The configured container gone and only a temporary one left: it is adopted, never none.
    fx.engine.rename(&name, &stray).await.unwrap();
    let recovery = recover(&fx.engine, &journal, &name).await.unwrap();
    assert_eq!(recovery.action, RecoveryAction::RolledForward);
    assert_single_running(&fx.engine, &name, &v1).await;
}

#[tokio::test]
async fn a_corrupt_journal_stops_recovery_and_is_left_for_a_person() {
    let Some(fx) = Fixture::start().await else {
        return;
    };
    let name = fx.lab.unique("corrupt");
    fx.deploy_first(&name).await;
    let journal = fx.journal(&name);
    std::fs::write(&journal, b"{ not json").unwrap();
    let e = recover(&fx.engine, &journal, &name)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&journal.display().to_string()), "{e}");
    assert_eq!(std::fs::read(&journal).unwrap(), b"{ not json");
}
