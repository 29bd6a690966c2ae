//! The hand-written walk over the YAML tree that collects every problem.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::fields::{check, kind, quote, Fields, Problems};
use super::rules::*;
use super::*;

pub(super) fn parse(
    file: &Path,
    text: &str,
) -> std::result::Result<DeploymentConfig, Vec<Problem>> {
    let mut p = Problems::default();
    let root: Value = match serde_yaml_ng::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            p.add("(file)", "valid YAML", Some(e.to_string()));
            return Err(p.0);
        }
    };
    let Some(section) = root.as_mapping().and_then(|m| m.get("deployment")) else {
        p.add(
            "deployment",
            "a `deployment:` mapping at the top level",
            None,
        );
        return Err(p.0);
    };
    let Some(mut d) = Fields::new(&mut p, "deployment", section) else {
        return Err(p.0);
    };
    let service = d.string(&mut p, "service", None).filter(|s| {
        check(&mut p, "deployment.service", s, is_service_name,
            "a service name of 1 to 32 lowercase letters, digits or '-', starting with a letter and not ending with '-'")
    });
    let registry = d
        .mapping(&mut p, "registry", true)
        .and_then(|mut r| registry(&mut p, &mut r));
    let target = d
        .mapping(&mut p, "target", true)
        .and_then(|mut t| super::target::target(&mut p, &mut t));
    let port = d
        .number(&mut p, "port", Some(8080), 1, 65535)
        .map(|n| n as u16);
    let environment = environment(&mut p, &mut d);
    let build = d
        .mapping(&mut p, "build", true)
        .and_then(|mut b| build(&mut p, &mut b, file));
    d.finish(&mut p);
    cross_checks(
        &mut p,
        registry.as_ref(),
        target.as_ref(),
        environment.as_ref(),
    );
    if let (Some(s), Some(t)) = (&service, &target) {
        super::rules::service_name(&mut p, s, t);
    }
    match (service, registry, target, port, environment, build) {
        (
            Some(service),
            Some(registry),
            Some(target),
            Some(port),
            Some(environment),
            Some(build),
        ) if p.0.is_empty() => Ok(DeploymentConfig {
            file: file.to_path_buf(),
            service,
            registry,
            target,
            port,
            environment,
            build,
        }),
        _ => Err(p.0),
    }
}

fn registry(p: &mut Problems, r: &mut Fields) -> Option<RegistryConfig> {
    let url =
        r.string(p, "url", None).filter(|u| {
            check(p, "deployment.registry.url", u, is_registry_host,
            "a registry host with an optional port and no scheme or path (ghcr.io, 127.0.0.1:5000)")
        });
    let repository = r.string(p, "repository", None).filter(|s| {
        check(
            p,
            "deployment.registry.repository",
            s,
            is_repository,
            "a repository path of lowercase components separated by '/' (org/app)",
        )
    });
    let strategy = r
        .string(p, "tag_strategy", Some("git-sha"))
        .and_then(|s| match s.as_str() {
            "semver" => Some(TagStrategy::Semver),
            "git-sha" => Some(TagStrategy::GitSha),
            "timestamp" => Some(TagStrategy::Timestamp),
            "custom" => Some(TagStrategy::Custom),
            _ => {
                p.add(
                    "deployment.registry.tag_strategy",
                    "one of semver, git-sha, timestamp, custom",
                    Some(quote(&s)),
                );
                None
            }
        });
    let custom_tag = r.optional_string(p, "custom_tag");
    let version = r.optional_string(p, "version");
    let prefix = r.optional_string(p, "credentials_env_prefix").filter(|s| {
        check(p, "deployment.registry.credentials_env_prefix", s, |s| is_env_name(s) && s.bytes().all(|b| !b.is_ascii_lowercase()),
            "an upper-case environment variable prefix (REGISTRY gives REGISTRY_USERNAME and REGISTRY_PASSWORD)")
    });
    r.finish(p);
    let strategy = strategy?;
    match strategy {
        TagStrategy::Custom => match &custom_tag {
            None => p.add(
                "deployment.registry.custom_tag",
                "a tag, required with tag_strategy: custom",
                None,
            ),
            Some(t) => {
                if let Err(why) = crate::tag::check_custom(t) {
                    p.add("deployment.registry.custom_tag", why, Some(quote(t)));
                }
            }
        },
        TagStrategy::Semver => match &version {
            None => p.add(
                "deployment.registry.version",
                "a release version X.Y.Z, required with tag_strategy: semver",
                None,
            ),
            Some(v) if crate::tag::parse_semver(v).is_none() => p.add(
                "deployment.registry.version",
                "a release version X.Y.Z (digits only, e.g. 1.4.0)",
                Some(quote(v)),
            ),
            Some(_) => {}
        },
        _ => {}
    }
    Some(RegistryConfig {
        url: url?,
        repository: repository?,
        tag_strategy: strategy,
        custom_tag,
        version,
        credentials_env_prefix: prefix,
    })
}

fn environment(p: &mut Problems, d: &mut Fields) -> Option<BTreeMap<String, EnvValue>> {
    let mut out = BTreeMap::new();
    let Some(value) = d.get("environment") else {
        return Some(out);
    };
    let Some(map) = value.as_mapping() else {
        p.add(
            "deployment.environment",
            "a mapping of variable names to values, {secret_env: NAME} or {secret_ref: ID}",
            Some(kind(value)),
        );
        return None;
    };
    let before = p.0.len();
    for (key, value) in map {
        let Some(name) = key.as_str() else {
            p.add(
                "deployment.environment",
                "variable names as strings",
                Some(kind(key)),
            );
            continue;
        };
        let field = format!("deployment.environment.{name}");
        if !is_env_name(name) {
            p.add(
                &field,
                "a variable name of letters, digits and '_', not starting with a digit",
                None,
            );
        }
        let parsed = match value {
            Value::String(s) => Some(EnvValue::Plain(s.clone())),
            Value::Number(n) => Some(EnvValue::Plain(n.to_string())),
            Value::Bool(b) => Some(EnvValue::Plain(b.to_string())),
            Value::Mapping(m) if m.len() == 1 && m.get("secret_ref").is_some() => {
                match m.get("secret_ref").and_then(Value::as_str) {
                    Some(id) if !id.is_empty() => Some(EnvValue::SecretRef(id.to_string())),
                    _ => {
                        p.add(
                            &format!("{field}.secret_ref"),
                            "the id of a secret in the provider's secret manager",
                            None,
                        );
                        None
                    }
                }
            }
            Value::Mapping(m) if m.len() == 1 && m.get("secret_env").is_some() => {
                match m.get("secret_env").and_then(Value::as_str) {
                    Some(var) if is_env_name(var) => Some(EnvValue::SecretEnv(var.to_string())),
                    _ => {
                        p.add(
                            &format!("{field}.secret_env"),
                            "the name of an environment variable of the deploying process",
                            None,
                        );
                        None
                    }
                }
            }
            other => {
                p.add(
                    &field,
                    "a string, number, boolean, {secret_env: NAME} or {secret_ref: ID}",
                    Some(kind(other)),
                );
                None
            }
        };
        if let Some(EnvValue::Plain(value)) = &parsed {
            if looks_secret(name) {
                // The value is deliberately not echoed: it is probably the secret itself.
                p.add(&field, "a reference {secret_env: NAME} (a variable named like a secret must not hold a literal value)",
                    Some("a literal value (not shown)".into()));
                continue;
            }
            // The registry policy's detector, so that both commands refuse the same values.
            if let Some(what) = tau_registry::policy::secret::detect(value) {
                p.add(
                    &field,
                    "a reference {secret_env: NAME} (secrets are never written in the config)",
                    Some(format!(
                        "a literal value that looks like {what} (not shown)"
                    )),
                );
                continue;
            }
        }
        if let Some(v) = parsed {
            out.insert(name.to_string(), v);
        }
    }
    (p.0.len() == before).then_some(out)
}

fn build(p: &mut Problems, b: &mut Fields, file: &Path) -> Option<BuildConfig> {
    let context = b.string(p, "context", Some(".")).map(PathBuf::from);
    let base = b.optional_string(p, "base_image");
    let command = b.get("command").and_then(|v| match v.as_sequence().map(|s| s.iter().map(|i| i.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()) {
        Some(Some(c)) if !c.is_empty() => Some(c),
        _ => {
            p.add("deployment.build.command", "a non-empty list of strings (exec form: [\"/app/server\", \"--port\", \"8080\"])", Some(kind(v)));
            None
        }
    });
    let has_command = b.map.contains_key("command");
    let dockerfile = b.optional_string(p, "dockerfile").map(PathBuf::from);
    b.finish(p);
    let context = context?;
    let dir = file.parent().unwrap_or(Path::new("")).join(&context);
    if !dir.is_dir() {
        p.add(
            "deployment.build.context",
            "an existing directory (relative to the config file)",
            Some(quote(&context.display().to_string())),
        );
    }
    if let Some(base) = &base {
        if let Err(why) = crate::tag::check_base_image(base) {
            p.add("deployment.build.base_image", why, Some(quote(base)));
        }
    }
    let source = match (base, dockerfile) {
        (Some(_), Some(_)) => {
            p.add(
                "deployment.build",
                "either base_image (+ command) or dockerfile, not both",
                None,
            );
            return None;
        }
        (None, Some(path)) => {
            if has_command {
                p.add(
                    "deployment.build.command",
                    "no command with dockerfile (the Dockerfile's CMD applies)",
                    None,
                );
            }
            if path.is_absolute()
                || path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                p.add(
                    "deployment.build.dockerfile",
                    "a path inside the build context",
                    Some(quote(&path.display().to_string())),
                );
            } else if dir.is_dir() && !dir.join(&path).is_file() {
                p.add(
                    "deployment.build.dockerfile",
                    "an existing file in the build context",
                    Some(quote(&path.display().to_string())),
                );
            }
            BuildSource::Dockerfile(path)
        }
        (Some(base_image), None) => {
            if !has_command {
                p.add(
                    "deployment.build.command",
                    "the service's command as a list of strings (required with base_image)",
                    None,
                );
            }
            BuildSource::Generated {
                base_image,
                command: command?,
            }
        }
        (None, None) => {
            p.add(
                "deployment.build",
                "base_image and command (tau writes the Dockerfile) or dockerfile",
                None,
            );
            return None;
        }
    };
    Some(BuildConfig { context, source })
}

/// Rules that join two parts of the config: the registry or the environment against the target.
fn cross_checks(
    p: &mut Problems,
    registry: Option<&RegistryConfig>,
    target: Option<&Target>,
    environment: Option<&BTreeMap<String, EnvValue>>,
) {
    let Some(target) = target else { return };
    if let Some(env) = environment {
        for (name, value) in env {
            if let EnvValue::SecretRef(id) = value {
                if let Some(expected) = super::secret_ref::problem(target.kind(), id) {
                    p.add(
                        &format!("deployment.environment.{name}.secret_ref"),
                        expected,
                        Some(quote(id)),
                    );
                }
            }
        }
    }
    let Target::Aws(aws) = target else { return };
    let uses_secrets = environment.is_some_and(|e| e.values().any(EnvValue::is_secret));
    let ecr = registry.map(|r| {
        r.url == "public.ecr.aws"
            || (r.url.contains(".dkr.ecr.") && r.url.ends_with(".amazonaws.com"))
    });
    match &aws.service {
        AwsService::AppRunner(ar) => {
            if let (Some(false), Some(r)) = (ecr, registry) {
                // App Runner pulls from ECR only; any other registry fails at deploy time, after the push.
                p.add(
                    "deployment.registry.url",
                    "an Amazon ECR registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com or public.ecr.aws) with App Runner: it pulls from ECR only",
                    Some(quote(&r.url)),
                );
            }
            if uses_secrets && ar.instance_role_arn.is_none() {
                p.add(
                    "deployment.target.aws.instance_role_arn",
                    "an IAM role ARN (required when the environment has secret_env or secret_ref: App Runner reads the secrets with the instance role)",
                    None,
                );
            }
        }
        AwsService::EcsExpress(_) => {
            if let (Some(false), Some(r)) = (ecr, registry) {
                if r.credentials_env_prefix.is_some() {
                    p.add(
                        "deployment.registry.credentials_env_prefix",
                        "none with ECS Express and a registry other than ECR (ECS pulls private non-ECR images with a Secrets Manager secret tau does not manage; use ECR or a public image)",
                        None,
                    );
                }
            }
        }
    }
}
