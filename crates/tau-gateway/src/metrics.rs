//! Prometheus exposition on `prometheus-client`: requests and latency by route, connection
//! admission and timeouts, and the deployment gauges, which are computed afresh for each scrape.
//!
//! prometheus-client's `Family` keeps its series in a hash map, so two scrapes of the same state
//! could list them in different orders. The labelled series here live in [`Sorted`], a collector
//! that encodes them in label order, which keeps the exposition byte-stable.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeMetric;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::TypedMetric;
use prometheus_client::registry::Registry;

/// The `Content-Type` of the exposition (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Latency histogram bucket bounds, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct AdmissionLabels {
    admission: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct ClockLabels {
    clock: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// How an accepted connection was admitted (see `conn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Under the connection limit: served in full.
    Full,
    /// Over the limit, within the reserve: answered once on the reduced router.
    Reserve,
    /// Over the limit and the reserve: closed at once.
    Refused,
}

impl Admission {
    pub fn as_str(self) -> &'static str {
        match self {
            Admission::Full => "full",
            Admission::Reserve => "reserve",
            Admission::Refused => "refused",
        }
    }
}

/// Which clock closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// No request arrived within the idle timeout.
    Idle,
    /// A request head started but did not finish within the header timeout.
    Header,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Idle => "idle",
            Clock::Header => "header",
        }
    }
}

/// A labelled family encoded in label order.
#[derive(Debug)]
struct Sorted<S, M> {
    name: &'static str,
    help: &'static str,
    series: RwLock<BTreeMap<S, M>>,
    make: fn() -> M,
}

impl<S: Ord + Clone, M> Sorted<S, M> {
    fn new(name: &'static str, help: &'static str, make: fn() -> M) -> Arc<Self> {
        Arc::new(Sorted {
            name,
            help,
            series: RwLock::new(BTreeMap::new()),
            make,
        })
    }

    /// Runs `f` on the series for `labels`, creating it on first use.
    fn with(&self, labels: &S, f: impl FnOnce(&M)) {
        {
            let series = self.series.read().unwrap_or_else(|e| e.into_inner());
            if let Some(m) = series.get(labels) {
                return f(m);
            }
        }
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        f(series.entry(labels.clone()).or_insert_with(self.make));
    }
}

impl<S, M> Collector for Sorted<S, M>
where
    S: EncodeLabelSet + Ord + fmt::Debug + Send + Sync + 'static,
    M: EncodeMetric + TypedMetric + fmt::Debug + Send + Sync + 'static,
{
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut family = encoder.encode_descriptor(self.name, self.help, None, M::TYPE)?;
        for (labels, metric) in series.iter() {
            metric.encode(family.encode_family(labels)?)?;
        }
        Ok(())
    }
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Counters and histograms that live as long as the gateway.
pub struct Metrics {
    registry: Registry,
    requests: Arc<Sorted<RequestLabels, Counter>>,
    durations: Arc<Sorted<RouteLabels, Histogram>>,
    admissions: Arc<Sorted<AdmissionLabels, Counter>>,
    timeouts: Arc<Sorted<ClockLabels, Counter>>,
    open: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Sorted::new(
            "tau_gateway_requests",
            "HTTP requests served, by route and status.",
            Counter::default,
        );
        let durations = Sorted::new(
            "tau_gateway_request_duration_seconds",
            "Time to serve a request, by route.",
            histogram,
        );
        let admissions = Sorted::new(
            "tau_gateway_connections",
            "Accepted connections, by admission: full, reserve (over the limit, one answer) or refused (closed at once).",
            Counter::default,
        );
        let timeouts = Sorted::new(
            "tau_gateway_connection_timeouts",
            "Connections closed by a clock: idle (no request) or header (request head too slow).",
            Counter::default,
        );
        let open = Gauge::default();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(requests.clone()));
        registry.register_collector(Box::new(durations.clone()));
        registry.register_collector(Box::new(admissions.clone()));
        registry.register_collector(Box::new(timeouts.clone()));
        registry.register(
            "tau_gateway_open_connections",
            "Connections currently open, reserve ones included.",
            open.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            admissions,
            timeouts,
            open,
        }
    }
}

/// Counts one open connection until dropped.
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// Records one request.
    pub fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        self.requests.with(&RequestLabels { route, status }, |c| {
            c.inc();
        });
        self.durations
            .with(&RouteLabels { route }, |h| h.observe(elapsed.as_secs_f64()));
    }

    /// Records how a connection was admitted; admitted ones count as open until the guard drops.
    pub fn admit(&self, admission: Admission) -> Option<OpenConnection> {
        self.admissions.with(
            &AdmissionLabels {
                admission: admission.as_str(),
            },
            |c| {
                c.inc();
            },
        );
        if admission == Admission::Refused {
            return None;
        }
        self.open.inc();
        Some(OpenConnection(self.open.clone()))
    }

    /// Records a connection closed by `clock`.
    pub fn timed_out(&self, clock: Clock) {
        self.timeouts.with(
            &ClockLabels {
                clock: clock.as_str(),
            },
            |c| {
                c.inc();
            },
        );
    }

    /// The full exposition: the gateway's own metrics, then `deployment`'s gauges.
    pub fn encode(&self, deployment: &Deployment) -> Result<String, fmt::Error> {
        let mut out = String::with_capacity(8192);
        prometheus_text::encode(&mut out, &self.registry)?;
        prometheus_text::encode(&mut out, &deployment.registry())?;
        Ok(out)
    }
}

/// What one scrape reports about the deployment, already decided by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub uptime_seconds: f64,
    pub state_readable: bool,
    pub gate_pass: bool,
    /// The current health state's label, `None` when the state cannot be read.
    pub health_state: Option<&'static str>,
    /// Every health state label, in the order they are listed.
    pub health_states: Vec<&'static str>,
    pub failure_streak: u64,
    pub queue_depth: u64,
    /// `None` before any run (exposed as -1).
    pub state_age_seconds: Option<f64>,
}

fn int_gauge(value: u64) -> Gauge {
    let gauge = Gauge::default();
    // Saturates instead of wrapping: a counter past i64::MAX is reported as i64::MAX.
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    gauge
}

fn float_gauge(value: f64) -> Gauge<f64, std::sync::atomic::AtomicU64> {
    let gauge = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    gauge.set(value);
    gauge
}

impl Deployment {
    fn registry(&self) -> Registry {
        let mut r = Registry::default();
        r.register(
            "tau_gateway_uptime_seconds",
            "Seconds since the gateway started.",
            float_gauge(self.uptime_seconds),
        );
        r.register(
            "tau_deployment_state_readable",
            "1 when state.json could be read.",
            int_gauge(u64::from(self.state_readable)),
        );
        r.register(
            "tau_deployment_rollout_gate",
            "1 when rollout_gate=pass, 0 when it holds.",
            int_gauge(u64::from(self.gate_pass)),
        );
        let states = Sorted::new(
            "tau_deployment_health_state",
            "1 for the current health state.",
            Gauge::<i64>::default,
        );
        for &state in &self.health_states {
            let current = self.health_state == Some(state);
            states.with(&StateLabels { state }, |g| {
                g.set(i64::from(current));
            });
        }
        r.register_collector(Box::new(states));
        r.register(
            "tau_deployment_failure_streak",
            "Consecutive runs with failed cases.",
            int_gauge(self.failure_streak),
        );
        r.register(
            "tau_deployment_queue_depth",
            "Cases still pending after the last run.",
            int_gauge(self.queue_depth),
        );
        r.register(
            "tau_deployment_state_age_seconds",
            "Seconds since the last run (-1 before any run).",
            float_gauge(self.state_age_seconds.unwrap_or(-1.0)),
        );
        r
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
