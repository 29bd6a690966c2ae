//! Helpers shared by tests across the workspace, so that "what counts as the same state" is
//! defined once. Never a dependency of shipped code.

pub mod engine;
pub mod pg;
pub mod rsa;
pub mod wasm;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

/// Every file of a state dir (except the lock), keyed by relative path, with time fields zeroed:
/// two runs over the same inputs must produce equal snapshots.
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut snapshot = BTreeMap::new();
    for rel in files(dir) {
        if rel == ".lock" {
            continue;
        }
        let bytes = std::fs::read(dir.join(&rel)).unwrap();
        // Binary files (the processed-keys history) compare as hex.
        let text = match String::from_utf8(bytes) {
            Ok(text) => zero_times(&text),
            Err(e) => e.as_bytes().iter().map(|b| format!("{b:02x}")).collect(),
        };
        snapshot.insert(rel, text);
    }
    snapshot
}

/// Every file under `dir` (not directories), as sorted paths relative to `dir`.
pub fn files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap();
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

/// Zeroes every number that follows a `..._ms":` key: the fields that are explicitly times.
pub fn zero_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_ms\":") {
        let (head, tail) = rest.split_at(at + 5);
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        out.push('0');
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// The stdout of a finished helper command; panics with `what` and its stderr when it failed, so
/// a broken fixture says why instead of handing back empty output.
pub(crate) fn stdout_if_ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_time_fields_are_zeroed() {
        assert_eq!(
            super::zero_times(r#"{"updated_unix_ms":123,"count":45,"cycle_duration_ms":6}"#),
            r#"{"updated_unix_ms":0,"count":45,"cycle_duration_ms":0}"#
        );
    }
}
