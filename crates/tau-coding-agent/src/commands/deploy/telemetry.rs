//! OTLP export of the deploy spans (`deploy.build`, `deploy.push`, `deploy.run`), switched on by
//! the standard `OTEL_EXPORTER_OTLP_ENDPOINT` variable and off otherwise: without it no exporter,
//! thread or subscriber is set up. Export failures never fail a deploy; they are reported once.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::out;

/// Flushes and stops the exporter when dropped.
pub struct Telemetry(Option<SdkTracerProvider>);

/// Starts OTLP/HTTP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Call it outside the async
/// runtime: the exporter's blocking HTTP client runs on the batch processor's own thread.
pub fn init() -> Telemetry {
    let enabled = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|v| !v.trim().is_empty());
    if !enabled {
        return Telemetry(None);
    }
    // The exporter reads the endpoint (and OTEL_EXPORTER_OTLP_HEADERS etc.) from the environment
    // itself and adds the `/v1/traces` path, as the OTLP specification says.
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            out::warn(&format!("warning: OTLP trace export is off: {e}"));
            return Telemetry(None);
        }
    };
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("tau").build())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("tau-deploy"));
    if tracing_subscriber::registry()
        .with(layer)
        .try_init()
        .is_err()
    {
        return Telemetry(None);
    }
    Telemetry(Some(provider))
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            if let Err(e) = provider.shutdown() {
                out::warn(&format!("warning: OTLP trace export failed: {e}"));
            }
        }
    }
}
