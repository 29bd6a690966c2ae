//! The steps in order (build → push → run, or status, or destroy), each either carried out or,
//! with `--dry-run`, only described.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use serde_json::json;
use tau_cloud::config::{DeploymentConfig, Target};
use tau_cloud::providers::http::{Client, Wait};
use tau_cloud::providers::local::{self, Local};
use tau_cloud::providers::{self, ApiRequest, Observed, ServiceSpec};
use tau_cloud::records::{self, Pushed, Record};

use super::errors::refusal;
use super::plan;
use super::report::Report;
use super::{Common, Step};
use crate::failure::{Refusal, REFUSED, USAGE};
use crate::out::Out;

pub async fn run(step: Step, common: &Common, out: &mut Out) -> Result<ExitCode> {
    let config = plan::load(common)?;
    let records_path = plan::records_path(&config);
    let mut report = Report::new(common);
    report.set("config", json!(config.file));
    report.set("service", json!(config.service));
    report.set("provider", json!(config.target.kind()));
    report.set("dry_run", json!(common.dry_run));
    if common.dry_run {
        report.line("dry run: nothing is built, pushed or deployed, and no file is written".into());
    }
    let mut requests = Vec::new();
    let mut pushed: Option<String> = None;
    if matches!(step, Step::All | Step::Build | Step::Push) {
        pushed = build_and_push(
            step,
            common,
            &config,
            &records_path,
            &mut report,
            &mut requests,
        )
        .await?;
    }
    let mut not_ready = None;
    match step {
        Step::All | Step::Run => {
            let seen = deploy(
                common,
                &config,
                &records_path,
                pushed,
                &mut report,
                &mut requests,
            )
            .await?;
            if let Some(seen) = seen.filter(|s| s.state != providers::State::Ready) {
                not_ready = Some(seen);
            }
        }
        Step::Status => {
            super::manage::status(common, &config, &records_path, &mut report, &mut requests)
                .await?
        }
        Step::Destroy => {
            super::manage::destroy(common, &config, &records_path, &mut report, &mut requests)
                .await?
        }
        Step::Build | Step::Push => {}
    }
    if common.dry_run {
        report.requests(&requests);
    }
    if let Some(seen) = not_ready {
        let r = Refusal::new(
            REFUSED,
            "deploy_not_ready",
            format!(
                "{} was deployed but is not ready after {}s: {}",
                config.service, common.wait_secs, seen.provider_state
            ),
        );
        report.set("error", r.error_object(&[]));
        report.finish(out)?;
        crate::out::warn(&format!("refused: {}", r.message));
        return Ok(ExitCode::from(REFUSED));
    }
    report.finish(out)?;
    Ok(ExitCode::SUCCESS)
}

async fn build_and_push(
    step: Step,
    common: &Common,
    config: &DeploymentConfig,
    records_path: &std::path::Path,
    report: &mut Report,
    requests: &mut Vec<ApiRequest>,
) -> Result<Option<String>> {
    report.stage("packing the build context");
    let build = plan::build(config)?;
    let engine_url = plan::engine_url(common);
    let base = format!("{}/v1.41", engine_url.trim_end_matches('/'));
    let build_req = ApiRequest {
        action: "build the image (the body is the context tar)",
        method: "POST",
        url: format!("{base}/build?t={}", build.image),
        headers: vec![("content-type".into(), "application/x-tar".into())],
        body: Some(
            json!({ "tar_bytes": build.context.tar.len(), "tar_digest": build.context.digest, "files": build.context.files }),
        ),
    };
    let mut build_json = json!({
        "image": build.image,
        "tag": build.tag,
        "dockerfile_source": build.dockerfile_source,
        "dockerfile": build.dockerfile,
        "context_digest": build.context.digest,
        "context_files": build.context.files.len(),
    });
    if common.dry_run {
        report.line(format!("--- Dockerfile ({}) ---", build.dockerfile_source));
        report.line(build.dockerfile.trim_end().to_string());
        report.line(format!(
            "--- build context: {} files, tar {} ---",
            build.context.files.len(),
            build.context.digest
        ));
        report.line(format!("image: {}", build.image));
    }
    requests.push(build_req.clone());
    let engine = if common.dry_run {
        None
    } else {
        Some(plan::engine(common)?)
    };
    if let Some(engine) = &engine {
        report.stage(&format!("building {}", build.image));
        report.sending(&build_req);
        let id = tau_cloud::image::build(engine, &build.context, &build.image)
            .await
            .map_err(refusal)?;
        build_json["image_id"] = json!(id);
        report.line(format!(
            "built {} (image id {id}, context {} files, {})",
            build.image,
            build.context.files.len(),
            build.context.digest
        ));
    }
    report.set("build", build_json);
    if step == Step::Build {
        return Ok(None);
    }
    let (name, tag) = build.image.rsplit_once(':').unwrap_or((&build.image, ""));
    let push_req = ApiRequest {
        action: "push the image",
        method: "POST",
        url: format!("{base}/images/{name}/push?tag={tag}"),
        headers: Vec::new(),
        body: None,
    };
    requests.push(push_req.clone());
    let Some(engine) = &engine else {
        return Ok(Some(build.image));
    };
    report.stage(&format!("pushing {}", build.image));
    report.sending(&push_req);
    let login = tau_cloud::image::registry_credentials(&config.registry).map_err(refusal)?;
    report.line(format!(
        "registry login: {}",
        login.as_ref().map_or("anonymous", |c| c.origin())
    ));
    let digest = tau_cloud::image::push(engine, &build.image, login.as_ref())
        .await
        .map_err(refusal)?;
    let entry = Pushed {
        image: build.image.clone(),
        image_digest: digest.clone(),
        pushed_at: tau_cloud::tag::rfc3339(SystemTime::now()),
    };
    records::record_push(records_path, &config.service, entry.clone()).map_err(refusal)?;
    report.set(
        "push",
        json!({
            "image": build.image,
            "digest": digest,
            "pinned": entry.pinned(),
            "registry_login": login.as_ref().map_or("anonymous", |c| c.origin()),
        }),
    );
    report.line(format!("pushed {} digest {digest}", build.image));
    Ok(Some(entry.pinned()))
}

async fn deploy(
    common: &Common,
    config: &DeploymentConfig,
    records_path: &std::path::Path,
    pushed: Option<String>,
    report: &mut Report,
    requests: &mut Vec<ApiRequest>,
) -> Result<Option<Observed>> {
    let last = || records::last_push(records_path, &config.service).map(|p| p.map(|p| p.pinned()));
    let image = match common.image.clone().or(pushed) {
        Some(image) => image,
        None => last().map_err(refusal)?.ok_or_else(|| {
            Refusal::new(USAGE, "nothing_pushed", format!("no image of {} was pushed yet: run `tau deploy push` first, or give --image REF", config.service))
        })?,
    };
    let existing =
        records::find(records_path, config.target.kind(), &config.service).map_err(refusal)?;
    let spec = ServiceSpec::new(config, &image, !common.dry_run).map_err(refusal)?;
    let wait = Duration::from_secs(common.wait_secs);
    report.stage(&format!(
        "deploying {} to {}",
        config.service,
        config.target.kind()
    ));
    // Secrets tau keeps in the provider's secret manager (ids only), for `destroy`.
    let mut secrets = Vec::new();
    let seen = match &config.target {
        Target::Local(t) if t.agent.is_some() => {
            let agent = t.agent.as_ref().expect("checked by the guard");
            let plan = tau_cloud::providers::agent::plan(agent, &spec);
            requests.extend(plan.iter().cloned());
            if common.dry_run {
                return Ok(None);
            }
            plan.iter().for_each(|r| report.sending(r));
            let client = tau_cloud::providers::agent::client(agent).map_err(refusal)?;
            tau_cloud::providers::agent::deploy(&client, agent, &spec)
                .await
                .map_err(refusal)?
        }
        Target::Local(t) => {
            let port = t.host_port;
            let recorded_port = existing
                .as_ref()
                .and_then(|r| r.url.as_deref())
                .and_then(|u| u.rsplit(':').next())
                .and_then(|p| p.parse().ok());
            let port = if port == 0 {
                recorded_port.unwrap_or(0)
            } else {
                port
            };
            let plan = local::plan(&plan::engine_url(common), &spec, port, existing.is_some());
            requests.extend(plan.iter().cloned());
            if common.dry_run {
                return Ok(None);
            }
            plan.iter().for_each(|r| report.sending(r));
            let engine = plan::engine(common)?;
            let journal = plan::records_path(config)
                .with_file_name(format!("deploy-{}.swap.json", config.service));
            if let Some(dir) = journal.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            Local::new(engine)
                .deploy(&spec, port, wait, &journal)
                .await
                .map_err(refusal)?
        }
        target => {
            let api = providers::cloud_api(target).expect("a cloud target has an API");
            let plan = providers::deploy_plan(api.as_ref(), &spec, existing.as_ref());
            requests.extend(plan.iter().cloned());
            if common.dry_run {
                return Ok(None);
            }
            plan.iter().for_each(|r| report.sending(r));
            let client = Client::connect(target).await.map_err(refusal)?;
            let (spec, written) = match api.secret_store() {
                Some(store) => client
                    .write_secrets(store.as_ref(), &spec, existing.as_ref())
                    .await
                    .map_err(refusal)?,
                None => (spec.clone(), Vec::new()),
            };
            secrets = providers::secrets::merge(written, existing.as_ref());
            client
                .deploy(
                    api.as_ref(),
                    &spec,
                    existing.as_ref(),
                    Wait {
                        timeout: wait,
                        interval: poll_interval(),
                    },
                )
                .await
                .map_err(refusal)?
        }
    };
    let now = tau_cloud::tag::rfc3339(SystemTime::now());
    let digest = image.rsplit_once('@').map_or("", |(_, d)| d).to_string();
    let record = Record {
        service: config.service.clone(),
        provider: config.target.kind(),
        service_id: seen.service_id.clone(),
        url: seen.url.clone(),
        image: image.clone(),
        image_digest: digest,
        created_at: now.clone(),
        updated_at: now,
        secrets,
    };
    let secret_ids: Vec<&str> = record.secrets.iter().map(|s| s.id.as_str()).collect();
    report.set(
        "run",
        json!({ "image": image, "updated": existing.is_some(), "observed": seen, "secrets": secret_ids }),
    );
    records::upsert(records_path, record).map_err(refusal)?;
    let verb = if existing.is_some() {
        "updated"
    } else {
        "deployed"
    };
    report.line(format!(
        "{verb} {} on {}: {} ({:?}) {}",
        config.service,
        config.target.kind(),
        seen.url.as_deref().unwrap_or("(no URL yet)"),
        seen.state,
        seen.provider_state
    ));
    Ok(Some(seen))
}

/// How often `run` asks whether the service is ready; `TAU_CLOUD_POLL_MS` shortens it in tests.
fn poll_interval() -> Duration {
    let ms = std::env::var("TAU_CLOUD_POLL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    Duration::from_millis(ms)
}
