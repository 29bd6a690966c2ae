use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::{error, trace_id, Agent};
use crate::audit::{AuditedRequest, Entry};
use crate::client::IDEMPOTENCY_KEY_HEADER;
use crate::idempotency::{self, Lookup, Stored};
use crate::swap::{self, FailureClass};
use crate::wire::{DeployRequest, Deployed, ErrorBody, StepReport};

/// One deploy attempt, from authentication to the audit record.
struct Attempt {
    started: Instant,
    who: String,
    trace_id: Option<String>,
    idempotency_key: Option<String>,
    request: Option<DeployRequest>,
}

/// The answer and what the audit log and metrics need to know about it.
struct Answer {
    http_status: u16,
    body: serde_json::Value,
    result: &'static str,
    image_digest: Option<String>,
    restored: Option<bool>,
    steps: Vec<StepReport>,
}

impl Answer {
    fn refused(status: u16, reason: impl Into<String>) -> Answer {
        Answer::from_error(status, ErrorBody::new(reason))
    }

    fn from_error(status: u16, body: ErrorBody) -> Answer {
        Answer {
            http_status: status,
            result: if status < 500 { "refused" } else { "failed" },
            image_digest: None,
            restored: body.restored,
            steps: body.steps.clone(),
            body: to_value(&body),
        }
    }
}

fn to_value(body: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(body).expect("API bodies serialize")
}

/// `POST /v1/deploy`.
pub(super) async fn deploy(
    State(agent): State<Arc<Agent>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let who = match agent.auth.check(&headers) {
        Ok(who) => who,
        Err(denied) => {
            // Unauthenticated callers are counted, not audited: the log records what known
            // callers asked for, and cannot be flooded by anyone who reaches the port.
            agent.metrics.deploy("denied");
            return error(denied.status, ErrorBody::new(denied.reason));
        }
    };
    let mut attempt = Attempt {
        started,
        who,
        trace_id: trace_id(&headers),
        idempotency_key: None,
        request: None,
    };
    // The swap runs in its own task: a caller that disconnects (or times out) mid-swap drops
    // this handler, and a swap cancelled between stopping the old container and settling the
    // new one would leave the host without its runtime until the next start-up. The task
    // always finishes, audits and answers into the void if nobody listens.
    let task = tokio::spawn(async move {
        let answer = answer(&agent, &headers, &body, &mut attempt).await;
        finish(&agent, attempt, answer)
    });
    match task.await {
        Ok(response) => response,
        Err(e) => error(
            500,
            ErrorBody::new(format!("the deploy task failed inside the agent: {e}")),
        ),
    }
}

async fn answer(agent: &Agent, headers: &HeaderMap, body: &[u8], attempt: &mut Attempt) -> Answer {
    if !is_json(headers) {
        return Answer::refused(
            415,
            "Content-Type must be application/json for POST /v1/deploy",
        );
    }
    let request = match parse(body) {
        Ok(r) => r,
        Err(reason) => return Answer::refused(400, reason),
    };
    attempt.request = Some(request.clone());
    match headers.get(IDEMPOTENCY_KEY_HEADER).map(|v| v.to_str()) {
        None => {}
        Some(Ok(key)) if (1..=200).contains(&key.len()) => {
            attempt.idempotency_key = Some(key.to_string())
        }
        Some(_) => {
            return Answer::refused(
                400,
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
        }
    }
    let image = match crate::rules::check(&agent.config, &request) {
        Ok(image) => image,
        Err(refusal) => return Answer::refused(refusal.status, refusal.reason),
    };
    if let Some(replay) = replay(agent, attempt, &request) {
        return replay;
    }
    let _in_process = agent.deploy_lock.lock().await;
    let _on_host = match host_lock(agent).await {
        Ok(lock) => lock,
        Err(reason) => return Answer::refused(503, reason),
    };
    // A retry with the same key may have waited for the first attempt's lock.
    if let Some(replay) = replay(agent, attempt, &request) {
        return replay;
    }
    let plan = swap::Plan {
        container_name: agent.config.container_name.clone(),
        image,
        env: request.env.clone(),
        volumes: request.volumes.clone(),
        ports: agent.config.ports.clone(),
        settle: agent.config.settle,
        stop_timeout: agent.config.stop_timeout,
        health_url: agent.config.health_url.clone(),
        labels: BTreeMap::from([(
            "io.tau.agent.environment".to_string(),
            agent.config.environment.as_str().to_string(),
        )]),
    };
    let journal = agent.config.journal_path();
    let answer = match swap::replace(&agent.engine, &journal, &plan).await {
        Ok(outcome) => {
            let steps: Vec<StepReport> = outcome.steps.iter().map(report).collect();
            let engine_ms: u64 = steps.iter().map(|s| s.duration_ms).sum();
            let elapsed = u64::try_from(attempt.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let deployed = Deployed {
                status: "deployed".into(),
                container_name: request.container_name.clone(),
                image: request.image.clone(),
                environment: request.environment,
                image_digest: outcome.image_digest.clone(),
                replaced: outcome.replaced.clone(),
                steps: steps.clone(),
                agent_overhead_ms: Some(elapsed.saturating_sub(engine_ms)),
                trace_id: attempt.trace_id.clone(),
            };
            Answer {
                http_status: 200,
                body: to_value(&deployed),
                result: "deployed",
                image_digest: outcome.image_digest,
                restored: None,
                steps,
            }
        }
        Err(failure) => {
            let status = match failure.class {
                FailureClass::Refused => 422,
                FailureClass::Engine => 502,
                FailureClass::Container => 500,
            };
            Answer::from_error(
                status,
                ErrorBody {
                    status: "error".into(),
                    reason: failure.reason.clone(),
                    step: Some(step_name(&failure.step)),
                    restored: Some(failure.restored),
                    steps: failure.steps.iter().map(report).collect(),
                },
            )
        }
    };
    if let Some(key) = &attempt.idempotency_key {
        let stored = Stored {
            http_status: answer.http_status,
            body: answer.body.clone(),
        };
        if let Err(e) = agent.idempotency.store(key, &request, &stored) {
            let mut body = ErrorBody::new(format!(
                "the deploy finished with HTTP {} but its idempotency record could not be stored ({e}); check GET /v1/status before retrying",
                answer.http_status
            ));
            body.steps = answer.steps.clone();
            return Answer::from_error(500, body);
        }
    }
    answer
}

fn replay(agent: &Agent, attempt: &Attempt, request: &DeployRequest) -> Option<Answer> {
    let key = attempt.idempotency_key.as_deref()?;
    match agent.idempotency.lookup(key, request) {
        Ok(Lookup::New) => None,
        Ok(Lookup::Replay(stored)) => Some(Answer {
            http_status: stored.http_status,
            result: "replayed",
            image_digest: stored
                .body
                .get("image_digest")
                .and_then(|d| d.as_str())
                .map(str::to_string),
            restored: None,
            steps: Vec::new(),
            body: stored.body,
        }),
        Ok(Lookup::Conflict) => Some(Answer::refused(
            422,
            "Idempotency-Key was first used with a different request: use a new key for a new deploy",
        )),
        Err(e) => Some(Answer::refused(
            500,
            format!("idempotency store: {e}"),
        )),
    }
}

async fn host_lock(agent: &Agent) -> Result<tau_durable::lock::DirLock, String> {
    let dir = agent.config.state_dir.join("deploy-lock");
    tokio::task::spawn_blocking(move || {
        tau_durable::lock::DirLock::acquire(&dir, tau_durable::lock::Wait::Block(&mut |_| {}))
    })
    .await
    .map_err(|e| format!("host deploy lock: {e}"))?
    .map_err(|e| format!("host deploy lock: {e}"))
}

fn step_name(step: &swap::StepName) -> String {
    match serde_json::to_value(step) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{step:?}"),
    }
}

fn report(step: &swap::Step) -> StepReport {
    StepReport {
        step: step_name(&step.step),
        ok: step.ok,
        duration_ms: step.duration_ms,
        detail: step.detail.clone(),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses the body, naming the field at fault. Errors inside `env` never quote serde's message,
/// which could echo a value (a secret).
fn parse(body: &[u8]) -> Result<DeployRequest, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let request: DeployRequest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "env" || path.starts_with("env.") {
            "request body: field `env` must be an object of NAME: \"string value\" pairs".into()
        } else if path == "." {
            format!("request body: {}", e.inner())
        } else {
            format!("request body: field `{path}`: {}", e.inner())
        }
    })?;
    de.end()
        .map_err(|_| "request body: trailing characters after the JSON object".to_string())?;
    Ok(request)
}

fn finish(agent: &Agent, attempt: Attempt, answer: Answer) -> Response {
    let metric = match answer.result {
        "replayed" | "deployed" => "deployed",
        other => other,
    };
    if answer.result != "replayed" {
        agent.metrics.deploy(metric);
        for step in &answer.steps {
            agent.metrics.step(&step.step, step.ok, step.duration_ms);
        }
    }
    let entry = Entry {
        at_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0),
        who: attempt.who,
        trace_id: attempt.trace_id,
        idempotency_key_sha256: attempt
            .idempotency_key
            .as_deref()
            .map(idempotency::key_digest),
        request: attempt.request.as_ref().map(AuditedRequest::of),
        result: answer.result.to_string(),
        http_status: answer.http_status,
        reason: answer
            .body
            .get("reason")
            .and_then(|r| r.as_str())
            .map(str::to_string),
        image_digest: answer.image_digest,
        restored: answer.restored,
        steps: answer.steps,
    };
    let audited = match agent.audit.lock() {
        Ok(mut log) => log.append(entry).map_err(|e| e.to_string()),
        Err(_) => Err("audit log lock poisoned".to_string()),
    };
    if let Err(why) = audited {
        return error(
            500,
            ErrorBody::new(format!(
                "the request was handled (HTTP {}) but its audit record could not be written: {why}; check GET /v1/status",
                answer.http_status
            )),
        );
    }
    let code =
        StatusCode::from_u16(answer.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(answer.body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_is_named() {
        let err = parse(br#"{"container_name":"c","image":"i:1","environment":"dev","cmd":"sh"}"#)
            .unwrap_err();
        assert!(err.contains("`cmd`"), "{err}");
    }

    #[test]
    fn a_malformed_env_never_echoes_its_value() {
        let err = parse(
            br#"{"container_name":"c","image":"i:1","environment":"dev","env":"DATABASE_URL=hunter2"}"#,
        )
        .unwrap_err();
        assert!(err.contains("`env`") && !err.contains("hunter2"), "{err}");
        let err = parse(
            br#"{"container_name":"c","image":"i:1","environment":"dev","env":{"A":["hunter2"]}}"#,
        )
        .unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn content_type_must_be_json_with_or_without_parameters() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&h));
        h.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(is_json(&h));
    }
}
