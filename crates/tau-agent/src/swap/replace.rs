//! The replace itself: each step journaled, timed and, after the old container was stopped,
//! undone on failure.

use std::path::Path;
use std::time::Instant;

use tau_engine::{Container, ContainerSpec, Engine, ErrorKind};

use super::journal::{self, Record};
use super::probe::{self, ProbeError};
use super::{
    abort_if_asked, temp_name, Failure, FailureClass, Outcome, Plan, Step, StepName, TEMP_INFIX,
};

/// Replaces the container `plan.container_name` with one running `plan.image`; see the module doc
/// for the order. On `Err`, [`Failure::restored`] says whether the old container runs again.
///
/// One swap per container at a time: the caller serializes (the agent holds its per-host lock).
/// A swap interrupted earlier (a journal left behind) is recovered first.
pub async fn replace(engine: &Engine, journal: &Path, plan: &Plan) -> Result<Outcome, Failure> {
    let mut run = Run {
        engine,
        journal,
        plan,
        steps: Vec::new(),
    };
    // A swap interrupted earlier is settled before a new one begins.
    if let Err(e) = super::recover(engine, journal, &plan.container_name).await {
        return Err(run.fail(
            StepName::Restore,
            FailureClass::Engine,
            format!("an earlier interrupted swap could not be recovered: {e}"),
            false,
        ));
    }
    run.check_volumes().await?;
    let image_digest = run.pull().await?;
    let old = run.current().await?;
    let temp_name = temp_name(&plan.container_name);
    let mut record = Record::new(&plan.container_name, &temp_name, old.as_ref(), &plan.image);

    run.journaled(&mut record, StepName::Create)?;
    let spec = ContainerSpec {
        name: temp_name.clone(),
        image: plan.image.clone(),
        env: plan.env.clone(),
        volumes: plan.volumes.clone(),
        ports: plan.ports.clone(),
        labels: {
            // The digest this pull resolved to, kept with the container: once the tag moves on,
            // the engine may no longer name the old image's digest, and status must still say
            // what runs.
            let mut labels = plan.labels.clone();
            if let Some(digest) = &image_digest {
                labels.insert(super::DIGEST_LABEL.to_owned(), digest.clone());
            }
            labels
        },
        cmd: None,
    };
    let started = Instant::now();
    if let Err(e) = engine.create(&spec).await {
        let _ = engine.remove(&temp_name).await;
        let _ = journal::clear(journal);
        let class = if e.is_refusal() {
            FailureClass::Refused
        } else {
            FailureClass::Engine
        };
        run.record(StepName::Create, started, false, Some(e.to_string()));
        return Err(run.fail(
            StepName::Create,
            class,
            format!("could not create the new container: {e}"),
            true,
        ));
    }
    run.record(StepName::Create, started, true, Some(temp_name.clone()));

    if let Some(old) = &old {
        run.journaled(&mut record, StepName::StopOld)?;
        let started = Instant::now();
        if let Err(e) = engine.stop(&old.id, plan.stop_timeout).await {
            run.record(StepName::StopOld, started, false, Some(e.to_string()));
            return Err(run
                .restore(
                    &mut record,
                    old,
                    StepName::StopOld,
                    FailureClass::Engine,
                    format!("could not stop the old container: {e}"),
                )
                .await);
        }
        run.record(StepName::StopOld, started, true, None);
    }

    if let Err(f) = run.journaled(&mut record, StepName::StartNew) {
        return Err(run.undo_after_stop(&mut record, old.as_ref(), f).await);
    }
    let started = Instant::now();
    if let Err(e) = engine.start(&temp_name).await {
        run.record(StepName::StartNew, started, false, Some(e.to_string()));
        let class = if e.kind() == ErrorKind::Unreachable {
            FailureClass::Engine
        } else {
            FailureClass::Container
        };
        let reason = format!("the new container did not start: {e}");
        return Err(run
            .restore_or_remove(&mut record, old.as_ref(), StepName::StartNew, class, reason)
            .await);
    }
    run.record(StepName::StartNew, started, true, None);

    if let Err(f) = run.journaled(&mut record, StepName::Settle) {
        return Err(run.undo_after_stop(&mut record, old.as_ref(), f).await);
    }
    let started = Instant::now();
    if let Err(e) = probe::settle(engine, &temp_name, plan.settle).await {
        let (class, reason) = probe_failure(e);
        run.record(StepName::Settle, started, false, Some(reason.clone()));
        return Err(run
            .restore_or_remove(&mut record, old.as_ref(), StepName::Settle, class, reason)
            .await);
    }
    run.record(StepName::Settle, started, true, None);

    if let Some(url) = &plan.health_url {
        if let Err(f) = run.journaled(&mut record, StepName::Health) {
            return Err(run.undo_after_stop(&mut record, old.as_ref(), f).await);
        }
        let started = Instant::now();
        match probe::health(engine, &temp_name, url, &plan.ports, plan.settle).await {
            Ok(detail) => run.record(StepName::Health, started, true, Some(detail)),
            Err(e) => {
                let (class, reason) = probe_failure(e);
                run.record(StepName::Health, started, false, Some(reason.clone()));
                return Err(run
                    .restore_or_remove(&mut record, old.as_ref(), StepName::Health, class, reason)
                    .await);
            }
        }
    }

    if let Some(old) = &old {
        if let Err(f) = run.journaled(&mut record, StepName::RemoveOld) {
            return Err(run.undo_after_stop(&mut record, Some(old), f).await);
        }
        let started = Instant::now();
        if let Err(e) = engine.remove(&old.id).await {
            run.record(StepName::RemoveOld, started, false, Some(e.to_string()));
            return Err(run
                .restore(
                    &mut record,
                    old,
                    StepName::RemoveOld,
                    FailureClass::Engine,
                    format!("could not remove the old container: {e}"),
                )
                .await);
        }
        run.record(StepName::RemoveOld, started, true, None);
    }

    run.journaled(&mut record, StepName::Rename)?;
    let started = Instant::now();
    let mut renamed = engine.rename(&temp_name, &plan.container_name).await;
    for _ in 0..2 {
        if renamed.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        renamed = engine.rename(&temp_name, &plan.container_name).await;
    }
    if let Err(e) = renamed {
        run.record(StepName::Rename, started, false, Some(e.to_string()));
        // The old container is gone; the journal stays so that recovery finishes the rename.
        return Err(run.fail(
            StepName::Rename,
            FailureClass::Engine,
            format!(
                "the new container runs as {temp_name} but could not be renamed to {}: {e}; the agent finishes the rename when it restarts",
                plan.container_name
            ),
            false,
        ));
    }
    run.record(StepName::Rename, started, true, None);
    journal::clear(journal)
        .map_err(|e| run.fail(StepName::Rename, FailureClass::Engine, e.to_string(), false))?;
    Ok(Outcome {
        image_digest,
        steps: run.steps,
        replaced: old.map(|o| o.image),
    })
}

struct Run<'a> {
    engine: &'a Engine,
    journal: &'a Path,
    plan: &'a Plan,
    steps: Vec<Step>,
}

impl Run<'_> {
    async fn check_volumes(&mut self) -> Result<(), Failure> {
        abort_if_asked(StepName::CheckVolumes);
        let started = Instant::now();
        for volume in self.plan.volumes.keys() {
            match self.engine.volume_exists(volume).await {
                Ok(true) => {}
                Ok(false) => {
                    let reason = format!("volume {volume:?} does not exist on this host; create it first (the agent never creates volumes)");
                    self.record(StepName::CheckVolumes, started, false, Some(reason.clone()));
                    return Err(self.fail(
                        StepName::CheckVolumes,
                        FailureClass::Refused,
                        reason,
                        true,
                    ));
                }
                Err(e) => {
                    self.record(StepName::CheckVolumes, started, false, Some(e.to_string()));
                    return Err(self.fail(
                        StepName::CheckVolumes,
                        FailureClass::Engine,
                        e.to_string(),
                        true,
                    ));
                }
            }
        }
        self.record(StepName::CheckVolumes, started, true, None);
        Ok(())
    }

    async fn pull(&mut self) -> Result<Option<String>, Failure> {
        abort_if_asked(StepName::Pull);
        let started = Instant::now();
        // The host's own Docker login for the image's registry, as `docker pull` would use it.
        let host = self.plan.image.registry().unwrap_or("docker.io").to_owned();
        let login = tokio::task::spawn_blocking(move || tau_engine::auth::lookup(&host, None))
            .await
            .unwrap_or_else(|e| {
                Err(tau_engine::Error::Credentials {
                    origin: "Docker config".to_owned(),
                    message: format!("the lookup stopped: {e}"),
                })
            });
        let pulled = match login {
            Ok(login) => self.engine.pull(&self.plan.image, login.as_ref()).await,
            Err(e) => Err(e),
        };
        let pulled = match pulled {
            Ok(()) => self.engine.image_digest(&self.plan.image).await,
            Err(e) => Err(e),
        };
        match pulled {
            Ok(digest) => {
                self.record(StepName::Pull, started, true, digest.clone());
                Ok(digest)
            }
            Err(e) => {
                self.record(StepName::Pull, started, false, Some(e.to_string()));
                let (class, reason) = if e.kind() == ErrorKind::NotFound {
                    (
                        FailureClass::Refused,
                        format!("image {} was not found: {e}", self.plan.image),
                    )
                } else if e.is_refusal() {
                    (
                        FailureClass::Refused,
                        format!("image {} could not be pulled: {e}", self.plan.image),
                    )
                } else {
                    (
                        FailureClass::Engine,
                        format!("image {} could not be pulled: {e}", self.plan.image),
                    )
                };
                Err(self.fail(StepName::Pull, class, reason, true))
            }
        }
    }

    /// The container now under the configured name, after removing temporary leftovers.
    async fn current(&mut self) -> Result<Option<Container>, Failure> {
        let name = &self.plan.container_name;
        let found = async {
            for leftover in self.engine.list(&format!("{name}{TEMP_INFIX}")).await? {
                self.engine.remove(&leftover.id).await?;
            }
            self.engine.inspect(name).await
        };
        found.await.map_err(|e| {
            self.fail(
                StepName::Create,
                FailureClass::Engine,
                format!("could not look at the current container: {e}"),
                true,
            )
        })
    }

    fn journaled(&mut self, record: &mut Record, step: StepName) -> Result<(), Failure> {
        record.step = step;
        if let Err(e) = journal::write(self.journal, record) {
            // Nothing of this step happened yet; what happened before is undone by the caller's
            // recovery on the next start (the journal still holds the previous step).
            return Err(self.fail(
                step,
                FailureClass::Engine,
                format!("could not journal the step: {e}"),
                false,
            ));
        }
        abort_if_asked(step);
        Ok(())
    }

    /// A step past the stop could not be journaled (a full or failing disk): nothing of it
    /// happened, but the old container is stopped, so it is restored now rather than left down
    /// until the next start-up's recovery.
    async fn undo_after_stop(
        &mut self,
        record: &mut Record,
        old: Option<&Container>,
        failed: Failure,
    ) -> Failure {
        self.restore_or_remove(record, old, failed.step, failed.class, failed.reason)
            .await
    }

    /// After a failure past the stop: with an old container, restore it; without one (a first
    /// deploy), remove the failed new container.
    async fn restore_or_remove(
        &mut self,
        record: &mut Record,
        old: Option<&Container>,
        step: StepName,
        class: FailureClass,
        reason: String,
    ) -> Failure {
        match old {
            Some(old) => self.restore(record, old, step, class, reason).await,
            None => {
                let _ = self.engine.remove(&record.temp_name).await;
                let _ = journal::clear(self.journal);
                self.fail(
                    step,
                    class,
                    format!("{reason}; there was no previous container to restore"),
                    false,
                )
            }
        }
    }

    /// Removes the new container and starts the old one again, checking it runs.
    async fn restore(
        &mut self,
        record: &mut Record,
        old: &Container,
        step: StepName,
        class: FailureClass,
        reason: String,
    ) -> Failure {
        // Restoring goes ahead even when the journal cannot be written: the old container must
        // run again now; a journal that still names an earlier step makes the next start-up's
        // recovery check the same thing.
        let _ = self.journaled(record, StepName::Restore);
        let started = Instant::now();
        let restored = async {
            // A new container that cannot be removed must not keep the old one down: start the
            // old one regardless, and leave the leftover to recovery (the journal is kept).
            let removed = self.engine.remove(&record.temp_name).await;
            if old.running {
                self.engine.start(&old.id).await?;
            }
            let back = self
                .engine
                .inspect(&old.id)
                .await?
                .is_some_and(|c| c.running == old.running);
            removed.map(|()| back)
        }
        .await;
        let (restored, detail) = match restored {
            Ok(true) => (true, None),
            Ok(false) => (
                false,
                Some("the old container did not come back up".to_owned()),
            ),
            Err(e) => (false, Some(e.to_string())),
        };
        self.record(StepName::Restore, started, restored, detail.clone());
        if restored {
            let _ = journal::clear(self.journal);
        }
        let tail = if restored {
            format!(
                "the old container {} ({}) runs again",
                self.plan.container_name, old.image
            )
        } else {
            format!(
                "the old container {} could NOT be restored ({})",
                self.plan.container_name,
                detail.unwrap_or_default()
            )
        };
        self.fail(step, class, format!("{reason}; {tail}"), restored)
    }

    fn record(&mut self, step: StepName, started: Instant, ok: bool, detail: Option<String>) {
        self.steps.push(Step {
            step,
            ok,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            detail,
        });
    }

    fn fail(&self, step: StepName, class: FailureClass, reason: String, restored: bool) -> Failure {
        let untouched = matches!(
            step,
            StepName::CheckVolumes | StepName::Pull | StepName::Create
        ) && restored;
        let reason = if untouched {
            format!("step {step} failed: {reason}; nothing was changed, the current container keeps running")
        } else {
            format!("step {step} failed: {reason}")
        };
        Failure {
            step,
            class,
            reason,
            restored,
            steps: self.steps.clone(),
        }
    }
}

fn probe_failure(e: ProbeError) -> (FailureClass, String) {
    match e {
        ProbeError::Container(reason) => (FailureClass::Container, reason),
        ProbeError::Engine(e) => (FailureClass::Engine, e.to_string()),
    }
}
