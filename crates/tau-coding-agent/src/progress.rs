//! Terminal feedback for long runs (an `indicatif` bar on stderr), and the crash-test hook.
//!
//! The bar appears once a run has taken a moment, whatever makes it long (many cases, a retry
//! backing off), and only for a person watching a terminal: never when stderr is a pipe or a file,
//! and never under CI (`CI` set), where redraws would fill the log with carriage returns.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tau_deployment::hooks::{Hooks, Phase};

/// Runs shorter than this finish before a bar would be worth drawing.
const SHOW_AFTER: Duration = Duration::from_millis(500);

/// Environment variable naming a commit phase at which the process aborts (crash tests only).
pub const ABORT_AT_ENV: &str = "TAU_TEST_ABORT_AT_PHASE";

pub struct CliHooks {
    started: Instant,
    enabled: bool,
    bar: ProgressBar,
    shown: bool,
    abort_at: Option<String>,
}

/// Whether a bar may be drawn: a terminal on stderr and no CI marker.
pub fn bar_allowed(stderr_is_terminal: bool, ci: Option<&str>) -> bool {
    let under_ci = ci.is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    stderr_is_terminal && !under_ci
}

impl CliHooks {
    pub fn new() -> Self {
        let ci = std::env::var("CI").ok();
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("[{bar:30}] {pos}/{len} cases {msg}")
                .expect("the template is valid")
                .progress_chars("#> "),
        );
        CliHooks {
            started: Instant::now(),
            enabled: bar_allowed(std::io::stderr().is_terminal(), ci.as_deref()),
            bar,
            shown: false,
            abort_at: std::env::var(ABORT_AT_ENV).ok(),
        }
    }

    /// Starts drawing once the run has become long enough to wonder about.
    fn show_if_long(&mut self, ahead: Duration) {
        if self.enabled && !self.shown && self.started.elapsed() + ahead >= SHOW_AFTER {
            self.shown = true;
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Clears the bar so the summary lines start on a clean line.
    pub fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl Hooks for CliHooks {
    fn sleep(&mut self, delay: Duration) {
        self.show_if_long(delay);
        if !delay.is_zero() {
            self.bar.set_message(format!(
                "(retrying case {} in {} ms)",
                self.bar.position() + 1,
                delay.as_millis()
            ));
            std::thread::sleep(delay);
            self.bar.set_message("");
        }
    }

    fn progress(&mut self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        self.show_if_long(Duration::ZERO);
    }

    fn waiting_for_lock(&mut self, holder: &str) {
        self.bar.suspend(|| crate::report::waiting_for_lock(holder));
    }

    fn reached(&mut self, phase: Phase) {
        if self.abort_at.as_deref() == Some(phase.as_str()) {
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_is_drawn_only_on_a_terminal_outside_ci() {
        assert!(bar_allowed(true, None));
        assert!(bar_allowed(true, Some("false")));
        assert!(!bar_allowed(true, Some("true")));
        assert!(!bar_allowed(true, Some("1")));
        assert!(!bar_allowed(false, None));
    }
}
