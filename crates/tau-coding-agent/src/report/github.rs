//! Reports for GitHub Actions (active when `GITHUB_ACTIONS=true`): an `::error` annotation per
//! failed case and a Markdown summary appended to `$GITHUB_STEP_SUMMARY`.
//!
//! GitHub documents stdout as the channel for workflow commands. With `--json`, stdout must stay
//! one JSON document, so the annotations go to stderr instead; run without `--json` (or read the
//! JUnit report) where annotations matter.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::cases::CaseLine;
use super::Summary;
use crate::out::Out;

/// How many failed cases get an annotation; GitHub shows only the first few per step anyway, and
/// a million-line stream of commands would bury the log.
const MAX_ANNOTATIONS: usize = 50;

/// The GitHub Actions environment of this process.
#[derive(Debug, Clone)]
pub struct Context {
    pub step_summary: Option<PathBuf>,
}

impl Context {
    pub fn from_env() -> Option<Self> {
        Self::from_vars(
            std::env::var("GITHUB_ACTIONS").ok().as_deref(),
            std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        )
    }

    fn from_vars(actions: Option<&str>, step_summary: Option<PathBuf>) -> Option<Self> {
        (actions == Some("true")).then(|| Context {
            step_summary: step_summary.filter(|p| !p.as_os_str().is_empty()),
        })
    }

    /// Writes the annotations and appends the step summary.
    pub fn publish(
        &self,
        summary: &Summary,
        cases: &[CaseLine],
        json: bool,
        out: &mut Out,
    ) -> Result<()> {
        let text = annotations(cases);
        if json {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        } else {
            out.raw(text.as_bytes())?;
        }
        if let Some(path) = &self.step_summary {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open GITHUB_STEP_SUMMARY {}", path.display()))?;
            file.write_all(summary.markdown().as_bytes())
                .with_context(|| {
                    format!("cannot append to GITHUB_STEP_SUMMARY {}", path.display())
                })?;
        }
        Ok(())
    }
}

/// One `::error` line per failed case (at most [`MAX_ANNOTATIONS`], then a notice of the rest).
pub fn annotations(cases: &[CaseLine]) -> String {
    let failed: Vec<&CaseLine> = cases.iter().filter(|c| !c.passed).collect();
    let mut text = String::new();
    for case in failed.iter().take(MAX_ANNOTATIONS) {
        let _ = writeln!(
            text,
            "::error title={}::{}",
            property(&format!("tau run: case {} failed", case.case_id)),
            data(&format!(
                "case {} (blueprint {}, {} / {}): {}",
                case.case_id,
                case.blueprint_id,
                case.deploy_target,
                case.runtime_profile,
                case.failure_message()
            ))
        );
    }
    if failed.len() > MAX_ANNOTATIONS {
        let _ = writeln!(
            text,
            "::notice title=tau run::{} more failed cases are listed in the JUnit report and the step summary",
            failed.len() - MAX_ANNOTATIONS
        );
    }
    text
}

/// Escapes a command's message per GitHub's workflow-command rules.
pub fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value (also `:` and `,`, which delimit properties).
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(id: &str) -> CaseLine {
        CaseLine {
            case_id: id.into(),
            blueprint_id: "bp".into(),
            deploy_target: "container".into(),
            runtime_profile: "native".into(),
            passed: false,
            disposition: "contract_expectation_mismatch".into(),
            outcome: "success".into(),
            status_code: 202,
            error_code: None,
            attempts: 1,
            differences: vec!["status_code: expected 201, got 202".into()],
            skipped: None,
        }
    }

    #[test]
    fn workflow_command_escaping_follows_github_rules() {
        assert_eq!(data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn a_case_id_cannot_inject_a_second_workflow_command() {
        let text = annotations(&[failed("x\n::warning::forged")]);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text
            .starts_with("::error title=tau run%3A case x%0A%3A%3Awarning%3A%3Aforged failed::"));
    }

    #[test]
    fn passed_cases_get_no_annotation_and_many_failures_are_capped() {
        let mut cases: Vec<CaseLine> = (0..60).map(|i| failed(&i.to_string())).collect();
        cases[0].passed = true;
        let text = annotations(&cases);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("::error")).count(),
            50
        );
        assert!(text.contains("::notice title=tau run::9 more failed cases"));
    }

    #[test]
    fn only_github_actions_true_enables_the_reports() {
        assert!(Context::from_vars(Some("true"), None).is_some());
        assert!(Context::from_vars(Some("false"), None).is_none());
        assert!(Context::from_vars(None, None).is_none());
    }
}
