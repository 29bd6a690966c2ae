use super::*;
use crate::request::SimulatedFailure;
use proptest::prelude::*;

const PASS: &[u8] = include_bytes!("../../../testdata/deployment-contract/rollout-pass.json");
const INVALID: &[u8] = include_bytes!("../../../testdata/deployment-contract/invalid-schema.json");

fn case_json(extra: &str) -> String {
    format!(
        r#"{{"schema_version":1,"name":"t","cases":[{{"case_id":"a","deploy_target":"container",
        "runtime_profile":"native","blueprint_id":"bp","environment":"staging","region":"r",
        "container_image":"img","expected":{{"outcome":"success","status_code":202}}{extra}}}]}}"#
    )
}

fn problems(text: &str) -> Vec<Problem> {
    Fixture::parse(text.as_bytes()).unwrap_err()
}

#[test]
fn runbook_fixture_parses_with_defaults() {
    let fixture = Fixture::parse(PASS).unwrap();
    assert_eq!(fixture.cases.len(), 4);
    let wasm = &fixture.cases[2];
    assert_eq!(wasm.replicas, 1, "replicas defaults to 1");
    assert_eq!(wasm.simulate_retryable_failure, SimulatedFailure::Never);
    assert_eq!(wasm.schema_version, 1);
}

#[test]
fn simulated_failure_accepts_a_bool_or_a_count() {
    let parse = |v: &str| {
        Fixture::parse(case_json(&format!(r#","simulate_retryable_failure":{v}"#)).as_bytes())
            .map(|f| f.cases[0].simulate_retryable_failure)
    };
    // `true` fails every attempt, which a success expectation can never meet.
    let always = parse("true").unwrap_err();
    assert_eq!(always[0].field, "simulate_retryable_failure");
    assert_eq!(parse("false").unwrap(), SimulatedFailure::Never);
    assert_eq!(parse("2").unwrap(), SimulatedFailure::FirstAttempts(2));
    assert_eq!(parse("0").unwrap(), SimulatedFailure::Never);
    let err = parse("-1").unwrap_err();
    assert_eq!(err[0].field, "simulate_retryable_failure");
    assert!(err[0].message.contains("negative"), "{:?}", err);
}

#[test]
fn count_fails_only_the_first_attempts() {
    let two = SimulatedFailure::FirstAttempts(2);
    assert!(two.fails(1) && two.fails(2) && !two.fails(3));
}

#[test]
fn every_problem_is_listed_with_case_and_field() {
    let problems = Fixture::parse(INVALID).unwrap_err();
    let located: Vec<(Option<usize>, &str)> = problems
        .iter()
        .map(|p| (p.case_index, p.field.as_str()))
        .collect();
    for expected in [
        (None, "schema_version"),
        (None, "name"),
        (Some(0), "region"),
        (Some(1), "replicas"),
        (Some(2), "replicas"),
        (Some(3), "expected.outcome"),
        (Some(3), "case_id"),
    ] {
        assert!(
            located.contains(&expected),
            "{expected:?} missing from {located:?}"
        );
    }
    let text = problems[2].to_string();
    assert!(
        text.starts_with("cases[0].region (case_id \"missing-region\"): missing"),
        "{text}"
    );
}

#[test]
fn unknown_fields_are_named() {
    let p = problems(&case_json(r#","replica":2"#));
    assert_eq!(p[0].field, "replica");
    assert!(p[0].message.contains("unknown field"), "{p:?}");
}

#[test]
fn case_ids_that_differ_only_by_spaces_are_duplicates() {
    let text = case_json("").replace(
        "}]}",
        r#"},{"case_id":" a ","deploy_target":"container","runtime_profile":"native","blueprint_id":"bp",
        "environment":"staging","region":"r","expected":{"outcome":"success","status_code":202}}]}"#,
    );
    let p = problems(&text);
    assert!(
        p.iter()
            .any(|p| p.case_index == Some(1) && p.field == "case_id"),
        "{p:?}"
    );
}

#[test]
fn path_like_blueprint_ids_are_refused() {
    let p = problems(&case_json("").replace("\"bp\"", "\"../etc\""));
    assert_eq!(p[0].field, "blueprint_id");
}

#[test]
fn expectations_must_be_coherent() {
    let p = problems(&case_json("").replace(
        r#""status_code":202}"#,
        r#""status_code":202,"error_code":"deployment_missing_artifact"}"#,
    ));
    assert_eq!(p[0].field, "expected.error_code");
    let p = problems(&case_json("").replace(
        r#""outcome":"success","status_code":202"#,
        r#""outcome":"malformed_input","status_code":400"#,
    ));
    assert!(p[0].message.contains("must name the error"), "{p:?}");
}

#[test]
fn empty_case_list_is_refused() {
    let p = problems(r#"{"schema_version":1,"name":"t","cases":[]}"#);
    assert_eq!(p[0].field, "cases");
}

#[test]
fn broken_json_reports_line_and_column() {
    let p = problems("{\"schema_version\": 1,\n \"name\": ");
    assert!(p[0].message.contains("line 2"), "{p:?}");
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, b"[]").unwrap();
    let err = Fixture::load(&path).unwrap_err().to_string();
    assert!(err.contains("bad.json"), "{err}");
    let err = Fixture::load(&dir.path().join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.json"), "{err}");
}

#[test]
fn an_empty_optional_string_reads_as_absent() {
    let fixture = Fixture::parse(case_json("").replace("\"img\"", "\"  \"").as_bytes()).unwrap();
    assert_eq!(fixture.cases[0].container_image, None);
    let fixture =
        Fixture::parse(case_json("").replace("\"img\"", "\" img:1 \"").as_bytes()).unwrap();
    assert_eq!(fixture.cases[0].container_image.as_deref(), Some("img:1"));
}

#[test]
fn every_problem_of_one_case_is_listed_with_its_json_path() {
    let text = case_json(r#","replicas":70000,"colour":"red""#).replace(
        r#""status_code":202"#,
        r#""status_code":"202","outcome2":1"#,
    );
    let p = problems(&text);
    let paths: Vec<String> = p.iter().map(Problem::path).collect();
    for want in [
        "cases[0].replicas",
        "cases[0].colour",
        "cases[0].expected.status_code",
        "cases[0].expected.outcome2",
    ] {
        assert!(
            paths.iter().any(|p| p == want),
            "{want} missing from {paths:?}"
        );
    }
}

#[test]
fn numbers_out_of_range_are_named_errors_not_wrapped_values() {
    let p = problems(&case_json(r#","replicas":65536"#));
    assert_eq!(p[0].path(), "cases[0].replicas");
    assert!(p[0].message.contains("65536 is out of range"), "{p:?}");
    let p =
        problems(&case_json("").replace("\"schema_version\":1", "\"schema_version\":4294967296"));
    assert_eq!(p[0].path(), "schema_version");
    assert!(p[0].message.contains("out of range"), "{p:?}");
    let p = problems(&case_json("").replace(r#""status_code":202"#, r#""status_code":-1"#));
    assert_eq!(p[0].path(), "cases[0].expected.status_code");
    assert!(p[0].message.contains("negative"), "{p:?}");
}

#[test]
fn control_characters_in_fixture_strings_are_refused() {
    let p = problems(&case_json("").replace("\"case_id\":\"a\"", "\"case_id\":\"a\\u0000b\""));
    assert_eq!(p[0].path(), "cases[0].case_id");
    assert!(p[0].message.contains("control character"), "{p:?}");
    assert!(
        !p[0].to_string().contains('\0'),
        "the message must not carry the NUL raw"
    );
    let p = problems(&case_json("").replace("\"region\":\"r\"", "\"region\":\"r\\u001b[31m\""));
    assert_eq!(p[0].path(), "cases[0].region");
}

#[test]
fn body_match_is_exact_unless_the_case_says_subset() {
    let parse = |expected: &str| {
        Fixture::parse(
            case_json("")
                .replace(
                    r#""status_code":202}"#,
                    &format!(r#""status_code":202{expected}}}"#),
                )
                .as_bytes(),
        )
    };
    let exact = parse(r#","response_body":{"status":"accepted"}"#).unwrap();
    assert_eq!(
        exact.cases[0].expected.response_body_match,
        BodyMatch::Exact
    );
    let subset =
        parse(r#","response_body":{"status":"accepted"},"response_body_match":"subset""#).unwrap();
    assert_eq!(
        subset.cases[0].expected.response_body_match,
        BodyMatch::Subset
    );
    let p = parse(r#","response_body":{},"response_body_match":"partial""#).unwrap_err();
    assert_eq!(p[0].path(), "cases[0].expected.response_body_match");
    let p = parse(r#","response_body_match":"subset""#).unwrap_err();
    assert_eq!(p[0].path(), "cases[0].expected.response_body_match");
}

#[test]
fn statuses_must_fit_the_outcome_as_in_the_runbook_tool() {
    let p = problems(&case_json("").replace(r#""status_code":202"#, r#""status_code":400"#));
    assert_eq!(p[0].path(), "cases[0].expected.status_code");
    let p = problems(&case_json("").replace(
        r#""outcome":"success","status_code":202"#,
        r#""outcome":"malformed_input","status_code":202,"error_code":"deployment_missing_artifact""#,
    ));
    assert_eq!(p[0].path(), "cases[0].expected.status_code");
}

#[test]
fn error_codes_are_compared_trimmed() {
    let text = case_json("")
        .replace(r#""container_image":"img","#, "")
        .replace(
            r#""outcome":"success","status_code":202"#,
            r#""outcome":"malformed_input","status_code":400,"error_code":" deployment_missing_artifact ""#,
        );
    let fixture = Fixture::parse(text.as_bytes()).unwrap();
    assert_eq!(
        &*fixture.cases[0].expected.error_code,
        "deployment_missing_artifact"
    );
}

#[test]
fn a_problem_path_locates_document_and_case_fields() {
    let problem = |case_index, field: &str| Problem {
        case_index,
        case_id: None,
        field: field.into(),
        message: String::new(),
    };
    assert_eq!(
        problem(Some(3), "expected.status_code").path(),
        "cases[3].expected.status_code"
    );
    assert_eq!(problem(Some(3), "").path(), "cases[3]");
    assert_eq!(problem(None, "name").path(), "name");
    assert_eq!(problem(None, "").path(), "$");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Fixture::parse(&bytes);
    }

    /// Breaking one field of a valid case (wrong type or removal) is reported on that field.
    #[test]
    fn a_broken_field_is_named(
        field in prop::sample::select(vec![
            "case_id", "deploy_target", "runtime_profile", "blueprint_id", "environment", "region",
        ]),
        remove in any::<bool>(),
    ) {
        let mut value: serde_json::Value = serde_json::from_str(&case_json("")).unwrap();
        let case = value["cases"][0].as_object_mut().unwrap();
        if remove {
            case.remove(field);
        } else {
            case.insert(field.to_string(), serde_json::json!(17));
        }
        let problems = Fixture::parse(value.to_string().as_bytes()).unwrap_err();
        prop_assert!(problems.iter().any(|p| p.field == field), "{:?}", problems);
    }

    /// Any JSON document at all: a clear refusal or a fixture, never a panic.
    #[test]
    fn arbitrary_json_never_panics(text in "[\\[\\]{}\":,a-z0-9 ]{0,200}") {
        let _ = Fixture::parse(text.as_bytes());
    }
}

proptest! {
    /// The byte-level fast path agrees with a plain character scan.
    #[test]
    fn control_character_detection_matches_char_is_control(text in "\\PC{0,8}[\\x00-\\x{a0}]{0,3}\\PC{0,8}") {
        let slow = text.chars().find(|c| c.is_control());
        prop_assert_eq!(check::control_char(&text, false), slow);
    }
}

#[test]
fn load_digests_exactly_the_bytes_parse_sees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.json");
    let text = format!("{}\n\n", case_json(""));
    std::fs::write(&path, &text).unwrap();
    let loaded = Fixture::load(&path).unwrap();
    assert_eq!(
        loaded.sha256.get(),
        crate::evidence::fixture_digest(text.as_bytes())
    );
    assert_eq!(loaded.cases, Fixture::parse(text.as_bytes()).unwrap().cases);
    std::fs::write(&path, case_json(r#","replicas":0"#)).unwrap();
    let err = Fixture::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("f.json") && err.contains("cases[0].replicas"),
        "{err}"
    );
    std::fs::write(&path, format!("{} trailing", case_json(""))).unwrap();
    assert!(Fixture::load(&path).is_err());
}

#[test]
fn a_case_that_does_not_deserialize_still_has_its_other_fields_judged() {
    let text = case_json(r#","replicas":"two""#).replace("\"bp\"", "\"../etc\"");
    let paths: Vec<String> = problems(&text).iter().map(Problem::path).collect();
    assert!(
        paths.contains(&"cases[0].replicas".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"cases[0].blueprint_id".to_string()),
        "{paths:?}"
    );
}

#[test]
fn a_parsed_fixture_serializes_back_to_an_equal_fixture() {
    for bytes in [
        PASS,
        include_bytes!("../../../testdata/deployment-contract/runbook-compat.json"),
    ] {
        let fixture = Fixture::parse(bytes).unwrap();
        let again = Fixture::parse(&serde_json::to_vec(&fixture).unwrap()).unwrap();
        assert_eq!(again.cases, fixture.cases);
    }
}

/// A fixture of `n` valid cases `c0`, `c1`, …, with `edit` applied to each case's JSON.
fn many_cases(n: usize, edit: impl Fn(usize, String) -> String) -> String {
    let cases: Vec<String> = (0..n)
        .map(|i| {
            let case = format!(
                r#"{{"case_id":"c{i}","deploy_target":"container","runtime_profile":"native","blueprint_id":"bp","environment":"staging","region":"r","container_image":"img","expected":{{"outcome":"success","status_code":202}}}}"#
            );
            edit(i, case)
        })
        .collect();
    format!(
        r#"{{"schema_version":1,"name":"t","cases":[{}]}}"#,
        cases.join(",")
    )
}

#[test]
fn a_large_fixture_lists_its_problems_in_case_order_and_flags_only_later_duplicates() {
    let located = |p: Vec<Problem>| -> Vec<(Option<usize>, String)> {
        p.into_iter().map(|p| (p.case_index, p.field)).collect()
    };
    let broken = |i: usize, case: String| match i {
        100 | 9500 => case.replace(r#""blueprint_id":"bp""#, r#""blueprint_id":"../x""#),
        _ => case,
    };
    let p = problems(&many_cases(10_000, broken));
    assert_eq!(
        located(p),
        [
            (Some(100), "blueprint_id".into()),
            (Some(9500), "blueprint_id".into())
        ]
    );
    let repeated = |i: usize, case: String| match i {
        9000 => case.replace(r#""case_id":"c9000""#, r#""case_id":"c10""#),
        _ => broken(i, case),
    };
    let p = problems(&many_cases(10_000, repeated));
    assert_eq!(
        located(p),
        [
            (Some(100), "blueprint_id".into()),
            (Some(9000), "case_id".into()),
            (Some(9500), "blueprint_id".into())
        ]
    );
}
