//! Images and volumes: pull, inspect, build, push, and the volume check.

use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, PushImageOptionsBuilder,
};
use futures_util::StreamExt;

use crate::auth::{server_address, Credentials};
use crate::error::stream_error;
use crate::{Engine, Error, Reference};

impl Engine {
    /// Pulls `reference` with `credentials` for its registry (anonymous when `None`), reading the
    /// progress stream to its end: Podman answers 200 for a pull that fails and reports the
    /// failure inside the stream.
    pub async fn pull(
        &self,
        reference: &Reference,
        credentials: Option<&Credentials>,
    ) -> Result<(), Error> {
        let what = reference.to_string();
        let before = self.repo_digests(reference).await?.unwrap_or_default();
        // The whole reference goes in fromImage: engines accept name:tag, name@digest and both.
        let options = CreateImageOptionsBuilder::default()
            .from_image(&what)
            .build();
        let auth = credentials.map(|c| c.to_docker(&registry_server(reference)));
        let mut stream = self.docker.create_image(Some(options), None, auth);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| redact(self.err("pull", &what, e), credentials))?;
            if let Some(detail) = info.error_detail {
                let message = detail.message.unwrap_or_default();
                return Err(redact(stream_error("pull", &what, message), credentials));
            }
        }
        // A stream that ends without an error line is not proof on every engine; the image must
        // now be there.
        let Some(after) = self.repo_digests(reference).await? else {
            return Err(Error::NotFound {
                op: "pull",
                what,
                message: "the engine reported success but has no such image".to_owned(),
            });
        };
        // The stream does not say which manifest a tag resolved to; a digest that appeared with
        // this pull does. Without one (the image was already there), the repo digests decide.
        let new: Vec<&String> = after.iter().filter(|d| !before.contains(d)).collect();
        if let [digest] = new.as_slice() {
            self.pulled
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(what, (*digest).clone());
        }
        Ok(())
    }

    /// The repo digests recorded for `reference`'s name, `None` when the image is not present.
    async fn repo_digests(&self, reference: &Reference) -> Result<Option<Vec<String>>, Error> {
        self.repo_digests_of(&inspect_name(reference), &reference.name())
            .await
    }

    /// The repo digests for repository `name` of the local image `image` (a name or an id).
    async fn repo_digests_of(&self, image: &str, name: &str) -> Result<Option<Vec<String>>, Error> {
        let image = match self.docker.inspect_image(image).await {
            Ok(image) => image,
            Err(e) => {
                return match self.err("inspect image", image, e) {
                    Error::NotFound { .. } => Ok(None),
                    other => Err(other),
                }
            }
        };
        let digests = image
            .repo_digests
            .unwrap_or_default()
            .into_iter()
            .filter_map(|d| d.split_once('@').map(|(n, d)| (n.to_owned(), d.to_owned())))
            .filter(|(n, _)| n == name)
            .map(|(_, d)| d)
            .collect();
        Ok(Some(digests))
    }

    /// The registry digest (`sha256:…`) of the local image `reference`: its own digest when it
    /// has one, else the digest this client's last pull of it resolved to, else its only repo
    /// digest (the first when an image built here was also pushed). `None` when the image is not
    /// present or never came from a registry.
    pub async fn image_digest(&self, reference: &Reference) -> Result<Option<String>, Error> {
        let Some(digests) = self.repo_digests(reference).await? else {
            return Ok(None);
        };
        if let Some(digest) = reference.digest() {
            return Ok(Some(digest.to_owned()));
        }
        let pulled = self
            .pulled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&reference.to_string())
            .cloned();
        Ok(pulled
            .filter(|d| digests.contains(d))
            .or_else(|| digests.into_iter().next()))
    }

    /// The registry digest of the image a container runs, by the container's `image_id` (what
    /// actually runs, even after the tag moved on): its repo digest for `reference`'s repository,
    /// or `reference`'s own digest. `None` when unknown: the image never came from that
    /// repository, or (Podman) the engine dropped the digest when the tag moved to another image.
    pub async fn running_digest(
        &self,
        image_id: &str,
        reference: &Reference,
    ) -> Result<Option<String>, Error> {
        if let Some(digest) = reference.digest() {
            return Ok(Some(digest.to_owned()));
        }
        Ok(self
            .repo_digests_of(image_id, &reference.name())
            .await?
            .and_then(|d| d.into_iter().next()))
    }

    /// Whether the named volume exists. Never creates it (mounting a missing one would).
    pub async fn volume_exists(&self, name: &str) -> Result<bool, Error> {
        match self.docker.inspect_volume(name).await {
            Ok(_) => Ok(true),
            Err(e) => match self.err("inspect volume", name, e) {
                Error::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Builds the tar `context_tar` (a Dockerfile at its root) as `tag`; returns the image id.
    /// Error lines in the build stream (a failed `RUN`, an unknown `FROM`) become an `Err`.
    pub async fn build(&self, context_tar: Vec<u8>, tag: &str) -> Result<String, Error> {
        let options = BuildImageOptionsBuilder::default()
            .t(tag)
            .rm(true)
            .forcerm(true)
            .build();
        let body = bollard::body_full(context_tar.into());
        let mut log = String::new();
        {
            let mut stream = self.docker.build_image(options, None, Some(body));
            while let Some(item) = stream.next().await {
                let info = item.map_err(|e| self.err("build", tag, e))?;
                if let Some(detail) = info.error_detail {
                    let message = detail.message.unwrap_or_default();
                    return Err(Error::Failed {
                        op: "build",
                        what: tag.to_owned(),
                        message: last_lines(&log, message),
                    });
                }
                if let Some(line) = info.stream {
                    log.push_str(&line);
                }
            }
        }
        let image = self
            .docker
            .inspect_image(tag)
            .await
            .map_err(|e| self.err("build", tag, e))?;
        image.id.ok_or_else(|| Error::Failed {
            op: "build",
            what: tag.to_owned(),
            message: "the built image has no id".to_owned(),
        })
    }

    /// Pushes `reference` (which must carry a tag) with `credentials` for its registry
    /// (anonymous when `None`) and returns the manifest digest the registry stored, read from the
    /// push stream's `digest:` line.
    pub async fn push(
        &self,
        reference: &Reference,
        credentials: Option<&Credentials>,
    ) -> Result<String, Error> {
        let what = reference.to_string();
        let tag = reference.tag().ok_or_else(|| Error::BadReference {
            input: what.clone(),
            expected: "a reference with a tag to push".to_owned(),
        })?;
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        // The engine wants an X-Registry-Auth header even for a registry without credentials.
        let auth = credentials
            .map(|c| c.to_docker(&registry_server(reference)))
            .unwrap_or_default();
        let mut stream = self
            .docker
            .push_image(&reference.name(), Some(options), Some(auth));
        let mut digest = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| redact(self.err("push", &what, e), credentials))?;
            if let Some(detail) = info.error_detail {
                let message = detail.message.unwrap_or_default();
                return Err(redact(stream_error("push", &what, message), credentials));
            }
            if let Some(found) = info.status.as_deref().and_then(digest_in) {
                digest = Some(found);
            }
        }
        digest.ok_or_else(|| Error::Failed {
            op: "push",
            what,
            message: "the push stream ended without the registry's digest".to_owned(),
        })
    }
}

/// The name to inspect a local image by. Podman stores `name:tag@digest` pulls under `name@digest`.
fn inspect_name(reference: &Reference) -> String {
    match (reference.digest(), reference.tag()) {
        (Some(digest), _) => format!("{}@{digest}", reference.name()),
        (None, Some(tag)) => format!("{}:{tag}", reference.name()),
        (None, None) => format!("{}:latest", reference.name()),
    }
}

/// The server address the engine is given with a login for `reference`'s registry.
fn registry_server(reference: &Reference) -> String {
    server_address(reference.registry().unwrap_or("docker.io"))
}

/// An engine's message should never hold the password it was given, but it is the engine's
/// text, not ours: the secret is cut out before the error goes anywhere.
fn redact(error: Error, credentials: Option<&Credentials>) -> Error {
    let secret = credentials.and_then(|c| c.basic().map(|(_, p)| p).or(c.refresh_token()));
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return error;
    };
    let clean = |text: &mut String| {
        if text.contains(secret) {
            *text = text.replace(secret, "<redacted>");
        }
    };
    let mut error = error;
    match &mut error {
        Error::NotFound { message, .. }
        | Error::Api { message, .. }
        | Error::Failed { message, .. }
        | Error::Credentials { message, .. }
        | Error::Unreachable { message, .. } => clean(message),
        Error::Unauthorized { message, .. } => clean(message),
        Error::BadReference { .. } | Error::BadUrl { .. } | Error::NameTaken { .. } => {}
    }
    error
}

/// `v1: digest: sha256:… size: 527` → `sha256:…`.
fn digest_in(status: &str) -> Option<String> {
    let at = status.find("sha256:")?;
    let hex: String = status[at + 7..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (hex.len() == 64).then(|| format!("sha256:{hex}"))
}

/// The build's error with the last few log lines before it, so the failing step is visible.
fn last_lines(log: &str, message: String) -> String {
    let tail: Vec<&str> = log.lines().rev().take(5).collect();
    if tail.is_empty() {
        return message;
    }
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!("{message} (after: {})", tail.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_read_from_a_docker_style_status_line() {
        let hex = "a".repeat(64);
        assert_eq!(
            digest_in(&format!("v1: digest: sha256:{hex} size: 527")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_in("Pushing layer"), None);
        assert_eq!(digest_in("digest: sha256:abc"), None);
    }

    #[test]
    fn a_tag_and_digest_reference_is_inspected_by_digest() {
        let hex = "b".repeat(64);
        let r = Reference::parse(&format!("r.io/app:v1@sha256:{hex}")).unwrap();
        assert_eq!(inspect_name(&r), format!("r.io/app@sha256:{hex}"));
        assert_eq!(
            inspect_name(&Reference::parse("app").unwrap()),
            "app:latest"
        );
    }
}
