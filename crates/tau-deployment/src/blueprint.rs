//! Blueprint ids name directories (`channel-store/deployment/<id>/`, `wasm-artifacts/<id>/`), so
//! they are checked, never rewritten: a rewritten id would silently merge two blueprints.

/// Accepts ids made of `[A-Za-z0-9._-]` that are not `.` or `..`; explains the refusal otherwise.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    if id == "." || id == ".." {
        return Err(format!("{id:?} is not a usable directory name"));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "character {bad:?} is not allowed; blueprint ids use only A-Z, a-z, 0-9, '.', '_' and '-'"
        ));
    }
    if id.len() > 128 {
        return Err("longer than 128 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_id;

    #[test]
    fn plain_ids_pass() {
        for id in ["edge-wasm", "channel_automation.v2", "A1"] {
            check_id(id).unwrap();
        }
    }

    #[test]
    fn path_like_ids_are_refused() {
        for id in ["..", ".", "a/b", "a\\b", "../etc", "sp ace", "é", ""] {
            assert!(check_id(id).is_err(), "{id:?} accepted");
        }
    }
}
