use proptest::prelude::*;

use super::*;

#[test]
fn dev_and_prod_tags_parse_and_print_back() {
    for t in [
        "dev-20250815123000",
        "v1.2.3",
        "v0.0.0",
        "v10.20.30_3f9c2ab",
        "v1.0.0_0123456789ab",
    ] {
        assert_eq!(Tag::parse(t).unwrap().to_string(), t);
    }
    assert_eq!(
        Tag::parse("dev-20250815123000").unwrap().environment(),
        Environment::Dev
    );
    assert_eq!(
        Tag::parse("v1.2.3").unwrap().environment(),
        Environment::Prod
    );
}

#[test]
fn latest_is_refused_with_its_own_rule() {
    let Rule(rule) = Tag::parse("latest").unwrap_err();
    assert!(rule.contains("never deployable"), "{rule}");
}

#[test]
fn malformed_tags_are_refused_naming_the_rule() {
    for bad in [
        "dev",
        "dev-2025081512300",
        "dev-20250230120000",
        "dev-20251315123000",
        "dev-20250815246000",
        "v1.2",
        "1.2.3",
        "v01.2.3",
        "v1.2.3+3f9c2ab",
        "v1.2.3-rc1",
        "v1.2.3_XYZ1234",
        "v1.2.3_abc",
        "v1.2.3.4",
        "V1.2.3",
        "",
    ] {
        assert_eq!(Tag::parse(bad), Err(Rule(TAG_RULE)), "{bad}");
    }
}

#[test]
fn agent_names_follow_cogo_domain_role() {
    let n = AgentName::parse("cogo-codegen-worker").unwrap();
    assert_eq!((n.domain.as_str(), n.role.as_str()), ("codegen", "worker"));
    let n = AgentName::parse("cogo-executor-dispatcher").unwrap();
    assert_eq!(n.role, "dispatcher");
    for bad in [
        "cogo-worker",
        "codegen-worker",
        "cogo--worker",
        "cogo-Codegen-worker",
        "cogo-code_gen-worker",
    ] {
        assert!(AgentName::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn credential_refs_are_k8s_or_vault_references() {
    assert_eq!(
        parse_credential_ref("k8s:cogo-dev/ghcr-pullsecret"),
        Ok(CredentialRef::K8s {
            namespace: "cogo-dev".into(),
            secret: "ghcr-pullsecret".into()
        })
    );
    assert!(matches!(
        parse_credential_ref("vault:secret/data/ghcr"),
        Ok(CredentialRef::Vault { .. })
    ));
    for bad in [
        "k8s:Cogo/x",
        "k8s:ns",
        "vault:",
        "vault:a//b",
        "vault:../x",
        "ghcr-pullsecret",
        "env:X",
    ] {
        assert!(matches!(parse_credential_ref(bad), Err(Err(_))), "{bad}");
    }
}

#[test]
fn a_token_as_credential_ref_is_reported_as_a_secret_not_as_malformed() {
    let token = format!("ghp_{}", "Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8");
    assert_eq!(parse_credential_ref(&token), Err(Ok("a GitHub token")));
    assert_eq!(
        parse_credential_ref(&format!("vault:{token}")),
        Err(Ok("a GitHub token"))
    );
}

#[test]
fn trace_ids_follow_w3c_trace_context() {
    let id = TraceId::random();
    assert!(TraceId::parse(id.as_str()).is_ok());
    let tp = id.traceparent();
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!((parts[0], parts[1], parts[3]), ("00", id.as_str(), "01"));
    assert_eq!(parts[2].len(), 16);
    assert!(TraceId::parse(&"0".repeat(32)).is_err());
    assert!(TraceId::parse(&"A".repeat(32)).is_err());
}

#[test]
fn env_names_become_kebab_case_secret_keys() {
    assert_eq!(
        kebab_case("SUPABASE_SERVICE_ROLE_KEY"),
        "supabase-service-role-key"
    );
}

proptest! {
    #[test]
    fn every_real_utc_time_makes_a_dev_tag(secs in 0i64..7_000_000_000) {
        let t = Utc::from_unix(secs);
        let text = format!("dev-{}", t.compact());
        prop_assert_eq!(Tag::parse(&text), Ok(Tag::Dev(t)));
    }

    #[test]
    fn semver_with_optional_sha_round_trips(
        major in 0u64..1000, minor in 0u64..1000, patch in 0u64..1000,
        sha in proptest::option::of("[0-9a-f]{7,12}"),
    ) {
        let tag = Tag::Prod { major, minor, patch, sha };
        prop_assert_eq!(Tag::parse(&tag.to_string()), Ok(tag));
    }

    #[test]
    fn the_tag_parser_never_panics_and_accepts_only_what_it_prints(text in "\\PC{0,40}") {
        if let Ok(tag) = Tag::parse(&text) {
            prop_assert_eq!(tag.to_string(), text);
        }
    }

    #[test]
    fn credential_refs_accept_only_what_the_grammar_allows(text in "(k8s:|vault:)?[a-z0-9./_-]{0,30}") {
        if let Ok(r) = parse_credential_ref(&text) {
            match r {
                CredentialRef::K8s { namespace, secret } => {
                    prop_assert_eq!(format!("k8s:{namespace}/{secret}"), text)
                }
                CredentialRef::Vault { path } => prop_assert_eq!(format!("vault:{path}"), text),
            }
        }
    }

    #[test]
    fn generated_github_tokens_are_never_accepted_as_references(body in "[A-Za-z0-9]{36}") {
        let token = format!("ghp_{body}");
        let (k8s, vault) = (format!("k8s:ns/{token}"), format!("vault:{token}"));
        prop_assert!(parse_credential_ref(&k8s).is_err());
        prop_assert!(parse_credential_ref(&vault).is_err());
    }
}
