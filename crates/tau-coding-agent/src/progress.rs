//! Terminal feedback for long runs, and the crash-test hook.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use tau_deployment::hooks::{Hooks, Phase};

/// Draws a progress bar on stderr once a run has taken a second, and only on a terminal.
pub struct CliHooks {
    started: Instant,
    tty: bool,
    drawn_at: Option<Instant>,
    abort_at: Option<String>,
    done: usize,
    total: usize,
}

/// Environment variable naming a commit phase at which the process aborts (crash tests only).
pub const ABORT_AT_ENV: &str = "TAU_TEST_ABORT_AT_PHASE";

impl CliHooks {
    pub fn new() -> Self {
        CliHooks {
            started: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            drawn_at: None,
            abort_at: std::env::var(ABORT_AT_ENV).ok(),
            done: 0,
            total: 0,
        }
    }

    fn draw(&mut self, note: &str) {
        self.drawn_at = Some(Instant::now());
        let width = 30;
        let filled = (self.done * width)
            .checked_div(self.total)
            .unwrap_or(width)
            .min(width);
        eprint!(
            "\r\x1b[2K[{}{}] {}/{} cases{note}",
            "#".repeat(filled),
            " ".repeat(width - filled),
            self.done,
            self.total
        );
        let _ = std::io::stderr().flush();
    }

    /// Clears the bar so the summary lines start on a clean line.
    pub fn finish(&mut self) {
        if self.drawn_at.is_some() {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

impl Hooks for CliHooks {
    fn sleep(&mut self, delay: Duration) {
        // A backoff that takes the run past a second is exactly when a user wonders what is going on.
        if self.tty && self.started.elapsed() + delay >= Duration::from_secs(1) {
            self.draw(&format!(
                " (retrying case {} in {} ms)",
                self.done + 1,
                delay.as_millis()
            ));
        }
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }

    fn progress(&mut self, done: usize, total: usize) {
        (self.done, self.total) = (done, total);
        if !self.tty || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let due = self
            .drawn_at
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if due || done == total {
            self.draw("");
        }
    }

    fn waiting_for_lock(&mut self, holder: &str) {
        crate::report::waiting_for_lock(holder);
    }

    fn reached(&mut self, phase: Phase) {
        if self.abort_at.as_deref() == Some(phase.as_str()) {
            std::process::abort();
        }
    }
}
