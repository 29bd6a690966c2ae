//! `rollback`: off the pinned tag, back to the newest other active one.

use tokio::time::{timeout_at, Instant};

use super::run::{check_digest, deploy_and_hold, image_of, parse_tag, request, Journal};
use super::{unix_ms, Deployer, Options, Outcome, Report};
use crate::digest::Resolver;
use crate::model::{ImageTagHistory, RolloutStatus};
use crate::policy::TraceId;
use crate::store::Store;
use crate::{Error, Result};

/// Moves `agent_name` off its pinned tag to the newest other `active` tag.
pub async fn rollback<S: Store>(
    store: &S,
    resolver: &impl Resolver,
    deployer: &impl Deployer,
    env_lookup: &dyn Fn(&str) -> Option<String>,
    agent_name: &str,
    opts: &Options,
) -> Result<Report> {
    let entry = store.agent(agent_name).await?;
    let agent_id = entry.catalog.id.clone();
    let _lock = store.lock_agent(&agent_id).await?;
    let locked_from = unix_ms();
    let entry = store.agent(agent_name).await?;
    let current = entry.catalog.pinned_tag.clone();
    let current_row = match &current {
        Some(t) => store.find_tag(&agent_id, t).await?,
        None => None,
    };
    let target = store
        .last_active(&agent_id, current.as_deref())
        .await?
        .ok_or_else(|| {
            Error::refused(
                "no_rollback_target",
                format!(
                    "{agent_name} has no active tag other than {} to roll back to",
                    current.as_deref().unwrap_or("(none)")
                ),
            )
        })?;
    let digest = check_digest(resolver, &entry, &target).await?;
    let target = ImageTagHistory {
        digest: Some(digest),
        ..target
    };
    let environment = opts
        .environment
        .unwrap_or(parse_tag(agent_name, &target.tag)?.environment());
    let trace = TraceId::parse(&target.trace_id).unwrap_or_else(|_| TraceId::random());
    let mut journal = Journal {
        start: Instant::now(),
        trace_id: trace.as_str().to_string(),
        events: Vec::new(),
    };
    let image = image_of(&entry, &target);
    let req = request(&entry, image.clone(), environment, env_lookup)?;
    journal.note(
        "rollback_requested",
        &target.tag,
        current.as_ref().map(|c| format!("from {c}")),
    );
    let start = Instant::now();
    let result = match timeout_at(
        start + opts.timeout,
        deploy_and_hold(deployer, &req, &trace.traceparent(), opts.verify, opts.poll),
    )
    .await
    {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "not verified running for {}s within the {}s limit",
            opts.verify.as_secs(),
            opts.timeout.as_secs()
        )),
    };
    let mut report = Report {
        agent: agent_name.to_string(),
        tag: target.tag.clone(),
        image,
        trace_id: trace.as_str().to_string(),
        environment,
        result: Outcome::RolledBack,
        previous_tag: current.clone(),
        rolled_back_to: Some(target.tag.clone()),
        reason: None,
        elapsed_ms: 0,
        locked_from_unix_ms: locked_from,
        locked_until_unix_ms: 0,
        events: Vec::new(),
    };
    match result {
        Ok(()) => {
            match &current_row {
                Some(row) => {
                    store
                        .set_status(
                            &agent_id,
                            &row.id,
                            RolloutStatus::RolledBack,
                            Some(Some(&target.tag)),
                        )
                        .await?
                }
                None => store.set_pinned(&agent_id, Some(&target.tag)).await?,
            }
            journal.note("rolled_back", &target.tag, None);
        }
        Err(reason) => {
            journal.note("rollback_failed", &target.tag, Some(reason.clone()));
            report.result = Outcome::Failed;
            report.reason = Some(reason);
        }
    }
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    report.events = journal.events;
    report.locked_until_unix_ms = unix_ms();
    Ok(report)
}
