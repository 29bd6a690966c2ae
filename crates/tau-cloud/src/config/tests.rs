use std::path::Path;

use proptest::prelude::*;

use super::*;

fn parse(yaml: &str) -> Result<DeploymentConfig> {
    DeploymentConfig::parse(Path::new("deploy/tau.yaml"), yaml)
}

fn problems(yaml: &str) -> Vec<Problem> {
    match parse(yaml) {
        Err(Error::Invalid { problems, .. }) => problems,
        other => panic!("expected invalid, got {other:?}"),
    }
}

const GOOD: &str = "
deployment:
  service: hello
  registry: {url: 127.0.0.1:5000, repository: org/hello, tag_strategy: semver, version: 1.2.3}
  target:
    provider: gcp
    gcp: {project_id: acme-prod, region: europe-west1}
  port: 9000
  environment:
    MODE: prod
    WORKERS: 4
    DB_PASSWORD: {secret_env: HELLO_DB_PASSWORD}
  build: {context: /, base_image: 'busybox:1.36', command: [/bin/httpd, -f]}
";

#[test]
fn a_valid_config_gets_defaults_for_what_it_leaves_out() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.port, 9000);
    let Target::Gcp(g) = &c.target else { panic!() };
    assert_eq!(
        (
            g.memory.as_str(),
            g.cpu.as_str(),
            g.concurrency,
            g.max_instances
        ),
        ("512Mi", "1000m", 80, 100)
    );
    assert_eq!(c.health_check_path(), "/health");
    assert_eq!(c.environment["WORKERS"], EnvValue::Plain("4".into()));
    assert_eq!(
        c.environment["DB_PASSWORD"],
        EnvValue::SecretEnv("HELLO_DB_PASSWORD".into())
    );
}

#[test]
fn every_problem_is_listed_with_its_field_and_what_was_expected() {
    let found = problems(
        "
deployment:
  service: Hello_World
  registry: {url: 'https://ghcr.io', repository: Org/App, tag_strategy: nightly, extra: 1}
  target: {provider: aws, aws: {cpu: 3 vCPU, region: us-east-1}}
  port: 70000
  environment: {API_TOKEN: hunter2, 1BAD: x}
  build: {context: /definitely/not/here, base_image: 'busybox:latest'}
",
    );
    let fields: Vec<&str> = found.iter().map(|p| p.field.as_str()).collect();
    for expected in [
        "deployment.service",
        "deployment.registry.url",
        "deployment.registry.repository",
        "deployment.registry.tag_strategy",
        "deployment.registry.extra",
        "deployment.target.aws.cpu",
        "deployment.target.aws.ecr_role_arn",
        "deployment.port",
        "deployment.environment.API_TOKEN",
        "deployment.environment.1BAD",
        "deployment.build.context",
        "deployment.build.base_image",
        "deployment.build.command",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    let message = Error::Invalid {
        path: "deploy/tau.yaml".into(),
        problems: found,
    }
    .to_string();
    assert!(
        message.starts_with("deploy/tau.yaml is not a valid deployment config (1"),
        "{message}"
    );
    assert!(
        !message.contains("hunter2"),
        "a literal secret was echoed: {message}"
    );
}

#[test]
fn app_runner_needs_an_ecr_registry() {
    let aws = GOOD.replace(
        "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
        "provider: aws\n    aws: {ecr_role_arn: 'arn:aws:iam::123456789012:role/r'}",
    );
    let fields: Vec<String> = problems(&aws).into_iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "deployment.registry.url",
            // DB_PASSWORD is a secret: App Runner reads it with the instance role.
            "deployment.target.aws.instance_role_arn"
        ]
    );
    let ecr = aws
        .replace(
            "url: 127.0.0.1:5000",
            "url: 123456789012.dkr.ecr.us-east-1.amazonaws.com",
        )
        .replace(
            "role/r'}",
            "role/r', instance_role_arn: 'arn:aws:iam::123456789012:role/i'}",
        );
    let Target::Aws(t) = parse(&ecr).unwrap().target else {
        panic!()
    };
    let AwsService::AppRunner(ar) = t.service else {
        panic!("app-runner is the default")
    };
    assert_eq!(
        ar.instance_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/i")
    );
}

const ECS: &str = "provider: aws\n    aws: {service: ecs-express, region: eu-west-1, execution_role_arn: 'arn:aws:iam::123456789012:role/exec', infrastructure_role_arn: 'arn:aws:iam::123456789012:role/infra'}";

#[test]
fn ecs_express_takes_its_roles_and_sizes_and_any_registry() {
    let yaml = GOOD.replace(
        "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
        ECS,
    );
    let Target::Aws(t) = parse(&yaml).unwrap().target else {
        panic!()
    };
    let AwsService::EcsExpress(e) = t.service else {
        panic!()
    };
    assert_eq!(
        (e.cpu.as_str(), e.memory.as_str(), e.min_tasks, e.max_tasks),
        ("1024", "2048", 1, 20)
    );
    let bad = GOOD.replace(
        "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
        "provider: aws\n    aws: {service: ecs-express, cpu: 1000, memory: 100, min_tasks: 5, max_tasks: 2, ecr_role_arn: 'arn:aws:iam::1:role/r'}",
    );
    let fields: Vec<String> = problems(&bad).into_iter().map(|p| p.field).collect();
    for f in [
        "cpu",
        "memory",
        "execution_role_arn",
        "infrastructure_role_arn",
        "min_tasks",
        "ecr_role_arn",
    ] {
        assert!(
            fields.contains(&format!("deployment.target.aws.{f}")),
            "{f} missing from {fields:?}"
        );
    }
    let unknown = GOOD.replace(
        "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
        "provider: aws\n    aws: {service: fargate, ecr_role_arn: 'arn:aws:iam::1:role/r'}",
    );
    assert_eq!(problems(&unknown)[0].field, "deployment.target.aws.service");
}

#[test]
fn secret_refs_are_checked_against_the_chosen_provider() {
    let with_ref = |target: &str, id: &str| {
        GOOD.replace(
            "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
            target,
        )
        .replace("WORKERS: 4", &format!("DB_URL: {{secret_ref: '{id}'}}"))
    };
    let gcp = "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}";
    let c = parse(&with_ref(
        gcp,
        "projects/acme-prod/secrets/db-url/versions/2",
    ))
    .unwrap();
    assert_eq!(
        c.environment["DB_URL"],
        EnvValue::SecretRef("projects/acme-prod/secrets/db-url/versions/2".into())
    );
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-url";
    let found = problems(&with_ref(gcp, arn));
    assert_eq!(found[0].field, "deployment.environment.DB_URL.secret_ref");
    assert!(found[0].expected.contains("projects/PROJECT/secrets/NAME"));
    assert!(parse(&with_ref(ECS, arn)).is_ok());
    let local = problems(&with_ref("provider: local", arn));
    assert_eq!(local[0].field, "deployment.environment.DB_URL.secret_ref");
    assert!(local[0].expected.contains("secret_env"), "{:?}", local[0]);
    let azure = "provider: azure\n    azure: {subscription_id: 00000000-1111-2222-3333-444444444444, resource_group: rg, environment_name: env, key_vault_identity: me}";
    let found = problems(&with_ref(
        azure,
        "https://acme-kv.vault.azure.net/secrets/db-url",
    ));
    assert_eq!(
        found.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(),
        ["deployment.target.azure.key_vault_identity"]
    );
}

#[test]
fn an_agent_block_needs_its_url_container_token_and_a_secret_by_variable() {
    let local = GOOD.replace(
        "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
        "provider: local\n    local: {agent: {url: 'http://10.0.0.5:8443', environment: staging, secret_env: 'not a name'}}",
    );
    let fields: Vec<String> = problems(&local).into_iter().map(|p| p.field).collect();
    for f in [
        "url",
        "container_name",
        "environment",
        "client_id",
        "secret_env",
    ] {
        assert!(
            fields.contains(&format!("deployment.target.local.agent.{f}")),
            "{f} missing from {fields:?}"
        );
    }
    let good = GOOD.replace(
        "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
        "provider: local\n    local: {agent: {url: 'https://agent.dev.example.com', container_name: rt, client_id: ci.access, secret_env: AGENT_SECRET}}",
    );
    let Target::Local(t) = parse(&good).unwrap().target else {
        panic!()
    };
    assert_eq!(t.agent.unwrap().environment, "dev");
}

#[test]
fn policy_tags_are_checked_in_the_config() {
    let latest = GOOD.replace(
        "tag_strategy: semver, version: 1.2.3",
        "tag_strategy: custom, custom_tag: latest",
    );
    assert_eq!(problems(&latest)[0].field, "deployment.registry.custom_tag");
    let bad_version = GOOD.replace("version: 1.2.3", "version: 1.2");
    assert_eq!(
        problems(&bad_version)[0].field,
        "deployment.registry.version"
    );
}

#[test]
fn a_dockerfile_excludes_base_image_and_must_stay_inside_the_context() {
    let both = GOOD.replace(
        "command: [/bin/httpd, -f]",
        "command: [/x], dockerfile: Dockerfile",
    );
    assert!(problems(&both)
        .iter()
        .any(|p| p.field == "deployment.build"));
    let outside = GOOD.replace(
        "base_image: 'busybox:1.36', command: [/bin/httpd, -f]",
        "dockerfile: ../Dockerfile",
    );
    assert!(problems(&outside)
        .iter()
        .any(|p| p.field == "deployment.build.dockerfile"));
}

#[test]
fn a_missing_section_or_bad_yaml_names_the_problem() {
    assert_eq!(problems("other: 1\n")[0].field, "deployment");
    assert_eq!(problems("deployment: [\n")[0].field, "(file)");
}

proptest! {
    #[test]
    fn arbitrary_yaml_never_panics_and_errors_always_name_a_field(text in "[a-z: \\[\\]{},\\n-]{0,120}") {
        if let Err(Error::Invalid { problems, .. }) = parse(&format!("deployment:\n{text}")) {
            prop_assert!(!problems.is_empty());
            prop_assert!(problems.iter().all(|p| !p.field.is_empty() && !p.expected.is_empty()));
        }
    }

    #[test]
    fn service_names_are_accepted_exactly_when_every_provider_accepts_them(name in "[a-zA-Z0-9_-]{0,40}") {
        let yaml = GOOD.replace("service: hello", &format!("service: '{name}'"));
        let ok = parse(&yaml).is_ok();
        let expected = !name.is_empty() && name.len() <= 32
            && name.starts_with(|c: char| c.is_ascii_lowercase()) && !name.ends_with('-')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        prop_assert_eq!(ok, expected);
    }
}

#[test]
fn a_plain_value_that_looks_like_a_secret_is_refused_and_not_echoed() {
    let yaml = GOOD.replace("WORKERS: 4", "PLAIN: \"password=hunter2hunter2\"");
    let found = problems(&yaml);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field, "deployment.environment.PLAIN");
    let shown = format!("{found:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn service_names_follow_the_target_providers_rules() {
    let aws = GOOD
        .replace("service: hello", "service: api")
        .replace("url: 127.0.0.1:5000", "url: 123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        .replace(
            "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
            "provider: aws\n    aws: {region: eu-west-1, ecr_role_arn: 'arn:aws:iam::123456789012:role/r', instance_role_arn: 'arn:aws:iam::123456789012:role/i'}",
        );
    let p = problems(&aws);
    assert_eq!(
        (p.len(), p[0].field.as_str()),
        (1, "deployment.service"),
        "{p:?}"
    );
    assert!(p[0].expected.contains("App Runner"), "{p:?}");
    let azure = GOOD.replace("service: hello", "service: my--app").replace(
        "provider: gcp\n    gcp: {project_id: acme-prod, region: europe-west1}",
        "provider: azure\n    azure: {subscription_id: 00000000-1111-2222-3333-444444444444, resource_group: rg, environment_name: e, location: westeurope}",
    );
    let p = problems(&azure);
    assert!(
        p.iter()
            .any(|p| p.field == "deployment.service" && p.expected.contains("--")),
        "{p:?}"
    );
    assert!(
        parse(&GOOD.replace("service: hello", "service: api")).is_ok(),
        "Cloud Run takes short names"
    );
}
