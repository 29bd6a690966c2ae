//! Image tags: the four strategies, and the registry policy's rules where they apply (a dev build
//! is `dev-YYYYMMDDHHmmss`, a release is `vX.Y.Z`, and `latest` is never used: a tag that moves
//! under a running service makes a redeploy silently change what runs). The dev and release rules
//! and the UTC clock arithmetic are `tau_registry::policy`'s and `tau_registry::time`'s, so a tag
//! cloud deploy pushes is one the registry accepts.

use std::time::{SystemTime, UNIX_EPOCH};

use tau_registry::policy::Tag;
use tau_registry::time::Utc;

use crate::config::{RegistryConfig, TagStrategy};
use crate::{Error, Result};

/// What a tag may be computed from; gathered by the caller so this stays pure.
#[derive(Debug, Clone)]
pub struct TagInputs {
    pub now: SystemTime,
    /// The commit of the build context (`git rev-parse HEAD`), with `git-sha`.
    pub git_sha: Option<String>,
}

/// The tag for this build.
pub fn resolve(registry: &RegistryConfig, inputs: &TagInputs) -> Result<String> {
    match registry.tag_strategy {
        TagStrategy::Semver => {
            let v = registry.version.as_deref().unwrap_or_default();
            let (major, minor, patch) =
                parse_semver(v).ok_or_else(|| Error::Tag(format!("version {v:?} is not X.Y.Z")))?;
            Ok(Tag::Prod {
                major,
                minor,
                patch,
                sha: None,
            }
            .to_string())
        }
        TagStrategy::Timestamp => Ok(Tag::Dev(utc(inputs.now)).to_string()),
        TagStrategy::GitSha => {
            let sha = inputs.git_sha.as_deref().unwrap_or_default();
            if sha.len() < 12 || !sha.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(Error::Tag("tag_strategy git-sha needs the build context to be inside a git repository with at least one commit".into()));
            }
            Ok(format!("git-{}", sha[..12].to_ascii_lowercase()))
        }
        TagStrategy::Custom => {
            let t = registry.custom_tag.clone().unwrap_or_default();
            check_custom(&t)
                .map_err(|why| Error::Tag(format!("custom_tag {t:?}: expected {why}")))?;
            Ok(t)
        }
    }
}

/// `Ok` when `tag` is a valid image tag that the policy allows.
pub fn check_custom(tag: &str) -> std::result::Result<(), &'static str> {
    if tag.eq_ignore_ascii_case("latest") {
        return Err("a fixed tag other than `latest` (a moving tag makes deploys unreproducible)");
    }
    let b = tag.as_bytes();
    let valid = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !valid {
        return Err("an image tag of up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
    }
    // Only tags that claim a policy shape are held to it; `rc-7` or `vnext` are plain tags.
    let claims_release = tag.starts_with('v') && tag[1..].contains('.');
    if (claims_release || tag.starts_with("dev-")) && Tag::parse(tag).is_err() {
        return Err(if claims_release {
            "a release tag in the form vX.Y.Z (digits only), optionally _<7-12 lowercase hex commit sha>"
        } else {
            "a dev tag in the form dev-YYYYMMDDHHmmss (a real UTC time)"
        });
    }
    Ok(())
}

/// `X.Y.Z` with plain decimal numbers and no leading zeros: the registry policy's release rule
/// without its optional commit suffix.
pub fn parse_semver(v: &str) -> Option<(u64, u64, u64)> {
    match Tag::parse(&format!("v{v}")) {
        Ok(Tag::Prod {
            major,
            minor,
            patch,
            sha: None,
        }) => Some((major, minor, patch)),
        _ => None,
    }
}

/// A base image must be pinned: a tag other than `latest`, or a digest.
pub fn check_base_image(image: &str) -> std::result::Result<(), &'static str> {
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) || image.is_empty() {
        return Err("an image reference without spaces (registry/name:tag or name@sha256:...)");
    }
    if image == "scratch" {
        return Ok(());
    }
    if let Some((_, digest)) = image.split_once('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        return if hex.len() == 64 && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            Ok(())
        } else {
            Err("a digest of the form sha256:<64 hex digits>")
        };
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) => Err("a pinned base image (a tag other than `latest`, or a digest)"),
        Some((_, tag)) if !tag.is_empty() => Ok(()),
        _ => Err(
            "a pinned base image with an explicit tag or digest (name:1.2.3 or name@sha256:...)",
        ),
    }
}

/// `YYYYMMDDHHmmss` in UTC.
pub fn compact_utc(t: SystemTime) -> String {
    utc(t).compact()
}

/// RFC 3339 UTC with seconds (`2026-12-02T06:15:00Z`), for records.
pub fn rfc3339(t: SystemTime) -> String {
    utc(t).rfc3339()
}

// Times before 1970 cannot come from a real clock here; they read as the epoch.
fn utc(t: SystemTime) -> Utc {
    Utc::from_unix(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    fn registry(strategy: TagStrategy) -> RegistryConfig {
        RegistryConfig {
            url: "127.0.0.1:5000".into(),
            repository: "org/app".into(),
            tag_strategy: strategy,
            custom_tag: Some("rc-7".into()),
            version: Some("1.4.0".into()),
            credentials_env_prefix: None,
        }
    }

    fn at(secs: u64) -> TagInputs {
        TagInputs {
            now: UNIX_EPOCH + Duration::from_secs(secs),
            git_sha: Some("0123456789abcdef0123".into()),
        }
    }

    #[test]
    fn each_strategy_follows_the_registry_policy() {
        // 2026-12-02T06:15:07Z
        let now = at(1_796_192_107);
        assert_eq!(
            resolve(&registry(TagStrategy::Semver), &now).unwrap(),
            "v1.4.0"
        );
        assert_eq!(
            resolve(&registry(TagStrategy::Timestamp), &now).unwrap(),
            "dev-20261202061507"
        );
        assert_eq!(
            resolve(&registry(TagStrategy::GitSha), &now).unwrap(),
            "git-0123456789ab"
        );
        assert_eq!(
            resolve(&registry(TagStrategy::Custom), &now).unwrap(),
            "rc-7"
        );
        assert_eq!(rfc3339(now.now), "2026-12-02T06:15:07Z");
    }

    #[test]
    fn git_sha_without_a_commit_is_an_error_not_a_made_up_tag() {
        let inputs = TagInputs {
            now: SystemTime::now(),
            git_sha: None,
        };
        assert!(resolve(&registry(TagStrategy::GitSha), &inputs).is_err());
    }

    #[test]
    fn latest_and_malformed_policy_tags_are_refused() {
        for bad in [
            "latest",
            "LATEST",
            "",
            ".x",
            "-x",
            "v1.2",
            "v01.2.3",
            "dev-2026",
            "dev-20261332000000",
            "v1.2.3_XYZ",
            "a b",
            "x/y",
        ] {
            assert!(check_custom(bad).is_err(), "{bad:?} accepted");
        }
        for good in [
            "v1.2.3",
            "v1.2.3_3f9c2ab",
            "dev-20261202061507",
            "rc-7",
            "build_12",
            "vnext",
        ] {
            assert!(check_custom(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn base_images_must_be_pinned() {
        assert!(check_base_image("debian:bookworm-slim").is_ok());
        assert!(check_base_image("127.0.0.1:5000/library/busybox:1.36").is_ok());
        assert!(check_base_image(&format!("busybox@sha256:{}", "a".repeat(64))).is_ok());
        assert!(check_base_image("scratch").is_ok());
        for bad in [
            "busybox",
            "busybox:latest",
            "127.0.0.1:5000/busybox",
            "busybox@sha256:12",
        ] {
            assert!(check_base_image(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn semver_round_trips_through_the_tag(a in 0u64..10_000, b in 0u64..10_000, c in 0u64..10_000) {
            let v = format!("{a}.{b}.{c}");
            prop_assert_eq!(parse_semver(&v), Some((a, b, c)));
            let tag = format!("v{}", v);
            prop_assert!(check_custom(&tag).is_ok());
        }

        #[test]
        fn timestamp_tags_always_pass_the_dev_rule(secs in 0u64..8_000_000_000) {
            let tag = resolve(&registry(TagStrategy::Timestamp), &at(secs)).unwrap();
            prop_assert!(check_custom(&tag).is_ok(), "{}", tag);
            prop_assert_eq!(tag.len(), 18);
        }

        #[test]
        fn arbitrary_strings_never_panic_the_tag_checks(s in ".{0,40}") {
            let _ = check_custom(&s);
            let _ = parse_semver(&s);
            let _ = check_base_image(&s);
        }
    }
}
