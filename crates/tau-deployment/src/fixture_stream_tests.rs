use super::*;
use crate::sym;

/// Parsed alone, and with a helper handed every stretch of at least 2 bytes, which must
/// agree.
fn streamed(text: &str, chunk: u64) -> Option<Fixture> {
    let run = |split| match sym::scope(|| {
        parse_in_chunks(text.as_bytes(), text.len() as u64, chunk, split)
    })
    .unwrap()
    {
        Outcome::Parsed(fixture) => Some(fixture),
        Outcome::Invalid => None,
    };
    let alone = run(None);
    let helped = run(Some(0));
    assert_eq!(
        alone.as_ref().map(|f| (&f.cases, f.sha256.get())),
        helped.as_ref().map(|f| (&f.cases, f.sha256.get())),
        "chunk {chunk}"
    );
    alone
}

fn whole(text: &str) -> Option<Fixture> {
    sym::scope(|| serde_json::from_slice::<Fixture>(text.as_bytes())).ok()
}

const VALID: &str = r#" { "name" : "n", "cases": [
    {"case_id":"a","deploy_target":"container","runtime_profile":"native","blueprint_id":"bp",
     "environment":"staging","region":"r","container_image":"img:1","replicas":12,
     "expected":{"outcome":"success","status_code":202,"response_body":{"status":"accepted","n":[1,{"x":"\u00e9"}]}}} ,
    {"case_id":"b\"q","deploy_target":"wasm","runtime_profile":"wasm_wasi","blueprint_id":"bp",
     "environment":"staging","region":"r","wasm_module":"m.wasm",
     "expected":{"outcome":"success","status_code":201}}
  ], "description": "d",
  "schema_version" : 1 }
"#;

#[test]
fn every_chunk_size_gives_the_whole_document_parse_and_digest() {
    let expected = whole(VALID).expect("the sample is a valid fixture");
    for chunk in (1..64).chain([1 << 20]) {
        let got = streamed(VALID, chunk).unwrap_or_else(|| panic!("chunk {chunk} refused"));
        assert_eq!(got.cases, expected.cases, "chunk {chunk}");
        assert_eq!(
            (&got.name, &got.description, got.schema_version),
            (
                &expected.name,
                &expected.description,
                expected.schema_version
            )
        );
        assert_eq!(
            got.sha256.get(),
            crate::evidence::fixture_digest(VALID.as_bytes())
        );
    }
}

#[test]
fn a_number_cut_by_a_chunk_end_is_read_whole() {
    let text = r#"{"schema_version":1,"name":"n","cases":[]}"#.replace(":1,", ":12345,");
    for chunk in 1..text.len() as u64 {
        assert_eq!(
            streamed(&text, chunk).map(|f| f.schema_version),
            Some(12345)
        );
    }
}

#[test]
fn documents_the_whole_parse_refuses_are_refused() {
    let refused = [
        "",
        "[]",
        "{}",
        r#"{"schema_version":1,"name":"n","cases":[]} x"#,
        r#"{"schema_version":1,"name":"n","cases":[],"cases":[]}"#,
        r#"{"schema_version":1,"name":"n","name":"m","cases":[]}"#,
        r#"{"schema_version":1,"name":"n","cases":[],"extra":1}"#,
        r#"{"schema_version":1,"name":"n"}"#,
        r#"{"schema_version":1,"name":"n","cases":[{}]}"#,
        r#"{"schema_version":1,"name":"n","cases":[],}"#,
        r#"{"schema_version":1,"name":"n","cases":[1,]}"#,
        r#"{"schema_version":1,"name":"n","cases":["#,
        r#"{"schema_version":1 "name":"n","cases":[]}"#,
    ];
    for text in refused {
        assert!(whole(text).is_none(), "sample {text:?} must be invalid");
        for chunk in [1, 3, 1 << 20] {
            assert!(streamed(text, chunk).is_none(), "{text:?} chunk {chunk}");
        }
    }
}

#[test]
fn loading_an_invalid_file_still_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.json");
    let text = r#"{"schema_version":1,"name":"n","cases":[{"case_id":"a"},{"case_id":"a"}]}"#;
    std::fs::write(&path, text).unwrap();
    let Err(crate::Error::FixtureInvalid { problems, .. }) = Fixture::load(&path) else {
        panic!("an invalid fixture loaded");
    };
    assert_eq!(problems, Fixture::parse(text.as_bytes()).unwrap_err());
    assert!(problems.len() > 2, "{problems:?}");
}

fn many_cases(n: usize, broken: Option<usize>) -> String {
    let cases: Vec<String> = (0..n)
        .map(|i| {
            // Ids that look like element boundaries lure the helper into bad guesses.
            let id = if i % 3 == 0 { format!("c{i}}},{{x") } else { format!("c{i}") };
            let extra = if broken == Some(i) { r#","replica":2"# } else { "" };
            format!(
                r#"{{"case_id":{id:?},"deploy_target":"container","runtime_profile":"native","blueprint_id":"bp","environment":"staging","region":"r","container_image":"img:1"{extra},"expected":{{"outcome":"success","status_code":202}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"schema_version":1,"name":"n","cases":[{}]}}"#,
        cases.join(" ,\n")
    )
}

#[test]
fn the_helper_thread_changes_nothing_whatever_its_guesses() {
    let text = many_cases(60, None);
    let expected = whole(&text).expect("valid");
    for chunk in [1, 7, 64, 300, 1000, 1 << 20] {
        let got = streamed(&text, chunk).expect("valid");
        assert_eq!(got.cases, expected.cases, "chunk {chunk}");
    }
    let broken = many_cases(60, Some(41));
    assert!(whole(&broken).is_none());
    for chunk in [1, 64, 1000, 1 << 20] {
        assert!(streamed(&broken, chunk).is_none(), "chunk {chunk}");
    }
}

proptest::proptest! {
    /// Whatever the chunk size, the streamed parse accepts exactly what the whole-document
    /// parse accepts, with the same cases.
    #[test]
    fn streaming_agrees_with_the_whole_document_parse(
        cut in 0usize..600,
        chunk in 1u64..200,
    ) {
        let text = &VALID[..cut.min(VALID.len())];
        let expected = whole(text).map(|f| f.cases);
        proptest::prop_assert_eq!(streamed(text, chunk).map(|f| f.cases), expected);
    }
}

/// The streamed parse of raw bytes, with a helper: `None` when refused.
fn streamed_bytes(bytes: &[u8], chunk: u64) -> Option<Fixture> {
    match sym::scope(|| parse_in_chunks(bytes, bytes.len() as u64, chunk, Some(0))).unwrap() {
        Outcome::Parsed(fixture) => Some(fixture),
        Outcome::Invalid => None,
    }
}

#[test]
fn characters_cut_by_any_block_boundary_are_read_whole() {
    let text = VALID
        .replace(r#""description": "d""#, r#""description": "déjà vu ✓ 🚀""#)
        .replace(r#""region":"r","container"#, r#""region":"ü-1","container"#);
    let expected = whole(&text).expect("valid");
    for chunk in 1..24 {
        let got = streamed(&text, chunk).unwrap_or_else(|| panic!("chunk {chunk} refused"));
        assert_eq!(got.cases, expected.cases, "chunk {chunk}");
        assert_eq!(got.description, expected.description, "chunk {chunk}");
    }
}

#[test]
fn bytes_that_are_not_utf8_are_refused_wherever_they_are() {
    let valid = VALID.as_bytes();
    // A lone continuation byte in the description.
    let mut in_a_string = VALID.replacen("\"d\"", "\"d?\"", 1).into_bytes();
    let at = in_a_string.iter().position(|&b| b == b'?').unwrap();
    in_a_string[at] = 0xbf;
    let mut cut_at_the_end = valid.to_vec();
    cut_at_the_end.extend_from_slice(&[0xe2, 0x82]);
    for bytes in [in_a_string, cut_at_the_end] {
        assert!(
            sym::scope(|| serde_json::from_slice::<Fixture>(&bytes)).is_err(),
            "the whole-document parse refuses it too"
        );
        for chunk in [1, 2, 3, 5, 64, 1 << 20] {
            assert!(streamed_bytes(&bytes, chunk).is_none(), "chunk {chunk}");
        }
    }
}
