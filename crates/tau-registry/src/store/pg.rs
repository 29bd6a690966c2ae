//! The shared store: the same tables in PostgreSQL (`DATABASE_URL`), created by the SQL files in
//! `crates/tau-registry/migrations/` ([`PgStore::migrate`], tracked in `registry_migrations`).
//!
//! An agent's rows change in one transaction that first locks the agent's catalog row
//! (`SELECT … FOR UPDATE`), so several tau processes on one database never lose or interleave an
//! update. A rollout holds a session advisory lock per agent on a connection of its own; if the
//! process dies the server drops the connection and the lock with it.
//!
//! The connection honours libpq's `sslmode`/`sslrootcert` (see [`super::ConnectTarget`]).
//!
//! Ids and times cross the wire as text (`::text::uuid`, `to_char(…)`) so both stores hold the
//! same strings.

use tokio::sync::Mutex;
use tokio_postgres::Client;

use super::pg_rows::{
    account, account_cols, catalog, catalog_cols, history, history_cols, link, link_cols, spec,
};

use super::{ApplyPlan, ConnectTarget, Recorded, Snapshot, Store};
use crate::model::{AgentEntry, DeploySpec, ImageTagHistory, RolloutStatus};
use crate::{Error, Result};

/// The shipped migrations, in order.
pub const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_registry_tables",
    include_str!("../../migrations/0001_registry_tables.sql"),
)];

const MIGRATE_LOCK: i64 = 0x7461_7572_6567_0001;
const ROLLOUT_LOCK_SPACE: i32 = 0x7461_7572;

/// A PostgreSQL-backed registry.
pub struct PgStore {
    // Boxed: the TLS settings are large and `AnyStore` holds a `PgStore` inline.
    target: Box<ConnectTarget>,
    client: Mutex<Client>,
}

/// Names the fix when the tables are missing.
fn missing_tables(e: tokio_postgres::Error) -> Error {
    if e.as_db_error().is_some_and(|d| d.code().code() == "42P01") {
        return Error::refused(
            "store_not_migrated",
            "the database has no registry tables yet; run `tau registry migrate`",
        );
    }
    e.into()
}

impl PgStore {
    /// Connects to `url` (a `DATABASE_URL`), with `PGSSLMODE`/`PGSSLROOTCERT` from the process
    /// environment as defaults, like libpq.
    pub async fn connect(url: &str) -> Result<PgStore> {
        Self::connect_to(ConnectTarget::parse(url, |k| std::env::var(k).ok())?).await
    }

    pub async fn connect_to(target: ConnectTarget) -> Result<PgStore> {
        let client = target.connect().await?;
        Ok(PgStore {
            target: Box::new(target),
            client: Mutex::new(client),
        })
    }

    /// Applies every shipped migration not yet recorded; returns the versions it applied.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        let mut client = self.client.lock().await;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS registry_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
        let done: Vec<String> = tx
            .query("SELECT version FROM registry_migrations", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut applied = Vec::new();
        for (version, sql) in MIGRATIONS {
            if done.iter().any(|d| d == version) {
                continue;
            }
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO registry_migrations (version) VALUES ($1)",
                &[version],
            )
            .await?;
            applied.push(version.to_string());
        }
        tx.commit().await?;
        Ok(applied)
    }

    /// Inserts many history rows of one agent in one transaction (bulk import, the benchmark's
    /// seeding). A tag already recorded fails the whole import.
    pub async fn import_history(&self, agent_id: &str, rows: &[ImageTagHistory]) -> Result<()> {
        let mut client = self.client.lock().await;
        let tx = client.transaction().await?;
        Self::lock_row(&tx, agent_id).await?;
        for chunk in rows.chunks(10_000) {
            let col = |f: fn(&ImageTagHistory) -> Option<String>| {
                chunk.iter().map(f).collect::<Vec<Option<String>>>()
            };
            let ids = col(|r| Some(r.id.clone()));
            let tags = col(|r| Some(r.tag.clone()));
            let digests = col(|r| r.digest.clone());
            let built_by = col(|r| r.built_by.clone());
            let built_at = col(|r| r.built_at.clone());
            let changelog = col(|r| r.changelog_url.clone());
            let status = col(|r| Some(r.rollout_status.as_str().to_string()));
            let trace = col(|r| Some(r.trace_id.clone()));
            tx.execute(
                "INSERT INTO image_tag_history (id, agent_id, tag, digest, built_by, built_at, changelog_url, rollout_status, trace_id)
                 SELECT i::uuid, $1::text::uuid, t, d, b, ba::timestamptz, c, s, tr
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                   AS u(i, t, d, b, ba, c, s, tr)",
                &[&agent_id, &ids, &tags, &digests, &built_by, &built_at, &changelog, &status, &trace],
            )
            .await?;
        }
        tx.commit().await?;
        // Fresh statistics after a bulk load, so the planner keeps using the (agent_id, id) index.
        client.batch_execute("ANALYZE image_tag_history").await?;
        Ok(())
    }

    /// Sets the agent's `pinned_tag` inside `tx`, which holds its row lock.
    async fn pin(
        tx: &tokio_postgres::Transaction<'_>,
        agent_id: &str,
        tag: Option<&str>,
    ) -> Result<()> {
        tx.execute(
            "UPDATE agent_catalog SET pinned_tag = $1, updated_at = $2::text::timestamptz WHERE id = $3::text::uuid",
            &[&tag, &crate::time::now_rfc3339(), &agent_id],
        )
        .await?;
        Ok(())
    }

    async fn lock_row(tx: &tokio_postgres::Transaction<'_>, agent_id: &str) -> Result<()> {
        let rows = tx
            .query(
                "SELECT id FROM agent_catalog WHERE id = $1::text::uuid FOR UPDATE",
                &[&agent_id],
            )
            .await
            .map_err(missing_tables)?;
        if rows.is_empty() {
            return Err(Error::NotFound {
                kind: "agent",
                name: agent_id.to_string(),
                hint: String::new(),
            });
        }
        Ok(())
    }
}

/// A session advisory lock on a dedicated connection; dropping it closes the connection, which
/// releases the lock.
pub struct PgAgentLock {
    _client: Client,
}

impl Store for PgStore {
    type AgentLock = PgAgentLock;

    async fn snapshot(&self) -> Result<Snapshot> {
        let client = self.client.lock().await;
        let account_rows = client
            .query(
                &format!("SELECT {} FROM registry_accounts", account_cols()),
                &[],
            )
            .await
            .map_err(missing_tables)?;
        let catalog_rows = client
            .query(&format!("SELECT {}, s.spec FROM agent_catalog c LEFT JOIN agent_deploy_specs s ON s.agent_id = c.id", catalog_cols("c.")), &[])
            .await?;
        let link_rows = client
            .query(
                &format!("SELECT {} FROM k8s_pull_secret_links", link_cols()),
                &[],
            )
            .await?;
        let mut snapshot = Snapshot {
            accounts: account_rows.iter().map(account).collect::<Result<_>>()?,
            catalog: catalog_rows
                .iter()
                .map(|r| {
                    let c = catalog(r);
                    let s: Option<String> = r.get(11);
                    let d =
                        s.map_or_else(|| Ok(DeploySpec::default()), |s| spec(&c.agent_name, &s))?;
                    Ok((c, d))
                })
                .collect::<Result<_>>()?,
            links: link_rows.iter().map(link).collect::<Result<_>>()?,
        };
        super::sort_snapshot(&mut snapshot);
        Ok(snapshot)
    }

    async fn apply(&self, plan: &ApplyPlan) -> Result<()> {
        let mut client = self.client.lock().await;
        let tx = client.transaction().await.map_err(missing_tables)?;
        for a in &plan.accounts {
            tx.execute(
                "INSERT INTO registry_accounts (id, provider, registry_url, namespace, credential_ref, read_only, description, created_at)
                 VALUES ($1::text::uuid, $2, $3, $4, $5, $6, $7, $8::text::timestamptz)
                 ON CONFLICT (id) DO UPDATE SET provider = EXCLUDED.provider, registry_url = EXCLUDED.registry_url,
                   namespace = EXCLUDED.namespace, credential_ref = EXCLUDED.credential_ref, read_only = EXCLUDED.read_only,
                   description = EXCLUDED.description",
                &[&a.id, &a.provider.as_str(), &a.registry_url, &a.namespace, &a.credential_ref, &a.read_only, &a.description, &a.created_at],
            )
            .await
            .map_err(missing_tables)?;
        }
        for (c, d) in &plan.catalog {
            tx.execute(
                "INSERT INTO agent_catalog (id, agent_name, service, role, repo, default_tag, pinned_tag, registry_account_id, autodeploy_enabled, created_at, updated_at)
                 VALUES ($1::text::uuid, $2, $3, $4, $5, $6, $7, $8::text::uuid, $9, $10::text::timestamptz, $11::text::timestamptz)
                 ON CONFLICT (id) DO UPDATE SET agent_name = EXCLUDED.agent_name, service = EXCLUDED.service, role = EXCLUDED.role,
                   repo = EXCLUDED.repo, default_tag = EXCLUDED.default_tag, pinned_tag = EXCLUDED.pinned_tag,
                   registry_account_id = EXCLUDED.registry_account_id, autodeploy_enabled = EXCLUDED.autodeploy_enabled,
                   updated_at = EXCLUDED.updated_at",
                &[&c.id, &c.agent_name, &c.service, &c.role, &c.repo, &c.default_tag, &c.pinned_tag, &c.registry_account_id, &c.autodeploy_enabled, &c.created_at, &c.updated_at],
            )
            .await?;
            let text = serde_json::to_string(d).expect("deploy spec serializes");
            tx.execute(
                "INSERT INTO agent_deploy_specs (agent_id, spec) VALUES ($1::text::uuid, $2) ON CONFLICT (agent_id) DO UPDATE SET spec = EXCLUDED.spec",
                &[&c.id, &text],
            )
            .await?;
        }
        for l in &plan.links {
            tx.execute(
                "INSERT INTO k8s_pull_secret_links (id, registry_account_id, kube_namespace, secret_name, last_synced_at, managed_by)
                 VALUES ($1::text::uuid, $2::text::uuid, $3, $4, $5::text::timestamptz, $6)
                 ON CONFLICT (id) DO UPDATE SET registry_account_id = EXCLUDED.registry_account_id, kube_namespace = EXCLUDED.kube_namespace,
                   secret_name = EXCLUDED.secret_name, last_synced_at = EXCLUDED.last_synced_at, managed_by = EXCLUDED.managed_by",
                &[&l.id, &l.registry_account_id, &l.kube_namespace, &l.secret_name, &l.last_synced_at, &l.managed_by.as_str()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn agent(&self, agent_name: &str) -> Result<AgentEntry> {
        let client = self.client.lock().await;
        let row = client
            .query_opt(
                &format!("SELECT {}, s.spec FROM agent_catalog c LEFT JOIN agent_deploy_specs s ON s.agent_id = c.id WHERE c.agent_name = $1", catalog_cols("c.")),
                &[&agent_name],
            )
            .await
            .map_err(missing_tables)?
            .ok_or_else(|| Error::NotFound { kind: "agent", name: agent_name.to_string(), hint: "; add it with `tau registry apply FILE`".into() })?;
        let entry = catalog(&row);
        let s: Option<String> = row.get(11);
        let deploy = s.map_or_else(|| Ok(DeploySpec::default()), |s| spec(agent_name, &s))?;
        let (account, links) = match &entry.registry_account_id {
            Some(id) => {
                let a = client
                    .query_opt(
                        &format!(
                            "SELECT {} FROM registry_accounts WHERE id = $1::text::uuid",
                            account_cols()
                        ),
                        &[id],
                    )
                    .await?;
                let l = client
                    .query(
                        &format!("SELECT {} FROM k8s_pull_secret_links WHERE registry_account_id = $1::text::uuid ORDER BY kube_namespace, secret_name", link_cols()),
                        &[id],
                    )
                    .await?;
                (
                    a.as_ref().map(account).transpose()?,
                    l.iter().map(link).collect::<Result<_>>()?,
                )
            }
            None => (None, Vec::new()),
        };
        Ok(AgentEntry {
            catalog: entry,
            deploy,
            account,
            pull_secret_links: links,
        })
    }

    async fn history(&self, agent_id: &str, limit: Option<usize>) -> Result<Vec<ImageTagHistory>> {
        let client = self.client.lock().await;
        let limit = limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = client
            .query(
                &format!("SELECT {} FROM image_tag_history WHERE agent_id = $1::text::uuid ORDER BY image_tag_history.id DESC LIMIT $2", history_cols()),
                &[&agent_id, &limit],
            )
            .await
            .map_err(missing_tables)?;
        rows.iter().map(history).collect()
    }

    async fn find_tag(&self, agent_id: &str, tag: &str) -> Result<Option<ImageTagHistory>> {
        let client = self.client.lock().await;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {} FROM image_tag_history WHERE agent_id = $1::text::uuid AND tag = $2",
                    history_cols()
                ),
                &[&agent_id, &tag],
            )
            .await
            .map_err(missing_tables)?;
        row.as_ref().map(history).transpose()
    }

    async fn record_tag(&self, agent_name: &str, row: ImageTagHistory) -> Result<Recorded> {
        let mut client = self.client.lock().await;
        let tx = client.transaction().await?;
        Self::lock_row(&tx, &row.agent_id).await?;
        let existing = tx
            .query_opt(
                &format!(
                    "SELECT {} FROM image_tag_history WHERE agent_id = $1::text::uuid AND tag = $2",
                    history_cols()
                ),
                &[&row.agent_id, &row.tag],
            )
            .await?;
        if let Some(existing) = existing {
            return super::same_digest(agent_name, history(&existing)?, &row);
        }
        tx.execute(
            "INSERT INTO image_tag_history (id, agent_id, tag, digest, built_by, built_at, changelog_url, rollout_status, trace_id)
             VALUES ($1::text::uuid, $2::text::uuid, $3, $4, $5, $6::text::timestamptz, $7, $8, $9)",
            &[&row.id, &row.agent_id, &row.tag, &row.digest, &row.built_by, &row.built_at, &row.changelog_url, &row.rollout_status.as_str(), &row.trace_id],
        )
        .await?;
        tx.commit().await?;
        Ok(Recorded::New(row))
    }

    async fn set_status(
        &self,
        agent_id: &str,
        history_id: &str,
        status: RolloutStatus,
        pinned: Option<Option<&str>>,
    ) -> Result<()> {
        let mut client = self.client.lock().await;
        let tx = client.transaction().await?;
        Self::lock_row(&tx, agent_id).await?;
        let n = tx
            .execute(
                "UPDATE image_tag_history SET rollout_status = $1 WHERE id = $2::text::uuid AND agent_id = $3::text::uuid",
                &[&status.as_str(), &history_id, &agent_id],
            )
            .await?;
        if n != 1 {
            return Err(Error::NotFound {
                kind: "history row",
                name: history_id.to_string(),
                hint: String::new(),
            });
        }
        if let Some(tag) = pinned {
            Self::pin(&tx, agent_id, tag).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_pinned(&self, agent_id: &str, tag: Option<&str>) -> Result<()> {
        let mut client = self.client.lock().await;
        let tx = client.transaction().await?;
        Self::lock_row(&tx, agent_id).await?;
        Self::pin(&tx, agent_id, tag).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn last_active(
        &self,
        agent_id: &str,
        excluding: Option<&str>,
    ) -> Result<Option<ImageTagHistory>> {
        let client = self.client.lock().await;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {} FROM image_tag_history WHERE agent_id = $1::text::uuid AND rollout_status = 'active'
                     AND ($2::text IS NULL OR tag <> $2) ORDER BY image_tag_history.id DESC LIMIT 1",
                    history_cols()
                ),
                &[&agent_id, &excluding],
            )
            .await
            .map_err(missing_tables)?;
        row.as_ref().map(history).transpose()
    }

    async fn lock_agent(&self, agent_id: &str) -> Result<PgAgentLock> {
        let client = self.target.connect().await?;
        client
            .execute(
                "SELECT pg_advisory_lock($1, hashtext($2))",
                &[&ROLLOUT_LOCK_SPACE, &agent_id],
            )
            .await?;
        Ok(PgAgentLock { _client: client })
    }
}
