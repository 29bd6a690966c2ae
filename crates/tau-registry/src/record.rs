//! `tau registry tag record`: a tag enters an agent's history with the digest the registry
//! answers for it now, and a trace id that will follow its rollout to the agent's audit log.

use crate::digest::Resolver;
use crate::model::{ImageTagHistory, RolloutStatus};
use crate::policy::{secret, Tag, TraceId};
use crate::store::{new_history_id, Recorded, Store};
use crate::time::Utc;
use crate::{Error, Result};

/// The optional columns a CI job supplies.
#[derive(Debug, Clone, Default)]
pub struct Build {
    pub built_by: Option<String>,
    /// RFC 3339; stored as UTC to the second.
    pub built_at: Option<String>,
    pub changelog_url: Option<String>,
    pub trace_id: Option<String>,
}

fn text(field: &str, value: &str) -> Result<()> {
    match secret::detect(value) {
        Some(kind) => Err(Error::SecretRefused {
            source_name: "tag record".into(),
            field: field.into(),
            kind,
        }),
        None => Ok(()),
    }
}

/// Records `tag` for `agent_name` (once; see [`Store::record_tag`]).
pub async fn record<S: Store>(
    store: &S,
    resolver: &impl Resolver,
    agent_name: &str,
    tag: &str,
    build: &Build,
) -> Result<Recorded> {
    Tag::parse(tag)
        .map_err(|r| Error::refused("tag_invalid", format!("tag record: TAG: {}", r.0)))?;
    for (field, v) in [
        ("--built-by", &build.built_by),
        ("--changelog-url", &build.changelog_url),
    ] {
        if let Some(v) = v {
            text(field, v)?;
        }
    }
    let built_at = match &build.built_at {
        Some(t) => Some(
            Utc::parse_rfc3339(t)
                .ok_or_else(|| {
                    Error::policy(
                        "tag record",
                        "--built-at",
                        "expected an RFC 3339 time such as 2025-08-15T12:30:00Z",
                    )
                })?
                .rfc3339(),
        ),
        None => None,
    };
    if let Some(url) = &build.changelog_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::policy(
                "tag record",
                "--changelog-url",
                "expected an http(s) URL",
            ));
        }
    }
    let trace_id = match &build.trace_id {
        Some(t) => TraceId::parse(t).map_err(|r| Error::policy("tag record", "--trace-id", r.0))?,
        None => TraceId::random(),
    };
    let entry = store.agent(agent_name).await?;
    let digest = resolver.digest(&entry.catalog.repo, tag).await?;
    let row = ImageTagHistory {
        id: new_history_id(),
        agent_id: entry.catalog.id.clone(),
        tag: tag.to_string(),
        digest: Some(digest),
        built_by: build.built_by.clone(),
        built_at,
        changelog_url: build.changelog_url.clone(),
        rollout_status: RolloutStatus::Staged,
        trace_id: trace_id.as_str().to_string(),
    };
    store.record_tag(agent_name, row).await
}
