//! Reading `DATABASE_URL` the way libpq does for its TLS settings.
//!
//! tokio-postgres parses the connection string itself but knows only `sslmode=disable|prefer|require`
//! and refuses every other TLS parameter. libpq's stricter modes (`verify-ca`, `verify-full`) and
//! `sslrootcert` are what a managed database asks for, so they are taken out of the string here
//! (both the `postgres://…?sslmode=…` and the `key=value` forms), kept as [`SslMode`] and a root
//! path, and the rest goes to tokio-postgres unchanged.
//!
//! No message built here quotes the connection string: it may hold a password.

use std::ops::Range;

use crate::{Error, Result};

/// libpq's `sslmode` values (`allow`, plain text first, is not offered: tokio-postgres cannot
/// do it and it protects nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// TLS when the server offers it, plain text otherwise; the certificate is not checked
    /// unless a root certificate is given. libpq's default.
    Prefer,
    /// TLS or nothing; the certificate is not checked unless a root certificate is given (then
    /// its chain is, as libpq does).
    Require,
    /// TLS, and the server's certificate chains to a trusted root.
    VerifyCa,
    /// As `verify-ca`, and the certificate names the host (DNS name or IP address) connected to.
    VerifyFull,
}

impl SslMode {
    pub const ACCEPTED: &'static str = "disable, prefer, require, verify-ca, verify-full";

    pub fn parse(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The connection string without its TLS parameters, and those parameters.
#[derive(Debug, PartialEq, Eq)]
pub struct Split {
    pub rest: String,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

const TLS_KEYS: [&str; 2] = ["sslmode", "sslrootcert"];

/// Takes `sslmode` and `sslrootcert` out of a URL or `key=value` connection string.
pub fn split(conn: &str) -> Result<Split> {
    let url = conn.starts_with("postgres://") || conn.starts_with("postgresql://");
    let params = if url {
        url_params(conn)?
    } else {
        keyword_params(conn)?
    };
    let mut out = Split {
        rest: String::with_capacity(conn.len()),
        sslmode: None,
        sslrootcert: None,
    };
    let mut kept_from = 0;
    for p in &params {
        match p.key.as_str() {
            "sslmode" => out.sslmode = Some(p.value.clone()),
            "sslrootcert" => out.sslrootcert = Some(p.value.clone()),
            _ => continue,
        }
        out.rest.push_str(&conn[kept_from..p.span.start]);
        kept_from = p.span.end;
    }
    out.rest.push_str(&conn[kept_from..]);
    if url {
        // Removing the first or last query pair can leave `?&`, `&&` or a trailing `?`/`&`.
        out.rest = tidy_query(&out.rest);
    }
    Ok(out)
}

struct Param {
    key: String,
    value: String,
    /// The bytes to cut when the key is one of [`TLS_KEYS`].
    span: Range<usize>,
}

fn url_params(conn: &str) -> Result<Vec<Param>> {
    let Some(q) = conn.find('?') else {
        return Ok(Vec::new());
    };
    let mut params = Vec::new();
    let mut start = q + 1;
    for piece in conn[q + 1..].split('&') {
        let span = start..start + piece.len();
        start = span.end + 1;
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let key = percent_decode(key, "a query parameter name")?;
        if TLS_KEYS.contains(&key.as_str()) {
            let value = percent_decode(value, &key)?;
            params.push(Param { key, value, span });
        }
    }
    Ok(params)
}

fn tidy_query(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if pairs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", pairs.join("&"))
    }
}

fn percent_decode(text: &str, what: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(what, "a `%` not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(what, "percent-encoding that is not UTF-8"))
}

/// libpq's `key = value` form: values bare (up to whitespace) or single-quoted, `\` escaping
/// the next character in both.
fn keyword_params(conn: &str) -> Result<Vec<Param>> {
    let chars: Vec<(usize, char)> = conn.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(conn.len(), |&(o, _)| o);
    let skip_ws = |mut i: usize| {
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        i
    };
    let mut params = Vec::new();
    let mut i = skip_ws(0);
    while i < chars.len() {
        let start = i;
        while at(i).is_some_and(|c| c != '=' && !c.is_whitespace()) {
            i += 1;
        }
        let key: String = conn[offset(start)..offset(i)].to_string();
        i = skip_ws(i);
        if at(i) != Some('=') {
            return Err(invalid(
                "the connection string",
                "a keyword without `=` (expected `key=value` pairs or a postgres:// URL)",
            ));
        }
        i = skip_ws(i + 1);
        let mut value = String::new();
        if at(i) == Some('\'') {
            i += 1;
            loop {
                match at(i) {
                    None => {
                        return Err(invalid("the connection string", "an unterminated quote"));
                    }
                    Some('\'') => break,
                    Some('\\') if at(i + 1).is_some() => {
                        value.push(at(i + 1).unwrap_or_default());
                        i += 2;
                    }
                    Some(c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            i += 1;
        } else {
            while let Some(c) = at(i).filter(|c| !c.is_whitespace()) {
                if c == '\\' && at(i + 1).is_some() {
                    value.push(at(i + 1).unwrap_or_default());
                    i += 2;
                } else {
                    value.push(c);
                    i += 1;
                }
            }
        }
        params.push(Param {
            key,
            value,
            span: offset(start)..offset(i),
        });
        i = skip_ws(i);
    }
    Ok(params)
}

fn invalid(field: &str, message: &str) -> Error {
    Error::Policy {
        source_name: "DATABASE_URL".into(),
        field: field.into(),
        message: format!("has {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split_ok(conn: &str) -> (String, Option<String>, Option<String>) {
        let s = split(conn).unwrap();
        (s.rest, s.sslmode, s.sslrootcert)
    }

    #[test]
    fn url_tls_parameters_are_taken_out_and_the_rest_kept() {
        assert_eq!(
            split_ok("postgres://u:p@h:5432/d?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20x.pem&application_name=tau"),
            (
                "postgres://u:p@h:5432/d?application_name=tau".into(),
                Some("verify-full".into()),
                Some("/tmp/ca x.pem".into())
            )
        );
        assert_eq!(
            split_ok("postgresql://h/d?connect_timeout=5&sslmode=require"),
            (
                "postgresql://h/d?connect_timeout=5".into(),
                Some("require".into()),
                None
            )
        );
        assert_eq!(
            split_ok("postgres://h/d?sslmode=disable"),
            ("postgres://h/d".into(), Some("disable".into()), None)
        );
        assert_eq!(
            split_ok("postgres://h/d"),
            ("postgres://h/d".into(), None, None)
        );
    }

    #[test]
    fn keyword_tls_parameters_are_taken_out_and_quotes_understood() {
        assert_eq!(
            split_ok("host=h  sslmode = verify-ca password='a b\\'c' sslrootcert='/tmp/my ca.pem' dbname=d"),
            (
                "host=h   password='a b\\'c'  dbname=d".into(),
                Some("verify-ca".into()),
                Some("/tmp/my ca.pem".into())
            )
        );
        assert_eq!(split_ok("host=h"), ("host=h".into(), None, None));
    }

    #[test]
    fn a_malformed_keyword_string_is_refused_without_quoting_it() {
        for bad in ["host=h password='hunter2", "host=h hunter2secret"] {
            let err = split(bad).unwrap_err().to_string();
            assert!(err.starts_with("DATABASE_URL: "), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn every_accepted_sslmode_round_trips() {
        for name in SslMode::ACCEPTED.split(", ") {
            assert_eq!(SslMode::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(SslMode::parse("allow"), None);
        assert_eq!(SslMode::parse("verify_full"), None);
    }

    proptest! {
        /// Whatever the other parameters hold, only the TLS ones are removed.
        #[test]
        fn only_tls_parameters_leave_a_url(
            password in "[A-Za-z0-9_.~-]{1,20}",
            app in "[a-z]{1,8}",
            mode in prop::sample::select(vec!["disable", "prefer", "require", "verify-ca", "verify-full"]),
            mode_first in any::<bool>(),
        ) {
            let query = if mode_first {
                format!("sslmode={mode}&application_name={app}")
            } else {
                format!("application_name={app}&sslmode={mode}")
            };
            let s = split(&format!("postgres://u:{password}@127.0.0.1:5432/d?{query}")).unwrap();
            prop_assert_eq!(s.rest, format!("postgres://u:{password}@127.0.0.1:5432/d?application_name={app}"));
            prop_assert_eq!(s.sslmode.as_deref(), Some(mode));
        }
    }
}
