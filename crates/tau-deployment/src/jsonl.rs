//! Hand-written JSON for the per-case lines a run appends (channel-store logs, rollout history).
//!
//! A 100,000-case run writes three lines per case; through `serde_json` the serializer's generic
//! machinery (per-field dispatch, escaping every byte of every string one at a time) was the
//! largest single cost of a run. These helpers write the same bytes `serde_json::to_writer` writes
//! for the same values (the tests hold them to that), with a fast path for strings that need no
//! escaping, which is every string a normal fixture has.

use serde_json::Value;

/// Appends `"key":`. Keys are our own field names: plain ASCII, never escaped.
pub(crate) fn key(out: &mut Vec<u8>, name: &str) {
    debug_assert!(!needs_escape(name.as_bytes()));
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends `s` as a JSON string, quoted and escaped exactly as `serde_json` does.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    string_contents(out, s);
    out.push(b'"');
}

/// Appends `s` escaped, without quotes: for a string value written in several pieces.
pub(crate) fn string_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether any byte needs escaping. No early exit: a branch-free pass over 16-byte blocks is
/// vectorized by the compiler and beats stopping at the first hit on the short strings of a case.
fn needs_escape(bytes: &[u8]) -> bool {
    let special = |b: u8| (b < 0x20) | (b == b'"') | (b == b'\\');
    let mut blocks = bytes.chunks_exact(16);
    let mut hit = false;
    for block in &mut blocks {
        hit |= block.iter().fold(false, |acc, &b| acc | special(b));
    }
    hit | blocks
        .remainder()
        .iter()
        .fold(false, |acc, &b| acc | special(b))
}

/// Appends `n` in decimal, two digits per step. The digits are built left-aligned in a fixed
/// 20-byte array that is copied whole and then cut to length: a fixed-size copy is a few moves,
/// where copying just the digits was a `memmove` call per number.
pub(crate) fn uint(out: &mut Vec<u8>, n: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
                                2021222324252627282930313233343536373839\
                                4041424344454647484950515253545556575859\
                                6061626364656667686970717273747576777879\
                                8081828384858687888990919293949596979899";
    let len = digit_count(n);
    let mut digits = [0u8; 20];
    let mut at = len;
    let mut rest = n;
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        digits[..2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        digits[0] = b'0' + rest as u8;
    }
    let start = out.len();
    out.extend_from_slice(&digits);
    out.truncate(start + len);
}

fn digit_count(n: u64) -> usize {
    let mut len = 1;
    let mut bound = 10u64;
    while len < 20 && n >= bound {
        len += 1;
        bound = bound.saturating_mul(10);
    }
    len
}

/// Appends a timestamp in decimal. A run stamps every line it writes with the same millisecond
/// value, three per case, so the last one rendered is kept and copied.
pub(crate) fn timestamp(out: &mut Vec<u8>, ms: u64) {
    thread_local! {
        static LAST: std::cell::RefCell<(u64, Vec<u8>)> =
            const { std::cell::RefCell::new((u64::MAX, Vec::new())) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != ms || last.1.is_empty() {
            last.1.clear();
            uint(&mut last.1, ms);
            last.0 = ms;
        }
        out.extend_from_slice(&last.1);
    });
}

pub(crate) fn boolean(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Appends a list of strings as a JSON array.
pub(crate) fn strings<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a str>) {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, item);
    }
    out.push(b']');
}

/// Appends any JSON value through `serde_json` (rare or shared values, not per-case hot text).
pub(crate) fn value(out: &mut Vec<u8>, v: &Value) {
    serde_json::to_writer(&mut *out, v).expect("a JSON value serializes to memory");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        string(&mut out, s);
        out
    }

    #[test]
    fn escapes_like_serde_json_for_every_ascii_byte() {
        for b in 0u8..=0x7f {
            let s = format!("a{}b", char::from(b));
            assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap(), "byte {b:#x}");
        }
    }

    #[test]
    fn numbers_print_like_serde_json() {
        for n in [
            0,
            1,
            9,
            10,
            11,
            99,
            100,
            101,
            999,
            1000,
            12345,
            1_796_192_152_536,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            uint(&mut out, n);
            assert_eq!(out, serde_json::to_vec(&n).unwrap());
        }
    }

    proptest! {
        #[test]
        fn any_number_prints_like_serde_json(n in any::<u64>(), m in any::<u64>()) {
            let mut out = Vec::new();
            uint(&mut out, n);
            prop_assert_eq!(&out, &serde_json::to_vec(&n).unwrap());
            for stamp in [n, n, m, n] {
                let mut out = Vec::new();
                timestamp(&mut out, stamp);
                prop_assert_eq!(out, serde_json::to_vec(&stamp).unwrap());
            }
        }

        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in any::<String>()) {
            prop_assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn any_list_is_written_as_serde_json_writes_it(list in proptest::collection::vec(any::<String>(), 0..5)) {
            let mut out = Vec::new();
            strings(&mut out, list.iter().map(String::as_str));
            prop_assert_eq!(out, serde_json::to_vec(&list).unwrap());
        }
    }
}
