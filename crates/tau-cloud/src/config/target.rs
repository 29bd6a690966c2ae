//! The `target:` block and the chosen provider's own block.

use serde_yaml_ng::{Mapping, Value};

use super::fields::{check, quote, Fields, Problems};
use super::provider::AZURE_CPU;
use super::rules::*;
use super::*;

pub(super) fn target(p: &mut Problems, t: &mut Fields) -> Option<Target> {
    let provider = t
        .string(p, "provider", None)
        .and_then(|s| match s.as_str() {
            "local" => Some(ProviderKind::Local),
            "aws" => Some(ProviderKind::Aws),
            "gcp" => Some(ProviderKind::Gcp),
            "azure" => Some(ProviderKind::Azure),
            _ => {
                p.add(
                    "deployment.target.provider",
                    "one of local, aws, gcp, azure",
                    Some(quote(&s)),
                );
                None
            }
        });
    // Blocks of the providers not chosen are allowed (switching target is one line), but checked
    // only when chosen.
    for kind in ProviderKind::ALL {
        if Some(kind) != provider {
            t.get(kind.as_str());
        }
    }
    let Some(provider) = provider else {
        t.finish(p);
        return None;
    };
    let required = provider != ProviderKind::Local;
    let block = t.mapping(p, provider.as_str(), required);
    t.finish(p);
    let empty = Value::Mapping(Mapping::new());
    let mut b = match block {
        Some(b) => b,
        None if required => return None,
        None => Fields::new(p, "deployment.target.local", &empty)?,
    };
    let health = b
        .string(p, "health_check_path", Some("/health"))
        .filter(|s| {
            check(
                p,
                &format!("{}.health_check_path", b.path),
                s,
                is_http_path,
                "an absolute URL path such as /health",
            )
        });
    let endpoint = if provider == ProviderKind::Local {
        None
    } else {
        b.optional_string(p, "endpoint")
    };
    let endpoint = endpoint.filter(|e| {
        check(
            p,
            &format!("{}.endpoint", b.path),
            e,
            |e| e.starts_with("http://") || e.starts_with("https://"),
            "an http(s) base URL",
        )
    });
    let target = match provider {
        ProviderKind::Local => {
            let host_port = b.number(p, "host_port", Some(0), 0, 65535);
            let agent = b
                .mapping(p, "agent", false)
                .and_then(|mut a| agent(p, &mut a));
            let agent_given = b.map.get("agent").is_some_and(|v| !v.is_null());
            if agent_given && agent.is_none() {
                return None;
            }
            Some(Target::Local(LocalTarget {
                health_check_path: health?,
                host_port: host_port? as u16,
                agent,
            }))
        }
        ProviderKind::Aws => super::aws::aws(p, &mut b, health, endpoint).map(Target::Aws),
        ProviderKind::Gcp => {
            let project = b.string(p, "project_id", None).filter(|s| {
                check(
                    p,
                    "deployment.target.gcp.project_id",
                    s,
                    is_project_id,
                    "a Google Cloud project id (6 to 30 lowercase letters, digits or '-')",
                )
            });
            let region = b.string(p, "region", Some("us-central1")).filter(|s| {
                check(
                    p,
                    "deployment.target.gcp.region",
                    s,
                    is_region,
                    "a Cloud Run region such as us-central1",
                )
            });
            let memory = b.string(p, "memory", Some("512Mi")).filter(|s| {
                check(
                    p,
                    "deployment.target.gcp.memory",
                    s,
                    |s| is_quantity(s, &["Mi", "Gi"]),
                    "a memory quantity such as 512Mi or 2Gi",
                )
            });
            let cpu = b.string(p, "cpu", Some("1000m")).filter(|s| {
                check(
                    p,
                    "deployment.target.gcp.cpu",
                    s,
                    is_cpu,
                    "a CPU quantity such as 1000m, 1 or 2",
                )
            });
            let concurrency = b.number(p, "concurrency", Some(80), 1, 1000);
            let min = b.number(p, "min_instances", Some(0), 0, 1000);
            let max = b.number(p, "max_instances", Some(100), 1, 1000);
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    p.add(
                        "deployment.target.gcp.min_instances",
                        format!("at most max_instances ({max})"),
                        Some(min.to_string()),
                    );
                }
            }
            Some(Target::Gcp(GcpTarget {
                project_id: project?,
                region: region?,
                memory: memory?,
                cpu: cpu?,
                concurrency: concurrency? as u32,
                min_instances: min? as u32,
                max_instances: max? as u32,
                health_check_path: health?,
                endpoint,
            }))
        }
        ProviderKind::Azure => {
            let sub = b.string(p, "subscription_id", None).filter(|s| {
                check(
                    p,
                    "deployment.target.azure.subscription_id",
                    s,
                    is_uuid,
                    "a subscription id (a GUID)",
                )
            });
            let rg = b.string(p, "resource_group", None).filter(|s| {
                check(
                    p,
                    "deployment.target.azure.resource_group",
                    s,
                    is_resource_group,
                    "a resource group name (1 to 90 letters, digits, '-', '_', '.', '(' or ')')",
                )
            });
            let env = b.string(p, "environment_name", None).filter(|s| {
                check(
                    p,
                    "deployment.target.azure.environment_name",
                    s,
                    is_service_name,
                    "a Container Apps environment name (lowercase letters, digits, '-')",
                )
            });
            let location = b.string(p, "location", Some("eastus")).filter(|s| {
                check(
                    p,
                    "deployment.target.azure.location",
                    s,
                    |s| {
                        !s.is_empty()
                            && s.bytes()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    },
                    "an Azure location such as eastus",
                )
            });
            let cpu = b.one_of(p, "cpu", "0.5", AZURE_CPU);
            let memory = b.string(p, "memory", Some("1Gi")).filter(|s| {
                check(
                    p,
                    "deployment.target.azure.memory",
                    s,
                    |s| is_quantity(s, &["Gi"]),
                    "a memory quantity in Gi such as 1Gi or 1.5Gi",
                )
            });
            let min = b.number(p, "min_replicas", Some(1), 0, 1000);
            let max = b.number(p, "max_replicas", Some(10), 1, 1000);
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    p.add(
                        "deployment.target.azure.min_replicas",
                        format!("at most max_replicas ({max})"),
                        Some(min.to_string()),
                    );
                }
            }
            let identity = b
                .string(p, "key_vault_identity", Some("system"))
                .filter(|s| {
                    check(
                        p,
                        "deployment.target.azure.key_vault_identity",
                        s,
                        |s| {
                            s == "system"
                                || (s.starts_with("/subscriptions/")
                                    && s.contains("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"))
                        },
                        "system or a user-assigned identity's resource id (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)",
                    )
                });
            Some(Target::Azure(AzureTarget {
                subscription_id: sub?,
                resource_group: rg?,
                environment_name: env?,
                location: location?,
                cpu: cpu?,
                memory: memory?,
                min_replicas: min? as u32,
                max_replicas: max? as u32,
                key_vault_identity: identity?,
                health_check_path: health?,
                endpoint,
            }))
        }
    };
    b.finish(p);
    target
}

fn agent(p: &mut Problems, a: &mut Fields) -> Option<AgentTarget> {
    let url = a.string(p, "url", None).filter(|u| {
        check(
            p,
            "deployment.target.local.agent.url",
            u,
            |u| {
                u.starts_with("https://")
                    || u.starts_with("http://127.")
                    || u.starts_with("http://localhost")
            },
            "the agent's https:// URL (http:// only on loopback)",
        )
    });
    let container = a.string(p, "container_name", None);
    let environment = a.string(p, "environment", Some("dev")).filter(|e| {
        check(
            p,
            "deployment.target.local.agent.environment",
            e,
            |e| e == "dev" || e == "prod",
            "dev or prod",
        )
    });
    let client_id = a.string(p, "client_id", None);
    let secret_env = a.string(p, "secret_env", None).filter(|s| {
        check(
            p,
            "deployment.target.local.agent.secret_env",
            s,
            is_env_name,
            "the name of the environment variable holding the service token secret",
        )
    });
    a.finish(p);
    Some(AgentTarget {
        url: url?,
        container_name: container?,
        environment: environment?,
        client_id: client_id?,
        secret_env: secret_env?,
    })
}
