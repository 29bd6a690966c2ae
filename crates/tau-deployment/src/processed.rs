//! Which of a fixture's cases are already processed: the inline window of `state.json` plus the
//! full processed-keys history.
//!
//! Only the fixture's own keys are looked up, so the cost of a check is one streaming pass over
//! the 16-byte digests, never a set of every key ever processed in memory.

use std::path::Path;

use rustc_hash::FxHashSet;

use crate::cycle;
use crate::fixture::Case;
use crate::history::{self, KeyDigest};
use crate::state::State;
use crate::Result;

/// The processed cases among one fixture's.
pub struct Processed<'s> {
    window: FxHashSet<&'s str>,
    found: FxHashSet<KeyDigest>,
}

impl<'s> Processed<'s> {
    /// Looks up the keys of `cases` in `state`'s window and in the committed history of `dir`.
    pub fn load(dir: &Path, state: &'s State, cases: &[Case]) -> Result<Self> {
        let mut window: FxHashSet<&str> = state.processed_case_keys.iter().map(|k| &**k).collect();
        if state.totals.is_none() {
            // A history still inline: every rollout's case was processed, even one whose key an
            // older runner evicted from the capped list.
            window.extend(state.rollouts.iter().map(|r| &*r.case_key));
        }
        let committed = state.totals.as_ref().map_or(0, |t| t.processed_case_count);
        let found = if committed == 0 {
            FxHashSet::default()
        } else {
            let candidates: FxHashSet<KeyDigest> = cases
                .iter()
                .map(|case| history::key_digest(&cycle::case_key(case)))
                .collect();
            history::find_processed(dir, committed, &candidates)?
        };
        Ok(Processed { window, found })
    }

    /// Whether no key at all is processed (a fresh state dir): then no lookup is needed.
    pub fn is_empty(&self) -> bool {
        self.window.is_empty() && self.found.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.window.contains(key)
            || (!self.found.is_empty() && self.found.contains(&history::key_digest(key)))
    }
}
