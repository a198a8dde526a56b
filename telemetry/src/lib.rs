//! Logs, metrics and distributed traces for every TicketView binary.
//!
//! - Logs: `tracing`, readable text locally or JSON (`TV_LOG_FORMAT=json`), level from `RUST_LOG`.
//! - Traces: spans get W3C trace context from an OpenTelemetry tracer, exported by OTLP over HTTP
//!   when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and only kept in-process otherwise, so trace ids
//!   still flow into logs and message headers). [`propagation`] carries the context from an HTTP
//!   request into NATS headers and from a consumed message into the consumer's span.
//! - Metrics: the `metrics` facade into one Prometheus recorder per process, rendered by
//!   [`render_metrics`] for `/metrics`.
//! - Customer ids in logs: only as their [`pseudonym`].

mod metrics_recorder;
pub mod propagation;
mod pseudonym;
mod tracing_setup;

pub use metrics_recorder::{metrics_handle, render_metrics};
pub use pseudonym::pseudonym;
pub use tracing_setup::{init, TelemetryGuard};
