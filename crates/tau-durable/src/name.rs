//! Names that become one path component (blueprint ids under `channel-store/deployment/` and
//! `wasm-artifacts/`). They are checked, never rewritten: a rewritten name would silently merge two
//! different ones into one directory.

/// Accepts names made of `[A-Za-z0-9._-]`, at most 128 long, that are not `.` or `..`; explains the
/// refusal otherwise.
pub fn check(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("{name:?} is not a usable directory name"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "character {bad:?} is not allowed; use only A-Z, a-z, 0-9, '.', '_' and '-'"
        ));
    }
    if name.len() > 128 {
        return Err("longer than 128 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn plain_names_pass() {
        for name in ["edge-wasm", "channel_automation.v2", "A1"] {
            check(name).unwrap();
        }
    }

    #[test]
    fn path_like_names_are_refused() {
        for name in ["..", ".", "a/b", "a\\b", "../etc", "sp ace", "é", ""] {
            assert!(check(name).is_err(), "{name:?} accepted");
        }
    }
}
