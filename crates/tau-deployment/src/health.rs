//! Health classification: healthy, degraded or failing, each with a reason and what to do.

use serde::{Deserialize, Serialize};

use crate::state::Health;

/// From this many consecutive runs with failed cases on, health is `failing`.
pub const FAILING_STREAK: u64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Healthy,
    Degraded,
    Failing,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Degraded => "degraded",
            HealthState::Failing => "failing",
        }
    }
}

/// A health state with the reason it was chosen and the operator's next step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub state: HealthState,
    pub reason: String,
    pub recommendation: String,
}

/// Classifies the last run's snapshot; `None` (no run recorded) is degraded, never healthy.
pub fn classify(health: Option<&Health>) -> Classification {
    let Some(h) = health else {
        return Classification {
            state: HealthState::Degraded,
            reason: "no deployment cycle has been recorded in this state dir".into(),
            recommendation: "run --deployment-contract-runner against this state dir".into(),
        };
    };
    if h.failure_streak >= FAILING_STREAK {
        Classification {
            state: HealthState::Failing,
            reason: format!(
                "{} consecutive runs had failed cases (failure_streak={}, threshold {FAILING_STREAK})",
                h.failure_streak, h.failure_streak
            ),
            recommendation: "pause promotion; inspect runtime-events.jsonl and the failing cases' \
                             channel-store logs before re-running"
                .into(),
        }
    } else if h.failure_streak > 0 || h.last_cycle_failed > 0 {
        Classification {
            state: HealthState::Degraded,
            reason: format!(
                "the last run had {} failed case(s) (failure_streak={})",
                h.last_cycle_failed, h.failure_streak
            ),
            recommendation: "hold promotion; check reason codes in runtime-events.jsonl, fix the \
                             fixture or backend, and re-run until a clean run resets the streak"
                .into(),
        }
    } else {
        Classification {
            state: HealthState::Healthy,
            reason: "the last run completed with no failed cases".into(),
            recommendation: "promotion may continue".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(failure_streak: u64, last_cycle_failed: u64) -> Health {
        Health {
            failure_streak,
            last_cycle_failed,
            ..Health::default()
        }
    }

    #[test]
    fn clean_snapshot_is_healthy() {
        assert_eq!(classify(Some(&snapshot(0, 0))).state, HealthState::Healthy);
    }

    #[test]
    fn any_failure_is_degraded_until_the_streak_threshold() {
        assert_eq!(classify(Some(&snapshot(1, 2))).state, HealthState::Degraded);
        assert_eq!(classify(Some(&snapshot(2, 1))).state, HealthState::Degraded);
        assert_eq!(classify(Some(&snapshot(0, 1))).state, HealthState::Degraded);
    }

    #[test]
    fn streak_of_three_is_failing() {
        assert_eq!(classify(Some(&snapshot(3, 1))).state, HealthState::Failing);
        assert_eq!(classify(Some(&snapshot(9, 1))).state, HealthState::Failing);
    }

    #[test]
    fn no_recorded_run_is_not_healthy() {
        assert_eq!(classify(None).state, HealthState::Degraded);
    }
}
