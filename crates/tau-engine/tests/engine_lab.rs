//! The engine client against a real Podman service and registry (`tau_testkit::engine::Lab`).

use std::collections::BTreeMap;
use std::time::Duration;

use tau_engine::{ContainerSpec, Engine, Error, ErrorKind, Reference};
use tau_testkit::engine::Lab;

fn spec(name: &str, image: &Reference) -> ContainerSpec {
    ContainerSpec {
        name: name.to_owned(),
        image: image.clone(),
        env: BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]),
        volumes: BTreeMap::new(),
        ports: BTreeMap::new(),
        labels: BTreeMap::from([("owner".to_owned(), "test".to_owned())]),
        cmd: None,
    }
}

#[tokio::test]
async fn pull_then_create_start_exec_rename_stop_remove() {
    let Some(lab) = Lab::start() else { return };
    let digest = lab.push_busybox("org/app", "v1.0.0", &["sleep", "3600"]);
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    engine.ping().await.unwrap();

    let image = Reference::parse(&format!("{}/org/app:v1.0.0@{digest}", lab.registry())).unwrap();
    engine.pull(&image, None).await.unwrap();
    assert_eq!(
        engine.image_digest(&image).await.unwrap(),
        Some(digest.clone())
    );
    let by_tag = Reference::parse(&format!("{}/org/app:v1.0.0", lab.registry())).unwrap();
    engine.pull(&by_tag, None).await.unwrap();
    assert_eq!(
        engine.image_digest(&by_tag).await.unwrap(),
        Some(digest.clone()),
        "{}",
        lab.podman_ok(&[
            "image",
            "inspect",
            "--format",
            "{{.RepoDigests}}",
            &by_tag.to_string()
        ])
    );

    let name = lab.unique("app");
    engine.create(&spec(&name, &image)).await.unwrap();
    let created = engine.inspect(&name).await.unwrap().unwrap();
    assert!(!created.running);
    assert_eq!(created.started_at, None);
    // The label keeps the tag that Podman drops from Config.Image.
    assert_eq!(created.image, image.to_string());
    assert_eq!(
        created.labels.get("owner").map(String::as_str),
        Some("test")
    );

    engine.start(&name).await.unwrap();
    let running = engine.inspect(&name).await.unwrap().unwrap();
    assert!(running.running);
    assert!(running.started_at.is_some());
    assert_eq!(running.exit_code, None);

    let out = engine
        .exec(&name, &["sh", "-c", "echo $GREETING; exit 3"])
        .await
        .unwrap();
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.exit_code, 3);

    let renamed = format!("{name}-renamed");
    engine.rename(&name, &renamed).await.unwrap();
    assert!(engine.inspect(&name).await.unwrap().is_none());
    let listed = engine.list(&name).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        [renamed.as_str()]
    );

    engine.stop(&renamed, Duration::from_secs(1)).await.unwrap();
    let stopped = engine.inspect(&renamed).await.unwrap().unwrap();
    assert!(!stopped.running);
    assert!(stopped.exit_code.is_some());
    // Stopping twice is not an error.
    engine.stop(&renamed, Duration::from_secs(1)).await.unwrap();

    engine.remove(&renamed).await.unwrap();
    assert!(engine.inspect(&renamed).await.unwrap().is_none());
    engine.remove(&renamed).await.unwrap();
}

#[tokio::test]
async fn pull_of_an_unknown_tag_is_not_found_although_podman_answers_200() {
    let Some(lab) = Lab::start() else { return };
    lab.push_busybox("org/app", "v1", &["sleep", "3600"]);
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let missing = Reference::parse(&format!("{}/org/app:v9", lab.registry())).unwrap();
    let err = engine.pull(&missing, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("org/app:v9"), "{err}");
    assert_eq!(engine.image_digest(&missing).await.unwrap(), None);
}

#[tokio::test]
async fn pull_from_an_unreachable_registry_fails_as_an_engine_error() {
    let Some(lab) = Lab::start() else { return };
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = Reference::parse(&format!("127.0.0.1:{port}/org/app:v1")).unwrap();
    let err = engine.pull(&unreachable, None).await.unwrap_err();
    assert!(!err.is_refusal(), "{err:?}");
}

#[tokio::test]
async fn volume_check_never_creates_the_volume() {
    let Some(lab) = Lab::start() else { return };
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let name = lab.unique("data");
    assert!(!engine.volume_exists(&name).await.unwrap());
    assert!(!engine.volume_exists(&name).await.unwrap());
    lab.create_volume(&name);
    assert!(engine.volume_exists(&name).await.unwrap());
}

#[tokio::test]
async fn a_taken_name_is_name_taken_not_a_server_error() {
    let Some(lab) = Lab::start() else { return };
    lab.push_busybox("org/app", "v1", &["sleep", "3600"]);
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let image = Reference::parse(&format!("{}/org/app:v1", lab.registry())).unwrap();
    engine.pull(&image, None).await.unwrap();
    let name = lab.unique("taken");
    engine.create(&spec(&name, &image)).await.unwrap();
    let err = engine.create(&spec(&name, &image)).await.unwrap_err();
    assert!(matches!(err, Error::NameTaken { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn an_unreachable_engine_is_reported_as_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("unix://{}/none.sock", dir.path().display());
    let err = match Engine::connect(Some(&url)) {
        Ok(engine) => engine.ping().await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let engine = Engine::connect(Some(&format!("tcp://127.0.0.1:{port}"))).unwrap();
    assert_eq!(
        engine.ping().await.unwrap_err().kind(),
        ErrorKind::Unreachable
    );
    assert_eq!(
        Engine::connect(Some("ftp://x")).unwrap_err().kind(),
        ErrorKind::Invalid
    );
}

#[tokio::test]
async fn build_from_a_lab_image_and_push_returns_the_registry_digest() {
    let Some(lab) = Lab::start() else { return };
    lab.push_busybox("base/busybox", "1", &["sh"]);
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let dockerfile = format!(
        "FROM {}/base/busybox:1\nRUN echo built > /built.txt\nCMD [\"sleep\", \"3600\"]\n",
        lab.registry()
    );
    let tag = format!("{}/org/built:v1", lab.registry());
    let id = engine
        .build(tar_with("Dockerfile", dockerfile.as_bytes()), &tag)
        .await
        .unwrap();
    assert!(!id.is_empty());

    let reference = Reference::parse(&tag).unwrap();
    let digest = engine.push(&reference, None).await.unwrap();
    assert_eq!(Some(digest), lab.manifest_digest("org/built", "v1"));

    let broken = "FROM scratch\nRUN /does-not-exist\n";
    let err = engine
        .build(
            tar_with("Dockerfile", broken.as_bytes()),
            &format!("{}/org/broken:v1", lab.registry()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Engine, "{err}");
}

/// A one-file tar (ustar), enough for a build context.
fn tar_with(name: &str, body: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", body.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(body);
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}

#[tokio::test]
async fn the_running_digest_never_names_the_tags_new_image_after_the_tag_moved() {
    let Some(lab) = Lab::start() else { return };
    let first = lab.push_busybox("org/moving", "v1.0.0", &["sleep", "3600"]);
    let engine = Engine::connect(Some(&lab.docker_host())).unwrap();
    let by_tag = Reference::parse(&format!("{}/org/moving:v1.0.0", lab.registry())).unwrap();
    engine.pull(&by_tag, None).await.unwrap();
    let name = lab.unique("moving");
    engine.create(&spec(&name, &by_tag)).await.unwrap();
    let container = engine.inspect(&name).await.unwrap().unwrap();

    // The tag is pushed again with other content and pulled: the tag now names another image.
    let second = lab.push_busybox("org/moving", "v1.0.0", &["sleep", "7200"]);
    assert_ne!(first, second);
    engine.pull(&by_tag, None).await.unwrap();
    assert_eq!(
        engine.image_digest(&by_tag).await.unwrap(),
        Some(second.clone())
    );
    // Podman may forget the old image's repo digest once the tag moved: then the answer is
    // "unknown", never the tag's new digest (the Deploy Agent keeps the pulled digest in a label).
    let running = engine
        .running_digest(&container.image_id, &by_tag)
        .await
        .unwrap();
    assert!(running.is_none() || running == Some(first), "{running:?}");
    assert_ne!(running, Some(second));
    engine.remove(&name).await.unwrap();
}
