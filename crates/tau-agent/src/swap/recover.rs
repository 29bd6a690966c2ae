//! Start-up recovery: finish or undo a swap the agent was killed in, and remove temporary
//! leftovers, so that exactly one container whose name starts with the configured one remains,
//! running under the configured name.

use std::path::Path;

use tau_engine::Engine;

use super::journal::{self, Record};
use super::{Recovery, RecoveryAction, StepName, SwapError, TEMP_INFIX};

/// Reads the journal at `journal` and brings `container_name` back to one running container: the
/// old one when the swap was interrupted before the new one passed settle and health, the new one
/// after (or when there was no old one). Idempotent; safe to call when nothing was interrupted.
pub async fn recover(
    engine: &Engine,
    journal: &Path,
    container_name: &str,
) -> Result<Recovery, SwapError> {
    let record = journal::read(journal)?;
    let fix = Fixer {
        engine,
        name: container_name,
    };
    let (action, interrupted_at) = match &record {
        Some(record) => {
            if record.container_name != container_name {
                return Err(fix.unrecoverable(format!(
                    "the journal {} is for container {:?}; recover it with that name",
                    journal.display(),
                    record.container_name
                )));
            }
            let forward = matches!(record.step, StepName::RemoveOld | StepName::Rename)
                || record.old_id.is_none();
            if forward {
                fix.roll_forward(record).await?;
                (RecoveryAction::RolledForward, Some(record.step))
            } else {
                fix.roll_back(record).await?;
                (RecoveryAction::RolledBack, Some(record.step))
            }
        }
        None => (RecoveryAction::Nothing, None),
    };
    let (removed, adopted) = fix.remove_leftovers().await?;
    journal::clear(journal)?;
    let action = match (action, adopted, removed.is_empty()) {
        (RecoveryAction::Nothing, true, _) => RecoveryAction::RolledForward,
        (RecoveryAction::Nothing, false, false) => RecoveryAction::CleanedUp,
        (action, _, _) => action,
    };
    let running_image = fix
        .inspect(container_name)
        .await?
        .filter(|c| c.running)
        .map(|c| c.image);
    Ok(Recovery {
        action,
        interrupted_at,
        running_image,
        removed,
    })
}

struct Fixer<'a> {
    engine: &'a Engine,
    name: &'a str,
}

impl Fixer<'_> {
    /// The new container passed its checks (or is the only one): it takes the configured name.
    async fn roll_forward(&self, record: &Record) -> Result<(), SwapError> {
        if self.inspect(&record.temp_name).await?.is_some() {
            if let Some(current) = self.inspect(self.name).await? {
                if record.old_id.as_deref() == Some(current.id.as_str()) {
                    self.call(self.engine.remove(&current.id)).await?;
                }
            }
            self.call(self.engine.rename(&record.temp_name, self.name))
                .await?;
        } else if record.old_id.is_some() && self.inspect(self.name).await?.is_none() {
            return Err(self.unrecoverable(format!(
                "neither the new container {} nor the old one is left",
                record.temp_name
            )));
        }
        self.ensure_running().await
    }

    /// The new container was not yet proven: remove it and run the old one again.
    async fn roll_back(&self, record: &Record) -> Result<(), SwapError> {
        self.call(self.engine.remove(&record.temp_name)).await?;
        let old_id = record.old_id.as_deref().unwrap_or(self.name);
        if self.inspect(old_id).await?.is_none() {
            return Err(self.unrecoverable(format!("the old container {old_id} is gone")));
        }
        self.ensure_running().await
    }

    async fn ensure_running(&self) -> Result<(), SwapError> {
        let Some(c) = self.inspect(self.name).await? else {
            return Ok(());
        };
        if c.running {
            return Ok(());
        }
        // An agent killed while stopping the old container leaves the engine finishing that stop
        // (up to the stop timeout): until it has, the engine refuses a start ("container state
        // improper"). Wait for the stop to complete rather than give up on the host's runtime.
        let waited = std::time::Instant::now();
        loop {
            match self.engine.start(&c.id).await {
                Ok(()) => return Ok(()),
                Err(e) if still_stopping(&e) && waited.elapsed() < STOPPING_PATIENCE => {
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                Err(source) => {
                    return Err(SwapError::Engine {
                        name: self.name.to_owned(),
                        source,
                    })
                }
            }
        }
    }

    /// Removes every container under a temporary name. When nothing runs under the configured
    /// name but a temporary container exists (a journal lost with its swap), the newest one is
    /// adopted instead, so a container is never left with none. Returns (removed, adopted).
    async fn remove_leftovers(&self) -> Result<(Vec<String>, bool), SwapError> {
        let mut temps = self
            .call(self.engine.list(&format!("{}{TEMP_INFIX}", self.name)))
            .await?;
        let mut adopted = false;
        if self.inspect(self.name).await?.is_none() {
            temps.sort_by(|a, b| a.started_at.cmp(&b.started_at));
            if let Some(newest) = temps.pop() {
                self.call(self.engine.rename(&newest.id, self.name)).await?;
                self.ensure_running().await?;
                adopted = true;
            }
        }
        let mut removed = Vec::new();
        for temp in temps {
            self.call(self.engine.remove(&temp.id)).await?;
            removed.push(temp.name);
        }
        Ok((removed, adopted))
    }

    async fn inspect(&self, name: &str) -> Result<Option<tau_engine::Container>, SwapError> {
        self.call(self.engine.inspect(name)).await
    }

    async fn call<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, tau_engine::Error>>,
    ) -> Result<T, SwapError> {
        f.await.map_err(|source| SwapError::Engine {
            name: self.name.to_owned(),
            source,
        })
    }

    fn unrecoverable(&self, message: String) -> SwapError {
        SwapError::Unrecoverable {
            name: self.name.to_owned(),
            message,
        }
    }
}

/// How long recovery waits for a stop that a killed agent started to finish (longer than any
/// sensible `stop_timeout_seconds`).
const STOPPING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// Podman refuses to start a container that is still stopping with this 500.
fn still_stopping(e: &tau_engine::Error) -> bool {
    e.to_string().contains("state improper")
}
