//! How the PostgreSQL store's rows map to the model: column lists (ids and times selected as
//! text, so both stores hold the same strings) and row decoders.

use tokio_postgres::Row;

use crate::model::{
    AgentCatalog, DeploySpec, ImageTagHistory, K8sPullSecretLink, ManagedBy, Provider,
    RegistryAccount, RolloutStatus,
};
use crate::{Error, Result};

pub(super) fn ts(col: &str) -> String {
    format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
}

pub(super) fn account_cols() -> String {
    format!(
        "id::text, provider, registry_url, namespace, credential_ref, read_only, description, {}",
        ts("created_at")
    )
}

pub(super) fn catalog_cols(prefix: &str) -> String {
    let p = prefix;
    format!(
        "{p}id::text, {p}agent_name, {p}service, {p}role, {p}repo, {p}default_tag, {p}pinned_tag, {p}registry_account_id::text, {p}autodeploy_enabled, {}, {}",
        ts(&format!("{p}created_at")),
        ts(&format!("{p}updated_at"))
    )
}

pub(super) fn history_cols() -> String {
    format!("id::text, agent_id::text, tag, digest, built_by, {}, changelog_url, rollout_status, trace_id", ts("built_at"))
}

pub(super) fn link_cols() -> String {
    format!(
        "id::text, registry_account_id::text, kube_namespace, secret_name, {}, managed_by",
        ts("last_synced_at")
    )
}

pub(super) fn account(r: &Row) -> Result<RegistryAccount> {
    let provider: String = r.get(1);
    Ok(RegistryAccount {
        id: r.get(0),
        provider: Provider::parse(&provider).ok_or_else(|| {
            Error::Postgres(format!("registry_accounts.provider holds {provider:?}"))
        })?,
        registry_url: r.get(2),
        namespace: r.get(3),
        credential_ref: r.get(4),
        read_only: r.get(5),
        description: r.get(6),
        created_at: r.get(7),
    })
}

pub(super) fn catalog(r: &Row) -> AgentCatalog {
    AgentCatalog {
        id: r.get(0),
        agent_name: r.get(1),
        service: r.get(2),
        role: r.get(3),
        repo: r.get(4),
        default_tag: r.get(5),
        pinned_tag: r.get(6),
        registry_account_id: r.get(7),
        autodeploy_enabled: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
    }
}

pub(super) fn history(r: &Row) -> Result<ImageTagHistory> {
    let status: String = r.get(7);
    Ok(ImageTagHistory {
        id: r.get(0),
        agent_id: r.get(1),
        tag: r.get(2),
        digest: r.get(3),
        built_by: r.get(4),
        built_at: r.get(5),
        changelog_url: r.get(6),
        rollout_status: RolloutStatus::parse(&status).ok_or_else(|| {
            Error::Postgres(format!("image_tag_history.rollout_status holds {status:?}"))
        })?,
        trace_id: r.get(8),
    })
}

pub(super) fn link(r: &Row) -> Result<K8sPullSecretLink> {
    let managed: String = r.get(5);
    Ok(K8sPullSecretLink {
        id: r.get(0),
        registry_account_id: r.get(1),
        kube_namespace: r.get(2),
        secret_name: r.get(3),
        last_synced_at: r.get(4),
        managed_by: ManagedBy::parse(&managed).ok_or_else(|| {
            Error::Postgres(format!(
                "k8s_pull_secret_links.managed_by holds {managed:?}"
            ))
        })?,
    })
}

pub(super) fn spec(agent: &str, text: &str) -> Result<DeploySpec> {
    serde_json::from_str(text).map_err(|e| {
        Error::Postgres(format!(
            "agent_deploy_specs.spec of {agent} does not parse: {e}"
        ))
    })
}
