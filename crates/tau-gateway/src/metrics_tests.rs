use super::*;

fn deployment() -> Deployment {
    Deployment {
        uptime_seconds: 1.5,
        state_readable: true,
        gate_pass: false,
        health_state: Some("degraded"),
        health_states: vec!["healthy", "degraded", "failing"],
        failure_streak: 2,
        queue_depth: u64::MAX,
        state_age_seconds: None,
    }
}

#[test]
fn histograms_are_cumulative_and_counted_by_status() {
    let m = Metrics::default();
    m.record("/gateway/status", 200, Duration::from_micros(300));
    m.record("/gateway/status", 200, Duration::from_millis(3));
    m.record("/gateway/status", 503, Duration::from_secs(2));
    let out = m.encode(&deployment()).unwrap();
    assert!(
        out.contains("tau_gateway_requests_total{route=\"/gateway/status\",status=\"200\"} 2\n"),
        "{out}"
    );
    assert!(
        out.contains("tau_gateway_requests_total{route=\"/gateway/status\",status=\"503\"} 1\n")
    );
    assert!(out.contains("le=\"0.0005\"} 1\n"), "{out}");
    assert!(out.contains("le=\"0.005\"} 2\n"));
    assert!(out.contains("le=\"1\"} 2\n"));
    assert!(out.contains("le=\"+Inf\"} 3\n"));
    assert!(
        out.contains("tau_gateway_request_duration_seconds_count{route=\"/gateway/status\"} 3\n")
    );
}

#[test]
fn deployment_gauges_keep_their_names_and_saturate() {
    let out = Metrics::default().encode(&deployment()).unwrap();
    for line in [
        "tau_deployment_rollout_gate 0\n",
        "tau_deployment_state_readable 1\n",
        "tau_deployment_health_state{state=\"degraded\"} 1\n",
        "tau_deployment_health_state{state=\"healthy\"} 0\n",
        "tau_deployment_failure_streak 2\n",
        "tau_deployment_queue_depth 9223372036854775807\n",
        "tau_deployment_state_age_seconds -1",
        "# TYPE tau_gateway_uptime_seconds gauge\n",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
}

#[test]
fn the_exposition_is_byte_stable_across_scrapes() {
    let m = Metrics::default();
    for (route, status) in [
        ("/metrics", 200),
        ("/gateway/status", 503),
        ("unmatched", 404),
    ] {
        for code in [status, 200, 201, 404] {
            m.record(route, code, Duration::from_millis(1));
        }
    }
    let _open = m.admit(Admission::Full);
    m.admit(Admission::Refused);
    m.timed_out(Clock::Header);
    let first = m.encode(&deployment()).unwrap();
    for _ in 0..20 {
        assert_eq!(m.encode(&deployment()).unwrap(), first);
    }
    assert!(first.contains("tau_gateway_connections_total{admission=\"refused\"} 1\n"));
    assert!(first.contains("tau_gateway_connection_timeouts_total{clock=\"header\"} 1\n"));
    assert!(
        first.contains("tau_gateway_open_connections 1\n"),
        "{first}"
    );
}

#[test]
fn a_dropped_connection_guard_closes_the_connection() {
    let m = Metrics::default();
    drop(m.admit(Admission::Reserve));
    assert!(m
        .encode(&deployment())
        .unwrap()
        .contains("tau_gateway_open_connections 0\n"));
}
