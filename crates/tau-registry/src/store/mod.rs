//! Where the registry's tables live: [`FileStore`] in a state dir (the default) or [`PgStore`] in
//! PostgreSQL (`DATABASE_URL`). Both implement [`Store`]; one test suite (`suite`) runs against
//! each, so they agree on every answer.
//!
//! Writers never interleave: the file store takes the state dir's lock for every change, the
//! PostgreSQL store changes an agent's rows in one transaction under that agent's advisory lock.
//! A whole rollout additionally holds [`Store::lock_agent`], so two rollouts of one agent (in
//! any processes) run one after the other.

mod file;
mod file_log;
mod pg;
mod pg_rows;
mod pg_tls;
mod pg_url;
#[cfg(test)]
pub(crate) mod suite;
#[cfg(test)]
mod tls_suite;

pub use file::FileStore;
pub use pg::PgStore;
pub use pg_tls::ConnectTarget;
pub use pg_url::SslMode;

use crate::model::{
    AgentCatalog, AgentEntry, DeploySpec, ImageTagHistory, K8sPullSecretLink, RegistryAccount,
    RolloutStatus,
};
use crate::Result;

/// Everything but history: what `apply` validates against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub accounts: Vec<RegistryAccount>,
    pub catalog: Vec<(AgentCatalog, DeploySpec)>,
    pub links: Vec<K8sPullSecretLink>,
}

/// A validated apply file: rows to upsert by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyPlan {
    pub accounts: Vec<RegistryAccount>,
    pub catalog: Vec<(AgentCatalog, DeploySpec)>,
    pub links: Vec<K8sPullSecretLink>,
    pub now: String,
}

/// What `record_tag` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new history row.
    New(ImageTagHistory),
    /// The tag was already recorded with the same digest; the existing row.
    Existing(ImageTagHistory),
}

impl Recorded {
    pub fn row(&self) -> &ImageTagHistory {
        match self {
            Recorded::New(r) | Recorded::Existing(r) => r,
        }
    }
}

/// The registry's tables. Lists come sorted (accounts by registry/namespace, catalog by name,
/// history newest first) so both stores print identical output.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Held for a whole rollout of one agent; dropping it lets the next one in.
    type AgentLock;

    async fn snapshot(&self) -> Result<Snapshot>;
    /// Upserts every row of the plan at once (all or nothing).
    async fn apply(&self, plan: &ApplyPlan) -> Result<()>;
    /// The catalog entry named `agent_name`, with its deploy settings, account and pull secrets.
    async fn agent(&self, agent_name: &str) -> Result<AgentEntry>;
    /// Newest first; `limit` rows at most.
    async fn history(&self, agent_id: &str, limit: Option<usize>) -> Result<Vec<ImageTagHistory>>;
    async fn find_tag(&self, agent_id: &str, tag: &str) -> Result<Option<ImageTagHistory>>;
    /// Records a tag once per agent. The same tag again with the same digest returns the stored
    /// row; with another digest it is refused (`tag_digest_changed`).
    async fn record_tag(&self, agent_name: &str, row: ImageTagHistory) -> Result<Recorded>;
    /// Sets a history row's status and, when `pinned` is `Some`, the agent's `pinned_tag`, in one
    /// change.
    async fn set_status(
        &self,
        agent_id: &str,
        history_id: &str,
        status: RolloutStatus,
        pinned: Option<Option<&str>>,
    ) -> Result<()>;
    async fn set_pinned(&self, agent_id: &str, tag: Option<&str>) -> Result<()>;
    /// The newest `active` row whose tag is not `excluding`.
    async fn last_active(
        &self,
        agent_id: &str,
        excluding: Option<&str>,
    ) -> Result<Option<ImageTagHistory>>;
    async fn lock_agent(&self, agent_id: &str) -> Result<Self::AgentLock>;
}

/// The store a command uses: PostgreSQL when a database URL is given, else the state dir's.
pub enum AnyStore {
    File(FileStore),
    Pg(PgStore),
}

pub enum AnyLock {
    File(<FileStore as Store>::AgentLock),
    Pg(<PgStore as Store>::AgentLock),
}

impl AnyStore {
    pub async fn open(database_url: Option<&str>, state_dir: &std::path::Path) -> Result<AnyStore> {
        Ok(match database_url {
            Some(url) => AnyStore::Pg(PgStore::connect(url).await?),
            None => AnyStore::File(FileStore::open(state_dir)?),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            AnyStore::File(_) => "file",
            AnyStore::Pg(_) => "postgres",
        }
    }
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::File($s) => $e,
            AnyStore::Pg($s) => $e,
        }
    };
}

impl Store for AnyStore {
    type AgentLock = AnyLock;

    async fn snapshot(&self) -> Result<Snapshot> {
        both!(self, s => s.snapshot().await)
    }
    async fn apply(&self, plan: &ApplyPlan) -> Result<()> {
        both!(self, s => s.apply(plan).await)
    }
    async fn agent(&self, agent_name: &str) -> Result<AgentEntry> {
        both!(self, s => s.agent(agent_name).await)
    }
    async fn history(&self, agent_id: &str, limit: Option<usize>) -> Result<Vec<ImageTagHistory>> {
        both!(self, s => s.history(agent_id, limit).await)
    }
    async fn find_tag(&self, agent_id: &str, tag: &str) -> Result<Option<ImageTagHistory>> {
        both!(self, s => s.find_tag(agent_id, tag).await)
    }
    async fn record_tag(&self, agent_name: &str, row: ImageTagHistory) -> Result<Recorded> {
        both!(self, s => s.record_tag(agent_name, row).await)
    }
    async fn set_status(
        &self,
        agent_id: &str,
        history_id: &str,
        status: RolloutStatus,
        pinned: Option<Option<&str>>,
    ) -> Result<()> {
        both!(self, s => s.set_status(agent_id, history_id, status, pinned).await)
    }
    async fn set_pinned(&self, agent_id: &str, tag: Option<&str>) -> Result<()> {
        both!(self, s => s.set_pinned(agent_id, tag).await)
    }
    async fn last_active(
        &self,
        agent_id: &str,
        excluding: Option<&str>,
    ) -> Result<Option<ImageTagHistory>> {
        both!(self, s => s.last_active(agent_id, excluding).await)
    }
    async fn lock_agent(&self, agent_id: &str) -> Result<AnyLock> {
        Ok(match self {
            AnyStore::File(s) => AnyLock::File(s.lock_agent(agent_id).await?),
            AnyStore::Pg(s) => AnyLock::Pg(s.lock_agent(agent_id).await?),
        })
    }
}

/// A new history row id: UUIDv7, so ids sort in the order rows were recorded on both stores.
pub fn new_history_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Both stores list in this order, so their answers compare equal.
pub(crate) fn sort_snapshot(s: &mut Snapshot) {
    s.accounts.sort_by(|a, b| {
        (&a.registry_url, &a.namespace, &a.id).cmp(&(&b.registry_url, &b.namespace, &b.id))
    });
    s.catalog
        .sort_by(|a, b| a.0.agent_name.cmp(&b.0.agent_name));
    s.links.sort_by(|a, b| {
        (&a.registry_account_id, &a.kube_namespace, &a.secret_name).cmp(&(
            &b.registry_account_id,
            &b.kube_namespace,
            &b.secret_name,
        ))
    });
}

/// A tag recorded again: the stored row when the digests agree, else `tag_digest_changed`.
pub(crate) fn same_digest(
    agent_name: &str,
    existing: ImageTagHistory,
    new: &ImageTagHistory,
) -> Result<Recorded> {
    match (&existing.digest, &new.digest) {
        (Some(recorded), Some(current)) if recorded != current => {
            Err(crate::Error::TagDigestChanged {
                agent: agent_name.to_string(),
                tag: new.tag.clone(),
                recorded: recorded.clone(),
                current: current.clone(),
            })
        }
        _ => Ok(Recorded::Existing(existing)),
    }
}
