//! A contract run made durable: lock, recover, evaluate, commit.
//!
//! Commit order is what makes a run exactly-once under `kill -9`:
//! 1. the journal records every log's length, then the event line, the channel-store entries and
//!    the history records are appended ([`Phase::AppendsWritten`]);
//! 2. `state.json` is replaced with the new processed keys, rollouts, health, run record and
//!    generation ([`Phase::StateCommitted`]) — the run is now committed;
//! 3. `MEMORY.md` of each touched blueprint is regenerated from committed state;
//! 4. the events log is rotated if due and the journal cleared.
//!
//! The new `state.json` and `MEMORY.md` files are written and fsynced under temporary names while
//! the appends of 1 are fsynced, and renamed into place in steps 2 and 3.
//!
//! A crash before 2 is rolled back by the next run (the logs are cut to their recorded lengths,
//! temporary files removed and the cases run again); a crash after 2 keeps everything, and the
//! next run redoes 3. Readers
//! without the lock see only committed runs: `state.json` is replaced whole, and event lines carry
//! the generation that commits them.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use rustc_hash::FxHashMap;

use tau_durable::journal::{self, FileId, Transaction};
use tau_durable::lock::{DirLock, Wait};

use crate::cycle::{self, CaseResult, Counts, Disposition, Limits};
use crate::driver::Driver;
use crate::events::{self, CycleReport, ReasonCode, Rotation};
use crate::evidence::RunRecord;
use crate::fixture::Fixture;
use crate::health::{self, Classification};
use crate::history;
use crate::hooks::{Hooks, Phase};
use crate::processed::Processed;
use crate::rollout::line::{self, LineCache};
use crate::state::{Health, State};
use crate::sym::Sym;
use crate::totals::add;
use crate::{channel, now_unix_ms, Error, Result, STATE_FILE};

mod cases;
mod memories;
mod migrate;
mod output;
mod preview;
mod record;
mod render;

use cases::{case_report, skipped_cases};
pub use cases::{CaseReport, SkippedCase};
use memories::{stage_memories, write_memories};
use output::{Channel, History, Kept};
pub use preview::{preview, Preview, PreviewCase};

/// How a run behaves beyond the fixture itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub limits: Limits,
    pub rotation: Rotation,
    /// Fail at once instead of waiting when another process holds the state dir.
    pub lock_no_wait: bool,
    /// Keep a [`CaseReport`] of every evaluated case in [`Report::cases`] (for JUnit and CI
    /// annotations). Off by default: a million-case run should not hold a report per case that
    /// nobody reads.
    pub keep_case_reports: bool,
}

/// What a run did, for the summary and health lines and the CI reports.
#[derive(Debug, Clone)]
pub struct Report {
    pub counts: Counts,
    pub reason_codes: Vec<ReasonCode>,
    pub health: Health,
    pub classification: Classification,
    /// Human-readable description of each case that broke its contract.
    pub contract_failures: Vec<String>,
    /// Every case this run evaluated, in queue order; empty unless
    /// [`Options::keep_case_reports`] is set.
    pub cases: Vec<CaseReport>,
    /// Every fixture case this run did not evaluate (duplicates, backlog); empty unless
    /// [`Options::keep_case_reports`] is set.
    pub skipped: Vec<SkippedCase>,
    /// The run as recorded in `state.json`.
    pub run: RunRecord,
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

/// Runs `fixture` against the state in `dir`.
///
/// The fixture is consumed: its cases are released as soon as they are evaluated, before the
/// state is merged and written, which keeps the peak memory of million-case runs down. Rollouts
/// and processed keys stream to the history as they are decided; only the bounded windows that
/// `state.json` keeps are held in memory.
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
    let generation = add("commit_generation", state.commit_generation, 1)?;
    let legacy = migrate::Legacy::of(&state)?;
    let totals = legacy.totals.clone();

    // Possibly still being hashed: asked for once the run is recorded.
    let fixture_sha256 = fixture.sha256;
    let (queue, skipped) = {
        let processed = Processed::load(dir, &state, &fixture.cases)?;
        // Only a report that wants one line per fixture case pays for a copy of every case.
        let all = options.keep_case_reports.then(|| fixture.cases.clone());
        let queue = cycle::plan_owned(
            fixture.cases,
            processed.is_empty(),
            |key| processed.contains(key),
            &options.limits,
        );
        let skipped = all.map_or_else(Vec::new, |all| {
            skipped_cases(&all, queue.cases(), |key| processed.contains(key))
        });
        (queue, skipped)
    };

    // Every file this run appends to is named in the journal before the first byte is written.
    let touched: BTreeSet<Sym> = {
        // Hashed first: sorting a clone of every case's blueprint id was 2 ms per 100,000 cases.
        let distinct: rustc_hash::FxHashSet<&Sym> =
            queue.cases().map(|case| &case.blueprint_id).collect();
        distinct.into_iter().cloned().collect()
    };
    let mut appends = vec![
        events::FILE.to_string(),
        history::PROCESSED_FILE.to_string(),
        history::ROLLOUTS_FILE.to_string(),
        line::PROFILES_FILE.to_string(),
    ];
    const EVENTS: FileId = FileId(0);
    const PROCESSED: FileId = FileId(1);
    const ROLLOUTS: FileId = FileId(2);
    const PROFILES: FileId = FileId(3);
    let mut derived = Vec::with_capacity(touched.len());
    let mut logs: FxHashMap<Sym, FileId> = FxHashMap::default();
    let mut contexts: FxHashMap<Sym, FileId> = FxHashMap::default();
    for blueprint in &touched {
        logs.insert(blueprint.clone(), FileId(appends.len()));
        appends.push(channel::log_path(blueprint));
        contexts.insert(blueprint.clone(), FileId(appends.len()));
        appends.push(channel::context_path(blueprint));
        derived.push(blueprint.to_string());
    }
    let mut line_cache = LineCache::load(dir)?;
    let mut tx = Transaction::begin(dir, generation, &appends, &derived)?;
    let history_files = migrate::Files {
        processed: PROCESSED,
        rollouts: ROLLOUTS,
        profiles: PROFILES,
    };
    legacy.append_to(&state, &mut tx, history_files, &mut line_cache)?;
    drop(legacy);
    state.trim_rollouts();

    let cap = options.limits.processed_case_cap;
    let mut cases = Vec::with_capacity(if options.keep_case_reports {
        queue.len()
    } else {
        0
    });
    let mut contract_failures = Vec::new();
    // Each lane writes its own files: the channel store's logs, its context lines, the history.
    let log_lines = Channel::new(now, logs, channel::write_log_entry);
    let context_lines = Channel::new(now, contexts, channel::write_context_line);
    let history_lines = History::new(now, history_files, line_cache, totals, cap, queue.len());
    let log_out = tx.lend(&log_lines.file_ids())?;
    let context_out = tx.lend(&context_lines.file_ids())?;
    let history_out = tx.lend(&[PROCESSED, ROLLOUTS, PROFILES])?;
    let (counts, kept) = std::thread::scope(|scope| -> Result<(Counts, Kept)> {
        let mut lanes = render::Lanes::spawn(
            scope,
            (history_lines, history_out),
            [(log_lines, log_out), (context_lines, context_out)],
        );
        let mut sink = |result: CaseResult<'static>| -> Result<()> {
            if let Disposition::ContractMismatch(_) = &result.disposition {
                contract_failures.extend(result.failure());
            }
            if options.keep_case_reports {
                cases.push(case_report(&result));
            }
            lanes.push(result)
        };
        let counts = cycle::drain(queue, &options.limits, driver, hooks, &mut sink)?;
        let (outs, kept) = lanes.finish()?;
        for out in outs {
            tx.take_back(out);
        }
        Ok((counts, kept))
    })?;
    let Kept {
        totals,
        recent_rollouts,
        recent_keys,
    } = kept;
    drop(touched);

    let previous_streak = state.health.map_or(0, |h| h.failure_streak);
    let health = Health {
        updated_unix_ms: now,
        cycle_duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        queue_depth: counts.backlog,
        active_runs: 0,
        failure_streak: if counts.failed > 0 {
            add("failure_streak", previous_streak, 1)?
        } else {
            0
        },
        last_cycle_discovered: counts.discovered,
        last_cycle_processed: [counts.malformed, counts.failed, counts.duplicate_skips]
            .into_iter()
            .try_fold(counts.applied, |sum, n| add("last_cycle_processed", sum, n))?,
        last_cycle_completed: add("last_cycle_completed", counts.applied, counts.malformed)?,
        last_cycle_failed: counts.failed,
        last_cycle_duplicates: counts.duplicate_skips,
    };
    let run = RunRecord {
        run_id: generation,
        started_unix_ms: now,
        finished_unix_ms: now_unix_ms().max(now),
        driver: driver.kind(),
        fixture_sha256: fixture_sha256.get().to_owned(),
        cases_discovered: counts.discovered,
        cases_evaluated: counts.queued,
        cases_applied: counts.applied,
        cases_failed: counts.failed,
    };
    let classification = health::classify(Some(&health));
    let reason_codes = ReasonCode::for_counts(&counts);
    let report = cycle_report(&counts, &health, &classification, &reason_codes, generation);
    tx.append(EVENTS, |buf| {
        serde_json::to_writer(&mut *buf, &report).expect("event serializes to memory");
        buf.push(b'\n');
    })?;
    state.upsert_rollouts(recent_rollouts.into());
    state.remember_processed(recent_keys, cap);
    if run.evaluated_cases() || state.health.is_none() {
        state.health = Some(health);
    }
    state.totals = Some(totals);
    if run.is_evidence() {
        state.evidence_run = Some(run.clone());
    }
    state.last_run = Some(run.clone());
    state.commit_generation = generation;
    let derived: BTreeSet<String> = derived.into_iter().collect();

    // The commit and the derived files are decided now: they are written and fsynced beside their
    // targets while the logs reach the disk, and only put in place once the logs are durable.
    let (synced, staged) = std::thread::scope(|scope| {
        let sync = scope.spawn(|| tx.sync());
        let memories = scope.spawn(|| stage_memories(dir, &state, &derived));
        let state_file = state.stage(&dir.join(STATE_FILE));
        let memories = memories
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let synced = sync
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (synced, state_file.and_then(|file| Ok((file, memories?))))
    });
    // Freeing the windows (at a large processed-case cap, 100,000 keys) took 1.7 ms the run need
    // not wait for.
    free_elsewhere(state);
    synced?;
    hooks.reached(Phase::AppendsWritten);
    let (state_file, memories) = staged?;
    state_file.commit()?;
    hooks.reached(Phase::StateCommitted);

    memories.commit()?;
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
        cases,
        skipped,
        run,
    })
}

/// Drops `value` on a thread of its own; here when none can start.
fn free_elsewhere<T: Send + 'static>(value: T) {
    // A failed spawn drops the closure, and `value` with it, right here.
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

fn cycle_report(
    counts: &Counts,
    health: &Health,
    classification: &Classification,
    reason_codes: &[ReasonCode],
    generation: u64,
) -> CycleReport {
    CycleReport {
        timestamp_unix_ms: health.updated_unix_ms,
        commit_generation: generation,
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
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "runner_evidence_tests.rs"]
mod evidence_tests;
