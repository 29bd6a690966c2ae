//! `WWW-Authenticate` challenges (RFC 7235): `Basic realm="…"`, `Bearer realm="…",service="…",
//! scope="…"`, several in one header, parameter values quoted (with `\` escapes) or bare.

/// One challenge: its scheme (lowercase) and parameters (names lowercase), in header order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+.^_`|~-".contains(c)
}

/// Every challenge in `header`. Never fails: what cannot be read is skipped, and a header
/// without a readable scheme gives an empty list.
pub fn parse(header: &str) -> Vec<Challenge> {
    let chars: Vec<char> = header.chars().collect();
    let mut at = 0;
    let mut out: Vec<Challenge> = Vec::new();
    let skip = |at: &mut usize, what: &dyn Fn(char) -> bool| {
        while *at < chars.len() && what(chars[*at]) {
            *at += 1;
        }
    };
    while at < chars.len() {
        skip(&mut at, &|c| c == ',' || c.is_whitespace());
        let start = at;
        skip(&mut at, &is_tchar);
        if at == start {
            // Not a token: skip one character so the loop always moves on.
            at += 1;
            continue;
        }
        let word: String = chars[start..at].iter().collect();
        let mut look = at;
        skip(&mut look, &|c| c == ' ' || c == '\t');
        let is_param = look < chars.len() && chars[look] == '=' && !out.is_empty();
        if !is_param {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: Vec::new(),
            });
            continue;
        }
        at = look + 1;
        skip(&mut at, &|c| c == ' ' || c == '\t');
        let mut value = String::new();
        if at < chars.len() && chars[at] == '"' {
            at += 1;
            while at < chars.len() && chars[at] != '"' {
                if chars[at] == '\\' && at + 1 < chars.len() {
                    at += 1;
                }
                value.push(chars[at]);
                at += 1;
            }
            at += 1;
        } else {
            let start = at;
            skip(&mut at, &|c| c != ',' && !c.is_whitespace());
            value = chars[start..at].iter().collect();
        }
        if let Some(last) = out.last_mut() {
            last.params.push((word.to_ascii_lowercase(), value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn bearer_challenges_give_realm_service_and_scope() {
        let c = parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:org/app:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c[0].param("service"), Some("registry.example.com"));
        assert_eq!(c[0].param("scope"), Some("repository:org/app:pull"));
    }

    #[test]
    fn basic_challenges_and_case_are_recognised() {
        let c = parse(r#"basic REALM="tau lab""#);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].param("realm"), Some("tau lab"));
    }

    #[test]
    fn several_challenges_in_one_header_stay_apart() {
        let c = parse(r#"Basic realm="a", Bearer realm="https://t/x", scope=repository:a:pull"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].param("realm"), Some("a"));
        assert_eq!(c[1].scheme, "bearer");
        assert_eq!(c[1].param("scope"), Some("repository:a:pull"));
    }

    #[test]
    fn quoted_values_keep_commas_and_unescape() {
        let c = parse(
            r#"Bearer realm="https://t/x",scope="repository:a:pull,push",error="say \"no\"""#,
        );
        assert_eq!(c[0].param("scope"), Some("repository:a:pull,push"));
        assert_eq!(c[0].param("error"), Some(r#"say "no""#));
    }

    #[test]
    fn empty_or_garbage_headers_give_no_challenge() {
        assert!(parse("").is_empty());
        assert!(parse("  ,, ").is_empty());
        assert!(parse("= \"\" ,=").is_empty());
    }

    proptest! {
        #[test]
        fn any_header_parses_without_panicking(header in "\\PC{0,80}") {
            let _ = parse(&header);
        }

        #[test]
        fn printed_bearer_challenges_parse_back(
            realm in "https://[a-z]{1,10}\\.io/[a-z/]{0,10}",
            service in "[a-z0-9.:-]{1,20}",
            scope in "repository:[a-z/]{1,12}:pull(,push)?",
        ) {
            let header = format!("Bearer realm=\"{realm}\",service=\"{service}\",scope=\"{scope}\"");
            let c = parse(&header);
            prop_assert_eq!(c.len(), 1);
            prop_assert_eq!(c[0].param("realm"), Some(realm.as_str()));
            prop_assert_eq!(c[0].param("service"), Some(service.as_str()));
            prop_assert_eq!(c[0].param("scope"), Some(scope.as_str()));
        }
    }
}
