//! Prometheus text exposition: request counts and latency by route, and the deployment gauges.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Default)]
struct Route {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Request counters and latency histograms, per route.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<&'static str, Route>>,
}

impl Metrics {
    /// Records one request.
    pub fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let r = routes.entry(route).or_default();
        *r.by_status.entry(status).or_default() += 1;
        r.count += 1;
        r.sum_seconds += seconds;
        for (slot, bound) in r.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *slot += 1;
            }
        }
    }

    /// Appends the request metrics in Prometheus text format.
    pub fn render_requests(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(
            "# HELP tau_gateway_requests_total HTTP requests served, by route and status.\n",
        );
        out.push_str("# TYPE tau_gateway_requests_total counter\n");
        for (route, r) in routes.iter() {
            for (status, n) in &r.by_status {
                let _ = writeln!(
                    out,
                    "tau_gateway_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP tau_gateway_request_duration_seconds Time to serve a request, by route.\n",
        );
        out.push_str("# TYPE tau_gateway_request_duration_seconds histogram\n");
        for (route, r) in routes.iter() {
            for (bound, n) in BUCKETS.iter().zip(r.buckets) {
                let _ = writeln!(
                    out,
                    "tau_gateway_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "tau_gateway_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                r.count
            );
            let _ = writeln!(
                out,
                "tau_gateway_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                r.sum_seconds
            );
            let _ = writeln!(
                out,
                "tau_gateway_request_duration_seconds_count{{route=\"{route}\"}} {}",
                r.count
            );
        }
    }
}

/// Appends one gauge with its help and type lines.
pub fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counted_by_status() {
        let m = Metrics::default();
        m.record("/gateway/status", 200, Duration::from_micros(300));
        m.record("/gateway/status", 200, Duration::from_millis(3));
        m.record("/gateway/status", 503, Duration::from_secs(2));
        let mut out = String::new();
        m.render_requests(&mut out);
        assert!(
            out.contains("tau_gateway_requests_total{route=\"/gateway/status\",status=\"200\"} 2")
        );
        assert!(
            out.contains("tau_gateway_requests_total{route=\"/gateway/status\",status=\"503\"} 1")
        );
        assert!(out.contains("le=\"0.0005\"} 1"));
        assert!(out.contains("le=\"0.005\"} 2"));
        assert!(out.contains("le=\"1\"} 2"));
        assert!(out.contains("le=\"+Inf\"} 3"));
        assert!(
            out.contains("tau_gateway_request_duration_seconds_count{route=\"/gateway/status\"} 3")
        );
    }
}
