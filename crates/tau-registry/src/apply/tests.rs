use std::path::Path;

use super::*;
use crate::store::suite::CATALOG;

fn plan(text: &str) -> Result<ApplyPlan> {
    parse(
        Path::new("catalog.yaml"),
        text,
        &Snapshot::default(),
        "2026-01-01T00:00:00Z",
    )
}

fn token() -> String {
    format!("ghp_{}", "Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8")
}

#[test]
fn the_seed_shaped_catalog_applies_with_stable_ids() {
    let a = plan(CATALOG).unwrap();
    let b = plan(CATALOG).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a.catalog[0].0.registry_account_id.as_deref(),
        Some(a.accounts[0].id.as_str())
    );
    assert_eq!(a.links[0].registry_account_id, a.accounts[0].id);
}

#[test]
fn json_files_apply_too() {
    let text = r#"{"registry_accounts": [{"provider": "ghcr", "registry_url": "ghcr.io", "namespace": "org"}]}"#;
    let p = parse(
        Path::new("c.json"),
        text,
        &Snapshot::default(),
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    assert_eq!(p.accounts.len(), 1);
}

#[test]
fn a_token_in_credential_ref_is_refused_without_echoing_it() {
    let text = CATALOG.replace("k8s:cogo-dev/ghcr-pullsecret", &token());
    let err = plan(&text).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::SecretRefused { .. }), "{message}");
    assert!(
        message.contains("registry_accounts[0].credential_ref"),
        "{message}"
    );
    assert!(!message.contains(&token()), "{message}");
}

#[test]
fn a_secret_as_a_plain_env_value_is_refused() {
    let text = CATALOG.replace(
        "ARTIFACTS_BASE: /app/artifacts-local",
        &format!("GITHUB_TOKEN: {}", token()),
    );
    let err = plan(&text).unwrap_err().to_string();
    assert!(
        err.contains("agent_catalog[0].deploy.env.GITHUB_TOKEN"),
        "{err}"
    );
    assert!(!err.contains(&token()), "{err}");
}

#[test]
fn a_secret_where_a_boolean_belongs_is_not_quoted_by_the_parse_error() {
    let text = CATALOG.replace("read_only: true", &format!("read_only: {}", token()));
    let err = plan(&text).unwrap_err().to_string();
    assert!(!err.contains(&token()), "{err}");
}

#[test]
fn bad_values_name_the_field_and_the_rule() {
    let cases = [
        (
            CATALOG.replace("cogo-codegen-worker\n", "codegen-worker\n"),
            "agent_catalog[0].agent_name",
        ),
        (
            CATALOG.replace("provider: ghcr", "provider: quay"),
            "registry_accounts[0].provider",
        ),
        (
            CATALOG.replace("registry_account: my-org", "registry_account: other-org"),
            "agent_catalog[0].registry_account",
        ),
        (
            CATALOG.replace("default_tag: dev", "default_tag: latest"),
            "agent_catalog[0].default_tag",
        ),
        (
            CATALOG.replace("      k8s_secret: cogo-secrets\n", ""),
            "agent_catalog[0].deploy.k8s_secret",
        ),
        (
            CATALOG.replace("role: generate", "role: Generate"),
            "agent_catalog[0].role",
        ),
        (
            CATALOG.replace(
                "credential_ref: k8s:cogo-dev/ghcr-pullsecret",
                "credential_ref: ghcr-pullsecret",
            ),
            "registry_accounts[0].credential_ref",
        ),
    ];
    for (text, field) in cases {
        let err = plan(&text).unwrap_err().to_string();
        assert!(err.starts_with("catalog.yaml: "), "{err}");
        assert!(err.contains(field), "{field}: {err}");
    }
}

#[test]
fn unknown_keys_are_refused() {
    let err = plan(&format!("{CATALOG}\nextra: 1\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn an_account_can_be_named_by_id() {
    let first = plan(CATALOG).unwrap();
    let id = first.accounts[0].id.clone();
    let current = Snapshot {
        accounts: first.accounts.clone(),
        ..Snapshot::default()
    };
    let only_catalog = CATALOG
        .split("agent_catalog:")
        .nth(1)
        .unwrap()
        .split("k8s_pull_secret_links:")
        .next()
        .unwrap();
    let text = format!(
        "agent_catalog:{}",
        only_catalog.replace(
            "registry_account: my-org",
            &format!("registry_account: {id}")
        )
    );
    let p = parse(Path::new("c.yaml"), &text, &current, "2026-01-02T00:00:00Z").unwrap();
    assert_eq!(
        p.catalog[0].0.registry_account_id.as_deref(),
        Some(id.as_str())
    );
}

#[test]
fn secret_env_is_resolved_at_deploy_time_and_a_missing_one_names_the_variable() {
    let p = plan(CATALOG).unwrap();
    let env = &p.catalog[0].1.env;
    let resolved = resolve_env("a", env, |k| {
        (k == "SUPABASE_SERVICE_ROLE_KEY").then(|| "v".to_string())
    })
    .unwrap();
    assert_eq!(resolved["SUPABASE_SERVICE_ROLE_KEY"], "v");
    let err = resolve_env("a", env, |_| None).unwrap_err().to_string();
    assert!(err.contains("SUPABASE_SERVICE_ROLE_KEY"), "{err}");
}
