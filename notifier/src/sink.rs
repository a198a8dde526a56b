//! Where notices go. Sinks are chained: each gets the notices the one before it stored for the
//! first time, so the outbox (first) turns redeliveries into nothing for every sink after it.

use crate::notice::Notification;
use async_trait::async_trait;

/// Why a sink could not take a batch: the batch is not acked and comes again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

#[async_trait]
pub trait Sink: Send + Sync {
    /// Takes `notices`; returns the ones it had not taken before (a sink that cannot tell returns
    /// them all), for the next sink.
    async fn deliver(&self, notices: Vec<Notification>) -> Result<Vec<Notification>, SinkError>;
}

/// One log line per notice.
#[derive(Debug, Default)]
pub struct LogSink;

#[async_trait]
impl Sink for LogSink {
    async fn deliver(&self, notices: Vec<Notification>) -> Result<Vec<Notification>, SinkError> {
        for notice in &notices {
            tracing::info!(
                id = %notice.id,
                kind = %notice.kind,
                order = %notice.order_id,
                customer = %notice.customer_id,
                body = %notice.body,
                "notice"
            );
        }
        Ok(notices)
    }
}
