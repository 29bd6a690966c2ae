//! Failure injection and corruption handling of the embedded store.

use super::*;
use crate::store::suite::{row, seeded};

#[tokio::test]
async fn an_append_whose_commit_never_landed_is_cut_back_by_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let id = seeded(&store).await;
    store
        .record_tag("cogo-codegen-worker", row(&id, "v1.0.0", "a"))
        .await
        .unwrap();
    let log = dir.path().join(FileStore::log_rel(&id));
    let committed = std::fs::read(&log).unwrap();

    crash::BEFORE_COMMIT.with(|c| c.set(true));
    let lost = store
        .record_tag("cogo-codegen-worker", row(&id, "v2.0.0", "b"))
        .await;
    crash::BEFORE_COMMIT.with(|c| c.set(false));
    assert!(lost.is_err());
    assert!(
        std::fs::read(&log).unwrap().len() > committed.len(),
        "the torn append is on disk"
    );

    // The next writer recovers first: the uncommitted row is gone, then recorded once.
    store
        .record_tag("cogo-codegen-worker", row(&id, "v2.0.0", "b"))
        .await
        .unwrap();
    let tags: Vec<String> = store
        .history(&id, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.tag)
        .collect();
    assert_eq!(tags, ["v2.0.0", "v1.0.0"]);
}

#[tokio::test]
async fn a_corrupt_state_file_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(STATE_FILE), b"{not json").unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let err = store
        .agent("cogo-codegen-worker")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("registry.json") && err.contains("left untouched"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join(STATE_FILE)).unwrap(),
        b"{not json"
    );
}
