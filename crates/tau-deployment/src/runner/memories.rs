//! The `MEMORY.md` of each blueprint a run touched, derived from the state it commits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tau_durable::atomic::StagedMany;

use crate::state::{RolloutRecord, State};
use crate::{channel, Result};

/// Regenerates `MEMORY.md` for each of `blueprints` from committed state.
pub(super) fn write_memories(
    dir: &Path,
    state: &State,
    blueprints: &BTreeSet<String>,
) -> Result<()> {
    Ok(stage_memories(dir, state, blueprints)?.commit()?)
}

/// Writes the `MEMORY.md` of each of `blueprints`, as `state` has it, beside its target.
pub(super) fn stage_memories(
    dir: &Path,
    state: &State,
    blueprints: &BTreeSet<String>,
) -> Result<StagedMany> {
    let mut by_blueprint: BTreeMap<&str, Vec<&RolloutRecord>> = blueprints
        .iter()
        .map(|b| (b.as_str(), Vec::new()))
        .collect();
    for record in &state.rollouts {
        if let Some(list) = by_blueprint.get_mut(record.blueprint_id.as_str()) {
            list.push(record);
        }
    }
    let mut files = Vec::with_capacity(by_blueprint.len());
    for (blueprint, records) in by_blueprint {
        // A name from a hand-edited journal that is not a blueprint id is not ours to write.
        if crate::blueprint::check_id(blueprint).is_err() {
            continue;
        }
        let path = channel::memory_path(dir, blueprint);
        tau_durable::guard::refuse_symlinks_at(dir, &path)?;
        let text = channel::render_memory(blueprint, records.into_iter());
        files.push((path, text.into_bytes()));
    }
    // All at once: their fsyncs overlap instead of queueing one behind another.
    Ok(tau_durable::atomic::stage_many(&files)?)
}
