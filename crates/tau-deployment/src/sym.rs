//! Shared immutable strings for the fields that repeat across cases.
//!
//! A million-case fixture names a few targets, profiles, environments, regions, blueprints and
//! images over and over. Holding each as its own `String` costs a heap allocation per field per
//! case and dominated both time and memory of large runs. [`Sym`] is an `Arc<str>`; while a parse
//! runs inside [`scope`], equal strings share one allocation.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use rustc_hash::FxHashSet as HashSet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable, cheaply cloned string.
///
/// One pointer wide: an `Arc<str>` is two (pointer and length), and a case holds about a dozen
/// of these, as does each per-case report, so at a million cases the length words alone were
/// close to 100 MB. The length lives with the text instead, behind the shared pointer.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sym(Arc<Box<str>>);

thread_local! {
    static TABLE: RefCell<Option<HashSet<Sym>>> = const { RefCell::new(None) };
}

/// Runs `f` with interning on for this thread; the table is dropped afterwards, so its memory is
/// bounded by the distinct strings of one parse.
pub fn scope<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(Option<HashSet<Sym>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            TABLE.with(|t| *t.borrow_mut() = self.0.take());
        }
    }
    let previous = TABLE.with(|t| t.borrow_mut().replace(HashSet::default()));
    let _reset = Reset(previous);
    f()
}

impl Sym {
    /// Makes a `Sym`, sharing an equal string already seen in the current [`scope`].
    pub fn new(text: &str) -> Self {
        TABLE.with(|t| match t.borrow_mut().as_mut() {
            Some(table) => match table.get(text) {
                Some(shared) => shared.clone(),
                None => {
                    let shared = Sym(Arc::new(Box::from(text)));
                    table.insert(shared.clone());
                    shared
                }
            },
            None => Sym(Arc::new(Box::from(text))),
        })
    }

    /// Makes a `Sym` that is never shared through the table: for values unique per case, where
    /// interning would only grow the table.
    pub fn unique(text: impl Into<Box<str>>) -> Self {
        Sym(Arc::new(text.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Sym {
    fn from(text: &str) -> Self {
        Sym::new(text)
    }
}

impl From<String> for Sym {
    fn from(text: String) -> Self {
        Sym::new(&text)
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Sym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Reads a string into a `Sym` with the given constructor.
struct SymVisitor(fn(&str) -> Sym);

impl serde::de::Visitor<'_> for SymVisitor {
    type Value = Sym;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sym, E> {
        Ok((self.0)(v))
    }
}

impl<'de> Deserialize<'de> for Sym {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(SymVisitor(Sym::new))
    }
}

/// Deserializes a [`Sym`] without interning; for `#[serde(deserialize_with = "...")]` on fields
/// that are unique per record, such as case ids.
pub fn unique<'de, D: Deserializer<'de>>(d: D) -> Result<Sym, D::Error> {
    d.deserialize_str(SymVisitor(|v| Sym::unique(v)))
}

/// Deserializes an optional string field the way the runbook's tool reads it: trimmed, and absent
/// when empty or blank, so `"container_image": ""` is a missing image rather than a refused fixture.
pub fn nonblank<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Sym>, D::Error> {
    let sym = d.deserialize_str(SymVisitor(|v| Sym::new(v.trim())))?;
    Ok(Some(sym).filter(|s| !s.is_empty()))
}

/// Deserializes a string trimmed of surrounding whitespace, as the tool compares it.
pub fn trimmed<'de, D: Deserializer<'de>>(d: D) -> Result<Sym, D::Error> {
    d.deserialize_str(SymVisitor(|v| Sym::new(v.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_storage_inside_a_scope() {
        let (a, b) = scope(|| (Sym::new("edge-wasm"), Sym::new("edge-wasm")));
        assert!(Arc::ptr_eq(&a.0, &b.0));
    }

    #[test]
    fn outside_a_scope_strings_are_independent() {
        let (a, b) = (Sym::new("x"), Sym::new("x"));
        assert_eq!(a, b);
        assert!(!Arc::ptr_eq(&a.0, &b.0));
    }

    #[test]
    fn nested_scopes_restore_the_outer_table() {
        scope(|| {
            let outer = Sym::new("a");
            scope(|| Sym::new("b"));
            assert!(Arc::ptr_eq(&outer.0, &Sym::new("a").0));
        });
    }
}
