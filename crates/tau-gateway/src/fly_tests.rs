use super::*;

fn repo_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fly.toml")
}

#[test]
fn the_repository_manifest_passes_every_check() {
    let checks = check_manifest(&repo_manifest()).unwrap();
    let failed: Vec<_> = checks.iter().filter(|c| !c.pass).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(checks.len() >= 11);
}

#[test]
fn a_broken_manifest_fails_the_rules_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_manifest())
        .unwrap()
        .replace("internal_port = 8080", "internal_port = 3000")
        .replace("path = \"/gateway/status\"", "path = \"/healthz\"")
        .replace("kill_timeout = \"10s\"", "kill_timeout = \"2s\"");
    let path = dir.path().join("fly.toml");
    std::fs::write(&path, text).unwrap();
    let failed: Vec<&str> = check_manifest(&path)
        .unwrap()
        .into_iter()
        .filter(|c| !c.pass)
        .map(|c| c.name)
        .collect();
    // The copy has no Dockerfile beside it, so that check fails too.
    for name in [
        "internal_port_matches_bind",
        "http_check_gateway_status",
        "kill_timeout_covers_drain",
        "dockerfile_exists",
    ] {
        assert!(failed.contains(&name), "{name} not failed: {failed:?}");
    }
}

#[test]
fn durations_follow_fly_syntax() {
    assert_eq!(seconds(&Value::String("10s".into())), Some(10));
    assert_eq!(seconds(&Value::String("1m".into())), Some(60));
    assert_eq!(seconds(&Value::Integer(7)), Some(7));
    assert_eq!(seconds(&Value::String("soon".into())), None);
}

#[test]
fn unparsable_toml_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fly.toml");
    std::fs::write(&path, "app = ").unwrap();
    assert!(matches!(check_manifest(&path), Err(Error::Toml { .. })));
}

/// The repository's fly.toml and Dockerfile, edited by `edit`, in a fresh directory.
fn edited(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_manifest();
    let text = edit(std::fs::read_to_string(&root).unwrap());
    std::fs::copy(
        root.parent().unwrap().join("Dockerfile"),
        dir.path().join("Dockerfile"),
    )
    .unwrap();
    let path = dir.path().join("fly.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn verdict<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks.iter().find(|c| c.name == name).unwrap()
}

#[test]
fn absent_kill_settings_fail_instead_of_assuming_fly_defaults() {
    let (_dir, path) = edited(|t| {
        t.replace("kill_signal = \"SIGINT\"\n", "")
            .replace("kill_timeout = \"10s\"\n", "")
    });
    let checks = check_manifest(&path).unwrap();
    for name in ["kill_signal_handled", "kill_timeout_covers_drain"] {
        let c = verdict(&checks, name);
        assert!(!c.pass && c.detail.contains("absent"), "{c:?}");
    }
    let stop = verdict(&checks, "dockerfile_stopsignal_matches");
    assert!(
        !stop.pass && stop.detail.contains("kill_signal absent"),
        "{stop:?}"
    );
}

#[test]
fn an_absent_dockerfile_setting_fails_and_its_dependent_rules_say_why() {
    let (_dir, path) = edited(|t| t.replace("dockerfile = \"Dockerfile\"", ""));
    let checks = check_manifest(&path).unwrap();
    assert_eq!(checks.len(), 11, "every rule reports, checked or not");
    let exists = verdict(&checks, "dockerfile_exists");
    assert!(
        !exists.pass && exists.detail.contains("absent"),
        "{exists:?}"
    );
    for name in [
        "dockerfile_stopsignal_matches",
        "dockerfile_exposes_internal_port",
    ] {
        let c = verdict(&checks, name);
        assert!(!c.pass && c.detail.contains("cannot be checked"), "{c:?}");
    }
}

#[test]
fn an_unreadable_kill_timeout_is_named_not_defaulted() {
    let (_dir, path) = edited(|t| t.replace("kill_timeout = \"10s\"", "kill_timeout = \"soon\""));
    let c = check_manifest(&path).unwrap();
    let c = verdict(&c, "kill_timeout_covers_drain");
    assert!(!c.pass && c.detail.contains("\"soon\""), "{c:?}");
}

#[test]
fn control_characters_from_the_file_are_escaped_in_details() {
    let (_dir, path) = edited(|t| {
        t.replace(
            "TAU_TRANSPORT_MODE = \"gateway\"",
            "TAU_TRANSPORT_MODE = \"\\u001b[2Jgateway\"",
        )
    });
    let checks = check_manifest(&path).unwrap();
    let c = verdict(&checks, "env_transport_mode");
    assert!(!c.pass);
    assert!(!c.detail.contains('\u{1b}'), "{c:?}");
    assert!(c.detail.contains("\\u{1b}"), "{c:?}");
    for c in &checks {
        assert!(!c.detail.chars().any(char::is_control), "{c:?}");
    }
}

#[test]
fn a_device_or_directory_is_refused_without_reading_it() {
    for path in [Path::new("/dev/zero"), Path::new("/")] {
        assert!(
            matches!(check_manifest(path), Err(Error::NotASmallFile { .. })),
            "{}",
            path.display()
        );
    }
}

#[test]
fn durations_that_overflow_are_not_durations() {
    let minutes = format!("{}m", u64::MAX / 30);
    assert_eq!(seconds(&Value::String(minutes)), None);
    assert_eq!(seconds(&Value::Integer(-1)), None);
    assert_eq!(seconds(&Value::String("1500ms".into())), Some(1));
}

proptest::proptest! {
    #[test]
    fn duration_parsing_never_panics_and_reads_what_it_accepts(text in "\\PC{0,12}", n in 0u64..1_000_000) {
        let _ = seconds(&Value::String(text));
        proptest::prop_assert_eq!(seconds(&Value::String(format!("{n}s"))), Some(n));
        proptest::prop_assert_eq!(seconds(&Value::String(format!("{n}m"))), Some(n * 60));
    }
}
