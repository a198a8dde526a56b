//! Logs and metrics.
//!
//! Logs go through `tracing`: readable text locally, JSON with `--log-format json`; the level comes
//! from `RUST_LOG` (default `info`). Metrics go through the `metrics` facade into one Prometheus
//! recorder per process, rendered by `/metrics`.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

pub fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The process's Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
                    ],
                )
                .expect("valid buckets")
                .set_buckets_for_metric(
                    Matcher::Full("tv_group_commit_commands".into()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
                )
                .expect("valid buckets")
                .build_recorder();
            let handle = recorder.handle();
            // A second recorder in one process (several apps in one test binary) is harmless.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
