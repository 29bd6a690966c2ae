//! `tau deploy push` to a registry that wants a login (the lab's htpasswd registry), with the
//! login from `deployment.registry.credentials_env_prefix`: the real binary, engine and registry.

mod cloud_support;

use cloud_support::*;
use tau_testkit::engine::Lab;

const USER: &str = "deployer";
const PASSWORD: &str = "lab-pw-0c1d2e3f-auth";
const WRONG: &str = "wrong-pw-9a8b7c6d";

#[test]
fn deploy_push_uses_the_prefixed_login_and_refuses_a_wrong_one_without_echoing_it() {
    let Some(mut lab) = Lab::start() else { return };
    lab.start_auth_registry(USER, PASSWORD);
    // The base image comes from the open registry; the service goes to the private one.
    lab.push_busybox("library/busybox", "1.36", &["sh"]);
    let dir = lab_project(
        "    provider: local\n    local: {host_port: 0}",
        &lab.registry(),
    );
    let yaml = std::fs::read_to_string(dir.path().join("tau.yaml")).unwrap();
    let yaml = yaml.replace(
        &format!("{{url: '{}', repository", lab.registry()),
        &format!(
            "{{url: '{}', credentials_env_prefix: LAB_REG, repository",
            lab.auth_registry()
        ),
    );
    assert!(yaml.contains("LAB_REG"), "{yaml}");
    std::fs::write(dir.path().join("tau.yaml"), yaml).unwrap();

    let push = |password: Option<&str>| {
        let mut cmd = tau_in(dir.path());
        cmd.env_remove("DOCKER_CONFIG")
            .env_remove("LAB_REG_USERNAME")
            .env_remove("LAB_REG_PASSWORD")
            .args(["deploy", "push", "--json", "--engine", &lab.docker_host()]);
        if let Some(password) = password {
            cmd.env("LAB_REG_USERNAME", USER)
                .env("LAB_REG_PASSWORD", password);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), all_output(&out), out)
    };

    let (code, text, _) = push(None);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("registry_unauthorized"), "{text}");

    let (code, text, _) = push(Some(WRONG));
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("registry_unauthorized"), "{text}");
    assert!(
        text.contains("login used: environment variables LAB_REG_USERNAME/LAB_REG_PASSWORD"),
        "{text}"
    );
    assert!(
        !text.contains(WRONG),
        "the refused password was echoed: {text}"
    );
    assert_eq!(lab.auth_manifest_digest("org/hello", "v1.0.0"), None);

    let (code, text, out) = push(Some(PASSWORD));
    assert_eq!(code, Some(0), "{text}");
    let doc = json_of(&out);
    assert_eq!(
        doc["push"]["registry_login"],
        "environment variables LAB_REG_USERNAME/LAB_REG_PASSWORD"
    );
    assert_eq!(
        doc["push"]["digest"].as_str(),
        lab.auth_manifest_digest("org/hello", "v1.0.0").as_deref(),
        "the digest reported must be the private registry's: {doc}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    for file in tau_testkit::files(dir.path()) {
        let bytes = std::fs::read(dir.path().join(&file)).unwrap();
        let content = String::from_utf8_lossy(&bytes);
        assert!(
            !content.contains(PASSWORD) && !content.contains(WRONG),
            "{file} holds a password"
        );
    }
}
