//! The expected response body of a case.
//!
//! A million-case fixture repeats the same few body keys and string values (`"status":
//! "accepted"`) in every case. Keys and string values are interned [`Sym`]s, so a body costs one
//! small vector per case instead of a JSON map with an allocation per key and value.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sym::Sym;

/// The expected response body, in the fixture's key order; keys are unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpectedBody(pub Vec<(Sym, Expected)>);

/// One expected value: a string (the common case, interned) or any other JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Text(Sym),
    Json(Value),
}

impl Expected {
    /// The value as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Expected::Text(s) => Value::String(s.to_string()),
            Expected::Json(v) => v.clone(),
        }
    }
}

impl From<&str> for Expected {
    fn from(text: &str) -> Self {
        Expected::Text(Sym::new(text))
    }
}

impl From<Value> for Expected {
    fn from(value: Value) -> Self {
        match value {
            Value::String(s) => Expected::Text(Sym::new(&s)),
            other => Expected::Json(other),
        }
    }
}

/// Formats as JSON, as mismatch messages quote it.
impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Expected::Text(s) => write!(f, "{}", Value::String(s.to_string())),
            Expected::Json(v) => write!(f, "{v}"),
        }
    }
}

impl Serialize for Expected {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expected::Text(text) => s.serialize_str(text),
            Expected::Json(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Expected {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Expected;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Expected, E> {
                Ok(Expected::Text(Sym::new(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Expected, E> {
                Ok(Expected::Json(Value::Bool(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Expected, E> {
                Ok(Expected::Json(Value::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Expected, E> {
                Ok(Expected::Json(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Expected, E> {
                Ok(Expected::Json(Value::from(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Expected, E> {
                Ok(Expected::Json(Value::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Expected, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(Expected::Json)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Expected, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(Expected::Json)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for ExpectedBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for ExpectedBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExpectedBody;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ExpectedBody, A::Error> {
                let mut pairs: Vec<(Sym, Expected)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<Sym, Expected>()? {
                    if pairs.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    pairs.push((key, value));
                }
                // A vector grows to four slots at its first push; one body per case adds up.
                pairs.shrink_to_fit();
                Ok(ExpectedBody(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_interned_and_other_values_kept_as_json() {
        let body: ExpectedBody = crate::sym::scope(|| {
            serde_json::from_str(r#"{"status":"accepted","replicas":2,"list":["a"],"ok":true}"#)
        })
        .unwrap();
        assert_eq!(body.0[0], (Sym::new("status"), Expected::from("accepted")));
        assert_eq!(body.0[1].1, Expected::Json(2.into()));
        assert_eq!(body.0[2].1, Expected::Json(serde_json::json!(["a"])));
        assert_eq!(body.0[3].1.to_string(), "true");
        assert_eq!(body.0[0].1.to_string(), "\"accepted\"");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = serde_json::from_str::<ExpectedBody>(r#"{"a":1,"a":2}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate key"), "{err}");
    }
}
