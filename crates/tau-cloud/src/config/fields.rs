//! A mapping being read field by field, and the problems found on the way.

use serde_yaml_ng::{Mapping, Value};

use super::Problem;

#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn add(&mut self, field: &str, expected: impl Into<String>, found: Option<String>) {
        self.0.push(Problem {
            field: field.to_string(),
            expected: expected.into(),
            found,
        });
    }
}

/// A mapping being read: remembers which keys were used, so unknown ones are reported.
pub(super) struct Fields<'a> {
    pub(super) path: String,
    pub(super) map: &'a Mapping,
    used: Vec<String>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(p: &mut Problems, path: &str, value: &'a Value) -> Option<Self> {
        match value.as_mapping() {
            Some(map) => Some(Fields {
                path: path.to_string(),
                map,
                used: Vec::new(),
            }),
            None => {
                p.add(path, "a mapping", Some(kind(value)));
                None
            }
        }
    }

    pub(super) fn field(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    pub(super) fn get(&mut self, key: &str) -> Option<&'a Value> {
        self.used.push(key.to_string());
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn mapping(
        &mut self,
        p: &mut Problems,
        key: &str,
        required: bool,
    ) -> Option<Fields<'a>> {
        let field = self.field(key);
        match self.get(key) {
            Some(v) => Fields::new(p, &field, v),
            None => {
                if required {
                    p.add(&field, "a mapping (required)", None);
                }
                None
            }
        }
    }

    pub(super) fn string(
        &mut self,
        p: &mut Problems,
        key: &str,
        default: Option<&str>,
    ) -> Option<String> {
        let field = self.field(key);
        match (self.get(key), default) {
            (Some(Value::String(s)), _) if !s.is_empty() => Some(s.clone()),
            (Some(v), _) => {
                p.add(&field, "a non-empty string", Some(kind(v)));
                None
            }
            (None, Some(d)) => Some(d.to_string()),
            (None, None) => {
                p.add(&field, "a non-empty string (required)", None);
                None
            }
        }
    }

    pub(super) fn optional_string(&mut self, p: &mut Problems, key: &str) -> Option<String> {
        if self.map.get(key).is_none_or(Value::is_null) {
            self.used.push(key.to_string());
            return None;
        }
        self.string(p, key, None)
    }

    pub(super) fn number(
        &mut self,
        p: &mut Problems,
        key: &str,
        default: Option<u64>,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let field = self.field(key);
        let expected = format!("a whole number from {min} to {max}");
        match self.get(key) {
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    p.add(&field, expected, Some(kind(v)));
                    None
                }
            },
            None => {
                if default.is_none() {
                    p.add(&field, format!("{expected} (required)"), None);
                }
                default
            }
        }
    }

    pub(super) fn one_of(
        &mut self,
        p: &mut Problems,
        key: &str,
        default: &str,
        allowed: &[&str],
    ) -> Option<String> {
        let field = self.field(key);
        let value = match self.get(key) {
            Some(Value::Number(n)) => n.to_string(),
            _ => self.string(p, key, Some(default))?,
        };
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            p.add(
                &field,
                format!("one of {}", allowed.join(", ")),
                Some(quote(&value)),
            );
            None
        }
    }

    pub(super) fn finish(&self, p: &mut Problems) {
        for key in self.map.keys() {
            let name = key.as_str().map_or_else(|| kind(key), str::to_string);
            if !self.used.contains(&name) {
                p.add(
                    &self.field(&name),
                    "no such field (check its spelling)",
                    None,
                );
            }
        }
    }
}

pub(super) fn check(
    p: &mut Problems,
    field: &str,
    value: &str,
    ok: impl Fn(&str) -> bool,
    expected: &str,
) -> bool {
    let good = ok(value);
    if !good {
        p.add(field, expected, Some(quote(value)));
    }
    good
}

pub(super) fn kind(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => quote(s),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

pub(super) fn quote(s: &str) -> String {
    let short: String = s.chars().take(80).collect();
    format!("{short:?}")
}
