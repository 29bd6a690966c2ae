//! Image references (`[registry/]repository[:tag][@sha256:…]`), parsed strictly after Docker's
//! reference grammar. The agent's allow-list, the registry policy and cloud deploy all compare
//! references, so a reference that two readers could understand differently is refused here.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Longest repository name (registry included) that registries accept.
const MAX_NAME: usize = 255;
const MAX_TAG: usize = 128;

/// A parsed image reference. `Display` gives the canonical form, which parses back to an equal value.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: Option<String>,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Parses `s`, refusing anything Docker's grammar refuses and any digest other than
    /// `sha256:` + 64 lowercase hex characters.
    pub fn parse(s: &str) -> Result<Reference, Error> {
        let bad = |expected: &str| Error::BadReference {
            input: s.to_owned(),
            expected: expected.to_owned(),
        };
        if s.is_empty() {
            return Err(bad("a non-empty image reference"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, digest)) => {
                check_digest(digest).map_err(&bad)?;
                (rest, Some(digest.to_owned()))
            }
            None => (s, None),
        };
        // A ':' after the last '/' starts the tag; one before it belongs to the registry's port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].find(':') {
            Some(i) => {
                let (name, tag) = rest.split_at(last_slash + i);
                let tag = &tag[1..];
                check_tag(tag).map_err(&bad)?;
                (name, Some(tag.to_owned()))
            }
            None => (rest, None),
        };
        if name.len() > MAX_NAME {
            return Err(bad("a repository name of at most 255 characters"));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if is_registry(first) => {
                check_registry(first).map_err(&bad)?;
                (Some(first.to_owned()), path)
            }
            _ => (None, name),
        };
        for component in repository.split('/') {
            check_component(component).map_err(&bad)?;
        }
        Ok(Reference {
            registry,
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }

    /// The registry host (`127.0.0.1:5000`, `ghcr.io`), when the reference names one.
    pub fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The path inside the registry (`org/app`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// `sha256:` + 64 hex characters.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Registry and repository, without tag or digest: what a registry calls the image's name.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// The same image pinned to `digest` (the tag is kept for people reading it).
    pub fn with_digest(&self, digest: &str) -> Result<Reference, Error> {
        check_digest(digest).map_err(|e| Error::BadReference {
            input: digest.to_owned(),
            expected: e.to_owned(),
        })?;
        Ok(Reference {
            digest: Some(digest.to_owned()),
            ..self.clone()
        })
    }

    /// The same image under another tag, without a digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, Error> {
        check_tag(tag).map_err(|e| Error::BadReference {
            input: tag.to_owned(),
            expected: e.to_owned(),
        })?;
        Ok(Reference {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{registry}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Reference::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Docker's rule: the first component is a registry when it has a '.' or ':' or is `localhost`.
fn is_registry(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn check_registry(host: &str) -> Result<(), &'static str> {
    const EXPECTED: &str =
        "a registry host of letters, digits, '-' and '.', with an optional :PORT";
    let (host, port) = match host.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host, None),
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err("a registry port of 1 to 5 digits");
        }
    }
    for label in host.split('.') {
        let bytes = label.as_bytes();
        let ok = !bytes.is_empty()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-';
        if !ok {
            return Err(EXPECTED);
        }
    }
    Ok(())
}

/// `[a-z0-9]+` runs joined by one separator: `.`, `_`, `__` or any number of `-`.
fn check_component(component: &str) -> Result<(), &'static str> {
    const EXPECTED: &str =
        "path components of lowercase letters and digits, joined by '.', '_', '__' or '-'";
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(EXPECTED);
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return Err(EXPECTED);
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), &'static str> {
    const EXPECTED: &str =
        "a tag of 1 to 128 characters [A-Za-z0-9_.-], not starting with '.' or '-'";
    let bytes = tag.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_TAG
        && word(&bytes[0])
        && bytes.iter().all(|b| word(b) || *b == b'.' || *b == b'-');
    if ok {
        Ok(())
    } else {
        Err(EXPECTED)
    }
}

fn check_digest(digest: &str) -> Result<(), &'static str> {
    const EXPECTED: &str = "a digest 'sha256:' followed by 64 lowercase hex characters";
    match digest.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(())
        }
        _ => Err(EXPECTED),
    }
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod tests;
