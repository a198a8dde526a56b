//! Durable pull consumers for projectors and reactors.
//!
//! Acknowledgement policy `All` by default: acking the last message of a batch acks the whole
//! batch, which the caller does only after its effects are committed. A crash before the ack
//! re-delivers the batch; callers make that harmless (a checkpoint, or idempotent commands).
//!
//! `All` suits a consumer that keeps its own checkpoint and fills gaps from the stream (the
//! projector): after a crash, a fresh pull gets later messages before the unacked ones come back,
//! and acking those would ack the unacked ones too. A reactor without a checkpoint takes explicit
//! acks instead ([`DurableOptions::explicit_acks`]): each message is acked on its own, and every
//! unacked one comes back after `ack_wait` whatever was acked after it.

use crate::envelope::RawCommit;
use crate::error::StoreError;
use crate::naming::Stream;
use crate::store::EventStore;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use futures::{FutureExt, StreamExt};
use std::time::Duration;
use tokio::sync::Mutex;

/// One durable consumer of one stream, optionally filtered to a subject pattern.
pub struct Durable {
    consumer: PullConsumer,
    messages: Mutex<Option<pull::Stream>>,
}

/// One delivered commit; `ack` it (and every one before it) once its effects are committed.
pub struct Delivery {
    pub raw: RawCommit,
    /// How many times the server has delivered this message (1 the first time).
    pub delivered: i64,
    /// When the server stored the message: the start of its projection lag.
    pub published: time::OffsetDateTime,
    message: async_nats::jetstream::Message,
}

impl Delivery {
    /// Acknowledges this message and, with ack policy `All`, every earlier one.
    pub async fn ack(&self) -> Result<(), StoreError> {
        self.message
            .ack()
            .await
            .map_err(|e| StoreError::other("acknowledging", e))
    }

    /// Tells the server the message is still being worked on: its `ack_wait` starts again, so a
    /// slow but live consumer is not sent it a second time.
    pub async fn in_progress(&self) -> Result<(), StoreError> {
        self.message
            .ack_with(async_nats::jetstream::AckKind::Progress)
            .await
            .map_err(|e| StoreError::other("signalling progress", e))
    }
}

/// How a durable consumer acknowledges, when it is created (an existing one keeps its settings).
#[derive(Debug, Clone)]
pub struct DurableOptions {
    /// Ack each message on its own (`AckPolicy::Explicit`) instead of everything up to it.
    pub explicit_acks: bool,
    /// How long a delivered message may stay unacked before the server delivers it again.
    pub ack_wait: Duration,
}

impl Default for DurableOptions {
    fn default() -> Self {
        Self {
            explicit_acks: false,
            ack_wait: Duration::from_secs(30),
        }
    }
}

impl Durable {
    /// Creates the durable consumer `name` if it does not exist, or binds to it.
    pub async fn ensure(
        store: &EventStore,
        stream: Stream,
        name: &str,
        filter_subject: Option<String>,
    ) -> Result<Self, StoreError> {
        Self::ensure_with(
            store,
            stream,
            name,
            filter_subject,
            DurableOptions::default(),
        )
        .await
    }

    /// [`Durable::ensure`] with other acknowledgement settings.
    pub async fn ensure_with(
        store: &EventStore,
        stream: Stream,
        name: &str,
        filter_subject: Option<String>,
        options: DurableOptions,
    ) -> Result<Self, StoreError> {
        Self::create(
            store,
            stream,
            name,
            filter_subject.into_iter().collect(),
            options,
        )
        .await
    }

    /// A durable consumer of the subjects matching any of `filter_subjects` (a projector
    /// partition's shards), created if it does not exist. Messages still come in stream order.
    pub async fn ensure_filtered(
        store: &EventStore,
        stream: Stream,
        name: &str,
        filter_subjects: Vec<String>,
    ) -> Result<Self, StoreError> {
        Self::create(
            store,
            stream,
            name,
            filter_subjects,
            DurableOptions::default(),
        )
        .await
    }

    async fn create(
        store: &EventStore,
        stream: Stream,
        name: &str,
        filter_subjects: Vec<String>,
        options: DurableOptions,
    ) -> Result<Self, StoreError> {
        let handle = store
            .jetstream()
            .get_stream(store.naming().stream(stream))
            .await
            .map_err(|e| StoreError::other("opening stream (is it provisioned?)", e))?;
        let config = pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: match filter_subjects.as_slice() {
                [one] => one.clone(),
                _ => String::new(),
            },
            filter_subjects: match filter_subjects.len() {
                0 | 1 => Vec::new(),
                _ => filter_subjects,
            },
            deliver_policy: DeliverPolicy::All,
            ack_policy: match options.explicit_acks {
                true => AckPolicy::Explicit,
                false => AckPolicy::All,
            },
            ack_wait: options.ack_wait,
            max_ack_pending: 100_000,
            max_batch: 0,
            ..pull::Config::default()
        };
        let consumer = handle
            .get_or_create_consumer(name, config)
            .await
            .map_err(|e| StoreError::other("creating a durable consumer", e))?;
        Ok(Self {
            consumer,
            messages: Mutex::new(None),
        })
    }

    /// Up to `max` commits: waits up to `wait` for the first, then takes whatever else is already
    /// there without waiting. Empty when nothing arrived in time.
    pub async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StoreError> {
        let mut guard = self.messages.lock().await;
        if guard.is_none() {
            let stream = self
                .consumer
                .stream()
                .max_messages_per_batch(max.clamp(1, 10_000))
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await
                .map_err(|e| StoreError::other("starting a consumer", e))?;
            *guard = Some(stream);
        }
        let messages = guard.as_mut().expect("started above");
        let mut batch = Vec::new();
        let first = match tokio::time::timeout(wait, messages.next()).await {
            Err(_elapsed) => return Ok(batch),
            Ok(None) => {
                *guard = None;
                return Err(StoreError::Other("consumer stream ended".into()));
            }
            Ok(Some(first)) => first,
        };
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Ok(message) => batch.push(delivery(message)?),
                Err(e) => {
                    // Heartbeat loss or a reconnect: start a fresh pull next time.
                    *guard = None;
                    if batch.is_empty() {
                        return Err(StoreError::other("consuming", e));
                    }
                    return Ok(batch);
                }
            }
            if batch.len() >= max {
                break;
            }
            next = messages.next().now_or_never().flatten();
        }
        Ok(batch)
    }

    /// How many messages the server still has to deliver to this consumer.
    pub async fn pending(&self) -> Result<u64, StoreError> {
        let mut consumer = self.consumer.clone();
        let info = consumer
            .info()
            .await
            .map_err(|e| StoreError::other("reading consumer info", e))?;
        Ok(info.num_pending)
    }
}

fn delivery(message: async_nats::jetstream::Message) -> Result<Delivery, StoreError> {
    let info = message
        .info()
        .map_err(|e| StoreError::other("reading message info", e))?;
    let (sequence, delivered, published) = (info.stream_sequence, info.delivered, info.published);
    let raw = RawCommit {
        subject: message.message.subject.to_string(),
        sequence,
        headers: message.message.headers.clone(),
        payload: message.message.payload.clone(),
    };
    Ok(Delivery {
        raw,
        delivered,
        published,
        message,
    })
}
