//! `tau registry manifests AGENT`: the Kubernetes Deployment of a catalog entry, built from
//! k8s-openapi's typed structs so only a well-formed object can be printed.
//!
//! The image is pinned by digest (`repo:tag@sha256:…`); the routing key goes in as plain
//! `AGENT_SERVICE`/`AGENT_ROLE`/`AGENT_SHARD` (and `AGENT_TENANT`); every `{secret_env: NAME}`
//! becomes a `secretKeyRef` into the entry's `deploy.k8s_secret` under the variable's kebab-case
//! name, so no secret value is ever part of a manifest. `imagePullSecrets` come from the
//! account's `k8s_pull_secret_links`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, LocalObjectReference, PodSpec, PodTemplateSpec,
    SecretKeySelector,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::model::{AgentEntry, EnvValue, ImageTagHistory};
use crate::policy::kebab_case;
use crate::{Error, Result};

/// The Deployment for `entry` running `row` (a recorded tag with its digest).
pub fn deployment(
    entry: &AgentEntry,
    row: &ImageTagHistory,
    namespace: Option<&str>,
) -> Result<Deployment> {
    let c = &entry.catalog;
    let digest = row.digest.as_ref().ok_or_else(|| {
        Error::refused(
            "digest_missing",
            format!(
                "{} tag {} has no recorded digest; record it with `tau registry tag record`",
                c.agent_name, row.tag
            ),
        )
    })?;
    let labels = BTreeMap::from([("app".to_string(), c.agent_name.clone())]);
    let mut env = vec![
        plain("AGENT_SERVICE", &c.service),
        plain("AGENT_ROLE", &c.role),
        plain("AGENT_SHARD", &entry.deploy.shard.to_string()),
    ];
    if let Some(t) = &entry.deploy.tenant {
        env.push(plain("AGENT_TENANT", t));
    }
    for (name, value) in &entry.deploy.env {
        if matches!(
            name.as_str(),
            "AGENT_SERVICE" | "AGENT_ROLE" | "AGENT_SHARD" | "AGENT_TENANT"
        ) {
            continue;
        }
        env.push(match value {
            EnvValue::Plain(v) => plain(name, v),
            EnvValue::Secret(_) => {
                let secret = entry.deploy.k8s_secret.clone().ok_or_else(|| {
                    Error::refused("k8s_secret_missing", format!("{}: deploy.env.{name} uses secret_env but deploy.k8s_secret is not set", c.agent_name))
                })?;
                EnvVar {
                    name: name.clone(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector { name: secret, key: kebab_case(name), optional: None }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
            }
        });
    }
    let pull_secrets: Vec<LocalObjectReference> = entry
        .pull_secret_links
        .iter()
        .filter(|l| namespace.is_none_or(|ns| ns == l.kube_namespace))
        .map(|l| LocalObjectReference {
            name: l.secret_name.clone(),
        })
        .collect();
    Ok(Deployment {
        metadata: ObjectMeta {
            name: Some(c.agent_name.clone()),
            namespace: namespace.map(str::to_string),
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([
                ("tau.dev/tag".to_string(), row.tag.clone()),
                ("tau.dev/trace-id".to_string(), row.trace_id.clone()),
            ])),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: c.role.clone(),
                        image: Some(format!("{}:{}@{digest}", c.repo, row.tag)),
                        env: Some(env),
                        ..Default::default()
                    }],
                    image_pull_secrets: (!pull_secrets.is_empty()).then_some(pull_secrets),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn plain(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        ..Default::default()
    }
}

/// The Deployment as YAML.
pub fn to_yaml(d: &Deployment) -> String {
    serde_yaml_ng::to_string(d).expect("a typed Deployment serializes")
}
