use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use proptest::prelude::*;

use super::*;

struct MapEnv(HashMap<String, String>);

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn env(pairs: &[(&str, &str)]) -> MapEnv {
    MapEnv(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A DOCKER_CONFIG dir holding `config`.
fn config_dir(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    dir
}

#[test]
fn env_prefix_gives_a_password_login_before_the_docker_config() {
    let dir = config_dir(&format!(
        r#"{{"auths":{{"r.io":{{"auth":"{}"}}}}}}"#,
        b64("file:filepw")
    ));
    let e = env(&[
        ("REG_USERNAME", "ci"),
        ("REG_PASSWORD", "s3cret-pw"),
        ("DOCKER_CONFIG", dir.path().to_str().unwrap()),
    ]);
    let found = lookup_in(&e, "r.io", Some("REG")).unwrap().unwrap();
    assert_eq!(found.basic(), Some(("ci", "s3cret-pw")));
    assert_eq!(
        found.origin(),
        "environment variables REG_USERNAME/REG_PASSWORD"
    );
    // Without the prefix, the config file answers.
    let found = lookup_in(&e, "r.io", None).unwrap().unwrap();
    assert_eq!(found.basic(), Some(("file", "filepw")));
}

#[test]
fn a_half_set_env_pair_is_an_error_naming_the_missing_variable_not_the_value() {
    let e = env(&[("REG_PASSWORD", "s3cret-pw")]);
    let err = lookup_in(&e, "r.io", Some("REG")).unwrap_err().to_string();
    assert!(err.contains("REG_USERNAME"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
}

#[test]
fn unset_prefix_variables_fall_back_to_the_docker_config_then_anonymous() {
    let dir = config_dir(&format!(
        r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}}}}}}"#,
        b64("hub:hubpw")
    ));
    let e = env(&[("DOCKER_CONFIG", dir.path().to_str().unwrap())]);
    let hub = lookup_in(&e, "registry-1.docker.io", Some("REG"))
        .unwrap()
        .unwrap();
    assert_eq!(hub.basic(), Some(("hub", "hubpw")));
    assert_eq!(lookup_in(&e, "ghcr.io", Some("REG")).unwrap(), None);
    assert_eq!(lookup_in(&env(&[]), "ghcr.io", None).unwrap(), None);
}

#[test]
fn home_docker_config_is_read_when_docker_config_is_unset() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".docker")).unwrap();
    std::fs::write(
        home.path().join(".docker/config.json"),
        format!(
            r#"{{"auths":{{"http://127.0.0.1:5000/v2/":{{"auth":"{}"}}}}}}"#,
            b64("u:p:with:colons")
        ),
    )
    .unwrap();
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let found = lookup_in(&e, "127.0.0.1:5000", None).unwrap().unwrap();
    assert_eq!(found.basic(), Some(("u", "p:with:colons")));
}

#[test]
fn identity_token_entries_become_token_logins() {
    let dir = config_dir(&format!(
        r#"{{"auths":{{"r.io":{{"auth":"{}","identitytoken":"refresh-xyz"}}}}}}"#,
        b64("someone:")
    ));
    let e = env(&[("DOCKER_CONFIG", dir.path().to_str().unwrap())]);
    let found = lookup_in(&e, "r.io", None).unwrap().unwrap();
    assert_eq!(found.refresh_token(), Some("refresh-xyz"));
    assert_eq!(found.username(), Some("someone"));
    assert_eq!(found.basic(), None);
}

#[test]
fn malformed_config_errors_name_file_and_field_but_never_the_value() {
    let cases = [
        (
            r#"{"auths":{"r.io":{"auth":"not base64 s3cret!"}}}"#,
            "auths.\"r.io\".auth",
        ),
        (r#"{"auths":{"r.io":{"auth":123}}}"#, "auths.\"r.io\".auth"),
        (r#"{"auths":"s3cret"}"#, "auths"),
        (r#"{"auths":{"r.io":{"auth":"s3cret"#, "syntax error"),
        (
            r#"{"credHelpers":{"r.io":"../s3cret"}}"#,
            "credHelpers.\"r.io\"",
        ),
    ];
    for (text, field) in cases {
        let dir = config_dir(text);
        let e = env(&[("DOCKER_CONFIG", dir.path().to_str().unwrap())]);
        let err = lookup_in(&e, "r.io", None).unwrap_err().to_string();
        assert!(err.contains(field), "{text}: {err}");
        assert!(err.contains("config.json"), "{text}: {err}");
        assert!(!err.contains("s3cret"), "{text}: {err}");
    }
}

fn write_helper(dir: &std::path::Path, name: &str, script: &str) {
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn credential_helpers_are_asked_with_the_server_on_stdin() {
    let dir = config_dir(
        r#"{"credHelpers":{"r.io":"fake"},"credsStore":"store","auths":{"other.io":{}}}"#,
    );
    let bin = tempfile::tempdir().unwrap();
    // Answers only for the server it is asked about, so the stdin protocol is exercised.
    write_helper(
        bin.path(),
        "fake",
        r#"read -r server; [ "$1" = get ] && [ "$server" = r.io ] && echo '{"ServerURL":"r.io","Username":"hu","Secret":"hpw"}' && exit 0
echo 'credentials not found in native keychain'; exit 1"#,
    );
    write_helper(
        bin.path(),
        "store",
        r#"read -r server; [ "$server" = other.io ] && echo '{"ServerURL":"other.io","Username":"<token>","Secret":"tok"}' && exit 0
echo 'credentials not found in native keychain'; exit 1"#,
    );
    let e = env(&[
        ("DOCKER_CONFIG", dir.path().to_str().unwrap()),
        ("PATH", &format!("{}:/usr/bin:/bin", bin.path().display())),
    ]);
    let found = lookup_in(&e, "r.io", None).unwrap().unwrap();
    assert_eq!(found.basic(), Some(("hu", "hpw")));
    assert_eq!(found.origin(), "credential helper docker-credential-fake");
    let token = lookup_in(&e, "other.io", None).unwrap().unwrap();
    assert_eq!(token.refresh_token(), Some("tok"));
    // The store has nothing for this host and no auths entry either: anonymous.
    assert_eq!(lookup_in(&e, "third.io", None).unwrap(), None);
}

#[test]
fn a_failing_or_missing_helper_is_an_error_naming_it() {
    let dir = config_dir(r#"{"credsStore":"broken"}"#);
    let bin = tempfile::tempdir().unwrap();
    write_helper(bin.path(), "broken", "echo 'keychain locked' >&2; exit 3");
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let e = env(&[
        ("DOCKER_CONFIG", dir.path().to_str().unwrap()),
        ("PATH", &path),
    ]);
    let err = lookup_in(&e, "r.io", None).unwrap_err().to_string();
    assert!(err.contains("docker-credential-broken"), "{err}");
    assert!(err.contains("keychain locked"), "{err}");

    let dir = config_dir(r#"{"credsStore":"absent"}"#);
    let e = env(&[
        ("DOCKER_CONFIG", dir.path().to_str().unwrap()),
        ("PATH", &path),
    ]);
    let err = lookup_in(&e, "r.io", None).unwrap_err().to_string();
    assert!(err.contains("docker-credential-absent"), "{err}");
}

#[test]
fn helper_answers_are_checked_field_by_field() {
    assert_eq!(
        helper::parse_answer(r#"{"Username":"u","Secret":"s"}"#),
        Ok(Some(("u".into(), "s".into())))
    );
    assert_eq!(
        helper::parse_answer(r#"{"Username":"","Secret":""}"#),
        Ok(None)
    );
    assert_eq!(helper::parse_answer(r#"{"Username":"u"}"#), Err("Secret"));
    assert_eq!(helper::parse_answer("nope"), Err("a JSON object"));
}

#[test]
fn debug_never_shows_the_secret() {
    let c = Credentials::password("ci", "s3cret-pw", "here");
    let shown = format!("{c:?}");
    assert!(
        shown.contains("ci") && !shown.contains("s3cret-pw"),
        "{shown}"
    );
    let t = Credentials::identity_token(None, "tok-s3cret", "here");
    assert!(!format!("{t:?}").contains("tok-s3cret"));
}

#[test]
fn hosts_are_compared_without_scheme_path_or_case() {
    assert_eq!(canonical_host("https://GHCR.io/v2/"), "ghcr.io");
    assert_eq!(canonical_host("index.docker.io"), "docker.io");
    assert_eq!(
        server_address("registry-1.docker.io"),
        "https://index.docker.io/v1/"
    );
    assert_eq!(server_address("127.0.0.1:5000"), "127.0.0.1:5000");
}

#[test]
fn engine_credentials_carry_the_server_address() {
    let c = Credentials::password("ci", "pw", "here").to_docker("127.0.0.1:5000");
    assert_eq!(c.username.as_deref(), Some("ci"));
    assert_eq!(c.password.as_deref(), Some("pw"));
    assert_eq!(c.serveraddress.as_deref(), Some("127.0.0.1:5000"));
    let t = Credentials::identity_token(None, "tok", "here").to_docker("r.io");
    assert_eq!(t.identitytoken.as_deref(), Some("tok"));
    assert_eq!(t.password, None);
}

proptest! {
    #[test]
    fn auth_values_round_trip(user in "[^:\\x00]{1,20}", pass in "\\PC{0,30}") {
        let encoded = b64(&format!("{user}:{pass}"));
        prop_assert_eq!(decode_auth(&encoded), Some((user.clone(), pass.clone())));
        // Docker writes padded base64; unpadded values are accepted too.
        prop_assert_eq!(decode_auth(encoded.trim_end_matches('=')), Some((user, pass)));
    }

    #[test]
    fn decoding_any_text_never_panics(text in "\\PC{0,40}") {
        let _ = decode_auth(&text);
    }

    #[test]
    fn values_without_a_colon_or_user_are_refused(s in "[a-z0-9]{0,20}") {
        prop_assert_eq!(decode_auth(&b64(&s)), None);
        prop_assert_eq!(decode_auth(&b64(&format!(":{s}"))), None);
    }
}
