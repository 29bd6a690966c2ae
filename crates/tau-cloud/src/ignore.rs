//! `.dockerignore` rules, with the engine's semantics: patterns are relative to the context root
//! (a leading `/` changes nothing), `*` and `?` stay within one path segment, `**` spans any
//! number of segments, a rule that matches a directory also covers everything under it, `!`
//! re-includes, and the last matching rule wins.

#[derive(Debug, Clone, Default)]
pub struct Rules(Vec<Rule>);

#[derive(Debug, Clone)]
struct Rule {
    segments: Vec<String>,
    exclude: bool,
}

impl Rules {
    pub fn parse(text: &str) -> Self {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|line| {
                let (exclude, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (false, rest.trim()),
                    None => (true, line),
                };
                let segments: Vec<String> = pattern
                    .split('/')
                    .filter(|s| !s.is_empty() && *s != ".")
                    .map(str::to_string)
                    .collect();
                (!segments.is_empty()).then_some(Rule { segments, exclude })
            })
            .collect();
        Rules(rules)
    }

    /// Whether the context-relative `path` (with `/` separators) is left out of the build.
    pub fn excludes(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut excluded = false;
        for rule in &self.0 {
            // A rule matches the path itself or any directory above it.
            let hit = (1..=parts.len()).any(|n| glob(&rule.segments, &parts[..n]));
            if hit {
                excluded = rule.exclude;
            }
        }
        excluded
    }
}

fn glob(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| glob(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((seg, tail)) => segment(first.as_bytes(), seg.as_bytes()) && glob(rest, tail),
            None => false,
        },
    }
}

fn segment(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => segment(&p[1..], s) || (!s.is_empty() && segment(p, &s[1..])),
        (Some(b'?'), Some(_)) => segment(&p[1..], &s[1..]),
        (Some(b'\\'), Some(c)) if p.len() > 1 => p[1] == *c && segment(&p[2..], &s[1..]),
        (Some(a), Some(b)) => a == b && segment(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rules_follow_the_engine_semantics() {
        let rules = Rules::parse("# comment\n/target\n*.log\n**/node_modules\n!keep.log\nsecrets/*\n!secrets/public.pem\n");
        assert!(rules.excludes("target"));
        assert!(rules.excludes("target/debug/app"));
        assert!(rules.excludes("app.log"));
        assert!(!rules.excludes("sub/app.log"), "* stays in one segment");
        assert!(!rules.excludes("keep.log"));
        assert!(rules.excludes("web/ui/node_modules/x/index.js"));
        assert!(rules.excludes("secrets/key.pem"));
        assert!(!rules.excludes("secrets/public.pem"));
        assert!(!rules.excludes("src/main.rs"));
    }

    proptest! {
        #[test]
        fn a_literal_rule_excludes_exactly_its_subtree(a in "[a-z]{1,6}", b in "[a-z]{1,6}", other in "[A-Z]{1,6}") {
            let rules = Rules::parse(&a);
            let under = format!("{a}/{b}");
            prop_assert!(rules.excludes(&a));
            prop_assert!(rules.excludes(&under));
            prop_assert!(!rules.excludes(&other));
        }
    }
}
