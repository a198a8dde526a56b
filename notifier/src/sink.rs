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

/// One log line per notice; the customer appears as their pseudonym, never their id (in the
/// body too).
#[derive(Debug, Default)]
pub struct LogSink;

#[async_trait]
impl Sink for LogSink {
    async fn deliver(&self, notices: Vec<Notification>) -> Result<Vec<Notification>, SinkError> {
        for notice in &notices {
            let customer = telemetry::pseudonym(&notice.customer_id);
            let mut body = notice.body.clone();
            if let Some(fields) = body.as_object_mut() {
                fields.insert("customer_id".into(), customer.clone().into());
            }
            tracing::info!(
                id = %notice.id,
                kind = %notice.kind,
                order = ?notice.order_id,
                customer = %customer,
                body = %body,
                "notice"
            );
        }
        Ok(notices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::NoticeKind;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A log writer into a shared buffer.
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_log_line_names_the_customer_by_pseudonym_only() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let order_id = domain::ids::OrderId::new_random();
        let notice = Notification {
            id: format!("{order_id}:order_confirmed"),
            order_id: Some(order_id),
            customer_id: "ann@example.com".into(),
            kind: NoticeKind::OrderConfirmed,
            body: serde_json::json!({ "order_id": order_id, "customer_id": "ann@example.com" }),
            stream: "orders",
            stream_sequence: 7,
        };
        LogSink.deliver(vec![notice]).await.unwrap();
        let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
        assert!(text.contains("notice"), "{text}");
        assert!(!text.contains("ann@example.com"), "{text}");
        assert!(
            text.contains(&telemetry::pseudonym("ann@example.com")),
            "{text}"
        );
    }
}
