use std::time::Duration;

use axum::body::Body;
use hyper::service::Service;
use hyper_util::service::TowerToHyperService;

use super::*;

fn shared(config: Config) -> Arc<Shared> {
    Arc::new(Shared {
        cache: Cache::new(config.state_dir.clone(), config.status_cache),
        started: Instant::now(),
        metrics: Arc::new(Metrics::default()),
        config,
    })
}

async fn call(app: Router, path: &str) -> (StatusCode, String) {
    let request = axum::http::Request::get(path).body(Body::empty()).unwrap();
    let response = TowerToHyperService::new(app).call(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(start_paused = true)]
async fn a_handler_past_the_request_timeout_is_answered_503_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().to_path_buf());
    config.request_timeout = Duration::from_millis(50);
    let shared = shared(config);
    let app = Router::new()
        .route(
            "/gateway/status",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .layer(middleware::from_fn_with_state(shared.clone(), account))
        .with_state(shared.clone());
    let (status, body) = call(app, "/gateway/status").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, r#"{"error":"request_timeout"}"#);
    let deployment = metrics::Deployment {
        uptime_seconds: 0.0,
        state_readable: true,
        gate_pass: false,
        health_state: None,
        health_states: Vec::new(),
        failure_streak: 0,
        queue_depth: 0,
        state_age_seconds: None,
    };
    assert!(shared
        .metrics
        .encode(&deployment)
        .unwrap()
        .contains("tau_gateway_requests_total{route=\"/gateway/status\",status=\"503\"} 1\n"));
}

#[tokio::test]
async fn a_reserve_connection_answers_liveness_and_refuses_every_other_route() {
    let dir = tempfile::tempdir().unwrap();
    let shared = shared(Config::new(dir.path().to_path_buf()));
    let reserve = || reserve_routes(&shared);
    assert_eq!(
        call(reserve(), "/gateway/health/live").await.0,
        StatusCode::OK
    );
    for path in [
        "/gateway/status",
        "/metrics",
        "/gateway/health/ready",
        "/nope",
    ] {
        let (status, body) = call(reserve(), path).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":"connection_limit"}"#
            ),
            "{path}"
        );
    }
}
