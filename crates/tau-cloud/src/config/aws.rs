//! The `aws` block: App Runner (the default, for existing customers) or ECS Express Mode.

use super::fields::{check, Fields, Problems};
use super::provider::{AWS_CPU, AWS_MEMORY, ECS_CPU};
use super::rules::is_region;
use super::*;

fn is_role_arn(s: &str) -> bool {
    s.starts_with("arn:aws") && s.contains(":iam::") && s.contains(":role/")
}

const ROLE: &str = "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)";

fn role(p: &mut Problems, b: &mut Fields, key: &str, required: bool) -> Option<Option<String>> {
    let value = if required {
        b.string(p, key, None)
    } else {
        b.optional_string(p, key)
    };
    match value {
        Some(v) if !check(p, &b.field(key), &v, is_role_arn, ROLE) => None,
        Some(v) => Some(Some(v)),
        None if required => None,
        None => Some(None),
    }
}

pub(super) fn aws(
    p: &mut Problems,
    b: &mut Fields,
    health: Option<String>,
    endpoint: Option<String>,
) -> Option<AwsTarget> {
    let region = b.string(p, "region", Some("us-east-1")).filter(|s| {
        check(
            p,
            "deployment.target.aws.region",
            s,
            is_region,
            "an AWS region such as us-east-1",
        )
    });
    let kind = b.one_of(p, "service", "app-runner", &["app-runner", "ecs-express"]);
    let service = match kind.as_deref() {
        Some("ecs-express") => ecs_express(p, b).map(AwsService::EcsExpress),
        Some(_) => app_runner(p, b).map(AwsService::AppRunner),
        None => None,
    };
    Some(AwsTarget {
        region: region?,
        health_check_path: health?,
        endpoint,
        service: service?,
    })
}

fn app_runner(p: &mut Problems, b: &mut Fields) -> Option<AppRunnerTarget> {
    let cpu = b.one_of(p, "cpu", "1 vCPU", AWS_CPU);
    let memory = b.one_of(p, "memory", "2 GB", AWS_MEMORY);
    let ecr_role = role(p, b, "ecr_role_arn", true);
    let instance_role = role(p, b, "instance_role_arn", false);
    for key in ECS_ONLY {
        if b.get(key).is_some() {
            p.add(
                &b.field(key),
                "no such field with service app-runner (it belongs to service: ecs-express)",
                None,
            );
        }
    }
    Some(AppRunnerTarget {
        cpu: cpu?,
        memory: memory?,
        ecr_role_arn: ecr_role??,
        instance_role_arn: instance_role?,
    })
}

const ECS_ONLY: &[&str] = &[
    "execution_role_arn",
    "infrastructure_role_arn",
    "task_role_arn",
    "cluster",
    "min_tasks",
    "max_tasks",
];

fn ecs_express(p: &mut Problems, b: &mut Fields) -> Option<EcsExpressTarget> {
    let cpu = b.one_of(p, "cpu", "1024", ECS_CPU);
    let memory = b.number(p, "memory", Some(2048), 512, 122_880);
    let execution = role(p, b, "execution_role_arn", true);
    let infrastructure = role(p, b, "infrastructure_role_arn", true);
    let task = role(p, b, "task_role_arn", false);
    let cluster = b.optional_string(p, "cluster");
    let min = b.number(p, "min_tasks", Some(1), 0, 5000);
    let max = b.number(p, "max_tasks", Some(20), 1, 5000);
    if let (Some(min), Some(max)) = (min, max) {
        if min > max {
            p.add(
                "deployment.target.aws.min_tasks",
                format!("at most max_tasks ({max})"),
                Some(min.to_string()),
            );
        }
    }
    for key in ["ecr_role_arn", "instance_role_arn"] {
        if b.get(key).is_some() {
            p.add(
                &b.field(key),
                "no such field with service ecs-express (ECS pulls and reads secrets with execution_role_arn)",
                None,
            );
        }
    }
    Some(EcsExpressTarget {
        cpu: cpu?,
        memory: memory?.to_string(),
        execution_role_arn: execution??,
        infrastructure_role_arn: infrastructure??,
        task_role_arn: task?,
        cluster,
        min_tasks: min? as u32,
        max_tasks: max? as u32,
    })
}
