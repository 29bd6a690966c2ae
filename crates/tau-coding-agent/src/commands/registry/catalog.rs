//! `apply`, `account list`, `catalog list|show`, `manifests`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use tau_registry::store::{AnyStore, Store};

use super::refusal;
use crate::out::Out;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// YAML or JSON with `registry_accounts`, `agent_catalog` and `k8s_pull_secret_links`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// List registry accounts.
    List,
}

#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// List catalog entries.
    List,
    /// One entry with its deploy settings, account and pull secrets.
    Show {
        #[arg(value_name = "AGENT")]
        agent: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ManifestsArgs {
    #[arg(value_name = "AGENT")]
    pub agent: String,
    /// The tag to render (default: the pinned tag).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// The Kubernetes namespace (also selects the pull secrets linked there).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

pub async fn apply(
    store: &AnyStore,
    args: &ApplyArgs,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let current = store.snapshot().await.map_err(refusal)?;
    let now = tau_registry::time::now_rfc3339();
    let plan = tau_registry::apply::load(&args.file, &current, &now).map_err(refusal)?;
    store.apply(&plan).await.map_err(refusal)?;
    if json {
        out.json(&serde_json::json!({
            "store": store.kind(),
            "applied": {
                "registry_accounts": plan.accounts.iter().map(|a| &a.id).collect::<Vec<_>>(),
                "agent_catalog": plan.catalog.iter().map(|(c, _)| serde_json::json!({"id": c.id, "agent_name": c.agent_name})).collect::<Vec<_>>(),
                "k8s_pull_secret_links": plan.links.iter().map(|l| &l.id).collect::<Vec<_>>(),
            }
        }))?;
    } else {
        out.line(&format!(
            "registry apply: {} account(s), {} catalog entr(ies), {} pull-secret link(s) applied to the {} store",
            plan.accounts.len(),
            plan.catalog.len(),
            plan.links.len(),
            store.kind()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn account(
    store: &AnyStore,
    _c: &AccountCommand,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let snap = store.snapshot().await.map_err(refusal)?;
    if json {
        out.json(&serde_json::json!({ "registry_accounts": snap.accounts }))?;
    } else {
        for a in &snap.accounts {
            out.line(&format!(
                "{}  {}  {}/{}  credential_ref={}  read_only={}",
                a.id,
                a.provider.as_str(),
                a.registry_url,
                a.namespace,
                a.credential_ref.as_deref().unwrap_or("-"),
                a.read_only
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn catalog(
    store: &AnyStore,
    c: &CatalogCommand,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    match c {
        CatalogCommand::List => {
            let snap = store.snapshot().await.map_err(refusal)?;
            if json {
                let rows: Vec<_> = snap.catalog.iter().map(|(c, _)| c).collect();
                out.json(&serde_json::json!({ "agent_catalog": rows }))?;
            } else {
                for (c, d) in &snap.catalog {
                    out.line(&format!(
                        "{}  {}/{}/{}  {}  pinned={}  autodeploy={}",
                        c.agent_name,
                        c.service,
                        c.role,
                        d.shard,
                        c.repo,
                        c.pinned_tag.as_deref().unwrap_or("-"),
                        c.autodeploy_enabled
                    ))?;
                }
            }
        }
        CatalogCommand::Show { agent } => {
            let entry = store.agent(agent).await.map_err(refusal)?;
            if json {
                out.json(&entry)?;
            } else {
                let c = &entry.catalog;
                out.line(&format!("agent_name: {}", c.agent_name))?;
                out.line(&format!("id: {}", c.id))?;
                out.line(&format!(
                    "routing key: {}/{}/{}{}",
                    c.service,
                    c.role,
                    entry.deploy.shard,
                    entry
                        .deploy
                        .tenant
                        .as_ref()
                        .map(|t| format!("/{t}"))
                        .unwrap_or_default()
                ))?;
                out.line(&format!("repo: {}", c.repo))?;
                out.line(&format!(
                    "pinned_tag: {}",
                    c.pinned_tag.as_deref().unwrap_or("-")
                ))?;
                out.line(&format!("autodeploy_enabled: {}", c.autodeploy_enabled))?;
                if let Some(a) = &entry.account {
                    out.line(&format!(
                        "registry account: {}/{} ({})",
                        a.registry_url, a.namespace, a.id
                    ))?;
                }
                let env: Vec<&String> = entry.deploy.env.keys().collect();
                out.line(&format!(
                    "env: {}",
                    env.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn manifests(
    store: &AnyStore,
    args: &ManifestsArgs,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let entry = store.agent(&args.agent).await.map_err(refusal)?;
    let tag = match args
        .tag
        .clone()
        .or_else(|| entry.catalog.pinned_tag.clone())
    {
        Some(t) => t,
        None => {
            return Err(crate::failure::Refusal::new(
                crate::failure::USAGE,
                "no_tag",
                format!("{} has no pinned tag; pass --tag", args.agent),
            )
            .into())
        }
    };
    let row = store
        .find_tag(&entry.catalog.id, &tag)
        .await
        .map_err(refusal)?
        .ok_or_else(|| {
            crate::failure::Refusal::new(
                crate::failure::USAGE,
                "tag_not_recorded",
                format!(
                    "{} tag {tag} is not recorded; run `tau registry tag record {} {tag}`",
                    args.agent, args.agent
                ),
            )
        })?;
    let deployment = tau_registry::manifests::deployment(&entry, &row, args.namespace.as_deref())
        .map_err(refusal)?;
    if json {
        out.json(&deployment)?;
    } else {
        out.raw(tau_registry::manifests::to_yaml(&deployment).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
