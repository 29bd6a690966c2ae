//! The host imports of a binary too large to read whole.
//!
//! An oversized artifact is refused from its size alone, but the runbook's tool still reports what
//! its imports imply (`abi_assumed_no_imports` when it has none). Walking the section headers and
//! seeking over every section but the top-level import section finds them while reading a few
//! bytes, so a multi-gigabyte file costs no memory.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use crate::validate::{self, Invalid};

/// Top-level import section ids: 2 in a core module, 10 in a component.
const CORE_IMPORT: u8 = 2;
const COMPONENT_IMPORT: u8 = 10;

fn invalid(offset: u64, message: impl Into<String>) -> Invalid {
    Invalid {
        offset: usize::try_from(offset).unwrap_or(usize::MAX),
        message: message.into(),
    }
}

/// Reads a LEB128 u32; `None` at a clean end of file before its first byte.
fn read_u32<R: Read>(reader: &mut R, at: u64) -> Result<Option<u32>, Invalid> {
    let mut value: u32 = 0;
    for i in 0..5u32 {
        let mut byte = [0u8];
        match reader.read_exact(&mut byte) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof && i == 0 => return Ok(None),
            Err(e) => return Err(invalid(at, format!("section size unreadable: {e}"))),
        }
        let bits = u32::from(byte[0] & 0x7f);
        if i == 4 && bits > 0x0f {
            return Err(invalid(at, "section size does not fit in 32 bits"));
        }
        value |= bits << (7 * i);
        if byte[0] & 0x80 == 0 {
            return Ok(Some(value));
        }
    }
    Err(invalid(at, "section size does not fit in 32 bits"))
}

/// The sorted, distinct host imports of the binary in `reader` (same names as
/// [`validate::Validated::imports`]); import sections larger than `section_limit` are refused.
pub(crate) fn host_imports<R: Read + Seek>(
    reader: &mut R,
    section_limit: u64,
) -> Result<Vec<String>, Invalid> {
    let mut header = [0u8; 8];
    reader
        .read_exact(&mut header)
        .map_err(|_| invalid(0, "too short for a WebAssembly header"))?;
    if &header[..4] != b"\0asm" {
        return Err(invalid(0, "the \\0asm magic header is missing"));
    }
    let import_id = if header[6..8] == [1, 0] {
        COMPONENT_IMPORT
    } else {
        CORE_IMPORT
    };
    let mut imports = Vec::new();
    let mut at: u64 = 8;
    loop {
        let mut id = [0u8];
        match reader.read_exact(&mut id) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(invalid(at, format!("section id unreadable: {e}"))),
        }
        let Some(size) = read_u32(reader, at)? else {
            return Err(invalid(at, "section ends before its size"));
        };
        let body_at = reader
            .stream_position()
            .map_err(|e| invalid(at, format!("cannot seek: {e}")))?;
        if id[0] == import_id {
            if u64::from(size) > section_limit {
                return Err(invalid(
                    at,
                    "import section is larger than a whole artifact may be",
                ));
            }
            // A minimal binary holding only this section parses with the same reader validation
            // uses, so both report the same names.
            let mut mini = header.to_vec();
            mini.push(import_id);
            leb_u32(&mut mini, size);
            let start = mini.len();
            let end = usize::try_from(size)
                .ok()
                .and_then(|n| start.checked_add(n))
                .ok_or_else(|| invalid(at, "import section size does not fit in memory"))?;
            mini.resize(end, 0);
            reader
                .read_exact(&mut mini[start..])
                .map_err(|_| invalid(body_at, "import section extends past the end of the file"))?;
            imports.extend(validate::parse_host_imports(&mini).map_err(|mut e| {
                e.offset = e
                    .offset
                    .saturating_sub(start)
                    .saturating_add(usize::try_from(body_at).unwrap_or(usize::MAX));
                e
            })?);
        } else {
            reader
                .seek(SeekFrom::Current(i64::from(size)))
                .map_err(|e| invalid(body_at, format!("cannot seek past a section: {e}")))?;
        }
        at = body_at
            .checked_add(u64::from(size))
            .ok_or_else(|| invalid(body_at, "section offset overflows"))?;
    }
    imports.sort();
    imports.dedup();
    Ok(imports)
}

fn leb_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use tau_testkit::wasm;

    fn imports(bytes: &[u8]) -> Vec<String> {
        host_imports(&mut Cursor::new(bytes), 1 << 20).unwrap()
    }

    #[test]
    fn walking_sections_finds_the_same_imports_as_validation() {
        for bytes in [
            wasm::compliant_core(),
            wasm::preview1(),
            wasm::no_imports(),
            wasm::sized(3 << 20),
            wasm::component(),
            wasm::component_non_wasi(),
            wasm::component_wasi_only(),
        ] {
            let validated = validate::validate(&bytes).unwrap();
            assert_eq!(imports(&bytes), validated.imports);
        }
    }

    #[test]
    fn truncated_and_foreign_files_are_invalid_not_panics() {
        let mut cut = wasm::compliant_core();
        cut.truncate(cut.len() - 7);
        assert!(host_imports(&mut Cursor::new(&cut), 1 << 20).is_err());
        assert!(host_imports(&mut Cursor::new(wasm::non_wasm()), 1 << 20).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_sections_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let mut with_header = b"\0asm\x01\0\0\0".to_vec();
            with_header.extend_from_slice(&bytes);
            let _ = host_imports(&mut Cursor::new(&with_header), 1 << 20);
        }
    }
}
