use super::*;
use crate::early_sync::EARLY_SYNC_BYTES;

fn staged(dir: &Path, generation: u64) -> Transaction {
    let files = ["events.jsonl".to_string(), "store/bp/log.jsonl".to_string()];
    let mut tx = Transaction::begin(dir, generation, &files, &["bp".to_string()]).unwrap();
    tx.append(FileId(0), |b| b.extend_from_slice(b"{\"run\":2}\n"))
        .unwrap();
    tx.append(FileId(1), |b| b.extend_from_slice(b"entry\n"))
        .unwrap();
    tx.sync().unwrap();
    tx
}

#[test]
fn uncommitted_appends_are_rolled_back_to_their_previous_length() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("events.jsonl"), b"{\"run\":1}\n").unwrap();
    let _tx = staged(dir.path(), 2);
    // The process dies here: state still says generation 1.
    let recovery = recover(dir.path(), 1).unwrap();
    assert_eq!(
        recovery,
        Recovery::RolledBack {
            derived: vec!["bp".into()]
        }
    );
    assert_eq!(
        fs::read(dir.path().join("events.jsonl")).unwrap(),
        b"{\"run\":1}\n"
    );
    assert!(!dir.path().join("store/bp/log.jsonl").exists());
    assert!(!dir.path().join(INTENT_FILE).exists());
}

#[test]
fn committed_appends_survive_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let _tx = staged(dir.path(), 2);
    let recovery = recover(dir.path(), 2).unwrap();
    assert!(matches!(recovery, Recovery::Completed { .. }));
    assert_eq!(
        fs::read(dir.path().join("store/bp/log.jsonl")).unwrap(),
        b"entry\n"
    );
}

#[test]
fn a_record_after_a_torn_last_line_starts_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("events.jsonl"), b"{\"run\":1}\n{\"torn\"").unwrap();
    let files = ["events.jsonl".to_string()];
    let mut tx = Transaction::begin(dir.path(), 2, &files, &[]).unwrap();
    tx.append(FileId(0), |b| b.extend_from_slice(b"{\"run\":2}\n"))
        .unwrap();
    tx.sync().unwrap();
    tx.finish().unwrap();
    assert_eq!(
        fs::read(dir.path().join("events.jsonl")).unwrap(),
        b"{\"run\":1}\n{\"torn\"\n{\"run\":2}\n"
    );
}

#[test]
fn the_newline_before_a_rolled_back_record_is_rolled_back_too() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("events.jsonl"), b"torn").unwrap();
    let files = ["events.jsonl".to_string()];
    let mut tx = Transaction::begin(dir.path(), 2, &files, &[]).unwrap();
    tx.append(FileId(0), |b| b.extend_from_slice(b"new\n"))
        .unwrap();
    tx.sync().unwrap();
    recover(dir.path(), 1).unwrap();
    assert_eq!(fs::read(dir.path().join("events.jsonl")).unwrap(), b"torn");
}

#[cfg(unix)]
#[test]
fn a_symlinked_log_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim");
    fs::write(&target, b"keep\n").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("events.jsonl")).unwrap();
    let files = ["events.jsonl".to_string()];
    let err = Transaction::begin(dir.path(), 2, &files, &[]).unwrap_err();
    assert!(matches!(err, Error::Symlink { .. }), "{err}");
    assert_eq!(fs::read(&target).unwrap(), b"keep\n");
    assert!(!dir.path().join(INTENT_FILE).exists());
}

#[test]
fn appends_spanning_several_flushes_land_whole_and_in_order_in_every_file() {
    let dir = tempfile::tempdir().unwrap();
    // More files than keep an open handle, so both the kept and the reopened paths flush twice.
    let names: Vec<String> = (0..OPEN_HANDLES + 4).map(|i| format!("l/{i}")).collect();
    let mut tx = Transaction::begin(dir.path(), 1, &names, &[]).unwrap();
    let first = vec![b'a'; CHUNK];
    for i in 0..names.len() {
        tx.append(FileId(i), |b| b.extend_from_slice(&first))
            .unwrap();
        tx.append(FileId(i), |b| {
            b.extend_from_slice(format!("{i}\n").as_bytes())
        })
        .unwrap();
    }
    tx.sync().unwrap();
    tx.finish().unwrap();
    for (i, name) in names.iter().enumerate() {
        let bytes = fs::read(dir.path().join(name)).unwrap();
        assert_eq!(bytes.len(), CHUNK + format!("{i}\n").len(), "{name}");
        assert!(bytes.ends_with(format!("a{i}\n").as_bytes()), "{name}");
    }
}

#[test]
fn logs_fsynced_early_are_still_rolled_back_when_the_commit_never_lands() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big.jsonl"), b"old\n").unwrap();
    let names = ["big.jsonl".to_string()];
    let mut tx = Transaction::begin(dir.path(), 2, &names, &[]).unwrap();
    let line = vec![b'x'; 1023];
    // Several early fsyncs' worth, in appends smaller than one flush.
    let lines = 3 * (EARLY_SYNC_BYTES as usize) / 1024 + 7;
    for _ in 0..lines {
        tx.append(FileId(0), |b| {
            b.extend_from_slice(&line);
            b.push(b'\n')
        })
        .unwrap();
    }
    tx.sync().unwrap();
    let written = fs::metadata(dir.path().join("big.jsonl")).unwrap().len();
    assert_eq!(written, 4 + 1024 * lines as u64);
    recover(dir.path(), 1).unwrap();
    assert_eq!(fs::read(dir.path().join("big.jsonl")).unwrap(), b"old\n");
}

#[test]
fn recovery_without_intent_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(recover(dir.path(), 0).unwrap(), Recovery::Clean);
}

#[test]
fn unreadable_intent_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(INTENT_FILE), b"{not json").unwrap();
    let err = recover(dir.path(), 0).unwrap_err();
    assert!(err.to_string().contains(INTENT_FILE), "{err}");
    assert!(dir.path().join(INTENT_FILE).exists());
}

#[test]
fn intent_paths_escaping_the_state_dir_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let intent = Intent {
        generation: 9,
        appends: [("../outside".to_string(), Some(0))].into(),
        derived: vec![],
    };
    fs::write(
        dir.path().join(INTENT_FILE),
        serde_json::to_vec(&intent).unwrap(),
    )
    .unwrap();
    assert!(recover(dir.path(), 0).is_err());
}

#[test]
fn owned_buffers_follow_pending_bytes_and_come_back_empty() {
    let dir = tempfile::tempdir().unwrap();
    let files = ["log".to_string()];
    let mut tx = Transaction::begin(dir.path(), 1, &files, &[]).unwrap();
    tx.append(FileId(0), |b| b.extend_from_slice(b"first\n"))
        .unwrap();
    // Smaller than a chunk: kept behind the pending line.
    let back = tx.append_owned(FileId(0), b"second\n".to_vec()).unwrap();
    assert!(back.is_empty());
    // A whole chunk: handed to the writer as it is.
    let big = vec![b'x'; CHUNK];
    let back = tx.append_owned(FileId(0), big).unwrap();
    assert!(back.is_empty());
    let back = tx.append_owned(FileId(0), b"\nthird\n".to_vec()).unwrap();
    assert!(back.is_empty());
    tx.sync().unwrap();
    let mut expected = b"first\nsecond\n".to_vec();
    expected.extend(std::iter::repeat_n(b'x', CHUNK));
    expected.extend_from_slice(b"\nthird\n");
    assert_eq!(fs::read(dir.path().join("log")).unwrap(), expected);
}

proptest::proptest! {
    /// Whatever was committed before, an interrupted transaction leaves every log byte-identical
    /// to its committed contents.
    #[test]
    fn rollback_restores_committed_bytes(
        committed in proptest::collection::vec(proptest::collection::vec(0u8..255, 0..64), 1..4),
        added in proptest::collection::vec(proptest::collection::vec(0u8..255, 1..64), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (i, bytes) in committed.iter().enumerate() {
            fs::write(dir.path().join(format!("log{i}")), bytes).unwrap();
        }
        let names: Vec<String> = (0..added.len()).map(|i| format!("log{i}")).collect();
        let mut tx = Transaction::begin(dir.path(), 5, &names, &[]).unwrap();
        for (i, bytes) in added.iter().enumerate() {
            tx.append(FileId(i), |b| b.extend_from_slice(bytes)).unwrap();
        }
        tx.sync().unwrap();
        recover(dir.path(), 4).unwrap();
        for i in 0..committed.len().max(added.len()) {
            let path = dir.path().join(format!("log{i}"));
            match committed.get(i) {
                Some(bytes) => proptest::prop_assert_eq!(&fs::read(&path).unwrap(), bytes),
                None => proptest::prop_assert!(!path.exists()),
            }
        }
    }
}
