//! `tau run --junit PATH`: the run as JUnit XML, the one test-report format every CI system reads.
//!
//! One `<testcase>` per fixture case (classname = blueprint, name = case id); a case that did not
//! end as its fixture expected gets a `<failure>` whose `message` is its reason code, and a case
//! this run did not evaluate (a duplicate, or beyond the queue limit) a `<skipped>` with why, so a
//! re-run never reads as an empty, green report. The file is
//! deterministic (no timestamps or durations), and written atomically so a reader never sees half.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::cases::CaseLine;

/// The XML document for `cases`.
pub fn render(suite: &str, evidence: &str, cases: &[CaseLine]) -> String {
    let failures = cases.iter().filter(|c| !c.passed).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"tau run\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        cases.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        escape(suite),
        cases.len()
    );
    let _ = writeln!(
        xml,
        "    <properties>\n      <property name=\"evidence\" value=\"{}\"/>\n    </properties>",
        escape(evidence)
    );
    for case in cases {
        let _ = write!(
            xml,
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&case.blueprint_id),
            escape(&case.case_id)
        );
        if let Some(reason) = &case.skipped {
            let _ = writeln!(
                xml,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(reason)
            );
            continue;
        }
        if case.passed {
            xml.push_str("/>\n");
            continue;
        }
        let _ = writeln!(
            xml,
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
            escape(case.reason_code()),
            escape(&case.disposition),
            escape(&format!(
                "case_id={} blueprint_id={} deploy_target={} runtime_profile={}: {}",
                case.case_id,
                case.blueprint_id,
                case.deploy_target,
                case.runtime_profile,
                case.failure_message()
            ))
        );
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Writes the report for `cases` to `path`.
pub fn write(path: &Path, suite: &str, evidence: &str, cases: &[CaseLine]) -> Result<()> {
    let xml = render(suite, evidence, cases);
    tau_durable::atomic::write(path, xml.as_bytes())
        .with_context(|| format!("cannot write the JUnit report {}", path.display()))
}

/// Escapes text for an attribute or element. Characters XML 1.0 cannot carry at all (most C0
/// controls), even as references, are spelled out as `\u{..}` so the file stays well-formed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(id: &str, passed: bool) -> CaseLine {
        CaseLine {
            case_id: id.into(),
            blueprint_id: "bp".into(),
            deploy_target: "wasm".into(),
            runtime_profile: "wasm_wasi".into(),
            passed,
            disposition: if passed {
                "applied"
            } else {
                "retries_exhausted"
            }
            .into(),
            outcome: "retryable_failure".into(),
            status_code: 503,
            error_code: Some("deployment_backend_unavailable".into()),
            attempts: 4,
            differences: vec![],
            skipped: None,
        }
    }

    #[test]
    fn one_testcase_per_case_and_failures_carry_the_reason_code() {
        let xml = render("fx", "simulated", &[line("a", true), line("b", false)]);
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains("<testcase classname=\"bp\" name=\"a\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<failure message=\"deployment_backend_unavailable\" type=\"retries_exhausted\">"
            ),
            "{xml}"
        );
        assert!(xml.contains("<property name=\"evidence\" value=\"simulated\"/>"));
    }

    #[test]
    fn markup_and_controls_in_ids_are_escaped() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{0}\u{1b}y\n"), "x\\u{0}\\u{1b}y&#10;");
    }

    proptest! {
        #[test]
        fn escaped_text_has_no_markup_or_forbidden_characters(text in any::<String>()) {
            let e = escape(&text);
            prop_assert!(!e.contains(['<', '>', '"', '\'']));
            prop_assert!(!e.chars().any(|c| c.is_control()));
            // Every `&` starts an entity this escaper produced.
            for (i, _) in e.match_indices('&') {
                let rest = &e[i..];
                prop_assert!(["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#9;", "&#10;", "&#13;"]
                    .iter().any(|entity| rest.starts_with(entity)));
            }
        }
    }
}
