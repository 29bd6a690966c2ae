//! The case array parsed on two cores.
//!
//! Deserializing the cases was a quarter of a 100,000-case run, all of it before anything else
//! could start. A helper thread takes the second half of each stretch of unparsed text and parses
//! it *speculatively*: from a guessed element boundary (a `,` between `}` and `{`), up to the last
//! element that is followed by a `,`. A guess can be wrong (the same bytes can sit inside a
//! string), so its result is used only when the sequential parse itself arrives exactly at the
//! guessed offset right after a separator: then the text from there on is the same array the
//! helper parsed, element by element, with the same deserializer, and its cases are the ones the
//! sequential parse would have produced. When the sequential parse passes the offset anywhere else
//! the guess is dropped. Any doubt (an element that does not parse, the end of the text) ends the
//! helper's run early and the sequential parse takes over there, so errors are found and reported
//! exactly as without the helper.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::Scope;

use super::super::Case;

#[cfg(test)]
thread_local! {
    /// How many helper runs the parses of this thread took over.
    pub(super) static ADOPTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A run of elements the helper parsed: the cases and how many bytes (up to and including the
/// separator after the last one) they cover.
type Run = (Vec<Case>, usize);

/// The main parse's side of the helper.
pub(super) struct Splitter {
    jobs: Sender<(u64, String)>,
    /// Each job's result, with the job's text buffer back for the next job: a fresh copy of
    /// megabytes of text per job cost the main parse its page faults.
    results: Receiver<(u64, Run, String)>,
    spare: Option<String>,
    /// The guess being worked on: its job id and its offset in the whole input.
    pending: Option<(u64, u64)>,
    next_id: u64,
    /// Stretches shorter than this are not worth a hand-off.
    min_text: usize,
}

impl Splitter {
    /// Starts the helper thread in `scope`.
    pub(super) fn spawn<'scope>(scope: &'scope Scope<'scope, '_>, min_text: usize) -> Self {
        let (jobs, inbox) = mpsc::channel::<(u64, String)>();
        let (results, outbox) = mpsc::channel();
        scope.spawn(move || {
            // Its own interning table: strings repeat within the helper's cases as they do in
            // the main parse's.
            crate::sym::scope(|| {
                for (id, text) in inbox {
                    let run = parse_run(&text);
                    if results.send((id, run, text)).is_err() {
                        break;
                    }
                }
            })
        });
        Splitter {
            jobs,
            results: outbox,
            spare: None,
            pending: None,
            next_id: 0,
            min_text,
        }
    }

    /// Called by the sequential parse right after it consumed a separator of the case array, at
    /// offset `now` of the whole input, with `rest` the unparsed text from there. Returns the
    /// helper's run when its guess is exactly this offset; otherwise may hand the helper a new
    /// guess in `rest`.
    pub(super) fn at_separator(&mut self, now: u64, rest: &str) -> Option<Run> {
        if let Some((id, at)) = self.pending {
            if at == now {
                self.pending = None;
                let run = self.wait_for(id).filter(|(_, consumed)| *consumed > 0);
                #[cfg(test)]
                if run.is_some() {
                    ADOPTED.with(|n| n.set(n.get() + 1));
                }
                return run;
            }
            if at < now {
                // Passed without landing on it: the guess was not an element boundary.
                self.pending = None;
            }
        }
        if self.pending.is_none() && rest.len() >= self.min_text.max(2) {
            if let Some(start) = guess(rest.as_bytes(), rest.len() / 2) {
                let id = self.next_id;
                self.next_id += 1;
                let mut text = self.spare.take().unwrap_or_default();
                text.clear();
                // Right after a `,`: a character boundary.
                text.push_str(&rest[start..]);
                if self.jobs.send((id, text)).is_ok() {
                    self.pending = Some((id, now + start as u64));
                }
            }
        }
        None
    }

    /// The result of job `id`, skipping those of guesses dropped before it.
    fn wait_for(&mut self, id: u64) -> Option<Run> {
        loop {
            let (done, run, text) = self.results.recv().ok()?;
            self.spare = Some(text);
            if done == id {
                return Some(run);
            }
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The offset just after the first `,` at or after `from` whose neighbours (whitespace aside) are
/// `}` before and `{` after: what a boundary between two case objects looks like.
fn guess(text: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at < text.len() {
        let comma = at + text[at..].iter().position(|&b| b == b',')?;
        let before = text[..comma].iter().rev().find(|&&b| !is_space(b));
        let after = text[comma + 1..].iter().find(|&&b| !is_space(b));
        if before == Some(&b'}') && after == Some(&b'{') {
            return Some(comma + 1);
        }
        at = comma + 1;
    }
    None
}

/// Parses elements from the start of `text` as the sequential parse does (one value, whitespace,
/// a `,`), keeping only elements followed by a `,`: those are complete whatever follows.
fn parse_run(text: &str) -> Run {
    let mut cases = Vec::new();
    let mut consumed = 0;
    loop {
        let rest = &text[consumed..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Case>();
        let Some(Ok(case)) = stream.next() else {
            break;
        };
        let mut end = stream.byte_offset();
        let bytes = rest.as_bytes();
        while end < bytes.len() && is_space(bytes[end]) {
            end += 1;
        }
        if bytes.get(end) != Some(&b',') {
            break;
        }
        if cases.is_empty() {
            // Sized from the first element, like the main parse's vector: growing by doubling
            // faulted in fresh pages for every copy.
            cases.reserve(text.len() / (end + 1).max(64) + 1);
        }
        cases.push(case);
        consumed += end + 1;
    }
    (cases, consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guess_needs_an_object_on_each_side_of_the_comma() {
        let text = br#"{"a":[1,2]} , {"b":"x},{y"}"#;
        let at = guess(text, 0).unwrap();
        assert_eq!(&text[at..], br#" {"b":"x},{y"}"#);
        // Inside the string the same bytes look like a boundary: only the sequential parse
        // arriving there makes a guess count.
        assert_eq!(guess(text, at), Some(text.len() - 4));
        assert_eq!(guess(b"[1,2]", 0), None);
    }
}
