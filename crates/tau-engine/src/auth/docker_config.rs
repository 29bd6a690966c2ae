//! The Docker client config file (`config.json`): `auths`, `credHelpers` and `credsStore`.
//!
//! Parsed from a `serde_json::Value` by hand rather than derived, so that an error names the
//! field and what was expected without ever quoting a value (serde's messages quote them, and a
//! value here may be a password).

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use super::{canonical_host, helper, server_address, Credentials};
use crate::Error;

/// The login for `host` in the config file at `path`; `Ok(None)` when the file does not exist
/// or holds nothing for `host`.
/// Credential helpers are looked for on `search_path` (the caller's `PATH`).
pub(super) fn lookup(
    path: &Path,
    host: &str,
    search_path: Option<&str>,
) -> Result<Option<Credentials>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(path, "", format!("cannot read the file: {e}"))),
    };
    let config: Value = serde_json::from_str(&text).map_err(|e| {
        bad(
            path,
            "",
            format!(
                "expected a JSON object (syntax error at line {} column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Value::Object(config) = config else {
        return Err(bad(path, "", "expected a JSON object".into()));
    };
    let wanted = canonical_host(host);
    let helper_name = match find_entry(path, config.get("credHelpers"), "credHelpers", &wanted)? {
        Some((field, Value::String(name))) if !name.is_empty() => Some((field, name.clone())),
        Some((field, _)) => return Err(bad(path, &field, "expected a helper name".into())),
        None => match config.get("credsStore") {
            Some(Value::String(name)) if !name.is_empty() => {
                Some(("credsStore".to_owned(), name.clone()))
            }
            Some(Value::String(_)) | None => None,
            Some(_) => return Err(bad(path, "credsStore", "expected a helper name".into())),
        },
    };
    if let Some((field, name)) = helper_name {
        if !is_helper_name(&name) {
            return Err(bad(
                path,
                &field,
                "expected a helper name of letters, digits, '-', '_' or '.'".into(),
            ));
        }
        if let Some(found) = helper::get(&name, &server_address(host), search_path)? {
            return Ok(Some(found));
        }
    }
    let Some((field, entry)) = find_entry(path, config.get("auths"), "auths", &wanted)? else {
        return Ok(None);
    };
    entry_credentials(path, &field, entry)
}

/// The entry of object `section` whose key names `wanted`, with its field path for messages.
fn find_entry<'a>(
    path: &Path,
    section: Option<&'a Value>,
    name: &str,
    wanted: &str,
) -> Result<Option<(String, &'a Value)>, Error> {
    let entries = match section {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(entries)) => entries,
        Some(_) => {
            return Err(bad(
                path,
                name,
                "expected an object keyed by registry".into(),
            ))
        }
    };
    Ok(entries
        .iter()
        .find(|(key, _)| canonical_host(key) == wanted)
        .map(|(key, value)| (format!("{name}.{key:?}"), value)))
}

fn entry_credentials(
    path: &Path,
    field: &str,
    entry: &Value,
) -> Result<Option<Credentials>, Error> {
    let Value::Object(entry) = entry else {
        return Err(bad(path, field, "expected an object".into()));
    };
    let string = |key: &str| -> Result<Option<&str>, Error> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(bad(
                path,
                &format!("{field}.{key}"),
                "expected a string".into(),
            )),
        }
    };
    let origin = path.display().to_string();
    let decoded = match string("auth")? {
        Some(auth) => Some(decode_auth(auth).ok_or_else(|| {
            bad(
                path,
                &format!("{field}.auth"),
                "expected the base64 of user:password".into(),
            )
        })?),
        None => None,
    };
    if let Some(token) = string("identitytoken")? {
        let username = decoded
            .as_ref()
            .map(|(u, _)| u.as_str())
            .filter(|u| !u.is_empty())
            .or(string("username")?);
        return Ok(Some(Credentials::identity_token(username, token, origin)));
    }
    if let Some((user, pass)) = decoded {
        return Ok(Some(Credentials::password(&user, &pass, origin)));
    }
    // Old configs spell the login out.
    match (string("username")?, string("password")?) {
        (Some(user), Some(pass)) => Ok(Some(Credentials::password(user, pass, origin))),
        _ => Ok(None),
    }
}

/// Decodes a config `auth` value: base64 (padded or not) of `user:password`, split at the first
/// colon (a password may hold colons; a username may not). `None` when it is not that.
pub fn decode_auth(auth: &str) -> Option<(String, String)> {
    let auth = auth.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(auth))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, pass) = text.split_once(':')?;
    if user.is_empty() {
        return None;
    }
    Some((user.to_owned(), pass.to_owned()))
}

/// Helper names become part of a program name (`docker-credential-<name>`): no paths.
fn is_helper_name(name: &str) -> bool {
    !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn bad(path: &Path, field: &str, message: String) -> Error {
    let origin = if field.is_empty() {
        path.display().to_string()
    } else {
        format!("{}: {field}", path.display())
    };
    Error::Credentials { origin, message }
}
