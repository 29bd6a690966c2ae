use super::*;

const GOOD: &str = r#"
environment = "dev"
listen = "127.0.0.1:8088"
container_name = "dreichor-runtime"
image_repositories = ["127.0.0.1:5000/org/runtime", "ghcr.io/owner/repo"]
audit_log = "audit.jsonl"
state_dir = "state"
settle_seconds = 2
ports = { "8080" = 18080 }

[volumes]
dreichor-audit-events = "/var/lib/dreichor/audit-events"

[[service_tokens]]
client_id = "deploy-ci.access"
secret_env = "TAU_TEST_SECRET_CONFIG_A"

[[service_tokens]]
client_id = "ops.access"
secret_file = "ops.secret"
"#;

fn parse(text: &str) -> Result<Config> {
    Config::parse(Path::new("/etc/tau/agent.toml"), text)
}

#[test]
fn a_complete_config_parses_with_paths_resolved_against_its_directory() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.environment, Environment::Dev);
    assert_eq!(config.audit_log, Path::new("/etc/tau/audit.jsonl"));
    assert_eq!(config.state_dir, Path::new("/etc/tau/state"));
    assert_eq!(config.ports, BTreeMap::from([(8080, 18080)]));
    assert_eq!(config.settle, Duration::from_secs(2));
    assert_eq!(
        config.service_tokens[1].secret,
        SecretSource::File(PathBuf::from("/etc/tau/ops.secret"))
    );
}

#[test]
fn every_required_key_missing_refuses_naming_the_file_and_the_key() {
    for key in [
        "environment",
        "listen",
        "container_name",
        "image_repositories",
        "audit_log",
        "state_dir",
    ] {
        let text: String = GOOD
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} =")))
            .map(|l| format!("{l}\n"))
            .collect();
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.contains("/etc/tau/agent.toml"), "{message}");
        assert!(message.contains(&format!("`{key}`")), "{key}: {message}");
    }
}

#[test]
fn an_unknown_key_refuses_naming_it_and_its_line() {
    let text = format!("{GOOD}\n[extra]\n");
    let message = parse(&GOOD.replace("settle_seconds = 2", "settle_second = 2"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("settle_second"), "{message}");
    assert!(message.contains("line 8"), "{message}");
    assert!(parse(&text).unwrap_err().to_string().contains("extra"));
}

#[test]
fn a_token_with_both_or_neither_secret_source_is_refused() {
    let both = GOOD.replace(
        "secret_env = \"TAU_TEST_SECRET_CONFIG_A\"",
        "secret_env = \"A\"\nsecret_file = \"f\"",
    );
    let message = parse(&both).unwrap_err().to_string();
    assert!(message.contains("service_tokens[0]"), "{message}");
    let inline = GOOD.replace(
        "secret_env = \"TAU_TEST_SECRET_CONFIG_A\"",
        "secret = \"x\"",
    );
    assert!(parse(&inline).unwrap_err().to_string().contains("secret"));
}

#[test]
fn a_missing_or_empty_secret_names_the_token_and_variable_never_a_value() {
    let config = parse(GOOD).unwrap();
    std::env::remove_var("TAU_TEST_SECRET_CONFIG_A");
    let message = config.load_secrets().unwrap_err().to_string();
    assert!(message.contains("deploy-ci.access"), "{message}");
    assert!(message.contains("TAU_TEST_SECRET_CONFIG_A"), "{message}");
    assert!(message.contains("not set"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.toml");
    std::fs::write(dir.path().join("ops.secret"), "  \n").unwrap();
    let text = GOOD.replace(
        "secret_env = \"TAU_TEST_SECRET_CONFIG_A\"",
        "secret_file = \"a.secret\"",
    );
    std::fs::write(dir.path().join("a.secret"), "s3cret-a\n").unwrap();
    let config = Config::parse(&file, &text).unwrap();
    let message = config.load_secrets().unwrap_err().to_string();
    assert!(message.contains("ops.access"), "{message}");
    assert!(message.contains("is empty"), "{message}");
    assert!(!message.contains("s3cret-a"), "{message}");
}

#[test]
fn bad_values_are_refused_with_what_was_expected() {
    for (from, to, key) in [
        ("\"dev\"", "\"staging\"", "environment"),
        ("\"127.0.0.1:8088\"", "\"localhost\"", "listen"),
        ("\"dreichor-runtime\"", "\"-bad name\"", "container_name"),
        (
            "\"/var/lib/dreichor/audit-events\"",
            "\"relative/path\"",
            "volumes.dreichor-audit-events",
        ),
        (
            "\"ghcr.io/owner/repo\"",
            "\"ghcr.io/owner/repo:v1\"",
            "image_repositories[1]",
        ),
    ] {
        let message = parse(&GOOD.replace(from, to)).unwrap_err().to_string();
        assert!(
            message.contains(key) || message.contains("unknown variant"),
            "{key}: {message}"
        );
    }
}

#[test]
fn cloudflare_access_needs_exactly_one_jwks_source() {
    let text = format!(
        "{GOOD}\n[cloudflare_access]\nteam_domain = \"team.cloudflareaccess.com\"\naudience = \"aud1\"\n"
    );
    assert!(parse(&text).unwrap_err().to_string().contains("jwks_file"));
    let text = format!("{text}jwks_file = \"jwks.json\"\n");
    let access = parse(&text).unwrap().cloudflare_access.unwrap();
    assert_eq!(access.issuer(), "https://team.cloudflareaccess.com");
    assert_eq!(
        access.jwks,
        JwksSource::File(PathBuf::from("/etc/tau/jwks.json"))
    );
}
