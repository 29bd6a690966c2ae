//! `tau run --dry-run`: what a run would evaluate, from committed state only.

use std::path::Path;

use crate::cycle;
use crate::fixture::Fixture;
use crate::processed::Processed;
use crate::state::State;
use crate::{Result, STATE_FILE};

use super::{check_options, Options};

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
    let processed = Processed::load(dir, &state, &fixture.cases)?;
    let plan = cycle::plan(fixture, |key| processed.contains(key), &options.limits);
    Ok(Preview {
        to_apply: plan
            .queue
            .iter()
            .map(|case| PreviewCase {
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
