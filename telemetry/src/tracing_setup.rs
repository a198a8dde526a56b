//! Installs the global `tracing` subscriber: an env filter, a text or JSON formatter, and the
//! OpenTelemetry layer (exporting by OTLP when an endpoint is configured).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};
use tv_kit::LogFormat;

/// Flushes exported spans when dropped: keep it alive for the life of `main`.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Sets up logs and traces for `service` (`command-svc`, `projector`, …), writing logs in
/// `log_format` (`TV_LOG_FORMAT`). Safe to call more than once (tests): later calls keep the first subscriber.
pub fn init(service: &str, log_format: LogFormat) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok();
    let exporter =
        endpoint.as_ref().and_then(|_| {
            match opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .build()
            {
                Ok(exporter) => Some(exporter),
                Err(e) => {
                    eprintln!("OTLP exporter disabled: {e}");
                    None
                }
            }
        });
    builder = match exporter {
        // Follow the caller's sampling decision; sample every root trace.
        Some(exporter) => builder
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn))),
        // Nobody would read recorded spans: keep ids and propagation, record nothing.
        None => builder.with_sampler(Sampler::AlwaysOff),
    };
    let provider = builder.build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer(service.to_owned());

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn,async_nats=warn"));
    let fmt = if log_format == LogFormat::Json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer().boxed()
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init();
    if let Some(endpoint) = endpoint {
        tracing::info!(%endpoint, "exporting traces by OTLP");
    }
    TelemetryGuard { provider }
}
