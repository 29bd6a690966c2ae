//! `tau registry apply FILE`: a YAML or JSON document with `registry_accounts`, `agent_catalog`
//! and (optionally) `k8s_pull_secret_links`, validated whole before anything is written.
//!
//! Ids are optional and stable by name (a UUIDv5 of the natural key), so applying the same file
//! twice changes nothing and two machines agree on ids. A catalog entry names its account by
//! namespace or id. Every text field is checked for secret-looking values first; a refused value
//! is named by its field only.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::{
    AgentCatalog, DeploySpec, EnvValue, K8sPullSecretLink, ManagedBy, Provider, RegistryAccount,
};
use crate::policy::{self, secret, AgentName, RoutingKey, Tag};
use crate::store::{ApplyPlan, Snapshot};
use crate::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyFile {
    #[serde(default)]
    registry_accounts: Vec<AccountInput>,
    #[serde(default)]
    agent_catalog: Vec<CatalogInput>,
    #[serde(default)]
    k8s_pull_secret_links: Vec<LinkInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountInput {
    id: Option<String>,
    provider: String,
    registry_url: String,
    namespace: String,
    credential_ref: Option<String>,
    #[serde(default)]
    read_only: bool,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogInput {
    id: Option<String>,
    agent_name: String,
    service: String,
    role: String,
    repo: String,
    default_tag: Option<String>,
    pinned_tag: Option<String>,
    registry_account: Option<String>,
    #[serde(default)]
    autodeploy_enabled: bool,
    #[serde(default)]
    deploy: DeploySpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkInput {
    id: Option<String>,
    registry_account: String,
    kube_namespace: String,
    secret_name: String,
    last_synced_at: Option<String>,
    managed_by: Option<String>,
}

// Fixed namespace for the name-derived ids (random once, never changed).
const ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1c_2a55_93d4_4b1e_8c3a_70e2_14b9_d05f);

fn stable_id(kind: &str, key: &str) -> String {
    uuid::Uuid::new_v5(&ID_NAMESPACE, format!("{kind}:{key}").as_bytes()).to_string()
}

/// Reads and validates `path` against the current registry contents.
pub fn load(path: &Path, current: &Snapshot, now: &str) -> Result<ApplyPlan> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text, current, now)
}

/// Like [`load`] for text already read; `path` names it in messages and picks JSON (`.json`) or
/// YAML (anything else; YAML also reads JSON).
pub fn parse(path: &Path, text: &str, current: &Snapshot, now: &str) -> Result<ApplyPlan> {
    let input_err = |message: String| Error::Input {
        path: path.to_path_buf(),
        message: secret::redact(&message),
    };
    let file: ApplyFile = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(text).map_err(|e| input_err(e.to_string()))?
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| input_err(e.to_string()))?
    };
    Checker {
        path: path.to_path_buf(),
    }
    .plan(file, current, now)
}

struct Checker {
    path: PathBuf,
}

impl Checker {
    fn source(&self) -> String {
        self.path.display().to_string()
    }

    fn text(&self, field: &str, value: &str) -> Result<()> {
        match secret::detect(value) {
            Some(kind) => Err(Error::SecretRefused {
                source_name: self.source(),
                field: field.to_string(),
                kind,
            }),
            None => Ok(()),
        }
    }

    fn bad(&self, field: &str, message: impl Into<String>) -> Error {
        Error::policy(self.source(), field, message)
    }

    fn id(&self, field: &str, given: Option<&str>, kind: &str, key: &str) -> Result<String> {
        match given {
            Some(id) => uuid::Uuid::parse_str(id)
                .map(|u| u.to_string())
                .map_err(|_| self.bad(field, "expected a UUID (or leave id out for a stable one)")),
            None => Ok(stable_id(kind, key)),
        }
    }

    fn plan(&self, file: ApplyFile, current: &Snapshot, now: &str) -> Result<ApplyPlan> {
        let mut accounts = Vec::new();
        for (i, a) in file.registry_accounts.into_iter().enumerate() {
            accounts.push(self.account(i, a, current, now)?);
        }
        // Accounts in this file first, then those already stored.
        let known: Vec<&RegistryAccount> = accounts
            .iter()
            .chain(
                current
                    .accounts
                    .iter()
                    .filter(|c| !accounts.iter().any(|a| a.id == c.id)),
            )
            .collect();
        let account_id = |field: &str, name: &str| -> Result<String> {
            let matches: Vec<&&RegistryAccount> = known
                .iter()
                .filter(|a| a.id == name || a.namespace == name)
                .collect();
            match matches.as_slice() {
                [one] => Ok(one.id.clone()),
                [] => Err(self.bad(field, "expected the namespace or id of a registry account in this file or already applied")),
                _ => Err(self.bad(field, "names more than one registry account by namespace; use the account's id")),
            }
        };
        let mut catalog = Vec::new();
        for (i, c) in file.agent_catalog.into_iter().enumerate() {
            let f = |name: &str| format!("agent_catalog[{i}].{name}");
            let account = match &c.registry_account {
                Some(name) => {
                    self.text(&f("registry_account"), name)?;
                    Some(account_id(&f("registry_account"), name)?)
                }
                None => None,
            };
            catalog.push(self.catalog(i, c, account, current, now)?);
        }
        let mut links = Vec::new();
        for (i, l) in file.k8s_pull_secret_links.into_iter().enumerate() {
            let f = |name: &str| format!("k8s_pull_secret_links[{i}].{name}");
            self.text(&f("registry_account"), &l.registry_account)?;
            let account = account_id(&f("registry_account"), &l.registry_account)?;
            links.push(self.link(i, l, account)?);
        }
        Ok(ApplyPlan {
            accounts,
            catalog,
            links,
            now: now.to_string(),
        })
    }

    fn account(
        &self,
        i: usize,
        a: AccountInput,
        current: &Snapshot,
        now: &str,
    ) -> Result<RegistryAccount> {
        let f = |name: &str| format!("registry_accounts[{i}].{name}");
        for (name, v) in [
            ("provider", Some(&a.provider)),
            ("registry_url", Some(&a.registry_url)),
            ("namespace", Some(&a.namespace)),
            ("description", a.description.as_ref()),
        ] {
            if let Some(v) = v {
                self.text(&f(name), v)?;
            }
        }
        let provider = Provider::parse(&a.provider)
            .ok_or_else(|| self.bad(&f("provider"), "expected one of ghcr, dockerhub, ecr, gcr"))?;
        if !registry_host(&a.registry_url) {
            return Err(self.bad(
                &f("registry_url"),
                "expected a registry host such as ghcr.io or 127.0.0.1:5000 (no scheme, no path)",
            ));
        }
        if a.namespace.is_empty() || !repo_path(&a.namespace) {
            return Err(self.bad(
                &f("namespace"),
                "expected the registry's org/account name (lowercase path words)",
            ));
        }
        if let Some(cref) = &a.credential_ref {
            match policy::parse_credential_ref(cref) {
                Ok(_) => {}
                Err(Ok(kind)) => {
                    return Err(Error::SecretRefused {
                        source_name: self.source(),
                        field: f("credential_ref"),
                        kind,
                    })
                }
                Err(Err(rule)) => return Err(self.bad(&f("credential_ref"), rule.0)),
            }
        }
        let key = format!("{}/{}", a.registry_url, a.namespace);
        let id = self.id(&f("id"), a.id.as_deref(), "registry_account", &key)?;
        let created_at = current
            .accounts
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| now.to_string(), |c| c.created_at.clone());
        Ok(RegistryAccount {
            id,
            provider,
            registry_url: a.registry_url,
            namespace: a.namespace,
            credential_ref: a.credential_ref,
            read_only: a.read_only,
            description: a.description,
            created_at,
        })
    }

    fn catalog(
        &self,
        i: usize,
        c: CatalogInput,
        account: Option<String>,
        current: &Snapshot,
        now: &str,
    ) -> Result<(AgentCatalog, DeploySpec)> {
        let f = |name: &str| format!("agent_catalog[{i}].{name}");
        for (name, v) in [
            ("agent_name", Some(&c.agent_name)),
            ("service", Some(&c.service)),
            ("role", Some(&c.role)),
            ("repo", Some(&c.repo)),
            ("default_tag", c.default_tag.as_ref()),
            ("pinned_tag", c.pinned_tag.as_ref()),
        ] {
            if let Some(v) = v {
                self.text(&f(name), v)?;
            }
        }
        AgentName::parse(&c.agent_name).map_err(|r| self.bad(&f("agent_name"), r.0))?;
        let key = RoutingKey {
            service: c.service.clone(),
            role: c.role.clone(),
            shard: c.deploy.shard,
            tenant: c.deploy.tenant.clone(),
        };
        key.check().map_err(|(field, r)| self.bad(&f(field), r.0))?;
        if !image_repo(&c.repo) {
            return Err(self.bad(&f("repo"), "expected an image repository without tag or digest, such as ghcr.io/my-org/cogo-agent-core"));
        }
        if let Some(t) = &c.default_tag {
            // A channel name (dev/prod) or a concrete tag; never `latest`.
            if t != "dev" && t != "prod" {
                Tag::parse(t).map_err(|r| {
                    self.bad(
                        &f("default_tag"),
                        format!("expected dev, prod or a tag: {}", r.0),
                    )
                })?;
            }
        }
        if let Some(t) = &c.pinned_tag {
            Tag::parse(t).map_err(|r| self.bad(&f("pinned_tag"), r.0))?;
        }
        self.deploy(&f("deploy"), &c.deploy)?;
        let id = self.id(&f("id"), c.id.as_deref(), "agent", &c.agent_name)?;
        let existing = current
            .catalog
            .iter()
            .find(|(e, _)| e.id == id || e.agent_name == c.agent_name);
        if let Some((e, _)) = existing {
            if e.id != id {
                return Err(self.bad(
                    &f("id"),
                    format!("agent {} is already stored with id {}", c.agent_name, e.id),
                ));
            }
        }
        let created_at = existing.map_or_else(|| now.to_string(), |(e, _)| e.created_at.clone());
        // pinned_tag belongs to rollouts: a file that does not set it keeps the stored one.
        let pinned_tag = c
            .pinned_tag
            .or_else(|| existing.and_then(|(e, _)| e.pinned_tag.clone()));
        Ok((
            AgentCatalog {
                id,
                agent_name: c.agent_name,
                service: c.service,
                role: c.role,
                repo: c.repo,
                default_tag: c.default_tag,
                pinned_tag,
                registry_account_id: account,
                autodeploy_enabled: c.autodeploy_enabled,
                created_at,
                updated_at: now.to_string(),
            },
            c.deploy,
        ))
    }

    fn deploy(&self, f: &str, d: &DeploySpec) -> Result<()> {
        for (name, value) in &d.env {
            let field = format!("{f}.env.{name}");
            if !env_name(name) {
                return Err(self.bad(&field, "expected an environment variable name (letters, digits, '_', not starting with a digit)"));
            }
            match value {
                EnvValue::Plain(v) => self.text(&field, v)?,
                EnvValue::Secret(s) => {
                    if !env_name(&s.secret_env) {
                        return Err(self.bad(
                            &format!("{field}.secret_env"),
                            "expected the name of an environment variable",
                        ));
                    }
                }
            }
        }
        for (name, path) in &d.volumes {
            let field = format!("{f}.volumes.{name}");
            self.text(&field, path)?;
            if !policy::dns_subdomain(name)
                && !name
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
            {
                return Err(self.bad(&field, "expected a volume name"));
            }
            if !path.starts_with('/') {
                return Err(self.bad(&field, "expected an absolute container path"));
            }
        }
        if let Some(s) = &d.k8s_secret {
            self.text(&format!("{f}.k8s_secret"), s)?;
            if !policy::dns_subdomain(s) {
                return Err(self.bad(
                    &format!("{f}.k8s_secret"),
                    "expected a Kubernetes Secret name",
                ));
            }
        }
        let has_secret_env = d.env.values().any(|v| matches!(v, EnvValue::Secret(_)));
        if has_secret_env && d.k8s_secret.is_none() {
            return Err(self.bad(
                &format!("{f}.k8s_secret"),
                "expected a Kubernetes Secret name: an env value uses {secret_env}",
            ));
        }
        Ok(())
    }

    fn link(&self, i: usize, l: LinkInput, account: String) -> Result<K8sPullSecretLink> {
        let f = |name: &str| format!("k8s_pull_secret_links[{i}].{name}");
        self.text(&f("kube_namespace"), &l.kube_namespace)?;
        self.text(&f("secret_name"), &l.secret_name)?;
        if !policy::dns_label(&l.kube_namespace) {
            return Err(self.bad(&f("kube_namespace"), "expected a Kubernetes namespace name"));
        }
        if !policy::dns_subdomain(&l.secret_name) {
            return Err(self.bad(&f("secret_name"), "expected a Kubernetes Secret name"));
        }
        let managed_by = match &l.managed_by {
            Some(m) => ManagedBy::parse(m)
                .ok_or_else(|| self.bad(&f("managed_by"), "expected manual or controller"))?,
            None => ManagedBy::Manual,
        };
        let last_synced_at = match &l.last_synced_at {
            Some(t) => Some(
                crate::time::Utc::parse_rfc3339(t)
                    .ok_or_else(|| self.bad(&f("last_synced_at"), "expected an RFC 3339 time"))?
                    .rfc3339(),
            ),
            None => None,
        };
        let key = format!("{account}/{}/{}", l.kube_namespace, l.secret_name);
        let id = self.id(&f("id"), l.id.as_deref(), "pull_secret_link", &key)?;
        Ok(K8sPullSecretLink {
            id,
            registry_account_id: account,
            kube_namespace: l.kube_namespace,
            secret_name: l.secret_name,
            last_synced_at,
            managed_by,
        })
    }
}

mod names;
#[cfg(test)]
mod tests;

pub use names::resolve_env;
use names::{env_name, repo_path};
pub(crate) use names::{image_repo, registry_host};
