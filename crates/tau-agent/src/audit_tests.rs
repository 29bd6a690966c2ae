use super::*;

fn entry(who: &str, image: &str) -> Entry {
    Entry {
        at_unix_ms: 1_700_000_000_000,
        who: who.to_string(),
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        idempotency_key_sha256: None,
        request: Some(AuditedRequest {
            container_name: "rt".into(),
            image: image.into(),
            environment: "dev".into(),
            env_keys: vec!["DATABASE_URL".into()],
            volumes: BTreeMap::new(),
        }),
        result: "deployed".into(),
        http_status: 200,
        reason: None,
        image_digest: Some("sha256:ab".into()),
        restored: None,
        steps: vec![],
    }
}

fn log_with(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut log = AuditLog::open(&path).unwrap();
    for i in 0..n {
        log.append(entry("ci.access", &format!("r/app:v{i}")))
            .unwrap();
    }
    (dir, path)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_untouched_chain_verifies_and_reopening_continues_it() {
    let (_dir, path) = log_with(3);
    assert_eq!(verify(&path).unwrap().records, 3);
    AuditLog::open(&path)
        .unwrap()
        .append(entry("ops", "r/app:v9"))
        .unwrap();
    assert_eq!(verify(&path).unwrap().records, 4);
}

#[test]
fn an_edited_line_is_reported_at_the_next_line() {
    let (_dir, path) = log_with(3);
    let mut l = lines(&path);
    l[1] = l[1].replace("r/app:v1", "r/app:v7");
    write_lines(&path, &l);
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("line 2: that line was edited"), "{err}");
}

#[test]
fn a_last_record_with_a_changed_prev_is_reported() {
    let (_dir, path) = log_with(2);
    let mut l = lines(&path);
    l[1] = l[1].replacen("\"prev\":\"", "\"prev\":\"f", 1);
    write_lines(&path, &l);
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn a_removed_record_is_reported_as_missing() {
    let (_dir, path) = log_with(4);
    let mut l = lines(&path);
    l.remove(1);
    write_lines(&path, &l);
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn a_torn_last_record_is_reported() {
    let (_dir, path) = log_with(2);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 10]).unwrap();
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains("line 2") && err.contains("torn"), "{err}");
}

#[test]
fn a_tampered_log_is_never_extended() {
    let (_dir, path) = log_with(2);
    let mut l = lines(&path);
    l[0] = l[0].replace("ci.access", "someone");
    write_lines(&path, &l);
    assert!(AuditLog::open(&path).is_err());
}

#[test]
fn no_env_value_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let request = DeployRequest {
        container_name: "rt".into(),
        image: "r/app:v1".into(),
        environment: crate::Environment::Dev,
        env: BTreeMap::from([("DATABASE_URL".into(), "postgres://u:hunter2@h/d".into())]),
        volumes: BTreeMap::new(),
    };
    let mut e = entry("ci", "r/app:v1");
    e.request = Some(AuditedRequest::of(&request));
    AuditLog::open(&path).unwrap().append(e).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("DATABASE_URL") && !text.contains("hunter2"),
        "{text}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    #[test]
    fn flipping_any_byte_of_a_non_last_record_breaks_verification(
        line in 0usize..3, at in 0usize..400, byte in 0u8..=255
    ) {
        let (_dir, path) = log_with(4);
        let mut bytes = std::fs::read(&path).unwrap();
        let starts: Vec<usize> = std::iter::once(0)
            .chain(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
            .collect();
        let (start, end) = (starts[line], starts[line + 1] - 1);
        let pos = start + at % (end - start);
        proptest::prop_assume!(bytes[pos] != byte);
        bytes[pos] = byte;
        std::fs::write(&path, &bytes).unwrap();
        proptest::prop_assert!(verify(&path).is_err());
    }
}

#[test]
fn an_edited_last_record_is_caught_by_the_head_file() {
    let (_dir, path) = log_with(3);
    let mut l = lines(&path);
    l[2] = l[2].replace("r/app:v2", "r/app:v8");
    write_lines(&path, &l);
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("head"), "{err}");
}

#[test]
fn removed_trailing_records_are_caught_by_the_head_file() {
    let (_dir, path) = log_with(3);
    let l = lines(&path);
    write_lines(&path, &l[..2]);
    let err = verify(&path).unwrap_err().to_string();
    assert!(err.contains("record 3") && err.contains("missing"), "{err}");
}
