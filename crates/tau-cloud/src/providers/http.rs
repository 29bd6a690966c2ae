//! Runs a [`CloudApi`]'s conversation over HTTPS: signs or authorizes each request, reads the
//! answers, and waits for the service to settle.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tracing::Instrument;

use super::auth;
use super::secrets::{recorded, SecretStore};
use super::{ApiRequest, CloudApi, EnvVar, Observed, ServiceSpec, State};
use crate::config::{ProviderKind, Target};
use crate::records::{ManagedSecret, Record};
use crate::{Error, Result};

enum Auth {
    SigV4 {
        identity: aws_smithy_runtime_api::client::identity::Identity,
        region: String,
    },
    Bearer(auth::Token),
}

/// An authorized client for one provider.
pub struct Client {
    http: reqwest::Client,
    auth: Auth,
    provider: &'static str,
}

/// How long to wait for a deployed service to become ready, and how often to ask.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    pub timeout: Duration,
    pub interval: Duration,
}

impl Client {
    /// Reads the target provider's credentials (exchanging them for a token where needed).
    pub async fn connect(target: &Target) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Provider {
                provider: "http",
                message: e.to_string(),
            })?;
        let env = auth::Env::process();
        let (auth, provider) = match target {
            Target::Local(_) => {
                return Err(Error::Provider {
                    provider: "local",
                    message: "the local target has no cloud API".into(),
                })
            }
            Target::Aws(t) => {
                let identity = auth::aws::credentials(&env, &t.region).await?.into();
                (
                    Auth::SigV4 {
                        identity,
                        region: t.region.clone(),
                    },
                    "aws",
                )
            }
            Target::Gcp(_) => (Auth::Bearer(auth::gcp::token(&env, &http).await?), "gcp"),
            Target::Azure(_) => (
                Auth::Bearer(auth::azure::token(&env, &http).await?),
                "azure",
            ),
        };
        Ok(Client {
            http,
            auth,
            provider,
        })
    }

    /// Sends `req`; any HTTP status comes back with the parsed body (`Null` when empty), so the
    /// caller decides what a 404 or 409 means.
    pub async fn send(&self, req: &ApiRequest) -> Result<(u16, Value)> {
        let body = match &req.body {
            Some(v) => serde_json::to_vec(v).unwrap_or_default(),
            None => Vec::new(),
        };
        let transport = |message: String| Error::Transport {
            provider: self.provider,
            method: req.method.to_string(),
            url: req.url.clone(),
            message,
        };
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| transport(e.to_string()))?;
        let mut builder = self.http.request(method, &req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        match &self.auth {
            Auth::Bearer(token) => builder = builder.bearer_auth(token.secret()),
            Auth::SigV4 { identity, region } => {
                for (k, v) in sign(req, &body, identity, region).map_err(transport)? {
                    builder = builder.header(k, v);
                }
            }
        }
        let answer = builder
            .body(body)
            .send()
            .await
            .map_err(|e| transport(e.to_string()))?;
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await.map_err(|e| transport(e.to_string()))?;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, value))
    }

    fn api_error(&self, req: &ApiRequest, status: u16, body: &Value) -> Error {
        // AWS puts the reason in `message`/`Message`, Google in `error.message`, ARM in `error.message`.
        let message = [
            &body["error"]["message"],
            &body["message"],
            &body["Message"],
            &body["error"],
        ]
        .iter()
        .find_map(|v| v.as_str())
        .unwrap_or("no error message in the answer")
        .to_string();
        Error::Api {
            provider: self.provider,
            method: req.method.into(),
            url: req.url.clone(),
            status,
            message,
        }
    }

    async fn expect(&self, req: &ApiRequest) -> Result<Value> {
        let (status, body) = self.send(req).await?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(self.api_error(req, status, &body))
        }
    }

    /// Creates or updates the service and waits (up to `wait.timeout`) for it to be ready.
    pub async fn deploy(
        &self,
        api: &dyn CloudApi,
        spec: &ServiceSpec,
        existing: Option<&Record>,
        wait: Wait,
    ) -> Result<Observed> {
        let span =
            tracing::info_span!("deploy.run", provider = %api.kind(), service = %spec.service);
        async move {
            let id = match existing {
                Some(record) => {
                    let answer = self.expect(&api.update(spec, &record.service_id)).await?;
                    api.id_after_deploy(spec, &answer)
                        .unwrap_or_else(|| record.service_id.clone())
                }
                None => {
                    let create = api.create(spec);
                    let (status, answer) = self.send(&create).await?;
                    if (200..300).contains(&status) {
                        api.id_after_deploy(spec, &answer)
                            .ok_or_else(|| self.api_error(&create, status, &answer))?
                    } else if let Some(id) = api.existing_on_conflict(spec, status, &answer) {
                        tracing::info!(%id, "service exists already; updating it");
                        self.expect(&api.update(spec, &id)).await?;
                        id
                    } else {
                        return Err(self.api_error(&create, status, &answer));
                    }
                }
            };
            self.settle(api, &id, wait).await
        }
        .instrument(span)
        .await
    }

    async fn settle(&self, api: &dyn CloudApi, id: &str, wait: Wait) -> Result<Observed> {
        let start = Instant::now();
        loop {
            let seen = self.status(api, id).await?;
            match seen.state {
                State::Ready => return Ok(seen),
                State::Failed | State::Missing => {
                    return Err(Error::Provider {
                        provider: self.provider,
                        message: format!(
                            "service {id} did not become ready: {}",
                            seen.provider_state
                        ),
                    })
                }
                State::Pending if start.elapsed() >= wait.timeout => return Ok(seen),
                State::Pending => tokio::time::sleep(wait.interval).await,
            }
        }
    }

    /// The service's current state; a 404 is [`State::Missing`], not an error.
    pub async fn status(&self, api: &dyn CloudApi, id: &str) -> Result<Observed> {
        let req = api.get(id);
        let (status, body) = self.send(&req).await?;
        let missing = status == 404
            || (status == 400
                && api.kind() == ProviderKind::Aws
                && body["__type"].as_str().is_some_and(|t| {
                    t.contains("ResourceNotFound") || t.contains("ServiceNotFound")
                }));
        if missing {
            return Ok(Observed {
                service_id: id.to_string(),
                url: None,
                state: State::Missing,
                provider_state: "not found".into(),
            });
        }
        if !(200..300).contains(&status) {
            return Err(self.api_error(&req, status, &body));
        }
        Ok(api.observe(id, &body))
    }

    /// Writes each `secret_env` value of `spec` to `store` and returns the spec with references
    /// in their place, and the secrets written. A secret tau recorded earlier gets a new value;
    /// otherwise it is created, and one that exists already (not created by tau, as far as
    /// tau knows) gets the value written to it.
    pub async fn write_secrets(
        &self,
        store: &dyn SecretStore,
        spec: &ServiceSpec,
        existing: Option<&Record>,
    ) -> Result<(ServiceSpec, Vec<ManagedSecret>)> {
        let mut out = spec.clone();
        let mut written = Vec::new();
        for (var, value) in out.env.iter_mut() {
            if !matches!(value, EnvVar::Secret { .. }) {
                continue;
            }
            let name = store.name(&spec.service, var);
            let (id, created, answer) = match recorded(existing, var) {
                Some(known) => {
                    let answer = self.expect(&store.put(&known.id, value)).await?;
                    (known.id.clone(), known.created_by_tau, answer)
                }
                None => {
                    let create = store.create(&spec.service, &name, value);
                    let (status, answer) = self.send(&create).await?;
                    let created = (200..300).contains(&status);
                    if !created && !store.exists(status, &answer) {
                        return Err(self.api_error(&create, status, &answer));
                    }
                    if created && !store.put_after_create() {
                        let id = store
                            .id(&name, &answer)
                            .ok_or_else(|| self.api_error(&create, status, &answer))?;
                        (id, true, answer)
                    } else {
                        let put = store.put(&name, value);
                        let answer = self.expect(&put).await?;
                        let id = store
                            .id(&name, &answer)
                            .ok_or_else(|| self.api_error(&put, 200, &answer))?;
                        (id, created, answer)
                    }
                }
            };
            let reference = store
                .reference(&id, &answer)
                .ok_or_else(|| Error::Provider {
                    provider: self.provider,
                    message: format!("the secret manager's answer for {name} names no version"),
                })?;
            written.push(ManagedSecret {
                variable: var.clone(),
                id,
                created_by_tau: created,
            });
            *value = EnvVar::Ref(reference);
        }
        Ok((out, written))
    }

    /// Deletes the secrets tau created (one already gone counts as deleted) and returns the ids
    /// deleted; secrets tau only wrote a value to are left in place.
    pub async fn delete_secrets(
        &self,
        store: &dyn SecretStore,
        secrets: &[ManagedSecret],
    ) -> Result<Vec<String>> {
        let mut deleted = Vec::new();
        for secret in secrets.iter().filter(|s| s.created_by_tau) {
            let req = store.delete(&secret.id);
            let (status, body) = self.send(&req).await?;
            let gone = status == 404
                || body["__type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("ResourceNotFoundException"));
            if !(200..300).contains(&status) && !gone {
                return Err(self.api_error(&req, status, &body));
            }
            deleted.push(secret.id.clone());
        }
        Ok(deleted)
    }

    /// Deletes the service; one that is already gone counts as deleted.
    pub async fn destroy(&self, api: &dyn CloudApi, id: &str) -> Result<()> {
        let req = api.delete(id);
        let (status, body) = self.send(&req).await?;
        if (200..300).contains(&status) || status == 404 {
            Ok(())
        } else {
            Err(self.api_error(&req, status, &body))
        }
    }
}

fn sign(
    req: &ApiRequest,
    body: &[u8],
    identity: &aws_smithy_runtime_api::client::identity::Identity,
    region: &str,
) -> std::result::Result<Vec<(String, String)>, String> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(super::aws::signing_name(req))
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers = req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let signable = SignableRequest::new(req.method, &req.url, headers, SignableBody::Bytes(body))
        .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}
