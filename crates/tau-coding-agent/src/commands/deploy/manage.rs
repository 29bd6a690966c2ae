//! `tau deploy status` and `tau deploy destroy`: both start from the service's record.

use anyhow::Result;
use serde_json::json;
use tau_cloud::config::{DeploymentConfig, Target};
use tau_cloud::providers::http::Client;
use tau_cloud::providers::local::Local;
use tau_cloud::providers::{self, ApiRequest};
use tau_cloud::records::{self, Record};

use super::errors::refusal;
use super::plan;
use super::report::Report;
use super::Common;
use crate::failure::{Refusal, USAGE};

fn recorded(config: &DeploymentConfig, records_path: &std::path::Path) -> Result<Record> {
    records::find(records_path, config.target.kind(), &config.service)
        .map_err(refusal)?
        .ok_or_else(|| {
            Refusal::new(
                USAGE,
                "not_deployed",
                format!(
                    "{} has no record of {} on {}: deploy it first with `tau deploy`",
                    records_path.display(),
                    config.service,
                    config.target.kind()
                ),
            )
            .with("records", records_path.display().to_string())
            .into()
        })
}

/// The Deploy Agent's `GET /v1/status`, as the request log shows it.
fn agent_status(action: &'static str, agent_url: &str) -> ApiRequest {
    ApiRequest {
        action,
        method: "GET",
        url: format!("{}/v1/status", agent_url.trim_end_matches('/')),
        headers: Vec::new(),
        body: None,
    }
}

/// Logs `req` and, unless this is a dry run (`None`), announces it and connects to the target's
/// API to send it.
async fn cloud_client(
    common: &Common,
    target: &Target,
    req: ApiRequest,
    report: &mut Report,
    requests: &mut Vec<ApiRequest>,
) -> Result<Option<Client>> {
    requests.push(req.clone());
    if common.dry_run {
        return Ok(None);
    }
    report.sending(&req);
    Ok(Some(Client::connect(target).await.map_err(refusal)?))
}

pub async fn status(
    common: &Common,
    config: &DeploymentConfig,
    records_path: &std::path::Path,
    report: &mut Report,
    requests: &mut Vec<ApiRequest>,
) -> Result<()> {
    let record = recorded(config, records_path)?;
    report.set("record", json!(record));
    report.stage(&format!(
        "asking {} about {}",
        config.target.kind(),
        config.service
    ));
    let seen = match &config.target {
        Target::Local(t) if t.agent.is_some() => {
            let agent = t.agent.as_ref().expect("checked by the guard");
            let req = agent_status("ask the Deploy Agent", &agent.url);
            requests.push(req.clone());
            if common.dry_run {
                return Ok(());
            }
            report.sending(&req);
            let client = tau_cloud::providers::agent::client(agent).map_err(refusal)?;
            tau_cloud::providers::agent::status(&client)
                .await
                .map_err(refusal)?
        }
        Target::Local(_) => {
            if common.dry_run {
                let base = format!("{}/v1.41", plan::engine_url(common).trim_end_matches('/'));
                requests.push(ApiRequest {
                    action: "inspect the container",
                    method: "GET",
                    url: format!("{base}/containers/{}/json", record.service_id),
                    headers: Vec::new(),
                    body: None,
                });
                return Ok(());
            }
            let engine = plan::engine(common)?;
            Local::new(engine)
                .status(
                    &record.service_id,
                    record.url.as_deref(),
                    config.health_check_path(),
                )
                .await
                .map_err(refusal)?
        }
        target => {
            let api = providers::cloud_api(target).expect("a cloud target has an API");
            let req = api.get(&record.service_id);
            let Some(client) = cloud_client(common, target, req, report, requests).await? else {
                return Ok(());
            };
            client
                .status(api.as_ref(), &record.service_id)
                .await
                .map_err(refusal)?
        }
    };
    report.set("status", json!(seen));
    report.line(format!(
        "{} on {}: {:?} ({}) url {} image {} digest {}",
        config.service,
        config.target.kind(),
        seen.state,
        seen.provider_state,
        seen.url.as_deref().unwrap_or("-"),
        record.image,
        if record.image_digest.is_empty() {
            "-"
        } else {
            &record.image_digest
        }
    ));
    Ok(())
}

pub async fn destroy(
    common: &Common,
    config: &DeploymentConfig,
    records_path: &std::path::Path,
    report: &mut Report,
    requests: &mut Vec<ApiRequest>,
) -> Result<()> {
    let record = recorded(config, records_path)?;
    report.stage(&format!(
        "destroying {} on {}",
        config.service,
        config.target.kind()
    ));
    match &config.target {
        Target::Local(t) if t.agent.is_some() => {
            let agent = t.agent.as_ref().expect("checked by the guard");
            requests.push(agent_status(
                "ask the Deploy Agent whether it still runs the container",
                &agent.url,
            ));
            if common.dry_run {
                return Ok(());
            }
            let client = tau_cloud::providers::agent::client(agent).map_err(refusal)?;
            tau_cloud::providers::agent::destroy(&client, agent)
                .await
                .map_err(refusal)?;
        }
        Target::Local(_) => {
            let base = format!("{}/v1.41", plan::engine_url(common).trim_end_matches('/'));
            requests.push(ApiRequest {
                action: "stop the container",
                method: "POST",
                url: format!("{base}/containers/{}/stop?t=10", record.service_id),
                headers: Vec::new(),
                body: None,
            });
            requests.push(ApiRequest {
                action: "remove the container",
                method: "DELETE",
                url: format!("{base}/containers/{}", record.service_id),
                headers: Vec::new(),
                body: None,
            });
            if common.dry_run {
                return Ok(());
            }
            let engine = plan::engine(common)?;
            Local::new(engine)
                .destroy(&record.service_id)
                .await
                .map_err(refusal)?;
        }
        target => {
            let api = providers::cloud_api(target).expect("a cloud target has an API");
            let req = api.delete(&record.service_id);
            let store = api.secret_store();
            // The secrets tau created go with the service; the others stay (and are named).
            let created: Vec<_> = record.secrets.iter().filter(|s| s.created_by_tau).collect();
            let kept: Vec<&str> = record
                .secrets
                .iter()
                .filter(|s| !s.created_by_tau)
                .map(|s| s.id.as_str())
                .collect();
            let secret_requests: Vec<ApiRequest> = match &store {
                Some(store) => created.iter().map(|s| store.delete(&s.id)).collect(),
                None => Vec::new(),
            };
            let Some(client) = cloud_client(common, target, req, report, requests).await? else {
                requests.extend(secret_requests);
                return Ok(());
            };
            client
                .destroy(api.as_ref(), &record.service_id)
                .await
                .map_err(refusal)?;
            if let Some(store) = &store {
                secret_requests.iter().for_each(|r| report.sending(r));
                let deleted = client
                    .delete_secrets(store.as_ref(), &record.secrets)
                    .await
                    .map_err(refusal)?;
                report.set("secrets", json!({ "deleted": deleted, "kept": kept }));
                for id in &kept {
                    report.line(format!(
                        "kept secret {id}: it existed before tau wrote to it; delete it yourself if nothing else uses it"
                    ));
                }
            }
        }
    }
    records::remove(records_path, config.target.kind(), &config.service).map_err(refusal)?;
    report.set(
        "destroy",
        json!({ "service_id": record.service_id, "destroyed": true }),
    );
    report.line(format!(
        "destroyed {} on {} ({})",
        config.service,
        config.target.kind(),
        record.service_id
    ));
    Ok(())
}
