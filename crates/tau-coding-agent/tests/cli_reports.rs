//! The CI reports of `tau run`: JUnit XML and GitHub Actions annotations and step summary.

mod common;

use common::*;

#[test]
fn junit_report_has_one_testcase_per_fixture_case() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let out = run(&[
        "run",
        "--fixture",
        s(&testdata("mixed-outcomes.json")),
        "--state-dir",
        s(&dir.path().join("s")),
        "--junit",
        s(&junit),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = stdout(&out);
    let queued: usize = summary
        .split("queued=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), queued, "{xml}");
    assert!(xml.contains(&format!("tests=\"{queued}\"")), "{xml}");
    assert!(
        xml.contains("<property name=\"evidence\" value=\"simulated\"/>"),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<failure ").count(),
        xml.matches("</failure>").count()
    );
    assert!(xml.trim_end().ends_with("</testsuites>"));
}

#[test]
fn under_github_actions_failed_cases_are_annotated_and_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = tau()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "run",
            "--fixture",
            s(&testdata("contract-mismatch.json")),
            "--state-dir",
            s(&dir.path().join("s")),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let annotations: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(annotations.len(), 1, "{}", stdout(&out));
    assert!(
        annotations[0].starts_with("::error title=tau run%3A case expects-wrong-status failed::")
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n### tau run: contract-mismatch"),
        "{md}"
    );
    assert!(
        md.contains("Run gate: **hold**") && md.contains("| expects-wrong-status |"),
        "{md}"
    );
    // Without the variable nothing of the sort is printed.
    let quiet = run(&[
        "run",
        "--fixture",
        s(&testdata("contract-mismatch.json")),
        "--state-dir",
        s(&dir.path().join("t")),
    ]);
    assert!(!stdout(&quiet).contains("::error"));
}

#[test]
fn a_rerun_reports_every_fixture_case_as_skipped_not_an_empty_suite() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s");
    let junit = dir.path().join("junit.xml");
    let fixture = testdata("rollout-pass.json");
    let args = [
        "run",
        "--fixture",
        s(&fixture),
        "--state-dir",
        s(&state),
        "--junit",
        s(&junit),
    ];
    assert!(run(&args).status.success());
    let first = std::fs::read_to_string(&junit).unwrap();
    let cases = first.matches("<testcase ").count();
    assert!(cases > 0, "{first}");
    assert!(first.contains("skipped=\"0\""), "{first}");

    assert!(run(&args).status.success());
    let rerun = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(rerun.matches("<testcase ").count(), cases, "{rerun}");
    assert_eq!(
        rerun
            .matches("<skipped message=\"duplicate_cases_skipped\"/>")
            .count(),
        cases,
        "{rerun}"
    );
    assert!(rerun.contains(&format!("skipped=\"{cases}\"")), "{rerun}");
}
