//! Shared immutable strings for the fields that repeat across cases.
//!
//! A million-case fixture names a few targets, profiles, environments, regions, blueprints and
//! images over and over. Holding each as its own `String` costs a heap allocation per field per
//! case and dominated both time and memory of large runs. [`Sym`] is one pointer to a shared
//! string; while a parse runs inside [`scope`], equal strings share one allocation.
//!
//! Shared strings are also made *immortal* (never freed) while a process-wide budget lasts
//! ([`IMMORTAL_BUDGET`]). A run hands every case across three threads (evaluation, history
//! lines, channel lines), and each clone or drop of a reference-counted `"production"` was an
//! atomic operation on a cache line the other threads were also writing: a tenth of a
//! 100,000-case run went to those reference counts. An immortal string has no count to touch.
//! The budget bounds what a long-lived process (the gateway, the agent) can ever leave behind;
//! past it, strings are simply reference-counted again.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Mutex;

use arcstr::ArcStr;
use rustc_hash::FxHashSet as HashSet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many bytes a process makes immortal at most, over its whole life: each string's text
/// plus [`IMMORTAL_ENTRY_COST`], so many short strings cannot outgrow it either.
pub const IMMORTAL_BUDGET: usize = 1 << 20;

/// What an immortal string costs beyond its text: its allocation's header and rounding, and its
/// slot in the process-wide table.
pub const IMMORTAL_ENTRY_COST: usize = 48;

/// An immutable, cheaply cloned string.
///
/// One pointer wide, with the length stored beside the text: a case holds about a dozen of
/// these, as does each per-case report, so at a million cases a second word per string was
/// close to 100 MB.
#[derive(Clone, Default)]
pub struct Sym(ArcStr);

thread_local! {
    static TABLE: RefCell<Option<HashSet<Sym>>> = const { RefCell::new(None) };
}

/// Every immortal string of the process, so a later scope (another parse, another thread) reuses
/// them instead of spending the budget again.
static IMMORTAL: Mutex<Immortals> = Mutex::new(Immortals {
    table: None,
    spent: 0,
});

struct Immortals {
    table: Option<HashSet<ArcStr>>,
    /// Of [`IMMORTAL_BUDGET`].
    spent: usize,
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
                    let shared = Sym::immortal(text);
                    table.insert(shared.clone());
                    shared
                }
            },
            None => Sym::unique(text),
        })
    }

    /// Makes a `Sym` that is never shared through the table: for values unique per case, where
    /// interning would only grow the table.
    pub fn unique(text: impl AsRef<str>) -> Self {
        Sym(ArcStr::from(text.as_ref()))
    }

    /// The process's immortal copy of `text`, made if the budget allows; otherwise an ordinary
    /// reference-counted one. For values that repeat across cases and threads.
    pub fn immortal(text: &str) -> Self {
        let mut immortals = immortals();
        let Immortals { table, spent } = &mut *immortals;
        let table = table.get_or_insert_with(HashSet::default);
        if let Some(kept) = table.get(text) {
            return Sym(kept.clone());
        }
        let sym = Sym::unique(text);
        let cost = text.len().saturating_add(IMMORTAL_ENTRY_COST);
        if spent.saturating_add(cost) <= IMMORTAL_BUDGET {
            *spent += cost;
            sym.0.leak();
            table.insert(sym.0.clone());
        }
        sym
    }

    /// Whether this string is immortal: its clones and drops touch no reference count.
    pub fn is_immortal(&self) -> bool {
        ArcStr::is_static(&self.0)
    }

    /// Whether both are the same stored string (not merely equal).
    pub fn shares_storage_with(&self, other: &Sym) -> bool {
        ArcStr::ptr_eq(&self.0, &other.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The process's immortal strings; a panic elsewhere while it was held leaves it usable.
fn immortals() -> std::sync::MutexGuard<'static, Immortals> {
    IMMORTAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PartialEq for Sym {
    fn eq(&self, other: &Sym) -> bool {
        self.0 == other.0
    }
}

impl Eq for Sym {}

impl PartialOrd for Sym {
    fn partial_cmp(&self, other: &Sym) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sym {
    fn cmp(&self, other: &Sym) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as the `str` it holds, which [`Borrow<str>`] lookups rely on.
impl Hash for Sym {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
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
        assert!(a.shares_storage_with(&b));
    }

    #[test]
    fn outside_a_scope_strings_are_independent_and_counted() {
        let (a, b) = (Sym::new("x"), Sym::new("x"));
        assert_eq!(a, b);
        assert!(!a.shares_storage_with(&b));
        assert!(!a.is_immortal());
    }

    #[test]
    fn nested_scopes_restore_the_outer_table() {
        scope(|| {
            let outer = Sym::new("a");
            scope(|| Sym::new("b"));
            assert!(outer.shares_storage_with(&Sym::new("a")));
        });
    }

    #[test]
    fn interned_strings_are_immortal_and_reused_by_later_scopes_and_threads() {
        let first = scope(|| Sym::new("us-east-1-immortal-test"));
        assert!(first.is_immortal());
        let again = std::thread::spawn(|| scope(|| Sym::new("us-east-1-immortal-test")))
            .join()
            .unwrap();
        assert!(again.is_immortal());
        assert!(first.shares_storage_with(&again));
    }

    #[test]
    fn a_string_beyond_the_budget_stays_reference_counted_and_spends_nothing() {
        let big = "x".repeat(IMMORTAL_BUDGET + 1);
        let before = immortals().spent;
        let sym = Sym::immortal(&big);
        assert!(!sym.is_immortal());
        assert_eq!(sym.as_str(), big);
        assert!(immortals().spent >= before);
        assert!(immortals().spent <= IMMORTAL_BUDGET);
    }

    #[test]
    fn an_immortal_string_spends_its_text_and_its_entry_from_the_budget() {
        let text = "an-immortal-string-counted-with-its-entry";
        let before = immortals().spent;
        let sym = Sym::immortal(text);
        let after = immortals().spent;
        if sym.is_immortal() {
            assert!(after - before >= text.len() + IMMORTAL_ENTRY_COST);
        }
        assert!(after <= IMMORTAL_BUDGET);
    }

    #[test]
    fn equality_order_and_hash_follow_the_text_whatever_the_storage() {
        use std::hash::BuildHasher;
        let counted = Sym::unique("blueprint-07");
        let immortal = Sym::immortal("blueprint-07");
        assert_eq!(counted, immortal);
        assert_eq!(counted.cmp(&immortal), std::cmp::Ordering::Equal);
        assert!(Sym::unique("a") < Sym::immortal("b"));
        let hasher = rustc_hash::FxBuildHasher;
        assert_eq!(hasher.hash_one(&counted), hasher.hash_one("blueprint-07"));
        assert_eq!(hasher.hash_one(&immortal), hasher.hash_one("blueprint-07"));
    }
}
