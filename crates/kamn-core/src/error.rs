use crate::name::Rule;

/// Why an identity cannot be derived or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{field} {value:?} breaks the naming rule: {rule}")]
    Name {
        field: &'static str,
        value: String,
        rule: Rule,
    },
    #[error("entropy must not be empty")]
    EmptyEntropy,
    #[error("unknown DID method {0:?}; expected key or web")]
    UnknownMethod(String),
    #[error("{did:?} is not a did:key: {reason}")]
    NotDidKey { did: String, reason: String },
}
