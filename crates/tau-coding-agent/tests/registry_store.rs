//! `tau registry` against both stores: the real binary, the state dir or a real PostgreSQL, and
//! (for tags) a real registry from the test lab.

mod registry_support;

use registry_support::{catalog, stderr, stdout, stores, token, zero_times, Store};

#[test]
fn apply_and_listings_give_the_same_answers_on_both_stores() {
    let mut answers = Vec::new();
    for store in stores() {
        let out = store.apply(&catalog("ghcr.io/org/cogo-codegen-worker", "ghcr.io"));
        assert!(out.status.success(), "{}: {}", store.name(), stderr(&out));
        // Applying again changes nothing (ids are stable by name).
        assert!(store
            .apply(&catalog("ghcr.io/org/cogo-codegen-worker", "ghcr.io"))
            .status
            .success());
        let accounts = store.json(&["account", "list", "--json"]);
        let list = store.json(&["catalog", "list", "--json"]);
        let show = store.json(&["catalog", "show", "cogo-codegen-worker", "--json"]);
        assert_eq!(
            accounts["registry_accounts"].as_array().unwrap().len(),
            1,
            "{}",
            store.name()
        );
        assert_eq!(
            show["deploy"]["env"]["SUPABASE_SERVICE_ROLE_KEY"]["secret_env"],
            "SUPABASE_SERVICE_ROLE_KEY"
        );
        assert_eq!(
            show["pull_secret_links"][0]["secret_name"],
            "ghcr-pullsecret"
        );
        answers.push(zero_times(serde_json::json!([accounts, list, show])));
    }
    if answers.len() == 2 {
        assert_eq!(
            answers[0], answers[1],
            "the file store and PostgreSQL disagree"
        );
    }
}

#[test]
fn a_literal_secret_in_credential_ref_is_refused_and_stored_nowhere() {
    for store in stores() {
        let yaml =
            catalog("ghcr.io/org/app", "ghcr.io").replace("k8s:cogo-dev/ghcr-pullsecret", &token());
        let out = store.apply(&yaml);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            store.name(),
            stderr(&out)
        );
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["error"]["code"], "secret_refused");
        assert!(answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("registry_accounts[0].credential_ref"));
        assert!(
            !stdout(&out).contains(&token()) && !stderr(&out).contains(&token()),
            "the secret was echoed"
        );
        assert!(
            !store.everything().contains(&token()),
            "{}: the secret reached the store",
            store.name()
        );
        assert!(
            !store.everything().contains("ghp_"),
            "{}: part of the secret reached the store",
            store.name()
        );
    }
}

#[test]
fn unknown_agents_and_bad_tags_are_usage_errors_naming_the_rule() {
    for store in stores() {
        assert!(store
            .apply(&catalog("ghcr.io/org/app", "ghcr.io"))
            .status
            .success());
        let out = store.run(&["history", "cogo-nobody-here", "--json"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stdout(&out).contains("\"not_found\""), "{}", stdout(&out));
        let out = store.run(&["tag", "record", "cogo-codegen-worker", "latest", "--json"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("never deployable"),
            "{}",
            stdout(&out)
        );
        let out = store.run(&["tag", "record", "cogo-codegen-worker", "v1.2.3+abcdef1"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out)
                .contains("vX.Y.Z, optionally followed by _<7-12 lowercase hex commit sha>"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_rollout_without_the_agent_credentials_names_the_variables() {
    for store in stores() {
        assert!(store
            .apply(&catalog("ghcr.io/org/app", "ghcr.io"))
            .status
            .success());
        let out = store.run(&[
            "rollout",
            "cogo-codegen-worker",
            "v1.0.0",
            "--agent-url",
            "http://127.0.0.1:9",
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stdout(&out).contains("CF_ACCESS_CLIENT_ID"),
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn migrate_applies_each_migration_once() {
    let Some(db) = tau_testkit::pg::Database::create() else {
        return;
    };
    let store = Store::Pg(db, tempfile::tempdir().unwrap());
    let first = store.json(&["migrate", "--json"]);
    assert_eq!(
        first["applied"],
        serde_json::json!(["0001_registry_tables"])
    );
    let second = store.json(&["migrate", "--json"]);
    assert_eq!(second["applied"], serde_json::json!([]));
}

/// Tags against a real registry: the digest comes from the registry, a second record is a no-op,
/// a re-tagged image is refused, and the manifest pins the digest.
#[test]
fn tag_record_history_and_manifests_against_a_real_registry() {
    let Some(lab) = tau_testkit::engine::Lab::start() else {
        return;
    };
    let repo_name = lab.unique("org/tagged");
    let repo = format!("{}/{repo_name}", lab.registry());
    let digest = lab.push_busybox(&repo_name, "v1.0.0", &["sleep", "3600"]);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let stores = stores();
    for store in &stores {
        assert!(store
            .apply(&catalog(&repo, &lab.registry()))
            .status
            .success());
        let rec = store.json(&[
            "tag",
            "record",
            "cogo-codegen-worker",
            "v1.0.0",
            "--built-by",
            "ci-bot",
            "--built-at",
            "2026-01-02T03:04:05+01:00",
            "--trace-id",
            trace,
            "--json",
        ]);
        assert_eq!(rec["recorded"], true);
        assert_eq!(
            rec["image_tag_history"]["digest"],
            digest.as_str(),
            "{}",
            store.name()
        );
        assert_eq!(rec["image_tag_history"]["built_at"], "2026-01-02T02:04:05Z");
        assert_eq!(rec["image_tag_history"]["trace_id"], trace);
        assert_eq!(rec["image_tag_history"]["rollout_status"], "staged");
        let again = store.json(&["tag", "record", "cogo-codegen-worker", "v1.0.0", "--json"]);
        assert_eq!(again["recorded"], false);
        let history = store.json(&["history", "cogo-codegen-worker", "--json"]);
        assert_eq!(history["image_tag_history"].as_array().unwrap().len(), 1);
        let yaml = store.run(&[
            "manifests",
            "cogo-codegen-worker",
            "--tag",
            "v1.0.0",
            "--namespace",
            "cogo-dev",
        ]);
        assert!(yaml.status.success(), "{}", stderr(&yaml));
        let text = stdout(&yaml);
        assert!(
            text.contains(&format!("image: {repo}:v1.0.0@{digest}")),
            "{text}"
        );
        assert!(text.contains("key: supabase-service-role-key"), "{text}");
        assert!(text.contains("- name: ghcr-pullsecret"), "{text}");
    }
    // The same tag pushed again with other content: the registry now answers another digest.
    let moved = lab.push_busybox(&repo_name, "v1.0.0", &["sleep", "7200"]);
    assert_ne!(moved, digest);
    for store in &stores {
        let out = store.run(&["tag", "record", "cogo-codegen-worker", "v1.0.0", "--json"]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["error"]["code"], "tag_digest_changed");
        assert_eq!(answer["error"]["recorded_digest"], digest.as_str());
        assert_eq!(answer["error"]["current_digest"], moved.as_str());
    }
}
