//! Counters over every rollout ever recorded, kept in `state.json` so a status read costs the
//! same at a million rollouts as at ten.
//!
//! The rollouts themselves live in an append-only history once they leave the bounded window
//! `state.json` keeps, so the counts the status report shows cannot be recomputed from the file
//! on every read; each run adds its own rollouts here instead. Every addition is checked: a
//! counter that would wrap is an error, never a silently wrong count.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::driver::Target;
use crate::rollout::RolloutRecord;
use crate::{Error, Result};

/// Counts over all recorded rollouts and processed cases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Cases ever completed (applied or rejected as expected); each is remembered and never
    /// re-applied.
    pub processed_case_count: u64,
    pub rollout_count: u64,
    pub deploy_target_counts: BTreeMap<String, u64>,
    pub runtime_profile_counts: BTreeMap<String, u64>,
    pub environment_counts: BTreeMap<String, u64>,
    pub outcome_counts: BTreeMap<String, u64>,
    pub status_code_counts: BTreeMap<String, u64>,
    pub error_code_counts: BTreeMap<String, u64>,
    pub total_replicas: u64,
    pub wasm_rollout_count: u64,
    pub cloud_rollout_count: u64,
}

/// `a + b`, or an error naming the counter.
pub fn add(counter: &'static str, a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or(Error::CounterOverflow { counter })
}

fn bump(counter: &'static str, map: &mut BTreeMap<String, u64>, key: &str) -> Result<()> {
    match map.get_mut(key) {
        Some(n) => *n = add(counter, *n, 1)?,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
    Ok(())
}

impl Totals {
    /// Counts one more rollout.
    pub fn add_rollout(&mut self, r: &RolloutRecord) -> Result<()> {
        self.rollout_count = add("rollout_count", self.rollout_count, 1)?;
        bump(
            "deploy_target_counts",
            &mut self.deploy_target_counts,
            &r.deploy_target,
        )?;
        bump(
            "runtime_profile_counts",
            &mut self.runtime_profile_counts,
            &r.runtime_profile,
        )?;
        bump(
            "environment_counts",
            &mut self.environment_counts,
            &r.environment,
        )?;
        bump(
            "outcome_counts",
            &mut self.outcome_counts,
            r.outcome.as_str(),
        )?;
        bump(
            "status_code_counts",
            &mut self.status_code_counts,
            &r.status_code.to_string(),
        )?;
        if let Some(error) = r.error_code {
            bump(
                "error_code_counts",
                &mut self.error_code_counts,
                error.as_str(),
            )?;
        }
        self.total_replicas = add("total_replicas", self.total_replicas, u64::from(r.replicas))?;
        match Target::parse(&r.deploy_target) {
            Some(t) if t.is_cloud() => {
                self.cloud_rollout_count = add("cloud_rollout_count", self.cloud_rollout_count, 1)?
            }
            _ => self.wasm_rollout_count = add("wasm_rollout_count", self.wasm_rollout_count, 1)?,
        }
        Ok(())
    }

    /// Counts `n` more processed cases.
    pub fn add_processed(&mut self, n: u64) -> Result<()> {
        self.processed_case_count = add("processed_case_count", self.processed_case_count, n)?;
        Ok(())
    }

    /// The totals of a list of rollouts (a state file written before totals were kept).
    pub fn of<'a>(
        rollouts: impl IntoIterator<Item = &'a RolloutRecord>,
        processed: u64,
    ) -> Result<Self> {
        let mut totals = Totals {
            processed_case_count: processed,
            ..Totals::default()
        };
        for r in rollouts {
            totals.add_rollout(r)?;
        }
        Ok(totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_rollouts() {
        let mut r = crate::rollout::tests::record("a");
        let mut totals = Totals::of([&r], 1).unwrap();
        r.deploy_target = "wasm".into();
        r.replicas = 3;
        totals.add_rollout(&r).unwrap();
        assert_eq!(totals.rollout_count, 2);
        assert_eq!(totals.total_replicas, 4);
        assert_eq!(
            (totals.cloud_rollout_count, totals.wasm_rollout_count),
            (1, 1)
        );
        assert_eq!(totals.status_code_counts["202"], 2);
        assert_eq!(totals.processed_case_count, 1);
    }

    #[test]
    fn a_counter_that_would_wrap_is_an_error_naming_it() {
        let mut totals = Totals {
            total_replicas: u64::MAX,
            ..Totals::default()
        };
        let err = totals
            .add_rollout(&crate::rollout::tests::record("a"))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::CounterOverflow {
                counter: "total_replicas"
            }
        ));
        assert!(totals.add_processed(1).is_ok());
        totals.processed_case_count = u64::MAX;
        assert!(totals.add_processed(1).is_err());
    }
}
