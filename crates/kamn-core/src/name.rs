//! Network and subject names: what is allowed, and the rule each refusal broke.
//!
//! Names end up in DIDs (`did:web:<network>:<subject>`) and in hashed seeds, so two spellings of
//! one name must not give two identities, and nothing that would need escaping may get through.
//! Names are trimmed and lower-cased, then must be dot-separated labels of `[a-z0-9_-]` that start
//! and end with a letter or digit (so `edge.example.com` stays a domain).

use std::fmt;

use crate::Error;

/// The longest name accepted (a DNS name's limit).
pub const MAX_LEN: usize = 253;
/// The longest label accepted (a DNS label's limit).
pub const MAX_LABEL: usize = 63;

/// The naming rule a value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Empty,
    TooLong { len: usize },
    Character { ch: char, at: usize },
    EmptyLabel { label: usize },
    LabelTooLong { label: usize, len: usize },
    LabelEdge { label: usize },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Rule::Empty => write!(f, "must not be empty"),
            Rule::TooLong { len } => write!(f, "{len} characters is longer than {MAX_LEN}"),
            Rule::Character { ch, at } => write!(
                f,
                "character {ch:?} at position {at} is not allowed; use a-z, 0-9, '.', '_' or '-'"
            ),
            Rule::EmptyLabel { label } => write!(
                f,
                "label {label} is empty; names are dot-separated labels (no leading, trailing or double dots)"
            ),
            Rule::LabelTooLong { label, len } => {
                write!(f, "label {label} has {len} characters, more than {MAX_LABEL}")
            }
            Rule::LabelEdge { label } => {
                write!(f, "label {label} must start and end with a letter or digit")
            }
        }
    }
}

/// Trims and lower-cases `value`, then checks it against the naming rules.
pub fn normalize(field: &'static str, value: &str) -> Result<String, Error> {
    let name = value.trim().to_lowercase();
    check(&name).map_err(|rule| Error::Name {
        field,
        value: value.to_string(),
        rule,
    })?;
    Ok(name)
}

fn check(name: &str) -> Result<(), Rule> {
    if name.is_empty() {
        return Err(Rule::Empty);
    }
    if name.len() > MAX_LEN {
        return Err(Rule::TooLong { len: name.len() });
    }
    if let Some((at, ch)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
    {
        return Err(Rule::Character { ch, at });
    }
    for (index, label) in name.split('.').enumerate() {
        let label_no = index + 1;
        if label.is_empty() {
            return Err(Rule::EmptyLabel { label: label_no });
        }
        if label.len() > MAX_LABEL {
            return Err(Rule::LabelTooLong {
                label: label_no,
                len: label.len(),
            });
        }
        let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !edge_ok(label.chars().next()) || !edge_ok(label.chars().last()) {
            return Err(Rule::LabelEdge { label: label_no });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(value: &str) -> Rule {
        match normalize("network", value).unwrap_err() {
            Error::Name { rule, .. } => rule,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn names_are_trimmed_and_lower_cased() {
        assert_eq!(normalize("network", "  Tau-DevNet ").unwrap(), "tau-devnet");
        assert_eq!(
            normalize("network", "Edge.Example.COM").unwrap(),
            "edge.example.com"
        );
        assert_eq!(normalize("subject", "agent_7").unwrap(), "agent_7");
    }

    #[test]
    fn each_rule_is_named_when_broken() {
        assert_eq!(rule("   "), Rule::Empty);
        assert_eq!(rule("edge/agent"), Rule::Character { ch: '/', at: 4 });
        assert_eq!(rule("edge:agent"), Rule::Character { ch: ':', at: 4 });
        assert_eq!(rule("é"), Rule::Character { ch: 'é', at: 0 });
        assert_eq!(rule("edge..com"), Rule::EmptyLabel { label: 2 });
        assert_eq!(rule(".edge"), Rule::EmptyLabel { label: 1 });
        assert_eq!(rule("edge."), Rule::EmptyLabel { label: 2 });
        assert_eq!(rule("-edge"), Rule::LabelEdge { label: 1 });
        assert_eq!(rule("edge.com_"), Rule::LabelEdge { label: 2 });
        assert_eq!(
            rule(&"a".repeat(64)),
            Rule::LabelTooLong { label: 1, len: 64 }
        );
        assert_eq!(
            rule(&"a.".repeat(127).add_tail()),
            Rule::TooLong { len: 255 }
        );
    }

    trait AddTail {
        fn add_tail(self) -> String;
    }
    impl AddTail for String {
        fn add_tail(self) -> String {
            self + "a"
        }
    }

    #[test]
    fn refusals_say_which_field_and_rule() {
        let err = normalize("subject", "Bad Name").unwrap_err().to_string();
        assert_eq!(
            err,
            "subject \"Bad Name\" breaks the naming rule: character ' ' at position 3 is not allowed; use a-z, 0-9, '.', '_' or '-'"
        );
    }

    #[test]
    fn control_characters_in_a_refused_name_are_escaped_in_the_message() {
        let err = normalize("subject", "agent\u{1b}[2J\0x")
            .unwrap_err()
            .to_string();
        assert!(!err.chars().any(char::is_control), "{err:?}");
        assert!(err.contains(r"\u{1b}") && err.contains(r"\0"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn refusal_messages_never_carry_control_characters(value in "\\PC{0,8}[\\x00-\\x1f\\x7f]\\PC{0,8}") {
            // Whitespace controls at the edges are trimmed and may leave a valid name.
            if let Err(err) = normalize("network", &value) {
                let err = err.to_string();
                proptest::prop_assert!(!err.chars().any(char::is_control), "{:?}", err);
            }
        }

        #[test]
        fn accepted_names_are_fixed_points(value in "\\PC{0,40}") {
            if let Ok(name) = normalize("network", &value) {
                proptest::prop_assert_eq!(normalize("network", &name).unwrap(), name);
            }
        }
    }
}
