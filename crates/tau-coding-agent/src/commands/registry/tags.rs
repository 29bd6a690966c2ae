//! `history`, `tag record`.

use std::process::ExitCode;

use anyhow::Result;
use tau_registry::digest::HttpResolver;
use tau_registry::record::{record, Build};
use tau_registry::store::{AnyStore, Recorded, Store};

use super::refusal;
use crate::out::Out;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[arg(value_name = "AGENT")]
    pub agent: String,
    /// Newest N rows only.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, clap::Subcommand)]
pub enum TagCommand {
    /// Record a tag for an agent with the digest the registry answers for it now.
    Record(RecordArgs),
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[arg(value_name = "AGENT")]
    pub agent: String,
    #[arg(value_name = "TAG")]
    pub tag: String,
    #[arg(long, value_name = "WHO")]
    pub built_by: Option<String>,
    /// RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub built_at: Option<String>,
    #[arg(long, value_name = "URL")]
    pub changelog_url: Option<String>,
    /// W3C trace id (32 lowercase hex) that follows this tag to the agent's audit log.
    #[arg(long, value_name = "ID")]
    pub trace_id: Option<String>,
}

pub async fn history(
    store: &AnyStore,
    args: &HistoryArgs,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let entry = store.agent(&args.agent).await.map_err(refusal)?;
    let rows = store
        .history(&entry.catalog.id, args.limit)
        .await
        .map_err(refusal)?;
    if json {
        out.json(&serde_json::json!({ "agent": args.agent, "image_tag_history": rows }))?;
    } else {
        for r in &rows {
            out.line(&format!(
                "{}  {}  {}  {}  trace_id={}",
                r.tag,
                r.rollout_status.as_str(),
                r.digest.as_deref().unwrap_or("-"),
                r.built_at.as_deref().unwrap_or("-"),
                r.trace_id
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tag(
    store: &AnyStore,
    resolver: &HttpResolver,
    c: &TagCommand,
    json: bool,
    out: &mut Out,
) -> Result<ExitCode> {
    let TagCommand::Record(a) = c;
    let build = Build {
        built_by: a.built_by.clone(),
        built_at: a.built_at.clone(),
        changelog_url: a.changelog_url.clone(),
        trace_id: a.trace_id.clone(),
    };
    let recorded = record(store, resolver, &a.agent, &a.tag, &build)
        .await
        .map_err(refusal)?;
    let (new, row) = match &recorded {
        Recorded::New(r) => (true, r),
        Recorded::Existing(r) => (false, r),
    };
    if json {
        out.json(&serde_json::json!({ "recorded": new, "image_tag_history": row }))?;
    } else {
        out.line(&format!(
            "tag record: {} {} {} ({}) trace_id={}",
            a.agent,
            row.tag,
            row.digest.as_deref().unwrap_or("-"),
            if new { "recorded" } else { "already recorded" },
            row.trace_id
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
