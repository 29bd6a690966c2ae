//! The rollout and rollback sequences (see the module doc of [`super`]).

use tokio::time::{sleep, timeout_at, Instant};

use super::{unix_ms, DeployError, DeployRequest, Deployer, Event, Options, Outcome, Report};
use crate::digest::Resolver;
use crate::model::{AgentEntry, ImageTagHistory, RolloutStatus};
use crate::policy::{Environment, Tag, TraceId};
use crate::store::{new_history_id, Recorded, Store};
use crate::{Error, Result};

pub(super) struct Journal {
    pub(super) start: Instant,
    pub(super) trace_id: String,
    pub(super) events: Vec<Event>,
}

impl Journal {
    pub(super) fn note(&mut self, event: &'static str, tag: &str, detail: Option<String>) {
        self.events.push(Event {
            at_ms: self.start.elapsed().as_millis() as u64,
            event,
            tag: tag.to_string(),
            trace_id: self.trace_id.clone(),
            detail,
        });
    }
}

pub(super) fn parse_tag(agent: &str, tag: &str) -> Result<Tag> {
    Tag::parse(tag).map_err(|r| {
        Error::refused(
            "tag_invalid",
            format!("{agent}: tag: {}", crate::policy::secret::redact(r.0)),
        )
    })
}

pub(super) fn request(
    entry: &AgentEntry,
    image: String,
    environment: Environment,
    env_lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<DeployRequest> {
    Ok(DeployRequest {
        container_name: entry.catalog.agent_name.clone(),
        image,
        environment,
        env: crate::apply::resolve_env(&entry.catalog.agent_name, &entry.deploy.env, env_lookup)?,
        volumes: entry.deploy.volumes.clone(),
    })
}

pub(super) fn image_of(entry: &AgentEntry, row: &ImageTagHistory) -> String {
    match &row.digest {
        Some(d) => format!("{}:{}@{d}", entry.catalog.repo, row.tag),
        None => format!("{}:{}", entry.catalog.repo, row.tag),
    }
}

/// Checks the registry still answers the digest recorded for `row`.
pub(super) async fn check_digest(
    resolver: &impl Resolver,
    entry: &AgentEntry,
    row: &ImageTagHistory,
) -> Result<String> {
    let current = resolver.digest(&entry.catalog.repo, &row.tag).await?;
    match &row.digest {
        Some(recorded) if recorded != &current => Err(Error::TagDigestChanged {
            agent: entry.catalog.agent_name.clone(),
            tag: row.tag.clone(),
            recorded: recorded.clone(),
            current,
        }),
        _ => Ok(current),
    }
}

/// Deploys `request` and watches it: `Ok` once the agent has reported `request.image` running
/// for `hold`; `Err` when the agent cannot be reached (`Unreached`: nothing changed), or refuses
/// or fails the deploy, or the container is seen not running (`Failed`).
pub(super) async fn deploy_and_hold(
    deployer: &impl Deployer,
    request: &DeployRequest,
    traceparent: &str,
    hold: std::time::Duration,
    poll: std::time::Duration,
) -> std::result::Result<(), DeployError> {
    let key = uuid::Uuid::new_v4().to_string();
    deployer
        .deploy(request, traceparent, &key)
        .await
        .map_err(|e| match e {
            DeployError::Unreached(r) => {
                DeployError::Unreached(format!("the agent could not be reached: {r}"))
            }
            DeployError::Failed(r) => {
                DeployError::Failed(format!("the agent refused or failed the deploy: {r}"))
            }
        })?;
    let mut since: Option<Instant> = None;
    loop {
        match deployer.status().await {
            Ok(seen) if seen.running && seen.image.as_deref() == Some(request.image.as_str()) => {
                let first = *since.get_or_insert_with(Instant::now);
                if first.elapsed() >= hold {
                    return Ok(());
                }
            }
            Ok(seen) if !seen.running => {
                return Err(DeployError::Failed(format!(
                    "the new container stopped running ({} seen not running)",
                    request.image
                )));
            }
            Ok(seen) => {
                return Err(DeployError::Failed(format!(
                    "the agent now runs another image ({})",
                    seen.image.unwrap_or_default()
                )));
            }
            // A status request that fails is retried until the deadline.
            Err(_) => {}
        }
        sleep(poll).await;
    }
}

/// Rolls `agent_name` out to `tag` (see the module doc).
pub async fn rollout<S: Store>(
    store: &S,
    resolver: &impl Resolver,
    deployer: &impl Deployer,
    env_lookup: &dyn Fn(&str) -> Option<String>,
    agent_name: &str,
    tag_text: &str,
    opts: &Options,
) -> Result<Report> {
    let tag = parse_tag(agent_name, tag_text)?;
    let entry = store.agent(agent_name).await?;
    if !entry.catalog.autodeploy_enabled && !opts.manual {
        return Err(Error::refused(
            "autodeploy_disabled",
            format!("{agent_name} has autodeploy_enabled=false: only a rollout asked for by a person (--manual) may deploy it"),
        ));
    }
    if opts.verify >= opts.timeout {
        return Err(Error::refused(
            "usage",
            "--verify-seconds must be shorter than --timeout",
        ));
    }
    let agent_id = entry.catalog.id.clone();
    let _lock = store.lock_agent(&agent_id).await?;
    let locked_from = unix_ms();
    // Re-read under the lock: a rollout that ran while this one waited changed the pinned tag.
    let entry = store.agent(agent_name).await?;
    let existing = store.find_tag(&agent_id, tag_text).await?;
    if let Some(row) = &existing {
        if row.rollout_status.is_bad() && !opts.force {
            return Err(Error::refused(
                "tag_previously_failed",
                format!("{agent_name} tag {tag_text} is {}; it is never rolled out again automatically. Roll it out with --force if you mean it", row.rollout_status.as_str()),
            ));
        }
    }
    let environment = opts.environment.unwrap_or(tag.environment());
    // Resolve secret env before anything is written: a missing variable refuses the rollout and
    // leaves no `staged` row behind (the image is filled in once the row's digest is known).
    request(&entry, String::new(), environment, env_lookup)?;
    let row = match existing {
        Some(row) => {
            let digest = check_digest(resolver, &entry, &row).await?;
            ImageTagHistory {
                digest: Some(digest),
                ..row
            }
        }
        None => {
            let digest = resolver.digest(&entry.catalog.repo, tag_text).await?;
            let row = ImageTagHistory {
                id: new_history_id(),
                agent_id: agent_id.clone(),
                tag: tag_text.to_string(),
                digest: Some(digest),
                built_by: None,
                built_at: None,
                changelog_url: None,
                rollout_status: RolloutStatus::Staged,
                trace_id: TraceId::random().as_str().to_string(),
            };
            match store.record_tag(agent_name, row).await? {
                Recorded::New(r) | Recorded::Existing(r) => r,
            }
        }
    };
    let image = image_of(&entry, &row);
    let new_request = request(&entry, image.clone(), environment, env_lookup)?;
    let trace = TraceId::parse(&row.trace_id).unwrap_or_else(|_| TraceId::random());
    let previous = entry.catalog.pinned_tag.clone();
    let mut journal = Journal {
        start: Instant::now(),
        trace_id: trace.as_str().to_string(),
        events: Vec::new(),
    };
    store
        .set_status(
            &agent_id,
            &row.id,
            RolloutStatus::Staged,
            Some(Some(tag_text)),
        )
        .await?;
    journal.note(
        "staged",
        tag_text,
        previous
            .as_ref()
            .map(|p| format!("pinned_tag {p} -> {tag_text}")),
    );

    let start = Instant::now();
    journal.start = start;
    // The whole sequence, a rollback included, ends by `deadline`: the new tag must prove itself
    // early enough to leave the rollback its share of the limit.
    let deadline = start + opts.timeout;
    let attempt_deadline = deadline - opts.rollback_reserve();
    journal.note("deploy_requested", tag_text, Some(image.clone()));
    let attempt = timeout_at(
        attempt_deadline,
        deploy_and_hold(
            deployer,
            &new_request,
            &trace.traceparent(),
            opts.verify,
            opts.poll,
        ),
    )
    .await;
    let (failure, unreached) = match attempt {
        Ok(Ok(())) => (None, false),
        Ok(Err(DeployError::Unreached(reason))) => (Some(reason), true),
        Ok(Err(DeployError::Failed(reason))) => (Some(reason), false),
        Err(_) => (
            Some(format!(
                "not verified running for {}s within {}s of the {}s limit (the rest is kept for the rollback)",
                opts.verify.as_secs(),
                (opts.timeout - opts.rollback_reserve()).as_secs(),
                opts.timeout.as_secs()
            )),
            false,
        ),
    };
    let mut report = Report {
        agent: agent_name.to_string(),
        tag: tag_text.to_string(),
        image,
        trace_id: trace.as_str().to_string(),
        environment,
        result: Outcome::Active,
        previous_tag: previous.clone(),
        rolled_back_to: None,
        reason: None,
        elapsed_ms: 0,
        locked_from_unix_ms: locked_from,
        locked_until_unix_ms: 0,
        events: Vec::new(),
    };
    let Some(reason) = failure else {
        store
            .set_status(&agent_id, &row.id, RolloutStatus::Active, None)
            .await?;
        journal.note("active", tag_text, None);
        report.elapsed_ms = start.elapsed().as_millis() as u64;
        report.events = journal.events;
        report.locked_until_unix_ms = unix_ms();
        return Ok(report);
    };
    if unreached {
        // Nothing reached the agent, so nothing changed on the host and the tag proved nothing:
        // it stays `staged` (never `failed`, which would bar it from automatic rollouts).
        store.set_pinned(&agent_id, previous.as_deref()).await?;
        journal.note("not_deployed", tag_text, Some(reason.clone()));
        report.result = Outcome::Failed;
        report.reason = Some(format!(
            "{reason}; nothing was deployed, pinned_tag is back to {}, and {tag_text} stays staged: roll it out again once the agent answers",
            previous.as_deref().unwrap_or("none")
        ));
        report.elapsed_ms = start.elapsed().as_millis() as u64;
        report.events = journal.events;
        report.locked_until_unix_ms = unix_ms();
        return Ok(report);
    }
    store
        .set_status(&agent_id, &row.id, RolloutStatus::Failed, None)
        .await?;
    journal.note("failed", tag_text, Some(reason.clone()));
    report.reason = Some(reason);
    // The tag pinned before this rollout, if it is the last active one; else the newest active.
    let target = match &previous {
        Some(p) if p != tag_text => store
            .find_tag(&agent_id, p)
            .await?
            .filter(|r| r.rollout_status == RolloutStatus::Active),
        _ => None,
    };
    let target = match target {
        Some(t) => Some(t),
        None => store.last_active(&agent_id, Some(tag_text)).await?,
    };
    let Some(target) = target else {
        store.set_pinned(&agent_id, previous.as_deref()).await?;
        journal.note(
            "no_rollback_target",
            tag_text,
            Some("no earlier active tag to go back to".into()),
        );
        report.result = Outcome::Failed;
        report.elapsed_ms = start.elapsed().as_millis() as u64;
        report.events = journal.events;
        report.locked_until_unix_ms = unix_ms();
        return Ok(report);
    };
    let back = back_to(
        deployer,
        &entry,
        &target,
        environment,
        env_lookup,
        &trace,
        opts,
        deadline,
        &mut journal,
    )
    .await;
    store.set_pinned(&agent_id, Some(&target.tag)).await?;
    journal.note("pinned_restored", &target.tag, None);
    report.rolled_back_to = Some(target.tag.clone());
    report.result = match back {
        Ok(()) => Outcome::RolledBack,
        Err(e) => {
            report.reason = Some(format!(
                "{}; the rollback to {} failed too: {e}",
                report.reason.take().unwrap_or_default(),
                target.tag
            ));
            Outcome::Failed
        }
    };
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    report.events = journal.events;
    report.locked_until_unix_ms = unix_ms();
    Ok(report)
}

/// Redeploys `target` (an active row) and waits until the agent reports it running. The old
/// image already proved itself, so it is not held for the full verify period.
#[allow(clippy::too_many_arguments)]
async fn back_to(
    deployer: &impl Deployer,
    entry: &AgentEntry,
    target: &ImageTagHistory,
    environment: Environment,
    env_lookup: &dyn Fn(&str) -> Option<String>,
    trace: &TraceId,
    opts: &Options,
    deadline: Instant,
    journal: &mut Journal,
) -> Result<(), String> {
    let image = image_of(entry, target);
    journal.note("rollback_requested", &target.tag, Some(image.clone()));
    let req = request(entry, image, environment, env_lookup).map_err(|e| e.to_string())?;
    let hold = opts.poll.min(opts.verify);
    let result = match timeout_at(
        deadline,
        deploy_and_hold(deployer, &req, &trace.traceparent(), hold, opts.poll),
    )
    .await
    {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the old image was not seen running before the {}s limit",
            opts.timeout.as_secs()
        )),
    };
    match &result {
        Ok(()) => journal.note("rolled_back", &target.tag, None),
        Err(e) => journal.note("rollback_failed", &target.tag, Some(e.clone())),
    }
    result
}
