//! `/metrics` for operators (Prometheus text via `prometheus-client`): deploys by result, swap
//! step durations, status requests.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    step: String,
    ok: &'static str,
}

fn step_histogram() -> Histogram {
    // 5 ms .. ~80 s: a settle wait is seconds, a cached create is milliseconds.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    deploys: Family<ResultLabels, Counter>,
    steps: Family<StepLabels, Histogram, fn() -> Histogram>,
    status_requests: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tau_agent");
        let deploys = Family::<ResultLabels, Counter>::default();
        let steps = Family::<StepLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            step_histogram,
        );
        let status_requests = Counter::default();
        registry.register(
            "deploys",
            "Deploy requests by result (deployed, refused, failed, denied)",
            deploys.clone(),
        );
        registry.register(
            "step_duration_seconds",
            "Duration of each swap step",
            steps.clone(),
        );
        registry.register(
            "status_requests",
            "GET /v1/status requests answered",
            status_requests.clone(),
        );
        // Every result series exists from the start, so a dashboard sees zeros, not gaps.
        for result in ["deployed", "refused", "failed", "denied"] {
            let _ = deploys.get_or_create(&ResultLabels { result });
        }
        Metrics {
            registry,
            deploys,
            steps,
            status_requests,
        }
    }
}

impl Metrics {
    pub fn deploy(&self, result: &'static str) {
        self.deploys.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn step(&self, step: &str, ok: bool, duration_ms: u64) {
        self.steps
            .get_or_create(&StepLabels {
                step: step.to_string(),
                ok: if ok { "true" } else { "false" },
            })
            .observe(duration_ms as f64 / 1000.0);
    }

    pub fn status_request(&self) {
        self.status_requests.inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploys_steps_and_status_requests_are_exposed() {
        let m = Metrics::default();
        m.deploy("deployed");
        m.step("pull", true, 120);
        m.status_request();
        let text = m.encode();
        assert!(
            text.contains("tau_agent_deploys_total{result=\"deployed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tau_agent_deploys_total{result=\"failed\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("tau_agent_step_duration_seconds_count{step=\"pull\",ok=\"true\"} 1"),
            "{text}"
        );
        assert!(text.contains("tau_agent_status_requests_total 1"), "{text}");
    }
}
