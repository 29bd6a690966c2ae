//! The fast path for a fixture on disk: read in fixed-size chunks and deserialize the `cases` array
//! one element at a time.
//!
//! Holding the whole text of a million-case fixture (over 300 MB) while its cases are built was
//! most of a run's peak memory, and faulting that buffer in cost as much time as parsing it.
//! `serde_json`'s own reader streams but goes byte by byte through `io::Read`, which parses several
//! times slower. Here each element is parsed from an in-memory slice of the current chunk, so the
//! parse runs at slice speed while only one chunk of text is alive at a time.
//!
//! The file is read by a second thread, a chunk ahead of the parse (the copies out of the page
//! cache were a sixth of the parse, and the parse holds up everything after it), and hashed by a
//! third one that stays out of the parse's way ([`hash`]).
//!
//! This path only ever says "valid" or "not valid here": any doubt (a syntax error, an unknown or
//! repeated field) returns [`Outcome::Invalid`] and the caller re-reads the document the slow way,
//! which is what reports every problem with its path. Success therefore means exactly what the
//! whole-document parse would have accepted.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Case, Fixture};
use crate::evidence::FixtureDigest;

#[path = "fixture_hash.rs"]
mod hash;
use hash::{Block, Hasher, Pool};

#[path = "fixture_split.rs"]
mod split;
use split::Splitter;

/// How much fixture text is read at once; a case is a few hundred bytes, so a retry after an
/// element that straddles two chunks re-parses almost nothing.
const CHUNK: u64 = 4 << 20;

/// The shortest stretch of case text worth handing to the helper thread.
const SPLIT_MIN: usize = 256 << 10;

/// How much the reader thread reads at once.
const BLOCK: u64 = 1 << 20;

/// What the streaming parse found.
pub(super) enum Outcome {
    /// Deserialized; the SHA-256 of every byte read is filled in. Semantic checks still to run.
    Parsed(Fixture),
    /// Not deserializable as a fixture; the caller re-reads it for the full problem list.
    Invalid,
}

/// A window onto the source: `buf[pos..]` is text not yet consumed.
///
/// The text is checked to be UTF-8 once, as it arrives, and parsed as `str`: `serde_json` then
/// skips checking each string it reads, which was as much work again as finding its end.
struct Chunks {
    /// Blocks of the source as the reader thread read them; an empty block is the end.
    blocks: Receiver<io::Result<Arc<Block>>>,
    buf: String,
    /// The start of a character the last block cut off, completed by the next.
    cut: Vec<u8>,
    pos: usize,
    /// Offset in the whole input of `buf[0]`.
    base: u64,
    eof: bool,
    chunk: u64,
    split: Option<Splitter>,
}

/// A syntax or schema problem, or an I/O error that must reach the caller as such.
enum Stop {
    Invalid,
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

type Step<T> = Result<T, Stop>;

/// Reads `src` in blocks of at most [`BLOCK`] bytes and hands each to the hash and to the parse,
/// until the end (an empty block) or until the parse stops taking them. Returns the digest of
/// every byte read.
fn read_ahead(
    mut src: impl Read,
    chunk: u64,
    blocks: SyncSender<io::Result<Arc<Block>>>,
) -> FixtureDigest {
    let mut hasher = Hasher::start();
    // Blocks smaller than a parse chunk keep the buffers in flight (and their pages) few.
    let block = chunk.min(BLOCK);
    let mut pool = Pool::new(usize::try_from(block).unwrap_or(usize::MAX));
    loop {
        let mut bytes = pool.take();
        match (&mut src).take(block).read_to_end(&mut bytes) {
            Ok(_) => {
                let end = bytes.is_empty();
                let block = pool.block(bytes);
                hasher.add(&block);
                if blocks.send(Ok(block)).is_err() || end {
                    break;
                }
            }
            Err(e) => {
                let _ = blocks.send(Err(e));
                break;
            }
        }
    }
    hasher.finish()
}

/// Appends `bytes` to `text`, completing first a character the previous block cut off (`cut`)
/// and keeping in `cut` one this block cuts off. Bytes that are not UTF-8 make the input
/// [`Stop::Invalid`]; the whole-document parse then says where.
fn push_utf8(text: &mut String, cut: &mut Vec<u8>, mut bytes: &[u8]) -> Step<()> {
    while !cut.is_empty() {
        let Some((&next, rest)) = bytes.split_first() else {
            return Ok(());
        };
        cut.push(next);
        bytes = rest;
        match std::str::from_utf8(cut) {
            Ok(whole) => {
                text.push_str(whole);
                cut.clear();
            }
            Err(e) if e.error_len().is_some() => return Err(Stop::Invalid),
            Err(_) => {}
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(valid) => text.push_str(valid),
        Err(e) => {
            let (valid, rest) = bytes.split_at(e.valid_up_to());
            text.push_str(std::str::from_utf8(valid).map_err(|_| Stop::Invalid)?);
            if e.error_len().is_some() {
                return Err(Stop::Invalid);
            }
            cut.extend_from_slice(rest);
        }
    }
    Ok(())
}

impl Chunks {
    /// Drops consumed text and reads the next chunk after what is left. False at end of input.
    fn fill(&mut self) -> Step<bool> {
        self.fill_at_least(0)
    }

    /// Reads the next chunk, or at least `at_least` bytes, so a value larger than a chunk is
    /// re-parsed a logarithmic number of times, not once per chunk.
    fn fill_at_least(&mut self, at_least: u64) -> Step<bool> {
        if self.eof {
            return Ok(false);
        }
        self.base += self.pos as u64;
        self.buf.drain(..self.pos);
        self.pos = 0;
        let want = self.chunk.max(at_least);
        let mut read = 0u64;
        while read < want.max(1) {
            let block = self
                .blocks
                .recv()
                .map_err(|_| io::Error::other("the fixture reader thread stopped"))??;
            if block.is_empty() {
                self.eof = true;
                if !self.cut.is_empty() {
                    // The input ends inside a character.
                    return Err(Stop::Invalid);
                }
                break;
            }
            read += block.len() as u64;
            // Copied, since the hash may still be reading the block; dropping it here gives the
            // buffer back once the hash is done too.
            push_utf8(&mut self.buf, &mut self.cut, &block)?;
        }
        Ok(read > 0)
    }

    /// Right after a separator of the case array: takes over the helper's cases when its guess
    /// starts exactly here.
    fn after_separator(&mut self, cases: &mut Vec<Case>) {
        let Some(split) = &mut self.split else {
            return;
        };
        let now = self.base + self.pos as u64;
        if let Some((more, consumed)) = split.at_separator(now, &self.buf[self.pos..]) {
            cases.extend(more);
            self.pos += consumed;
        }
    }

    /// The next byte that is not JSON whitespace, not consumed; `None` at end of input.
    fn peek(&mut self) -> Step<Option<u8>> {
        loop {
            while let Some(&b) = self.buf.as_bytes().get(self.pos) {
                if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Consumes `byte` after optional whitespace.
    fn expect(&mut self, byte: u8) -> Step<()> {
        if self.peek()? == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }

    /// Deserializes one JSON value at the cursor. A value that runs into the end of the chunk is
    /// parsed again once more text is in; a number is never cut short, since it is only accepted
    /// when something follows it or the input has ended.
    fn value<T: DeserializeOwned>(&mut self) -> Step<T> {
        loop {
            let rest = &self.buf[self.pos..];
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<T>();
            let parsed = stream.next();
            let end = stream.byte_offset();
            match parsed {
                Some(Ok(value)) if end < rest.len() || self.eof => {
                    self.pos += end;
                    return Ok(value);
                }
                Some(Err(e)) if !e.is_eof() || self.eof => return Err(Stop::Invalid),
                None if self.eof => return Err(Stop::Invalid),
                // Cut off by the end of the chunk: read on (or learn that the input has ended),
                // at least doubling what is buffered so one huge value costs linear time.
                _ => {
                    let pending = u64::try_from(rest.len()).unwrap_or(u64::MAX);
                    self.fill_at_least(pending)?;
                }
            }
        }
    }
}

/// Parses a fixture from `src`. Must run inside [`crate::sym::scope`] so repeated strings share
/// storage, as in the whole-document parse.
pub(super) fn parse(src: impl Read + Send, size_hint: u64) -> io::Result<Outcome> {
    parse_in_chunks(src, size_hint, CHUNK, Some(SPLIT_MIN))
}

/// `split`: hand stretches of at least this many bytes of the case array to a helper thread.
fn parse_in_chunks(
    src: impl Read + Send,
    size_hint: u64,
    chunk: u64,
    split: Option<usize>,
) -> io::Result<Outcome> {
    let chunk = chunk.max(1);
    std::thread::scope(|scope| {
        // Two blocks in flight: the reader stays ahead without holding much of the file.
        let (sender, blocks) = mpsc::sync_channel(2);
        let reader = scope.spawn(move || read_ahead(src, chunk, sender));
        let mut chunks = Chunks {
            blocks,
            buf: String::new(),
            cut: Vec::new(),
            pos: 0,
            base: 0,
            eof: false,
            chunk,
            split: split.map(|min_text| Splitter::spawn(scope, min_text)),
        };
        let parsed = document(&mut chunks, size_hint).and_then(|fixture| {
            // Trailing text after the document (the whole-document parse refuses it).
            match chunks.peek()? {
                Some(_) => Err(Stop::Invalid),
                None => Ok(fixture),
            }
        });
        // Stops the reader if the parse ended early.
        drop(chunks);
        let digest = reader
            .join()
            .map_err(|_| io::Error::other("the fixture reader thread panicked"))?;
        match parsed {
            Ok(mut fixture) => {
                fixture.sha256 = digest;
                Ok(Outcome::Parsed(fixture))
            }
            Err(Stop::Invalid) => Ok(Outcome::Invalid),
            Err(Stop::Io(e)) => Err(e),
        }
    })
}

fn document(chunks: &mut Chunks, size_hint: u64) -> Step<Fixture> {
    chunks.expect(b'{')?;
    let mut top = Map::new();
    let mut cases: Option<Vec<Case>> = None;
    if chunks.peek()? == Some(b'}') {
        return Err(Stop::Invalid);
    }
    loop {
        let key: String = chunks.value()?;
        chunks.expect(b':')?;
        if key == "cases" {
            if cases.is_some() {
                return Err(Stop::Invalid);
            }
            cases = Some(case_array(chunks, size_hint)?);
        } else {
            let value: Value = chunks.value()?;
            if top.insert(key, value).is_some() {
                return Err(Stop::Invalid);
            }
        }
        match chunks.peek()? {
            Some(b',') => chunks.pos += 1,
            Some(b'}') => {
                chunks.pos += 1;
                break;
            }
            _ => return Err(Stop::Invalid),
        }
    }
    let cases = cases.ok_or(Stop::Invalid)?;
    // The other fields go through the same derive as the whole document, so their rules (required
    // fields, no unknown ones) are the same.
    top.insert("cases".into(), Value::Array(Vec::new()));
    let mut fixture: Fixture =
        serde_json::from_value(Value::Object(top)).map_err(|_| Stop::Invalid)?;
    fixture.cases = cases;
    Ok(fixture)
}

fn case_array(chunks: &mut Chunks, size_hint: u64) -> Step<Vec<Case>> {
    chunks.expect(b'[')?;
    let mut cases = Vec::new();
    if chunks.peek()? == Some(b']') {
        chunks.pos += 1;
        return Ok(cases);
    }
    loop {
        let before = chunks.pos;
        let case: Case = chunks.value()?;
        if cases.is_empty() {
            // Cases of one fixture are about the same size: reserving from the first one spares
            // the doubling copies of a vector that reaches hundreds of megabytes.
            let width = (chunks.pos.saturating_sub(before)).max(64) as u64;
            cases.reserve(usize::try_from(size_hint / width).unwrap_or(0).min(1 << 24));
        }
        cases.push(case);
        match chunks.peek()? {
            Some(b',') => {
                chunks.pos += 1;
                chunks.after_separator(&mut cases);
            }
            Some(b']') => {
                chunks.pos += 1;
                return Ok(cases);
            }
            _ => return Err(Stop::Invalid),
        }
    }
}

#[cfg(test)]
#[path = "fixture_stream_tests.rs"]
mod tests;
