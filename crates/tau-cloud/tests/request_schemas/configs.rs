//! Any config tau accepts, through the config parser and the providers' request builders, yields
//! bodies the published schemas accept.

use serde_json::Value;
use tau_cloud::providers::{EnvVar, ServiceSpec};

use crate::schema_check::check_operation;
use crate::DIGEST;

/// The schema operation each target's create/update body is checked against, by the index
/// [`target_block`] takes.
fn body_operations(provider: usize) -> (&'static str, [&'static str; 2]) {
    match provider {
        0 => ("aws-apprunner.json", ["CreateService", "UpdateService"]),
        1 => (
            "gcp-run-v2.json",
            [
                "run.projects.locations.services.create",
                "run.projects.locations.services.patch",
            ],
        ),
        2 => (
            "azure-containerapps.json",
            [
                "ContainerApps_CreateOrUpdate",
                "ContainerApps_CreateOrUpdate",
            ],
        ),
        _ => (
            "aws-ecs-express.json",
            ["CreateExpressGatewayService", "UpdateExpressGatewayService"],
        ),
    }
}

/// What a deploy puts in place of a `secret_env` value on providers that take secrets by
/// reference, once the secret manager has stored it.
fn stored_reference(provider: usize) -> Option<&'static str> {
    match provider {
        0 | 3 => Some("arn:aws:secretsmanager:eu-west-1:123456789012:secret:tau/x/V-AbCdEf"),
        1 => Some("projects/acme-prod/secrets/tau-x-v/versions/1"),
        _ => None,
    }
}

fn target_block(provider: usize, sizes: (usize, usize)) -> String {
    let pick = |list: &[&'static str], i: usize| list[i % list.len()];
    match provider {
        0 => format!(
            "provider: aws\n    aws: {{region: eu-west-1, ecr_role_arn: 'arn:aws:iam::123456789012:role/AppRunnerECRAccess', instance_role_arn: 'arn:aws:iam::123456789012:role/hello', cpu: '{}', memory: '{}'}}",
            pick(&["0.25 vCPU", "0.5 vCPU", "1 vCPU", "2 vCPU", "4 vCPU"], sizes.0),
            pick(&["0.5 GB", "1 GB", "2 GB", "3 GB", "4 GB", "6 GB", "8 GB", "10 GB", "12 GB"], sizes.1)
        ),
        1 => format!(
            "provider: gcp\n    gcp: {{project_id: acme-prod, region: europe-west1, cpu: '{}', memory: '{}', min_instances: 1, max_instances: 7, concurrency: 250}}",
            pick(&["1000m", "1", "2", "4", "8"], sizes.0),
            pick(&["128Mi", "512Mi", "1Gi", "4Gi", "32Gi"], sizes.1)
        ),
        3 => format!(
            "provider: aws\n    aws: {{region: eu-west-1, service: ecs-express, execution_role_arn: 'arn:aws:iam::123456789012:role/exec', infrastructure_role_arn: 'arn:aws:iam::123456789012:role/infra', cpu: '{}', memory: {}, min_tasks: 1, max_tasks: 5}}",
            pick(&["256", "512", "1024", "2048", "4096", "8192", "16384"], sizes.0),
            pick(&["512", "1024", "2048", "4096", "8192", "30720"], sizes.1)
        ),
        _ => format!(
            "provider: azure\n    azure: {{subscription_id: 00000000-1111-2222-3333-444444444444, resource_group: rg-prod, environment_name: env-prod, location: westeurope, cpu: '{}', memory: '{}', min_replicas: 0, max_replicas: 30}}",
            pick(&["0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75", "2"], sizes.0),
            pick(&["0.5Gi", "1Gi", "1.5Gi", "2Gi", "4Gi"], sizes.1)
        ),
    }
}

const REGISTRIES: [&str; 4] = [
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "europe-docker.pkg.dev",
    "acme.azurecr.io",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 192, ..Default::default() })]

    /// Any config tau accepts yields create and update bodies the provider's schema accepts.
    #[test]
    fn every_accepted_config_builds_requests_the_schema_accepts(
        service in "[a-z]([a-z0-9-]{0,30}[a-z0-9])?",
        provider in 0usize..4,
        sizes in (0usize..16, 0usize..16),
        port in 1u16..=65535,
        health in "/[a-z0-9/_-]{0,20}",
        var in "[A-Z][A-Z0-9_]{0,20}",
    ) {
        let registry = REGISTRIES[provider];
        let target = target_block(provider, sizes);
        let target = target.trim_end_matches('}');
        let yaml = format!(
            "deployment:\n  service: {service}\n  registry: {{url: '{registry}', repository: org/hello}}\n  target:\n    {target}, health_check_path: '{health}'}}\n  port: {port}\n  environment:\n    {var}: plain\n    {var}_S: {{secret_env: SOME_SECRET}}\n  build: {{context: ., base_image: 'busybox:1.36', command: [httpd, -f]}}\n",
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tau.yaml");
        let config = match tau_cloud::config::DeploymentConfig::parse(&file, &yaml) {
            Ok(c) => c,
            Err(e) => {
                // Only the generated values tau refuses on purpose may fail here.
                let text = e.to_string();
                proptest::prop_assert!(text.contains("(1 problem)") && text.contains("deployment.service"), "{text}\n{yaml}");
                return Ok(());
            }
        };
        let image = format!("{registry}/acme-prod/org/hello@{DIGEST}");
        let mut spec = ServiceSpec::new(&config, &image, false).unwrap();
        if let Some(reference) = stored_reference(provider) {
            for (_, value) in spec.env.iter_mut() {
                if matches!(value, EnvVar::Secret { .. }) {
                    *value = EnvVar::Ref(reference.into());
                }
            }
        }
        let api = tau_cloud::providers::cloud_api(&config.target).unwrap();
        let (file, [create, update]) = body_operations(provider);
        let id = api.id_after_deploy(&spec, &Value::Null).unwrap_or_else(|| "arn:aws:apprunner:eu-west-1:123456789012:service/x/1".into());
        for (op, req) in [(create, api.create(&spec)), (update, api.update(&spec, &id))] {
            let problems = check_operation(file, op, req.body.as_ref().unwrap());
            proptest::prop_assert!(problems.is_empty(), "{op}: {problems:#?}\n{yaml}");
        }
    }
}
