//! Recognising values that look like secrets, so they are refused before they reach a store, an
//! error message or a log.
//!
//! The registry stores references (`k8s:<namespace>/<secret>`, `vault:<path>`, `{secret_env: NAME}`),
//! never values. A person pasting a token into the wrong field is the common mistake, so every
//! free-text field goes through [`detect`]; anything that matches is refused naming only the
//! field and the kind of secret, and any text that might quote it (a parser's message) goes
//! through [`redact`].

/// The kind of secret `value` looks like, or `None`.
pub fn detect(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    let lower = value.to_ascii_lowercase();
    for key in [
        "password=",
        "passwd=",
        "pwd=",
        "secret=",
        "token=",
        "api_key=",
        "apikey=",
        "password:",
    ] {
        if lower.contains(key) {
            return Some("a password or token assignment");
        }
    }
    if has_userinfo_password(value) {
        return Some("a URL with a password");
    }
    // A token may sit inside a path (`vault:ghp_…`, `k8s:ns/ghp_…`): check the whole run and
    // each of its path segments.
    value
        .split(|c: char| !is_token_char(c))
        .find_map(|run| token_kind(run).or_else(|| run.split('/').find_map(token_kind)))
}

/// `text` with every token that looks like a secret replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    if detect(text).is_none() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if !token.is_empty() {
            if detect(token).is_some() {
                out.push_str("[redacted]");
            } else {
                out.push_str(token);
            }
            token.clear();
        }
    };
    // Whitespace and quotes separate the parts of a message; anything between them that looks
    // like a secret (a token, `user:pass@host`, `password=…`) goes as a whole.
    for c in text.chars() {
        if c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | '(' | ')') {
            flush(&mut token, &mut out);
            out.push(c);
        } else {
            token.push(c);
        }
    }
    flush(&mut token, &mut out);
    if text.contains("-----BEGIN") {
        return "[redacted: the text contained a private key]".to_string();
    }
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '=' | '.')
}

fn token_kind(token: &str) -> Option<&'static str> {
    const PREFIXES: &[(&str, &str)] = &[
        ("ghp_", "a GitHub token"),
        ("gho_", "a GitHub token"),
        ("ghu_", "a GitHub token"),
        ("ghs_", "a GitHub token"),
        ("ghr_", "a GitHub token"),
        ("github_pat_", "a GitHub token"),
        ("glpat-", "a GitLab token"),
        ("xoxb-", "a Slack token"),
        ("xoxp-", "a Slack token"),
        ("xoxa-", "a Slack token"),
        ("sk_live_", "a Stripe key"),
        ("rk_live_", "a Stripe key"),
        ("AIza", "a Google API key"),
        ("dckr_pat_", "a Docker Hub token"),
        ("npm_", "an npm token"),
    ];
    for (prefix, kind) in PREFIXES {
        if token.len() >= prefix.len() + 16 && token.starts_with(prefix) {
            return Some(kind);
        }
    }
    let b = token.as_bytes();
    if b.len() == 20
        && (token.starts_with("AKIA") || token.starts_with("ASIA"))
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Some("an AWS access key");
    }
    if looks_like_jwt(token) {
        return Some("a JWT");
    }
    if high_entropy(token) {
        return Some("a long random string");
    }
    None
}

fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts.iter().all(|p| {
            p.len() >= 4
                && p.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

/// A run of 32+ characters mixing upper case, lower case and digits, with high Shannon entropy:
/// generated keys look like this, words, paths, UUIDs and hex digests do not.
fn high_entropy(token: &str) -> bool {
    // Path and domain separators break words apart; a secret rarely has them in its core.
    token
        .split(['/', '.'])
        .any(|part| part.len() >= 32 && mixed_classes(part) && entropy(part) >= 4.0)
}

fn mixed_classes(s: &str) -> bool {
    let upper = s.bytes().any(|c| c.is_ascii_uppercase());
    let lower = s.bytes().any(|c| c.is_ascii_lowercase());
    let digit = s.bytes().any(|c| c.is_ascii_digit());
    upper && lower && digit
}

fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// `scheme://user:password@host` or `user:password@host`: a colon-separated pair before an `@`.
fn has_userinfo_password(value: &str) -> bool {
    let Some(at) = value.find('@') else {
        return false;
    };
    let before = &value[..at];
    let userinfo = before.rsplit("://").next().unwrap_or(before);
    let userinfo = userinfo.rsplit(['/', ' ']).next().unwrap_or(userinfo);
    match userinfo.split_once(':') {
        Some((user, pass)) => !user.is_empty() && !pass.is_empty(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Built at run time so the repository itself holds no token-shaped literal.
    fn fake(prefix: &str) -> String {
        format!("{prefix}{}", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z")
    }

    #[test]
    fn tokens_keys_and_passwords_are_detected() {
        assert_eq!(detect(&fake("ghp_")), Some("a GitHub token"));
        assert_eq!(detect(&fake("glpat-")), Some("a GitLab token"));
        assert_eq!(detect("AKIAABCDEFGHIJKLMNOP"), Some("an AWS access key"));
        assert_eq!(
            detect("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlXzEyMw"),
            Some("a JWT")
        );
        let pem = format!("-----BEGIN RSA {} KEY-----", "PRIVATE");
        assert_eq!(detect(&pem), Some("a private key"));
        assert!(detect("postgres://app:hunter2@db.internal/app").is_some());
        assert!(detect("vault:secret/x?password=abc").is_some());
        assert!(detect("k8s:ns/q8Zt4Lw9Xv2Rb7Nc5Md3Kf6Jg1Hp0Sy8Tu4Wa").is_some());
    }

    #[test]
    fn ordinary_references_and_identifiers_pass() {
        for ok in [
            "k8s:cogo-dev/ghcr-pullsecret",
            "vault:secret/data/cogo/ghcr",
            "ghcr.io/my-org/cogo-agent-core",
            "https://github.com/my-org/repo/releases/tag/v1.2.3",
            "0b7c9b1e-5d3a-4c59-9a3e-1f2d3c4b5a69",
            "sha256:3f1c0f5e0d7a0b4e8a9c2d6f1e3b5a7c9d0e2f4a6b8c0d1e3f5a7b9c1d3e5f7a",
            "ci-bot@example.com",
            "/app/artifacts-local",
        ] {
            assert_eq!(detect(ok), None, "{ok}");
        }
    }

    #[test]
    fn redaction_removes_the_secret_and_keeps_the_rest() {
        let token = fake("ghp_");
        let text = format!("invalid type: string \"{token}\", expected a boolean at line 3");
        let red = redact(&text);
        assert!(!red.contains(&token), "{red}");
        assert!(red.contains("expected a boolean at line 3"), "{red}");
    }
}
