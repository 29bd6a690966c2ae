//! Every byte `tau` writes to its standard streams goes through here.
//!
//! `println!` panics when stdout is a closed pipe (`tau status | head -0`) or a full device
//! (`> /dev/full`), which turned an ordinary shell idiom into exit 101. [`Out`] checks each write
//! instead: a reader that went away is not an error (the rest of the output is dropped and the
//! command keeps its own exit code), a write that fails for any other reason is one (exit 2 with a
//! message on stderr). Text lines also pass through [`escape`], because case ids, paths and
//! reasons come from files the user does not fully control, and a raw escape sequence or carriage
//! return in them could forge or hide terminal output.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// A write to stdout failed for a reason other than the reader going away.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct OutputFailed(pub io::Error);

/// Checked standard output.
pub struct Out {
    inner: Box<dyn Write>,
    /// The reader closed the pipe; everything after is discarded.
    closed: bool,
}

impl Out {
    pub fn stdout() -> Self {
        // Unlocked: a library thread that ever wrote to stdout must not wait on a command-long lock.
        Out::new(Box::new(io::stdout()))
    }

    pub fn new(inner: Box<dyn Write>) -> Self {
        Out {
            inner,
            closed: false,
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), OutputFailed> {
        if self.closed {
            return Ok(());
        }
        match self.inner.write_all(bytes) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.map_err(OutputFailed),
        }
    }

    /// One line of text; control characters in it are escaped.
    pub fn line(&mut self, text: &str) -> Result<(), OutputFailed> {
        let mut buf = escape(text).into_owned();
        buf.push('\n');
        self.write_all(buf.as_bytes())
    }

    /// A pretty-printed JSON document and a newline.
    pub fn json(&mut self, value: &impl serde::Serialize) -> Result<(), OutputFailed> {
        let mut text =
            serde_json::to_string_pretty(value).map_err(|e| OutputFailed(io::Error::other(e)))?;
        text.push('\n');
        self.write_all(text.as_bytes())
    }

    /// A compact JSON object on one line (JSON Lines, for streams of events).
    pub fn json_line(&mut self, value: &impl serde::Serialize) -> Result<(), OutputFailed> {
        let mut text =
            serde_json::to_string(value).map_err(|e| OutputFailed(io::Error::other(e)))?;
        text.push('\n');
        self.write_all(text.as_bytes())
    }

    /// Bytes exactly as given (workflow commands, generated scripts).
    pub fn raw(&mut self, bytes: &[u8]) -> Result<(), OutputFailed> {
        self.write_all(bytes)
    }

    /// Flushes, so a full device is reported before the process exits rather than lost in the
    /// runtime's silent flush at exit.
    pub fn flush(&mut self) -> Result<(), OutputFailed> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.map_err(OutputFailed),
        }
    }
}

/// Writes a message to stderr; a closed or full stderr is ignored because there is nowhere left
/// to report it. Newlines are kept (messages may list problems), other control characters are
/// escaped.
pub fn warn(text: &str) {
    let mut text = escape_keeping_newlines(text).into_owned();
    text.push('\n');
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Control characters (including tab, CR, ESC and NUL) as `\u{..}` escapes.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c.is_control())
}

fn escape_keeping_newlines(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c.is_control() && c != '\n')
}

fn escape_where(text: &str, needs: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Failing(io::ErrorKind);
    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_silently_drops_the_rest_of_the_output() {
        let mut out = Out::new(Box::new(Failing(io::ErrorKind::BrokenPipe)));
        assert!(out.line("first").is_ok());
        assert!(out.json(&serde_json::json!({"a": 1})).is_ok());
        assert!(out.flush().is_ok());
    }

    #[test]
    fn any_other_write_failure_is_an_error() {
        let mut out = Out::new(Box::new(Failing(io::ErrorKind::StorageFull)));
        let err = out.line("x").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("cannot write to standard output"));
    }

    #[test]
    fn control_characters_are_escaped_in_lines() {
        assert_eq!(escape("a\u{1b}[2Jb\rc\0"), "a\\u{1b}[2Jb\\u{d}c\\u{0}");
        assert_eq!(escape("plain"), Cow::Borrowed("plain"));
        assert_eq!(escape_keeping_newlines("a\nb\tc"), "a\nb\\u{9}c");
    }

    proptest! {
        #[test]
        fn escaped_text_never_contains_a_control_character(text in any::<String>()) {
            prop_assert!(!escape(&text).chars().any(|c| c.is_control()));
        }

        #[test]
        fn text_without_control_characters_is_unchanged(text in "[^\\p{Cc}]*") {
            prop_assert_eq!(escape(&text), text.as_str());
        }
    }
}
