//! Checks a request body against a shape extracted from the provider's published schema
//! (`tests/schemas/*.json`, written by `scripts/dev/cloud-schemas.py`): every key known
//! (case-exact), required members present, output-only members absent, types right, enum values
//! allowed, string patterns and lengths, number and list bounds.
//!
//! Reusable from any test binary: `#[path = "schema_check/mod.rs"] mod schema_check;` (or
//! `mod schema_check;` beside it), then [`check_operation`] / [`check_shape`].

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// A schema file from `tests/schemas/`.
pub struct Schema {
    pub name: String,
    doc: Value,
}

impl Schema {
    pub fn load(file: &str) -> Schema {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/schemas")
            .join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Schema {
            name: file.to_string(),
            doc: serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}")),
        }
    }

    /// `package version` the shapes came from.
    pub fn source(&self) -> String {
        format!(
            "{} {}",
            self.doc["source"]["package"].as_str().unwrap_or("?"),
            self.doc["source"]["version"].as_str().unwrap_or("?")
        )
    }

    pub fn operation(&self, name: &str) -> &Value {
        let op = &self.doc["operations"][name];
        assert!(op.is_object(), "{}: no operation {name}", self.name);
        op
    }

    fn shape(&self, name: &str) -> &Value {
        let s = &self.doc["shapes"][name];
        assert!(s.is_object(), "{}: no shape {name}", self.name);
        s
    }
}

/// Every way `body` departs from the input shape of `operation` in `schema_file`.
pub fn check_operation(schema_file: &str, operation: &str, body: &Value) -> Vec<String> {
    let schema = Schema::load(schema_file);
    let input = schema.operation(operation)["input"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema_file}: {operation} takes no body"))
        .to_string();
    let mut problems = Vec::new();
    walk(&schema, &input, body, "$", &mut problems);
    problems
}

/// Every way `body` departs from shape `shape` in `schema_file`.
pub fn check_shape(schema_file: &str, shape: &str, body: &Value) -> Vec<String> {
    let schema = Schema::load(schema_file);
    let mut problems = Vec::new();
    walk(&schema, shape, body, "$", &mut problems);
    problems
}

/// Panics with every problem, naming the schema's source, when `body` does not fit.
pub fn assert_operation(schema_file: &str, operation: &str, body: &Value) {
    let problems = check_operation(schema_file, operation, body);
    assert!(
        problems.is_empty(),
        "{operation} body does not match {schema_file} ({}):\n  {}",
        Schema::load(schema_file).source(),
        problems.join("\n  ")
    );
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

fn walk(schema: &Schema, shape_name: &str, v: &Value, at: &str, out: &mut Vec<String>) {
    let shape = schema.shape(shape_name);
    let ty = shape["type"].as_str().unwrap_or("any");
    let mismatch = |out: &mut Vec<String>| {
        out.push(format!(
            "{at}: expected {ty} ({shape_name}), found {}",
            kind(v)
        ))
    };
    match ty {
        "structure" => {
            let Some(obj) = v.as_object() else {
                return mismatch(out);
            };
            let members = shape["members"].as_object().cloned().unwrap_or_default();
            let listed = |k: &str| -> Vec<String> {
                shape[k]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            for req in listed("required") {
                if !obj.contains_key(&req) {
                    out.push(format!(
                        "{at}: required member {req} is missing ({shape_name})"
                    ));
                }
            }
            let read_only = listed("read_only");
            for (key, value) in obj {
                let path = format!("{at}.{key}");
                match members.get(key).and_then(Value::as_str) {
                    None => {
                        let near = members.keys().find(|m| m.eq_ignore_ascii_case(key));
                        out.push(match near {
                            Some(m) => format!("{path}: unknown member (the schema spells it {m})"),
                            None => format!("{path}: unknown member of {shape_name}"),
                        });
                    }
                    Some(_) if read_only.contains(key) => {
                        out.push(format!("{path}: output-only member sent in a request"))
                    }
                    Some(member) => walk(schema, member, value, &path, out),
                }
            }
        }
        "list" => {
            let Some(items) = v.as_array() else {
                return mismatch(out);
            };
            bounds(
                shape,
                "min_items",
                "max_items",
                items.len() as f64,
                at,
                "items",
                out,
            );
            let member = shape["member"].as_str().unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                walk(schema, member, item, &format!("{at}[{i}]"), out);
            }
        }
        "map" => {
            let Some(obj) = v.as_object() else {
                return mismatch(out);
            };
            let (key, value) = (
                shape["key"].as_str().unwrap_or_default(),
                shape["value"].as_str().unwrap_or_default(),
            );
            for (k, item) in obj {
                walk(
                    schema,
                    key,
                    &Value::String(k.clone()),
                    &format!("{at} key {k:?}"),
                    out,
                );
                walk(schema, value, item, &format!("{at}.{k}"), out);
            }
        }
        "string" => {
            let Some(s) = v.as_str() else {
                return mismatch(out);
            };
            string(shape, shape_name, s, at, out);
        }
        // JSON carries 64-bit integers as strings (Google's convention) or numbers.
        "int64" => {
            let ok =
                v.is_i64() || v.is_u64() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
            if !ok {
                mismatch(out);
            }
        }
        "integer" => match v.as_i64() {
            Some(n) => bounds(shape, "min", "max", n as f64, at, "value", out),
            None => mismatch(out),
        },
        "number" => match v.as_f64() {
            Some(n) => bounds(shape, "min", "max", n, at, "value", out),
            None => mismatch(out),
        },
        "boolean" if !v.is_boolean() => mismatch(out),
        "timestamp" if !(v.is_string() || v.is_number()) => mismatch(out),
        _ => {}
    }
}

fn bounds(shape: &Value, lo: &str, hi: &str, n: f64, at: &str, what: &str, out: &mut Vec<String>) {
    if let Some(min) = shape[lo].as_f64() {
        if n < min {
            out.push(format!("{at}: {what} {n} is below the minimum {min}"));
        }
    }
    if let Some(max) = shape[hi].as_f64() {
        if n > max {
            out.push(format!("{at}: {what} {n} is above the maximum {max}"));
        }
    }
}

fn string(shape: &Value, name: &str, s: &str, at: &str, out: &mut Vec<String>) {
    if let Some(allowed) = shape["enum"].as_array() {
        let insensitive = shape["enum_case_insensitive"].as_bool().unwrap_or(false);
        let ok = allowed.iter().filter_map(Value::as_str).any(|a| {
            if insensitive {
                a.eq_ignore_ascii_case(s)
            } else {
                a == s
            }
        });
        if !ok {
            out.push(format!("{at}: {s:?} is not one of {allowed:?} ({name})"));
        }
    }
    let len = s.chars().count() as f64;
    bounds(shape, "min_length", "max_length", len, at, "length", out);
    if let Some(pattern) = shape["pattern"].as_str() {
        let matcher = Pattern::compile(pattern).unwrap_or_else(|e| {
            panic!("{name}: pattern {pattern:?} cannot be compiled here ({e})")
        });
        if !matcher.is_match(s) {
            out.push(format!(
                "{at}: {s:?} does not match the pattern {pattern} ({name})"
            ));
        }
    }
}

/// A schema pattern. The services match whole values (AWS and ARM patterns are written
/// unanchored), so it is anchored here. Java's look-around is not in `regex`; the one form
/// the schemas use, a leading negative look-ahead on a literal (`^(?!aws:).+`, "must not start
/// with aws:"), is checked as a prefix test.
struct Pattern {
    forbidden_prefix: Option<String>,
    rest: regex::Regex,
}

impl Pattern {
    fn compile(pattern: &str) -> Result<Pattern, String> {
        let body = pattern.strip_prefix('^').unwrap_or(pattern);
        let literal = |l: &str| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-')
        };
        let (forbidden_prefix, rest) =
            match body.strip_prefix("(?!").and_then(|r| r.split_once(')')) {
                Some((lit, rest)) if literal(lit) => (Some(lit.to_string()), rest),
                _ => (None, pattern),
            };
        let rest = regex::Regex::new(&format!("^(?:{})$", ascii_classes(rest)))
            .map_err(|e| e.to_string())?;
        Ok(Pattern {
            forbidden_prefix,
            rest,
        })
    }

    fn is_match(&self, s: &str) -> bool {
        let allowed = self
            .forbidden_prefix
            .as_ref()
            .is_none_or(|p| !s.starts_with(p.as_str()));
        allowed && self.rest.is_match(s)
    }
}

/// Java's `\w`, `\d`, `\s` are ASCII (the AWS models are Java patterns); Rust's are Unicode,
/// so they become the ASCII POSIX classes, inside or outside a bracket expression.
fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push(c);
                    break;
                };
                let posix = match next {
                    'w' => Some("word"),
                    'W' => Some("^word"),
                    'd' => Some("digit"),
                    'D' => Some("^digit"),
                    's' => Some("space"),
                    'S' => Some("^space"),
                    _ => None,
                };
                match posix {
                    Some(p) if in_class => out.push_str(&format!("[:{p}:]")),
                    Some(p) => out.push_str(&format!("[[:{p}:]]")),
                    None => {
                        out.push(c);
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The query parameters of `url` that `operation` does not declare (Google discovery methods).
pub fn unknown_query_params(schema_file: &str, operation: &str, url: &str) -> Vec<String> {
    let schema = Schema::load(schema_file);
    let declared = &schema.operation(operation)["query"];
    let query = url.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let key = p.split_once('=').map_or(p, |(k, _)| k);
            (!declared[key].is_object()).then(|| key.to_string())
        })
        .collect()
}

/// Extraction faults in a schema file: references to shapes it does not hold, patterns this
/// validator cannot compile, operations without a known input shape.
pub fn integrity(schema_file: &str) -> Vec<String> {
    let schema = Schema::load(schema_file);
    let shapes = schema.doc["shapes"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut refer = |from: &str, to: Option<&str>| match to {
        Some(name) if shapes.contains_key(name) => {}
        other => out.push(format!("{from} refers to a missing shape {other:?}")),
    };
    for (name, shape) in &shapes {
        match shape["type"].as_str() {
            Some("structure") => {
                for (m, r) in shape["members"].as_object().into_iter().flatten() {
                    refer(&format!("{name}.{m}"), r.as_str());
                }
            }
            Some("list") => refer(name, shape["member"].as_str()),
            Some("map") => {
                refer(name, shape["key"].as_str());
                refer(name, shape["value"].as_str());
            }
            _ => {}
        }
    }
    for (op, spec) in schema.doc["operations"].as_object().into_iter().flatten() {
        if let Some(input) = spec.get("input") {
            refer(op, input.as_str());
        }
    }
    for (name, shape) in &shapes {
        if let Some(p) = shape["pattern"].as_str() {
            if let Err(e) = Pattern::compile(p) {
                out.push(format!("{name}: pattern {p:?} does not compile ({e})"));
            }
        }
    }
    out
}
