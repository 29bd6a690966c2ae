//! The embedded store: `registry.json` (accounts, catalog, deploy settings, pull-secret links and
//! the commit generation), replaced atomically, plus one history log per agent (`file_log`).
//!
//! Every change runs under the state dir's lock (`tau-durable`). A history append goes through
//! `tau-durable`'s journal: the log is extended, then `registry.json` is committed with the next
//! generation; a process killed in between is rolled back to the committed bytes by the next
//! writer, so a row is never half-recorded and never recorded twice.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tau_durable::journal::{self, FileId, Transaction};
use tau_durable::lock::{DirLock, Wait};

use super::file_log::{self, Line, StatusChange};
use super::{ApplyPlan, Recorded, Snapshot, Store};
use crate::model::{
    AgentCatalog, AgentEntry, DeploySpec, ImageTagHistory, K8sPullSecretLink, RegistryAccount,
    RolloutStatus,
};
use crate::{Error, Result};

const STATE_FILE: &str = "registry.json";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    generation: u64,
    accounts: Vec<RegistryAccount>,
    catalog: Vec<CatalogRow>,
    links: Vec<K8sPullSecretLink>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogRow {
    #[serde(flatten)]
    entry: AgentCatalog,
    deploy: DeploySpec,
}

/// The registry in a state dir.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<FileStore> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Corrupt {
            path: dir.to_path_buf(),
            message: format!("cannot create the state dir: {e}"),
        })?;
        Ok(FileStore {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn load(&self) -> Result<State> {
        let path = self.dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
                path,
                message: format!("does not parse: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Error::Corrupt {
                path,
                message: format!("cannot read: {e}"),
            }),
        }
    }

    fn save(&self, state: &State) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(state).expect("state serializes");
        bytes.push(b'\n');
        tau_durable::atomic::write(&self.dir.join(STATE_FILE), &bytes)?;
        Ok(())
    }

    /// Runs `change` under the state-dir lock on recovered, committed state. Locks are never
    /// held across an `await`, so blocking for one here is brief.
    fn change<T>(&self, change: impl FnOnce(&Self, &mut State) -> Result<T>) -> Result<T> {
        let _lock = DirLock::acquire(&self.dir, Wait::Block(&mut |_| {}))?;
        let mut state = self.load()?;
        journal::recover(&self.dir, state.generation)?;
        change(self, &mut state)
    }

    fn log_rel(agent_id: &str) -> String {
        format!("history/{agent_id}.jsonl")
    }

    /// Appends `line` to the agent's log and commits `state` with the next generation.
    fn append(&self, state: &mut State, agent_id: &str, line: &Line) -> Result<()> {
        let rel = Self::log_rel(agent_id);
        std::fs::create_dir_all(self.dir.join("history")).map_err(|e| Error::Corrupt {
            path: self.dir.join("history"),
            message: format!("cannot create: {e}"),
        })?;
        state.generation += 1;
        let mut tx = Transaction::begin(&self.dir, state.generation, &[rel], &[])?;
        tx.append(FileId(0), |buf| file_log::encode(line, buf))?;
        tx.sync()?;
        #[cfg(test)]
        if crash::BEFORE_COMMIT.with(|c| c.get()) {
            // Simulated death between the log append and the commit: the intent stays behind.
            std::mem::forget(tx);
            return Err(Error::refused("injected", "crash before commit"));
        }
        // On failure the intent stays: the next writer cuts the log back to the committed bytes.
        self.save(state)?;
        tx.finish()?;
        Ok(())
    }

    fn catalog_of<'a>(state: &'a State, agent_id: &str) -> Result<&'a CatalogRow> {
        state
            .catalog
            .iter()
            .find(|c| c.entry.id == agent_id)
            .ok_or_else(|| not_found(agent_id))
    }

    /// Sets the agent's `pinned_tag` in memory; the caller saves.
    fn pin(state: &mut State, agent_id: &str, tag: Option<&str>) -> Result<()> {
        let row = state
            .catalog
            .iter_mut()
            .find(|c| c.entry.id == agent_id)
            .ok_or_else(|| not_found(agent_id))?;
        row.entry.pinned_tag = tag.map(str::to_string);
        row.entry.updated_at = crate::time::now_rfc3339();
        Ok(())
    }

    fn log_path(&self, agent_id: &str) -> PathBuf {
        self.dir.join(Self::log_rel(agent_id))
    }

    fn find(&self, agent_id: &str, tag: &str) -> Result<Option<ImageTagHistory>> {
        let quick = format!("\"tag\":{}", serde_json::Value::from(tag));
        self.newest(agent_id, Some(&quick), |row| row.tag == tag)
    }

    /// The newest history row of `agent_id` that `wanted` accepts; `quick` as in `walk_back`.
    fn newest(
        &self,
        agent_id: &str,
        quick: Option<&str>,
        wanted: impl Fn(&ImageTagHistory) -> bool,
    ) -> Result<Option<ImageTagHistory>> {
        let mut found = None;
        file_log::walk_back(&self.log_path(agent_id), quick, |row| {
            if wanted(&row) {
                found = Some(row);
                false
            } else {
                true
            }
        })?;
        Ok(found)
    }
}

fn not_found(agent: &str) -> Error {
    Error::NotFound {
        kind: "agent",
        name: agent.to_string(),
        hint: "; add it with `tau registry apply FILE`".to_string(),
    }
}

fn upsert<T: Clone>(rows: &mut Vec<T>, new: &T, same: impl Fn(&T, &T) -> bool) {
    match rows.iter_mut().find(|r| same(r, new)) {
        Some(r) => *r = new.clone(),
        None => rows.push(new.clone()),
    }
}

impl FileStore {
    /// Appends many history rows of one agent in one journaled transaction (bulk import, the
    /// benchmark's seeding). Rows whose tag is already recorded are refused.
    pub fn import_history(&self, agent_id: &str, rows: &[ImageTagHistory]) -> Result<()> {
        self.change(|store, state| {
            Self::catalog_of(state, agent_id)?;
            let mut seen = std::collections::HashSet::new();
            file_log::walk_back(&store.log_path(agent_id), None, |r| {
                seen.insert(r.tag);
                true
            })?;
            if let Some(dup) = rows
                .iter()
                .find(|r| r.agent_id != agent_id || !seen.insert(r.tag.clone()))
            {
                return Err(Error::refused(
                    "import_refused",
                    format!(
                        "row {} is for another agent or repeats tag {}",
                        dup.id, dup.tag
                    ),
                ));
            }
            std::fs::create_dir_all(store.dir.join("history")).map_err(|e| Error::Corrupt {
                path: store.dir.join("history"),
                message: format!("cannot create: {e}"),
            })?;
            state.generation += 1;
            let mut tx = Transaction::begin(
                &store.dir,
                state.generation,
                &[Self::log_rel(agent_id)],
                &[],
            )?;
            for r in rows {
                tx.append(FileId(0), |buf| {
                    file_log::encode(&Line::Row(r.clone()), buf)
                })?;
            }
            tx.sync()?;
            store.save(state)?;
            tx.finish()?;
            Ok(())
        })
    }
}

/// The agent-rollout lock: a `tau-durable` lock on `rollouts/<agent id>/`, released by the kernel
/// if the holder dies.
#[derive(Debug)]
pub struct FileAgentLock(#[allow(dead_code)] DirLock);

impl Store for FileStore {
    type AgentLock = FileAgentLock;

    async fn snapshot(&self) -> Result<Snapshot> {
        let state = self.load()?;
        let mut snapshot = Snapshot {
            accounts: state.accounts,
            catalog: state
                .catalog
                .into_iter()
                .map(|c| (c.entry, c.deploy))
                .collect(),
            links: state.links,
        };
        super::sort_snapshot(&mut snapshot);
        Ok(snapshot)
    }

    async fn apply(&self, plan: &ApplyPlan) -> Result<()> {
        self.change(|store, state| {
            for a in &plan.accounts {
                upsert(&mut state.accounts, a, |x, y| x.id == y.id);
            }
            for (c, d) in &plan.catalog {
                let row = CatalogRow {
                    entry: c.clone(),
                    deploy: d.clone(),
                };
                upsert(&mut state.catalog, &row, |x, y| x.entry.id == y.entry.id);
            }
            for l in &plan.links {
                upsert(&mut state.links, l, |x, y| x.id == y.id);
            }
            state.generation += 1;
            store.save(state)
        })
    }

    async fn agent(&self, agent_name: &str) -> Result<AgentEntry> {
        let state = self.load()?;
        let row = state
            .catalog
            .iter()
            .find(|c| c.entry.agent_name == agent_name)
            .ok_or_else(|| not_found(agent_name))?;
        let account = row
            .entry
            .registry_account_id
            .as_ref()
            .and_then(|id| state.accounts.iter().find(|a| &a.id == id).cloned());
        let mut links: Vec<K8sPullSecretLink> = match &account {
            Some(a) => state
                .links
                .iter()
                .filter(|l| l.registry_account_id == a.id)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        links.sort_by(|a, b| {
            (&a.kube_namespace, &a.secret_name).cmp(&(&b.kube_namespace, &b.secret_name))
        });
        Ok(AgentEntry {
            catalog: row.entry.clone(),
            deploy: row.deploy.clone(),
            account,
            pull_secret_links: links,
        })
    }

    async fn history(&self, agent_id: &str, limit: Option<usize>) -> Result<Vec<ImageTagHistory>> {
        let limit = limit.unwrap_or(usize::MAX);
        let mut rows = Vec::new();
        if limit > 0 {
            file_log::walk_back(&self.log_path(agent_id), None, |row| {
                rows.push(row);
                rows.len() < limit
            })?;
        }
        Ok(rows)
    }

    async fn find_tag(&self, agent_id: &str, tag: &str) -> Result<Option<ImageTagHistory>> {
        self.find(agent_id, tag)
    }

    async fn record_tag(&self, agent_name: &str, row: ImageTagHistory) -> Result<Recorded> {
        self.change(|store, state| {
            Self::catalog_of(state, &row.agent_id)?;
            if let Some(existing) = store.find(&row.agent_id, &row.tag)? {
                return super::same_digest(agent_name, existing, &row);
            }
            store.append(state, &row.agent_id.clone(), &Line::Row(row.clone()))?;
            Ok(Recorded::New(row))
        })
    }

    async fn set_status(
        &self,
        agent_id: &str,
        history_id: &str,
        status: RolloutStatus,
        pinned: Option<Option<&str>>,
    ) -> Result<()> {
        self.change(|store, state| {
            if let Some(tag) = pinned {
                Self::pin(state, agent_id, tag)?;
            }
            let line = Line::Status(StatusChange {
                id: history_id.to_string(),
                rollout_status: status,
            });
            store.append(state, agent_id, &line)
        })
    }

    async fn set_pinned(&self, agent_id: &str, tag: Option<&str>) -> Result<()> {
        self.change(|store, state| {
            Self::pin(state, agent_id, tag)?;
            state.generation += 1;
            store.save(state)
        })
    }

    async fn last_active(
        &self,
        agent_id: &str,
        excluding: Option<&str>,
    ) -> Result<Option<ImageTagHistory>> {
        self.newest(agent_id, None, |row| {
            row.rollout_status == RolloutStatus::Active && Some(row.tag.as_str()) != excluding
        })
    }

    async fn lock_agent(&self, agent_id: &str) -> Result<FileAgentLock> {
        let dir = self.dir.join("rollouts").join(agent_id);
        // Waiting can take a whole rollout: off the async thread, so other tasks keep running.
        let lock =
            tokio::task::spawn_blocking(move || DirLock::acquire(&dir, Wait::Block(&mut |_| {})))
                .await
                .map_err(|e| {
                    Error::refused(
                        "lock_failed",
                        format!("waiting for the rollout lock failed: {e}"),
                    )
                })??;
        Ok(FileAgentLock(lock))
    }
}

#[cfg(test)]
pub(crate) mod crash {
    thread_local! {
        pub static BEFORE_COMMIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
