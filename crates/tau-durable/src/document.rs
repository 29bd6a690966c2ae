//! Shared JSON state files: replace one top-level key, keep every other byte of meaning.
//!
//! `state.json` has several owners (the runner, WASM packaging, DID bootstrap). A command that
//! owns one key must not reformat, reorder or drop what the others wrote, so the other values are
//! carried through as raw JSON text in their original order. A file that does not parse is never
//! overwritten.
//!
//! This module is the only writer of `state.json`: the runner replaces its keys with
//! [`replace_keys`], WASM packaging and DID bootstrap theirs with [`update_key`] / [`upsert_key`].

use std::fmt;
use std::io::Write;
use std::path::Path;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::{atomic, Error, Result};

/// A JSON object as an ordered list of keys and raw values.
struct RawObject(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RawObject, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    entries.push(entry);
                }
                Ok(RawObject(entries))
            }
        }
        d.deserialize_map(V)
    }
}

impl Serialize for RawObject {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Sets top-level `key` of the JSON object in `path` to `value`, atomically. A missing file starts
/// as `{"schema_version": 1}`; a new key goes last. The caller holds the state-dir lock.
pub fn upsert_key(path: &Path, key: &str, value: &impl Serialize) -> Result<()> {
    update_key(path, key, |_| Ok(value))
}

/// Like [`upsert_key`], with the new value computed from the current one (`None` when absent).
/// `update` may refuse with a message, which leaves the file untouched.
pub fn update_key<T: Serialize>(
    path: &Path,
    key: &str,
    update: impl FnOnce(Option<&str>) -> std::result::Result<T, String>,
) -> Result<()> {
    let bad = |message: String| Error::Document {
        path: path.to_path_buf(),
        message,
    };
    let mut object = read_object(path)?;
    let current = object
        .0
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.get());
    let value = update(current).map_err(|e| bad(format!("key {key}: {e}")))?;
    let raw = serde_json::value::to_raw_value(&value)
        .map_err(|e| bad(format!("cannot encode {key}: {e}")))?;
    if current == Some(raw.get()) {
        return Ok(());
    }
    object.set(key, raw);
    write_object(path, &object)
}

/// Sets several top-level keys of the JSON object in `path` at once, atomically: the keys a
/// command owns are replaced (or appended, in the given order), every other key keeps its
/// position and its exact text, big integers included. A missing file starts as
/// `{"schema_version": 1}`. The caller holds the state-dir lock.
pub fn replace_keys(path: &Path, entries: Vec<(String, Box<RawValue>)>) -> Result<()> {
    let entries: Vec<(&str, &dyn Encode)> = entries
        .iter()
        .map(|(key, raw)| (key.as_str(), raw as &dyn Encode))
        .collect();
    replace_encoded(path, &entries)
}

/// A value [`replace_encoded`] writes straight into the file.
pub trait Encode {
    fn encode_into(&self, out: &mut dyn Write) -> serde_json::Result<()>;
}

impl<T: Serialize + ?Sized> Encode for T {
    fn encode_into(&self, out: &mut dyn Write) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// Like [`replace_keys`], but each new value is serialized straight into the file instead of
/// into memory first: a runner window of a million processed keys is some 75 MB of JSON, which
/// otherwise exists twice (growing string, then raw value) while it is written.
pub fn replace_encoded(path: &Path, entries: &[(&str, &dyn Encode)]) -> Result<()> {
    stage_encoded(path, entries)?.commit()
}

/// The first half of [`replace_encoded`]: the new document written and fsynced beside `path`, to
/// be put in place by [`Staged::commit`](atomic::Staged::commit).
pub fn stage_encoded(path: &Path, entries: &[(&str, &dyn Encode)]) -> Result<atomic::Staged> {
    let object = read_object(path)?;
    let mut slots: Vec<(&str, &dyn Encode)> = object
        .0
        .iter()
        .map(|(key, raw)| (key.as_str(), raw as &dyn Encode))
        .collect();
    for (key, value) in entries {
        match slots.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = *value,
            None => slots.push((key, *value)),
        }
    }
    let json = |e: serde_json::Error| Error::Document {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    atomic::stage_with(path, |w| {
        let io = |e| Error::io("write", path, e);
        w.write_all(b"{").map_err(io)?;
        for (i, (key, value)) in slots.iter().enumerate() {
            if i > 0 {
                w.write_all(b",").map_err(io)?;
            }
            serde_json::to_writer(&mut *w, key).map_err(json)?;
            w.write_all(b":").map_err(io)?;
            value.encode_into(&mut *w).map_err(json)?;
        }
        w.write_all(b"}\n").map_err(io)
    })
}

impl RawObject {
    fn set(&mut self, key: &str, raw: Box<RawValue>) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = raw,
            None => self.0.push((key.to_string(), raw)),
        }
    }
}

fn read_object(path: &Path) -> Result<RawObject> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<RawObject>(&bytes).map_err(|e| Error::Document {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RawObject(vec![(
            "schema_version".into(),
            RawValue::from_string("1".into()).expect("literal is JSON"),
        )])),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

fn write_object(path: &Path, object: &RawObject) -> Result<()> {
    atomic::write_with(path, |w| {
        serde_json::to_writer(&mut *w, object).map_err(|e| Error::Document {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        std::io::Write::write_all(w, b"\n").map_err(|e| Error::io("write", path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_keys_keep_their_order_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(
            &path,
            br#"{"schema_version":1,"rollouts":[{"b":2,"a":1}],"x":1.50}"#,
        )
        .unwrap();
        upsert_key(
            &path,
            "browser_did",
            &serde_json::json!({"did": "did:key:z6Mk"}),
        )
        .unwrap();
        upsert_key(&path, "x", &2).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"schema_version\":1,\"rollouts\":[{\"b\":2,\"a\":1}],\"x\":2,\"browser_did\":{\"did\":\"did:key:z6Mk\"}}\n"
        );
    }

    #[test]
    fn replacing_several_keys_keeps_big_integers_and_foreign_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let foreign = r#"{"n":123456789012345678901234567890,"f":1.0e2,"s":"\u00e9"}"#;
        std::fs::write(
            &path,
            format!(r#"{{"schema_version":1,"health":{{}},"other":{foreign},"rollouts":[]}}"#),
        )
        .unwrap();
        let raw = |t: &str| RawValue::from_string(t.to_string()).unwrap();
        replace_keys(
            &path,
            vec![
                ("rollouts".into(), raw("[1]")),
                ("health".into(), raw("{\"a\":1}")),
                ("last_run".into(), raw("null")),
            ],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!(
                "{{\"schema_version\":1,\"health\":{{\"a\":1}},\"other\":{foreign},\"rollouts\":[1],\"last_run\":null}}\n"
            )
        );
    }

    #[test]
    fn encoded_values_are_written_as_their_compact_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, br#"{"schema_version":1,"keep":[1.50],"keys":[]}"#).unwrap();
        let keys = vec!["a\"b".to_string(), "c".to_string()];
        replace_encoded(&path, &[("keys", &keys), ("n", &7u64)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"schema_version\":1,\"keep\":[1.50],\"keys\":[\"a\\\"b\",\"c\"],\"n\":7}\n"
        );
    }

    #[test]
    fn a_missing_file_starts_with_a_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        upsert_key(&path, "k", &true).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"schema_version\":1,\"k\":true}\n"
        );
    }

    #[test]
    fn an_unparsable_file_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        for text in ["{\"a\":", "[1,2]"] {
            std::fs::write(&path, text).unwrap();
            let err = upsert_key(&path, "k", &1).unwrap_err().to_string();
            assert!(err.contains("state.json"), "{err}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
    }
}
