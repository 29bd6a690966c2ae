//! Moving a history that `state.json` holds inline into the append-only history files.
//!
//! A state file written by the runbook's tool, or by a tau from before the history files, lists
//! every rollout and processed key inline and has no `history_totals`. The first run against it
//! appends all of them to the history (in its own journaled transaction, so a crash undoes the
//! move with the run) and from then on `state.json` keeps only the recent window.

use rustc_hash::FxHashSet;
use tau_durable::journal::{FileId, Transaction};

use crate::history::{self, KeyDigest};
use crate::rollout::line::{self, LineCache};
use crate::state::State;
use crate::totals::Totals;
use crate::Result;

/// What a run starts from: the totals so far, and what of an inline history it must move out.
pub(super) struct Legacy {
    pub totals: Totals,
    /// Digests of every inline processed key and rollout key, in file order, each once.
    digests: Vec<KeyDigest>,
    inline: bool,
}

impl Legacy {
    pub fn of(state: &State) -> Result<Self> {
        if let Some(totals) = &state.totals {
            return Ok(Legacy {
                totals: totals.clone(),
                digests: Vec::new(),
                inline: false,
            });
        }
        let mut seen = FxHashSet::default();
        let digests: Vec<KeyDigest> = state
            .processed_case_keys
            .iter()
            .chain(state.rollouts.iter().map(|r| &r.case_key))
            .map(|key| history::key_digest(key))
            .filter(|d| seen.insert(*d))
            .collect();
        let totals = Totals::of(&state.rollouts, digests.len() as u64)?;
        Ok(Legacy {
            totals,
            digests,
            inline: true,
        })
    }

    /// Appends the inline history of `state` to the history files of `tx`.
    pub fn append_to(
        &self,
        state: &State,
        tx: &mut Transaction,
        files: Files,
        cache: &mut LineCache,
    ) -> Result<()> {
        if !self.inline {
            return Ok(());
        }
        for digest in &self.digests {
            tx.append(files.processed, |buf| buf.extend_from_slice(digest))?;
        }
        let mut profile_line = Vec::new();
        for record in &state.rollouts {
            tx.append(files.rollouts, |buf| {
                line::write_line(buf, &mut profile_line, record, cache)
            })?;
            if !profile_line.is_empty() {
                tx.append(files.profiles, |buf| buf.append(&mut profile_line))?;
            }
        }
        Ok(())
    }
}

/// The history files of a run's transaction.
#[derive(Debug, Clone, Copy)]
pub(super) struct Files {
    pub processed: FileId,
    pub rollouts: FileId,
    pub profiles: FileId,
}
