//! `tau registry tag record` against a registry that wants a login (the lab's htpasswd
//! registry): the digest is resolved with the login from `--registry-credentials-env` or the
//! Docker config, and refused without one, on both stores; no password reaches a store.

mod registry_support;

use base64::Engine as _;
use registry_support::{catalog, stderr, stdout, stores, Store};
use tau_testkit::engine::Lab;

const USER: &str = "reader";
const PASSWORD: &str = "lab-pw-55e4d3c2-reader";
const WRONG: &str = "wrong-pw-1f2e3d4c";

fn record(
    store: &Store,
    docker_config: &std::path::Path,
    tag: &str,
    extra: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend_from_slice(&["tag", "record", "cogo-codegen-worker", tag, "--json"]);
    let mut cmd = store.cmd(&all);
    cmd.env("DOCKER_CONFIG", docker_config)
        .env_remove("LAB_REG_USERNAME")
        .env_remove("LAB_REG_PASSWORD");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// The digest a successful `tag record --json` recorded; fails the test with its output otherwise.
fn recorded_digest(name: &str, out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{name}: {}{}",
        stdout(out),
        stderr(out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["image_tag_history"]["digest"].clone()
}

#[test]
fn tag_record_resolves_private_digests_with_a_login_and_refuses_without_on_both_stores() {
    let Some(mut lab) = Lab::start() else { return };
    lab.start_auth_registry(USER, PASSWORD);
    let v1 = lab.push_busybox_to_auth("org/private", "v1.0.0", &["sh"]);
    let v2 = lab.push_busybox_to_auth("org/private", "v1.1.0", &["sleep", "1"]);
    let repo = format!("{}/org/private", lab.auth_registry());
    let empty = tempfile::tempdir().unwrap();
    let with_login = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        with_login.path().join("config.json"),
        format!(
            r#"{{"auths":{{"http://{}":{{"auth":"{auth}"}}}}}}"#,
            lab.auth_registry()
        ),
    )
    .unwrap();

    for store in stores() {
        let name = store.name();
        let out = store.apply(&catalog(&repo, &lab.auth_registry()));
        assert!(out.status.success(), "{name}: {}", stderr(&out));

        let out = record(&store, empty.path(), "v1.0.0", &[], &[]);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!out.status.success(), "{name}: {text}");
        assert!(text.contains("registry_unauthorized"), "{name}: {text}");
        assert!(text.contains(&lab.auth_registry()), "{name}: {text}");

        let wrong = [("LAB_REG_USERNAME", USER), ("LAB_REG_PASSWORD", WRONG)];
        let prefix = ["--registry-credentials-env", "LAB_REG"];
        let out = record(&store, empty.path(), "v1.0.0", &wrong, &prefix);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!out.status.success(), "{name}: {text}");
        assert!(text.contains("registry_unauthorized"), "{name}: {text}");
        assert!(
            text.contains("LAB_REG_USERNAME/LAB_REG_PASSWORD"),
            "{name}: {text}"
        );
        assert!(
            !text.contains(WRONG),
            "{name}: the refused password was echoed: {text}"
        );

        let half = [("LAB_REG_PASSWORD", WRONG)];
        let out = record(&store, empty.path(), "v1.0.0", &half, &prefix);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !out.status.success() && text.contains("LAB_REG_USERNAME"),
            "{name}: {text}"
        );
        assert!(!text.contains(WRONG), "{name}: {text}");

        let right = [("LAB_REG_USERNAME", USER), ("LAB_REG_PASSWORD", PASSWORD)];
        let out = record(&store, empty.path(), "v1.0.0", &right, &prefix);
        assert_eq!(recorded_digest(name, &out), v1.as_str(), "{name}");

        // No prefix: the Docker config's login is used.
        let out = record(&store, with_login.path(), "v1.1.0", &[], &[]);
        assert_eq!(recorded_digest(name, &out), v2.as_str(), "{name}");

        let everything = store.everything();
        assert!(
            !everything.contains(PASSWORD) && !everything.contains(WRONG),
            "{name}"
        );
    }
}
