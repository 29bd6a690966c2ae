//! Formatting shared by every command, and the CI reports of a run.

pub mod cases;
pub mod github;
pub mod junit;

use std::fmt::Write as _;

use tau_deployment::runner::Report;
use tau_durable::lock::Wait;

use cases::CaseLine;

/// A comma-separated list for a `key=value` line; `none` when empty.
pub fn join(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let list: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(",")
    }
}

/// Tells the user why a command is blocked on the state-dir lock.
pub fn waiting_for_lock(holder: &str) {
    crate::out::warn(&format!(
        "waiting for the state dir lock (held by {holder}); pass --deployment-lock-no-wait to fail instead"
    ));
}

/// The lock behaviour `--deployment-lock-no-wait` selects.
pub fn lock_wait(no_wait: bool, note: &mut dyn FnMut(&str)) -> Wait<'_> {
    if no_wait {
        Wait::FailFast
    } else {
        Wait::Block(note)
    }
}

/// What a run came to, for the Markdown step summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub fixture: String,
    pub evidence: String,
    pub evaluated: u64,
    pub applied: u64,
    pub rejected: u64,
    pub failed: u64,
    pub duplicate_skips: u64,
    pub backlog: u64,
    pub health: String,
    pub reason_codes: Vec<String>,
    pub failed_cases: Vec<(String, String, String)>,
}

impl Summary {
    pub fn new(fixture: &str, evidence: &str, report: &Report, cases: &[CaseLine]) -> Self {
        let c = &report.counts;
        Summary {
            fixture: fixture.to_string(),
            evidence: evidence.to_string(),
            evaluated: c.queued,
            applied: c.applied,
            rejected: c.malformed,
            failed: c.failed,
            duplicate_skips: c.duplicate_skips,
            backlog: c.backlog,
            health: report.classification.state.as_str().to_string(),
            reason_codes: report
                .reason_codes
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            failed_cases: cases
                .iter()
                .filter(|c| !c.passed)
                .map(|c| {
                    (
                        c.case_id.clone(),
                        c.blueprint_id.clone(),
                        c.failure_message(),
                    )
                })
                .collect(),
        }
    }

    /// The gate this run alone supports: it holds unless every evaluated case passed, nothing is
    /// left queued and something was evaluated. `tau status` stays the authority (it also checks
    /// age, fixture digest and driver); this line tells the reader of the summary where to look.
    pub fn run_gate(&self) -> &'static str {
        if self.failed == 0 && self.backlog == 0 && self.evaluated > 0 && self.health == "healthy" {
            "pass"
        } else {
            "hold"
        }
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        // Escaped text, not a code span: backslash escapes would show literally inside one.
        let _ = writeln!(md, "### tau run: {}\n", md_cell(&self.fixture));
        let _ = writeln!(
            md,
            "Evidence: **{}** (outcomes decided by the fixture's expectations unless a live driver ran). \
             Run gate: **{}**; health: **{}**.\n",
            md_cell(&self.evidence),
            self.run_gate(),
            md_cell(&self.health)
        );
        md.push_str("| evaluated | applied | rejected as expected | failed | duplicates skipped | still queued |\n");
        md.push_str("|---:|---:|---:|---:|---:|---:|\n");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |\n",
            self.evaluated,
            self.applied,
            self.rejected,
            self.failed,
            self.duplicate_skips,
            self.backlog
        );
        let _ = writeln!(md, "Reasons: {}\n", md_cell(&join(&self.reason_codes)));
        if !self.failed_cases.is_empty() {
            md.push_str("| failed case | blueprint | reason |\n|---|---|---|\n");
            for (case, blueprint, reason) in &self.failed_cases {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    md_cell(case),
                    md_cell(blueprint),
                    md_cell(reason)
                );
            }
            md.push('\n');
        }
        md
    }
}

/// Text safe inside a Markdown table cell: no pipes, code spans, HTML or line breaks.
fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '`' | '<' | '>' | '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(failed: u64) -> Summary {
        Summary {
            fixture: "fx|x".into(),
            evidence: "simulated".into(),
            evaluated: 3,
            applied: 2,
            rejected: 1 - failed.min(1),
            failed,
            duplicate_skips: 0,
            backlog: 0,
            health: if failed > 0 { "degraded" } else { "healthy" }.into(),
            reason_codes: vec!["cloud_rollout_applied".into()],
            failed_cases: (0..failed)
                .map(|_| ("c\n|x".into(), "bp".into(), "retries_exhausted".into()))
                .collect(),
        }
    }

    #[test]
    fn the_summary_names_counts_gate_evidence_and_reasons() {
        let md = summary(0).markdown();
        assert!(md.contains("### tau run: fx\\|x"), "{md}");
        assert!(md.contains("Evidence: **simulated**"), "{md}");
        assert!(md.contains("Run gate: **pass**"), "{md}");
        assert!(md.contains("| 3 | 2 | 1 | 0 | 0 | 0 |"), "{md}");
        assert!(md.contains("Reasons: cloud\\_rollout\\_applied"), "{md}");
    }

    #[test]
    fn failed_cases_hold_the_run_gate_and_are_listed_without_breaking_the_table() {
        let md = summary(1).markdown();
        assert!(md.contains("Run gate: **hold**"), "{md}");
        assert!(md.contains("| c \\|x | bp | retries\\_exhausted |"), "{md}");
    }
}
