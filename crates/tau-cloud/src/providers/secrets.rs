//! `secret_env` values on providers that take secrets by reference only (App Runner, ECS
//! Express, Cloud Run): the value is written to the provider's secret manager first, and the
//! service refers to it there, so it never sits in the service's visible configuration.
//!
//! The secret manager's answers decide the references: AWS gives the secret's ARN (with a random
//! suffix), Google the version number added. A dry run cannot know them and shows placeholders.

use serde_json::Value;

use super::{placeholder, ApiRequest, EnvVar, ServiceSpec};
use crate::records::{ManagedSecret, Record};

/// One provider's secret manager, described as requests and answers like [`super::CloudApi`].
pub trait SecretStore {
    /// The name tau gives the secret that holds `var` of `service` (stable across deploys).
    fn name(&self, service: &str, var: &str) -> String;
    /// Creates the secret `name`; on AWS the request carries the value too.
    fn create(&self, service: &str, name: &str, value: &EnvVar) -> ApiRequest;
    /// Whether a failed create means the secret exists already.
    fn exists(&self, status: u16, answer: &Value) -> bool;
    /// Writes a new value to the existing secret `id` (its ARN or resource name).
    fn put(&self, id: &str, value: &EnvVar) -> ApiRequest;
    /// Whether the value is written by [`SecretStore::put`] even after a successful create
    /// (Secret Manager's create makes an empty secret; Secrets Manager's takes the value).
    fn put_after_create(&self) -> bool;
    /// The secret's id (what [`SecretStore::delete`] takes) from a create or put answer.
    fn id(&self, name: &str, answer: &Value) -> Option<String>;
    /// The reference the service gets, from the answer to the write that stored the value.
    fn reference(&self, id: &str, answer: &Value) -> Option<String>;
    /// What a dry run shows for that reference.
    fn placeholder_reference(&self, name: &str, known_id: Option<&str>) -> String;
    fn delete(&self, id: &str) -> ApiRequest;
}

/// The recorded secret of `var`, if an earlier deploy wrote one.
pub(crate) fn recorded<'a>(existing: Option<&'a Record>, var: &str) -> Option<&'a ManagedSecret> {
    existing.and_then(|r| r.secrets.iter().find(|s| s.variable == var))
}

/// A dry run's account of the writes, and the spec the service request will carry (with
/// placeholder references).
pub fn plan(
    store: &dyn SecretStore,
    spec: &ServiceSpec,
    existing: Option<&Record>,
) -> (Vec<ApiRequest>, ServiceSpec) {
    let mut requests = Vec::new();
    let mut out = spec.clone();
    for (name, value) in out.env.iter_mut() {
        if !matches!(value, EnvVar::Secret { .. }) {
            continue;
        }
        let secret = store.name(&spec.service, name);
        let known = recorded(existing, name).map(|s| s.id.as_str());
        match known {
            Some(id) => requests.push(store.put(id, value)),
            None => {
                requests.push(store.create(&spec.service, &secret, value));
                if store.put_after_create() {
                    requests.push(store.put(&secret, value));
                }
            }
        }
        *value = EnvVar::Ref(store.placeholder_reference(&secret, known));
    }
    (requests, out)
}

/// The secrets of `written` (this deploy's) plus those of `existing` whose variable is no longer
/// in the environment, so `destroy` still finds every secret tau created.
pub fn merge(written: Vec<ManagedSecret>, existing: Option<&Record>) -> Vec<ManagedSecret> {
    let mut all = written;
    if let Some(record) = existing {
        for old in &record.secrets {
            if !all.iter().any(|s| s.variable == old.variable) {
                all.push(old.clone());
            }
        }
    }
    all.sort_by(|a, b| a.variable.cmp(&b.variable));
    all
}

/// The placeholder a dry run shows for a value (kept here so every store prints the same).
pub(crate) fn shown(value: &EnvVar) -> String {
    match value {
        EnvVar::Secret { from, value: None } => placeholder(from),
        other => other.wire_value(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProviderKind;

    fn record(secrets: Vec<ManagedSecret>) -> Record {
        Record {
            service: "svc".into(),
            provider: ProviderKind::Aws,
            service_id: "arn".into(),
            url: None,
            image: "i".into(),
            image_digest: String::new(),
            created_at: "t".into(),
            updated_at: "t".into(),
            secrets,
        }
    }

    fn secret(var: &str, created: bool) -> ManagedSecret {
        ManagedSecret {
            variable: var.into(),
            id: format!("id-{var}"),
            created_by_tau: created,
        }
    }

    #[test]
    fn a_secret_dropped_from_the_environment_stays_recorded_for_destroy() {
        let old = record(vec![secret("OLD", true), secret("KEPT", true)]);
        let merged = merge(vec![secret("KEPT", false), secret("NEW", true)], Some(&old));
        let vars: Vec<(&str, bool)> = merged
            .iter()
            .map(|s| (s.variable.as_str(), s.created_by_tau))
            .collect();
        assert_eq!(vars, [("KEPT", false), ("NEW", true), ("OLD", true)]);
    }
}
