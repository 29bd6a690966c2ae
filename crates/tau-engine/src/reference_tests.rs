use super::*;
use proptest::prelude::*;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn registry_with_port_is_not_mistaken_for_a_tag() {
    let r = Reference::parse("127.0.0.1:5000/org/app:v1.0.0").unwrap();
    assert_eq!(r.registry(), Some("127.0.0.1:5000"));
    assert_eq!(r.repository(), "org/app");
    assert_eq!(r.tag(), Some("v1.0.0"));
    assert_eq!(r.digest(), None);
    assert_eq!(r.name(), "127.0.0.1:5000/org/app");
}

#[test]
fn registry_port_without_tag_has_no_tag() {
    let r = Reference::parse("localhost:5000/app").unwrap();
    assert_eq!(r.registry(), Some("localhost:5000"));
    assert_eq!(r.tag(), None);
}

#[test]
fn first_component_without_dot_or_colon_is_part_of_the_repository() {
    let r = Reference::parse("org/app:1").unwrap();
    assert_eq!(r.registry(), None);
    assert_eq!(r.repository(), "org/app");
}

#[test]
fn tag_and_digest_are_both_kept() {
    let s = format!("ghcr.io/org/app:v2@{D}");
    let r = Reference::parse(&s).unwrap();
    assert_eq!(r.tag(), Some("v2"));
    assert_eq!(r.digest(), Some(D));
    assert_eq!(r.to_string(), s);
}

#[test]
fn refuses_what_docker_refuses() {
    for bad in [
        "",
        "Org/app:v1",
        "org/App",
        "org//app",
        "org/app:",
        "org/app:.v1",
        "org/app:-v1",
        "org/app@sha256:abc",
        "org/app@sha512:0123",
        &format!("org/app@{}", D.to_uppercase().replace("SHA256", "sha256")),
        "org/app:v1:v2",
        "-org/app",
        "org/app-",
        "org/a...b",
        "org/a___b",
        "host:/app",
        "host:99999999/app",
        ":tag",
        "@sha256:0",
        "org/app v1",
    ] {
        assert!(Reference::parse(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn tag_length_limit_is_128() {
    let ok = format!("app:{}", "a".repeat(128));
    assert!(Reference::parse(&ok).is_ok());
    let long = format!("app:{}", "a".repeat(129));
    assert!(Reference::parse(&long).is_err());
}

#[test]
fn error_names_the_input_and_what_was_expected() {
    let e = Reference::parse("org/App:v1").unwrap_err().to_string();
    assert!(e.contains("org/App:v1"), "{e}");
    assert!(e.contains("lowercase"), "{e}");
}

#[test]
fn with_digest_pins_and_keeps_the_tag() {
    let r = Reference::parse("r.io/app:v1")
        .unwrap()
        .with_digest(D)
        .unwrap();
    assert_eq!(r.to_string(), format!("r.io/app:v1@{D}"));
    assert!(Reference::parse("app:v1")
        .unwrap()
        .with_digest("sha256:x")
        .is_err());
}

#[test]
fn serde_round_trips_through_the_canonical_string() {
    let r = Reference::parse("r.io/app:v1").unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"r.io/app:v1\"");
    assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
    assert!(serde_json::from_str::<Reference>("\"R.io/app\"")
        .is_ok_and(|r| r.registry() == Some("R.io")));
    assert!(serde_json::from_str::<Reference>("\"app:\"").is_err());
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,4}(([._]|__|-{1,3})[a-z0-9]{1,4}){0,2}"
}

fn reference() -> impl Strategy<Value = String> {
    // Without a registry the first component may not hold a '.', or it would read as a registry.
    (
        "[a-z0-9]{1,4}(([_]|__|-{1,3})[a-z0-9]{1,4}){0,2}",
        proptest::option::of("[a-z0-9]{1,5}(\\.[a-z0-9]{1,5}){1,2}(:[0-9]{1,5})?"),
        proptest::collection::vec(component(), 0..3),
        proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        proptest::option::of("[0-9a-f]{64}"),
    )
        .prop_map(|(first, registry, rest, tag, digest)| {
            let mut s = registry.map(|r| format!("{r}/")).unwrap_or_default();
            s.push_str(&first);
            for component in rest {
                s.push('/');
                s.push_str(&component);
            }
            if let Some(tag) = tag {
                s.push(':');
                s.push_str(&tag);
            }
            if let Some(hex) = digest {
                s.push_str("@sha256:");
                s.push_str(&hex);
            }
            s
        })
}

proptest! {
    #[test]
    fn every_grammatical_reference_parses_and_displays_unchanged(s in reference()) {
        let r = Reference::parse(&s).unwrap();
        prop_assert_eq!(r.to_string(), s);
    }

    #[test]
    fn display_of_any_accepted_input_parses_back_equal(s in "[a-zA-Z0-9:/@._-]{0,40}") {
        if let Ok(r) = Reference::parse(&s) {
            prop_assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
        }
    }

    #[test]
    fn uppercase_in_the_repository_is_refused(s in reference(), i in 0usize..64) {
        let r = Reference::parse(&s).unwrap();
        let repo = r.repository();
        let letters: Vec<usize> = repo.char_indices().filter(|(_, c)| c.is_ascii_lowercase()).map(|(i, _)| i).collect();
        prop_assume!(!letters.is_empty());
        let at = letters[i % letters.len()];
        let mut upper = repo.to_owned();
        upper.replace_range(at..at + 1, &repo[at..at + 1].to_uppercase());
        let registry = r.registry().map(|r| format!("{r}/")).unwrap_or_default();
        // Without a registry, an uppercase first component could only be a registry name if it had a
        // '.' or ':'; our strategy never produces those in the path, so it must be refused.
        let input = format!("{registry}{upper}:t");
        prop_assert!(Reference::parse(&input).is_err());
    }
}
