//! Push and pull against a registry that wants a login (the lab's htpasswd registry): the login
//! travels as X-Registry-Auth, and a refused login is a clear error without the password.

use tau_engine::{Credentials, Engine, ErrorKind, Reference};
use tau_testkit::engine::Lab;

const USER: &str = "ci-bot";
const PASSWORD: &str = "pw-7f3a9c-lab-only";

fn lab() -> Option<Lab> {
    let mut lab = Lab::start()?;
    lab.start_auth_registry(USER, PASSWORD);
    assert_eq!(lab.auth_registry_anonymous_status(), Some(401));
    Some(lab)
}

#[tokio::test]
async fn push_with_the_right_login_reports_the_registry_digest_and_refuses_without_it() {
    let Some(lab) = lab() else { return };
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let reference =
        Reference::parse(&lab.import_busybox_for_auth("org/private", "v1", &["sh"])).unwrap();

    let none = engine.push(&reference, None).await.unwrap_err();
    assert_eq!(none.kind(), ErrorKind::Unauthorized, "{none}");

    let wrong = Credentials::password(USER, "not-the-password-123", "test");
    let err = engine.push(&reference, Some(&wrong)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("not-the-password-123"), "{text}");
    assert!(text.contains(&reference.to_string()), "{text}");
    assert_eq!(lab.auth_manifest_digest("org/private", "v1"), None);

    let right = Credentials::password(USER, PASSWORD, "test");
    let digest = engine.push(&reference, Some(&right)).await.unwrap();
    assert_eq!(Some(digest), lab.auth_manifest_digest("org/private", "v1"));
}

#[tokio::test]
async fn pull_from_a_private_registry_needs_the_login() {
    let Some(lab) = lab() else { return };
    let digest = lab.push_busybox_to_auth("org/pulled", "v2", &["sleep", "3600"]);
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let reference = Reference::parse(&format!("{}/org/pulled:v2", lab.auth_registry())).unwrap();

    let err = engine.pull(&reference, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    let wrong = Credentials::password(USER, "wrong-pw-55aa", "test");
    let err = engine.pull(&reference, Some(&wrong)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(!format!("{err} {err:?}").contains("wrong-pw-55aa"));

    let right = Credentials::password(USER, PASSWORD, "test");
    engine.pull(&reference, Some(&right)).await.unwrap();
    assert_eq!(engine.image_digest(&reference).await.unwrap(), Some(digest));
}
