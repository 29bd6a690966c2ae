//! A contract run made durable: lock, recover, evaluate, commit.
//!
//! Commit order is what makes a run exactly-once under `kill -9`:
//! 1. the journal records every log's length, then the event line and the channel-store entries
//!    are appended ([`Phase::AppendsWritten`]);
//! 2. `state.json` is replaced with the new processed keys, rollouts, health and generation
//!    ([`Phase::StateCommitted`]) — the run is now committed;
//! 3. `MEMORY.md` of each touched blueprint is regenerated from committed state;
//! 4. the events log is rotated if due and the journal cleared.
//!
//! A crash before 2 is rolled back by the next run (the logs are cut to their recorded lengths and
//! the cases run again); a crash after 2 keeps everything, and the next run redoes 3.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::Path;
use std::time::Instant;

use tau_durable::journal::{self, FileId, Transaction};
use tau_durable::lock::{DirLock, Wait};

use crate::cycle::{self, CaseResult, Counts, Disposition, Limits};
use crate::driver::{Accepted, Driver, Outcome};
use crate::events::{self, CycleReport, ReasonCode, Rotation};
use crate::fixture::Fixture;
use crate::health::{self, Classification};
use crate::hooks::{Hooks, Phase};
use crate::state::{Health, RolloutRecord, State};
use crate::{channel, now_unix_ms, Error, Result, STATE_FILE};

/// How a run behaves beyond the fixture itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub limits: Limits,
    pub rotation: Rotation,
    /// Fail at once instead of waiting when another process holds the state dir.
    pub lock_no_wait: bool,
}

/// What a run did, for the summary and health lines.
#[derive(Debug, Clone)]
pub struct Report {
    pub counts: Counts,
    pub reason_codes: Vec<ReasonCode>,
    pub health: Health,
    pub classification: Classification,
    /// Human-readable description of each case that broke its contract.
    pub contract_failures: Vec<String>,
}

impl Report {
    /// Whether any case broke its fixture expectation (the runner then exits 1).
    pub fn contract_broken(&self) -> bool {
        self.counts.contract_mismatches > 0
    }
}

/// Checks that every limit is usable.
pub fn check_options(options: &Options) -> Result<()> {
    let l = &options.limits;
    let zero = [
        ("--deployment-queue-limit", l.queue_limit == 0),
        ("--deployment-processed-case-cap", l.processed_case_cap == 0),
        ("--deployment-retry-max-attempts", l.retry_max_attempts == 0),
        (
            "--deployment-events-max-bytes",
            options.rotation.max_bytes == 0,
        ),
        (
            "--deployment-events-max-files",
            options.rotation.max_files == 0,
        ),
    ];
    match zero.into_iter().find(|(_, is_zero)| *is_zero) {
        Some((name, _)) => Err(Error::ZeroLimit { name }),
        None => Ok(()),
    }
}

/// Takes the state-dir lock, telling `hooks` if it has to wait.
pub fn lock(dir: &Path, no_wait: bool, hooks: &mut dyn Hooks) -> Result<DirLock> {
    let mut note = |holder: &str| hooks.waiting_for_lock(holder);
    let wait = if no_wait {
        Wait::FailFast
    } else {
        Wait::Block(&mut note)
    };
    Ok(DirLock::acquire(dir, wait)?)
}

/// Loads committed state under a held lock, finishing or undoing an interrupted run first.
pub fn load_recovered(dir: &Path) -> Result<State> {
    let state = State::load(&dir.join(STATE_FILE))?;
    let recovery = journal::recover(dir, state.commit_generation)?;
    let blueprints: BTreeSet<String> = recovery.derived().iter().cloned().collect();
    // A writer killed mid-rename leaves its temp file; those can only be in the state dir or in
    // the blueprint dirs the interrupted run was rewriting.
    tau_durable::atomic::remove_stale_temps(dir)?;
    for blueprint in blueprints
        .iter()
        .filter(|b| crate::blueprint::check_id(b).is_ok())
    {
        tau_durable::atomic::remove_stale_temps(&dir.join(channel::ROOT).join(blueprint))?;
    }
    write_memories(dir, &state, &blueprints)?;
    Ok(state)
}

/// One case a run would evaluate, as `tau run --dry-run` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PreviewCase {
    pub case_id: String,
    pub blueprint_id: String,
    pub deploy_target: String,
    pub runtime_profile: String,
}

/// What a run of `fixture` would do against the committed state in `dir`, without taking the
/// lock or writing anything.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Preview {
    /// The cases the next run would evaluate, in queue order.
    pub to_apply: Vec<PreviewCase>,
    /// Cases already applied by an earlier run (skipped as duplicates).
    pub already_applied: u64,
    /// Cases beyond the queue limit that would stay pending.
    pub deferred: u64,
}

/// Plans a run of `fixture` against committed state only; nothing is locked, recovered or written.
pub fn preview(fixture: &Fixture, dir: &Path, options: &Options) -> Result<Preview> {
    check_options(options)?;
    let state = State::load(&dir.join(STATE_FILE))?;
    let processed: FxHashSet<&str> = state.processed_case_keys.iter().map(|k| &**k).collect();
    let plan = cycle::plan(fixture, |key| processed.contains(key), &options.limits);
    Ok(Preview {
        to_apply: plan
            .queue
            .iter()
            .map(|(case, _)| PreviewCase {
                case_id: case.case_id.to_string(),
                blueprint_id: case.blueprint_id.to_string(),
                deploy_target: case.deploy_target.to_string(),
                runtime_profile: case.runtime_profile.to_string(),
            })
            .collect(),
        already_applied: plan.counts.duplicate_skips,
        deferred: plan.counts.backlog,
    })
}

/// Runs `fixture` against the state in `dir`.
///
/// The fixture is consumed: its cases are released as soon as they are evaluated, before the
/// state is merged and written, which keeps the peak memory of million-case runs down.
pub fn run(
    fixture: Fixture,
    dir: &Path,
    options: &Options,
    driver: &mut dyn Driver,
    hooks: &mut dyn Hooks,
) -> Result<Report> {
    check_options(options)?;
    let _lock = lock(dir, options.lock_no_wait, hooks)?;
    let mut state = load_recovered(dir)?;
    let started = Instant::now();
    let now = now_unix_ms();

    let plan = {
        let processed: FxHashSet<&str> = state.processed_case_keys.iter().map(|k| &**k).collect();
        cycle::plan(&fixture, |key| processed.contains(key), &options.limits)
    };

    // Every file this run appends to is named in the journal before the first byte is written.
    let touched: BTreeSet<&str> = plan
        .queue
        .iter()
        .map(|(case, _)| &*case.blueprint_id)
        .collect();
    let mut appends = vec![events::FILE.to_string()];
    let mut derived = Vec::with_capacity(touched.len());
    let mut files: FxHashMap<&str, (FileId, FileId)> = FxHashMap::default();
    for blueprint in &touched {
        let log = FileId(appends.len());
        appends.push(channel::log_path(blueprint));
        let context = FileId(appends.len());
        appends.push(channel::context_path(blueprint));
        files.insert(blueprint, (log, context));
        derived.push(blueprint.to_string());
    }
    let generation = state.commit_generation + 1;
    let mut tx = Transaction::begin(dir, generation, &appends, &derived)?;

    // Only a case expected to succeed can be applied, so this is an exact upper bound; reserving
    // it avoids the doubling copies that would otherwise set the peak memory of large runs.
    let may_apply = plan
        .queue
        .iter()
        .filter(|(case, _)| case.expected.outcome == Outcome::Success)
        .count();
    let mut rollouts = Vec::with_capacity(may_apply);
    let mut completed_keys = Vec::with_capacity(plan.queue.len());
    let mut contract_failures = Vec::new();
    let mut sink = |result: CaseResult<'_>| -> Result<()> {
        let (log, context) = files[&*result.case.blueprint_id];
        tx.append(log, |buf| channel::write_log_entry(buf, &result, now))?;
        tx.append(context, |buf| {
            channel::write_context_line(buf, &result, now)
        })?;
        match &result.disposition {
            Disposition::Applied => {
                if let Some(accepted) = result.response.accepted() {
                    rollouts.push(rollout_record(&result, accepted, now));
                }
            }
            Disposition::ContractMismatch(_) => contract_failures.extend(result.failure()),
            _ => {}
        }
        if result.disposition.is_completed() {
            completed_keys.push(result.key);
        }
        Ok(())
    };
    let counts = cycle::execute(plan, &options.limits, driver, hooks, &mut sink)?;
    drop(touched);
    drop(files);
    drop(fixture);

    let previous_streak = state.health.map_or(0, |h| h.failure_streak);
    let health = Health {
        updated_unix_ms: now,
        cycle_duration_ms: started.elapsed().as_millis() as u64,
        queue_depth: counts.backlog,
        active_runs: 0,
        failure_streak: if counts.failed > 0 {
            previous_streak + 1
        } else {
            0
        },
        last_cycle_discovered: counts.discovered,
        last_cycle_processed: counts.applied
            + counts.malformed
            + counts.failed
            + counts.duplicate_skips,
        last_cycle_completed: counts.applied + counts.malformed,
        last_cycle_failed: counts.failed,
        last_cycle_duplicates: counts.duplicate_skips,
    };
    let classification = health::classify(Some(&health));
    let reason_codes = ReasonCode::for_counts(&counts);
    let report = CycleReport {
        timestamp_unix_ms: now,
        health_state: classification.state,
        health_reason: classification.reason.clone(),
        reason_codes: reason_codes
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        discovered_cases: counts.discovered,
        queued_cases: counts.queued,
        applied_cases: counts.applied,
        duplicate_skips: counts.duplicate_skips,
        malformed_cases: counts.malformed,
        retryable_failures: counts.retryable_failures,
        retry_attempts: counts.retry_attempts,
        failed_cases: counts.failed,
        contract_mismatches: counts.contract_mismatches,
        upserted_rollouts: counts.upserted_rollouts,
        wasm_rollouts: counts.wasm_rollouts,
        cloud_rollouts: counts.cloud_rollouts,
        backlog_cases: counts.backlog,
        failure_streak: health.failure_streak,
    };
    tx.append(FileId(0), |buf| {
        serde_json::to_writer(&mut *buf, &report).expect("event serializes to memory");
        buf.push(b'\n');
    })?;
    tx.sync()?;
    hooks.reached(Phase::AppendsWritten);

    state.upsert_rollouts(rollouts);
    state.remember_processed(completed_keys, options.limits.processed_case_cap);
    state.health = Some(health);
    state.commit_generation = generation;
    state.save(&dir.join(STATE_FILE))?;
    hooks.reached(Phase::StateCommitted);

    let derived: BTreeSet<String> = derived.into_iter().collect();
    write_memories(dir, &state, &derived)?;
    hooks.reached(Phase::DerivedWritten);
    events::rotate_if_needed(dir, options.rotation)?;
    tx.finish()?;
    hooks.reached(Phase::Finished);

    Ok(Report {
        counts,
        reason_codes,
        health,
        classification,
        contract_failures,
    })
}

fn rollout_record(result: &CaseResult<'_>, accepted: &Accepted, now: u64) -> RolloutRecord {
    let case = result.case;
    let artifact = &accepted.artifact;
    RolloutRecord {
        case_key: result.key.clone(),
        case_id: case.case_id.clone(),
        deploy_target: accepted.deploy_target.clone(),
        runtime_profile: accepted.runtime_profile.clone(),
        blueprint_id: accepted.blueprint_id.clone(),
        environment: accepted.environment.clone(),
        region: accepted.region.clone(),
        artifact: artifact.reference.clone(),
        artifact_sha256: artifact.sha256.clone(),
        artifact_size_bytes: artifact.size_bytes,
        artifact_manifest: artifact.manifest.clone(),
        runtime_constraints: artifact.runtime_constraints.clone(),
        artifact_verified: artifact.verified,
        replicas: case.replicas,
        rollout_strategy: accepted.strategy,
        status_code: result.response.status_code,
        outcome: result.response.outcome,
        error_code: result.response.error_code,
        updated_unix_ms: now,
    }
}

/// Regenerates `MEMORY.md` for each of `blueprints` from committed state.
fn write_memories(dir: &Path, state: &State, blueprints: &BTreeSet<String>) -> Result<()> {
    if blueprints.is_empty() {
        return Ok(());
    }
    let mut by_blueprint: BTreeMap<&str, Vec<&RolloutRecord>> = blueprints
        .iter()
        .map(|b| (b.as_str(), Vec::new()))
        .collect();
    for record in &state.rollouts {
        if let Some(list) = by_blueprint.get_mut(record.blueprint_id.as_str()) {
            list.push(record);
        }
    }
    for (blueprint, records) in by_blueprint {
        // A name from a hand-edited journal that is not a blueprint id is not ours to write.
        if crate::blueprint::check_id(blueprint).is_err() {
            continue;
        }
        let text = channel::render_memory(blueprint, records.into_iter());
        tau_durable::atomic::write(&channel::memory_path(dir, blueprint), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
