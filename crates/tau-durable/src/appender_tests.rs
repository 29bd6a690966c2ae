use std::fs;
use std::path::Path;

use crate::early_sync::EARLY_SYNC_BYTES;
use crate::journal::{recover, FileId, Transaction, CHUNK};

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    fs::read(dir.join(rel)).unwrap()
}

#[test]
fn a_lent_log_gets_the_pending_bytes_first_and_is_rolled_back_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("store")).unwrap();
    fs::write(dir.path().join("store/a.log"), b"old").unwrap();
    let files = ["events.jsonl", "store/a.log", "store/new/b.log"].map(String::from);
    let mut tx = Transaction::begin(dir.path(), 2, &files, &[]).unwrap();
    tx.append(FileId(1), |b| b.extend_from_slice(b"pending\n"))
        .unwrap();
    let mut out = tx.lend(&[FileId(1), FileId(2)]).unwrap();
    let lines = (EARLY_SYNC_BYTES as usize) / 4 + 3;
    let out = std::thread::spawn(move || {
        for _ in 0..lines {
            out.append(FileId(1), b"abc\n").unwrap();
        }
        out.append(FileId(2), b"b\n").unwrap();
        out
    })
    .join()
    .unwrap();
    tx.take_back(out);
    tx.sync().unwrap();

    let mut expected = b"old\npending\n".to_vec();
    expected.extend(b"abc\n".repeat(lines));
    assert_eq!(read(dir.path(), "store/a.log"), expected);
    assert_eq!(read(dir.path(), "store/new/b.log"), b"b\n");

    // The state commit never happened: both logs go back to what was committed.
    recover(dir.path(), 1).unwrap();
    assert_eq!(read(dir.path(), "store/a.log"), b"old");
    assert!(!dir.path().join("store/new/b.log").exists());
}

#[test]
fn a_lent_log_is_refused_to_the_transaction_until_it_is_taken_back() {
    let dir = tempfile::tempdir().unwrap();
    let files = ["a.log", "b.log"].map(String::from);
    let mut tx = Transaction::begin(dir.path(), 1, &files, &[]).unwrap();
    let mut out = tx.lend(&[FileId(0)]).unwrap();
    assert!(tx.append(FileId(0), |b| b.push(b'x')).is_err());
    assert!(tx.append_owned(FileId(0), b"x\n".to_vec()).is_err());
    assert!(tx.sync().is_err(), "a sync would miss the appender's bytes");
    assert!(tx.lend(&[FileId(0)]).is_err(), "lent twice");
    assert!(out.append(FileId(1), b"not lent\n").is_err());
    out.append(FileId(0), b"from the appender\n").unwrap();
    tx.take_back(out);
    tx.append(FileId(0), |b| {
        b.extend_from_slice(b"from the transaction\n")
    })
    .unwrap();
    tx.sync().unwrap();
    tx.finish().unwrap();
    assert_eq!(
        read(dir.path(), "a.log"),
        b"from the appender\nfrom the transaction\n"
    );
    assert!(!dir.path().join("b.log").exists());
}

#[test]
fn buffers_queued_for_the_writer_land_before_the_appenders_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let files = ["a.log".to_string()];
    let mut tx = Transaction::begin(dir.path(), 1, &files, &[]).unwrap();
    let mut queued = vec![b'q'; CHUNK - 1];
    queued.push(b'\n');
    // A whole chunk goes to the writer thread at once.
    tx.append_owned(FileId(0), queued.clone()).unwrap();
    let mut out = tx.lend(&[FileId(0)]).unwrap();
    out.append(FileId(0), b"after\n").unwrap();
    tx.take_back(out);
    tx.sync().unwrap();
    queued.extend_from_slice(b"after\n");
    assert_eq!(read(dir.path(), "a.log"), queued);
}

#[test]
fn a_torn_last_line_gets_its_newline_once_before_the_appenders_first_bytes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.log"), b"torn").unwrap();
    let files = ["a.log".to_string()];
    let mut tx = Transaction::begin(dir.path(), 1, &files, &[]).unwrap();
    let mut out = tx.lend(&[FileId(0)]).unwrap();
    out.append(FileId(0), b"one\n").unwrap();
    out.append(FileId(0), b"two\n").unwrap();
    out.start_write_back().unwrap();
    out.start_write_back().unwrap();
    tx.take_back(out);
    tx.sync().unwrap();
    assert_eq!(read(dir.path(), "a.log"), b"torn\none\ntwo\n");
}

#[test]
fn logs_past_the_open_handle_limit_are_appended_by_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<String> = (0..300).map(|i| format!("logs/{i}.log")).collect();
    let mut tx = Transaction::begin(dir.path(), 1, &files, &[]).unwrap();
    let mut out = tx.lend(&[FileId(5), FileId(299)]).unwrap();
    for _ in 0..3 {
        out.append(FileId(299), b"late\n").unwrap();
        out.append(FileId(5), b"early\n").unwrap();
    }
    tx.take_back(out);
    tx.sync().unwrap();
    assert_eq!(read(dir.path(), "logs/299.log"), b"late\n".repeat(3));
    assert_eq!(read(dir.path(), "logs/5.log"), b"early\n".repeat(3));
}
