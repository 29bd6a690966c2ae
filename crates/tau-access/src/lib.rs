//! Access policy for tau's HTTP services: Cloudflare Access service tokens.
//!
//! Requests that reach the gateway or the Deploy Agent through a Cloudflare Tunnel carry a service
//! token in two headers, `CF-Access-Client-Id` and `CF-Access-Client-Secret`. A [`Policy`] holds the
//! configured tokens and answers whether a request's pair matches one of them.
//!
//! Comparison is constant-time: both presented values are hashed with SHA-256 and compared against
//! every configured token with `subtle`, without stopping at the first match, so neither the length
//! nor the position of a match leaks through timing. Only digests of secrets are kept in memory.
//! No filesystem and no clock, so the crate also builds for wasm32 edge workers.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

pub const CLIENT_ID_HEADER: &str = "CF-Access-Client-Id";
pub const CLIENT_SECRET_HEADER: &str = "CF-Access-Client-Secret";

/// Why a policy cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("service token {index}: {what} must not be empty")]
    Empty { index: usize, what: &'static str },
    #[error("service token {index}: expected CLIENT_ID:CLIENT_SECRET")]
    Malformed { index: usize },
    #[error("service token {index}: client id {client_id:?} is configured twice")]
    Duplicate { index: usize, client_id: String },
    #[error("no service tokens configured")]
    NoTokens,
}

/// Why a request was refused. Deliberately says nothing about which part did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("missing {CLIENT_ID_HEADER} or {CLIENT_SECRET_HEADER} header")]
    MissingHeaders,
    #[error("service token not accepted")]
    InvalidToken,
}

struct Token {
    client_id: String,
    id_digest: [u8; 32],
    secret_digest: [u8; 32],
}

/// The configured service tokens.
pub struct Policy {
    tokens: Vec<Token>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field(
                "client_ids",
                &self.tokens.iter().map(|t| &t.client_id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Policy {
    /// A policy accepting each `(client_id, client_secret)` pair.
    pub fn new<I, S>(pairs: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (S, S)>,
        S: AsRef<str>,
    {
        let mut tokens: Vec<Token> = Vec::new();
        for (index, (id, secret)) in pairs.into_iter().enumerate() {
            let (id, secret) = (id.as_ref().trim(), secret.as_ref().trim());
            if id.is_empty() {
                return Err(Error::Empty {
                    index,
                    what: "client id",
                });
            }
            if secret.is_empty() {
                return Err(Error::Empty {
                    index,
                    what: "client secret",
                });
            }
            if tokens.iter().any(|t| t.client_id == id) {
                return Err(Error::Duplicate {
                    index,
                    client_id: id.to_string(),
                });
            }
            tokens.push(Token {
                client_id: id.to_string(),
                id_digest: digest(id),
                secret_digest: digest(secret),
            });
        }
        if tokens.is_empty() {
            return Err(Error::NoTokens);
        }
        Ok(Policy { tokens })
    }

    /// Parses `ID:SECRET` pairs separated by commas or newlines (the form of an environment
    /// variable or a secret file).
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let mut pairs = Vec::new();
        for (index, item) in spec
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let (id, secret) = item.split_once(':').ok_or(Error::Malformed { index })?;
            pairs.push((id.to_string(), secret.to_string()));
        }
        Self::new(pairs)
    }

    /// Checks a presented id and secret; returns the matching client id.
    pub fn check(
        &self,
        client_id: Option<&str>,
        client_secret: Option<&str>,
    ) -> Result<&str, Denial> {
        let (Some(id), Some(secret)) = (client_id, client_secret) else {
            return Err(Denial::MissingHeaders);
        };
        let (id, secret) = (digest(id.trim()), digest(secret.trim()));
        let mut matched = Choice::from(0);
        let mut index = 0usize;
        for (i, token) in self.tokens.iter().enumerate() {
            let hit = token.id_digest.ct_eq(&id) & token.secret_digest.ct_eq(&secret);
            // Record the position without branching on the secret comparison.
            index |= i & 0usize.wrapping_sub(usize::from(hit.unwrap_u8()));
            matched |= hit;
        }
        if bool::from(matched) {
            Ok(&self.tokens[index].client_id)
        } else {
            Err(Denial::InvalidToken)
        }
    }

    /// Checks request headers, matching names case-insensitively as HTTP requires.
    pub fn check_headers<'a>(
        &self,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<&str, Denial> {
        let (mut id, mut secret) = (None, None);
        for (name, value) in headers {
            if name.eq_ignore_ascii_case(CLIENT_ID_HEADER) {
                id = Some(value);
            } else if name.eq_ignore_ascii_case(CLIENT_SECRET_HEADER) {
                secret = Some(value);
            }
        }
        self.check(id, secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::parse("deploy-ci.access:s3cret-one, ops.access:s3cret-two").unwrap()
    }

    #[test]
    fn a_configured_pair_is_accepted_and_named() {
        assert_eq!(
            policy().check(Some("ops.access"), Some("s3cret-two")),
            Ok("ops.access")
        );
        assert_eq!(
            policy().check(Some("deploy-ci.access"), Some("s3cret-one")),
            Ok("deploy-ci.access")
        );
    }

    #[test]
    fn a_secret_of_another_token_is_refused() {
        assert_eq!(
            policy().check(Some("ops.access"), Some("s3cret-one")),
            Err(Denial::InvalidToken)
        );
        assert_eq!(
            policy().check(Some("ops.access"), Some("s3cret-tw")),
            Err(Denial::InvalidToken)
        );
        assert_eq!(
            policy().check(Some("nobody"), Some("s3cret-two")),
            Err(Denial::InvalidToken)
        );
    }

    #[test]
    fn missing_headers_are_their_own_denial() {
        assert_eq!(policy().check(None, Some("x")), Err(Denial::MissingHeaders));
        assert_eq!(policy().check_headers([]), Err(Denial::MissingHeaders));
    }

    #[test]
    fn header_names_match_case_insensitively() {
        let headers = [
            ("cf-access-client-id", "ops.access"),
            ("CF-ACCESS-CLIENT-SECRET", "s3cret-two"),
        ];
        assert_eq!(policy().check_headers(headers), Ok("ops.access"));
    }

    #[test]
    fn bad_configuration_is_refused_with_the_token_index() {
        assert_eq!(
            Policy::parse("a:b,c").unwrap_err(),
            Error::Malformed { index: 1 }
        );
        assert_eq!(
            Policy::parse(":b").unwrap_err(),
            Error::Empty {
                index: 0,
                what: "client id"
            }
        );
        assert_eq!(
            Policy::parse("a: ").unwrap_err(),
            Error::Empty {
                index: 0,
                what: "client secret"
            }
        );
        assert!(matches!(
            Policy::parse("a:b\na:c").unwrap_err(),
            Error::Duplicate { index: 1, .. }
        ));
        assert_eq!(Policy::parse(" , ").unwrap_err(), Error::NoTokens);
    }

    #[test]
    fn debug_output_shows_ids_but_never_secrets() {
        let text = format!("{:?}", policy());
        assert!(
            text.contains("ops.access") && !text.contains("s3cret"),
            "{text}"
        );
    }

    proptest::proptest! {
        /// Exactly the configured pairs pass, whichever position they hold.
        #[test]
        fn only_exact_pairs_pass(
            ids in proptest::collection::btree_set("[a-z]{1,8}", 1..6),
            probe in "[a-z]{1,8}",
            secret in "[a-z0-9]{1,12}",
        ) {
            let pairs: Vec<(String, String)> = ids.iter().map(|id| (id.clone(), format!("{id}-{secret}"))).collect();
            let policy = Policy::new(pairs.clone()).unwrap();
            for (id, s) in &pairs {
                proptest::prop_assert_eq!(policy.check(Some(id), Some(s)), Ok(id.as_str()));
            }
            let expected = if ids.contains(&probe) { Ok(probe.as_str()) } else { Err(Denial::InvalidToken) };
            proptest::prop_assert_eq!(policy.check(Some(&probe), Some(&format!("{probe}-{secret}"))), expected);
            proptest::prop_assert_eq!(policy.check(Some(&probe), Some("wrong")), Err(Denial::InvalidToken));
        }
    }
}
