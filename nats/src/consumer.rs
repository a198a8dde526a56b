//! Durable pull consumers for projectors and reactors, and how each recovers from a crash.
//!
//! Acknowledgement policy `All` by default: acking the last message of a batch acks the whole
//! batch, which the caller does only after its effects are committed. A crash before the ack
//! re-delivers the batch; callers make that harmless (a checkpoint, or idempotent commands).
//!
//! A crash must not cost the `ack_wait` that a lost delivery waits before the server sends it
//! again. Two ways out, one per kind of consumer:
//! - A consumer that keeps its own checkpoint (the projector) starts from it:
//!   [`Durable::resume_at`] re-creates the durable at the checkpoint's next sequence, on start and
//!   after any consumer error, so nothing delivered to a dead process is waited for.
//! - A consumer without one (the reactors) takes a short `ack_wait` and explicit acks
//!   ([`DurableOptions::explicit_acks`]): each message is acked on its own, and every unacked one
//!   comes back after `ack_wait` whatever was acked after it. While a delivery is held (between
//!   fetch and ack or drop), the consumer marks it in progress every third of `ack_wait`, so slow
//!   work is not re-delivered while it is alive, and a dead process's work comes back within
//!   about `ack_wait`.

use crate::envelope::RawCommit;
use crate::error::StoreError;
use crate::naming::Stream;
use crate::store::EventStore;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::Subject;
use futures::{FutureExt, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Mutex;

/// One durable consumer of one stream, optionally filtered to subject patterns.
pub struct Durable {
    consumer: PullConsumer,
    messages: Mutex<Option<pull::Stream>>,
    /// The settings it was created with, for [`Durable::rewind`].
    stream: async_nats::jetstream::stream::Stream,
    config: pull::Config,
    held: Held,
}

/// One delivered commit; `ack` it (and, with ack policy `All`, every one before it) once its
/// effects are committed. Until it is acked or dropped, its consumer keeps it in progress.
pub struct Delivery {
    pub raw: RawCommit,
    /// How many times the server has delivered this message (1 the first time).
    pub delivered: i64,
    /// When the server stored the message: the start of its projection lag.
    pub published: time::OffsetDateTime,
    message: async_nats::jetstream::Message,
    /// Its entry among the consumer's held deliveries.
    hold: Option<(Held, u64)>,
}

impl Delivery {
    /// Acknowledges this message and, with ack policy `All`, every earlier one.
    pub async fn ack(&self) -> Result<(), StoreError> {
        self.message
            .ack()
            .await
            .map_err(|e| StoreError::other("acknowledging", e))?;
        self.release();
        Ok(())
    }

    fn release(&self) {
        if let Some((held, id)) = &self.hold {
            held.remove(*id);
        }
    }
}

impl Drop for Delivery {
    /// Dropped unacked (a halted task, a failed batch): no longer kept in progress, so the server
    /// delivers it again after `ack_wait`.
    fn drop(&mut self) {
        self.release();
    }
}

/// How a durable consumer acknowledges.
#[derive(Debug, Clone)]
pub struct DurableOptions {
    /// Ack each message on its own (`AckPolicy::Explicit`) instead of everything up to it.
    pub explicit_acks: bool,
    /// How long a delivered message may stay unacked (and not marked in progress) before the
    /// server delivers it again: how long the work of a crashed process waits.
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

impl DurableOptions {
    /// A reactor's settings: explicit acks, and its work back within `ack_wait` after a crash.
    pub fn reactor(ack_wait: Duration) -> Self {
        Self {
            explicit_acks: true,
            ack_wait,
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

    /// [`Durable::ensure`] with other acknowledgement settings. An existing consumer takes the new
    /// `ack_wait`; one whose settings cannot change (its ack policy) is bound as it is.
    pub async fn ensure_with(
        store: &EventStore,
        stream: Stream,
        name: &str,
        filter_subject: Option<String>,
        options: DurableOptions,
    ) -> Result<Self, StoreError> {
        let handle = stream_handle(store, stream).await?;
        let config = config(name, filter_subject.into_iter().collect(), &options);
        let consumer = match handle.create_consumer(config.clone()).await {
            Ok(consumer) => consumer,
            Err(update) => {
                tracing::warn!(consumer = name, error = %update, "consumer settings not updated; binding it as it is");
                handle
                    .get_consumer(name)
                    .await
                    .map_err(|e| StoreError::other("binding a durable consumer", e))?
            }
        };
        Ok(Self::new(store, handle, config, consumer))
    }

    /// The durable consumer `name` of the subjects matching any of `filter_subjects` (every
    /// subject when empty), re-created so that it delivers from `start_sequence` on, whatever it
    /// delivered before: what a consumer that keeps its own checkpoint starts with.
    pub async fn resume_at(
        store: &EventStore,
        stream: Stream,
        name: &str,
        filter_subjects: Vec<String>,
        start_sequence: u64,
    ) -> Result<Self, StoreError> {
        let handle = stream_handle(store, stream).await?;
        let config = config(name, filter_subjects, &DurableOptions::default());
        let consumer = recreate(&handle, &config, start_sequence).await?;
        Ok(Self::new(store, handle, config, consumer))
    }

    /// Re-creates this consumer to deliver from `start_sequence` on (see [`Durable::resume_at`]).
    pub async fn rewind(&mut self, start_sequence: u64) -> Result<(), StoreError> {
        *self.messages.get_mut() = None;
        self.consumer = recreate(&self.stream, &self.config, start_sequence).await?;
        Ok(())
    }

    fn new(
        store: &EventStore,
        stream: async_nats::jetstream::stream::Stream,
        config: pull::Config,
        consumer: PullConsumer,
    ) -> Self {
        let held = Held::default();
        let period = (config.ack_wait / 3).min(Duration::from_secs(1));
        held.keep_alive(store.client().clone(), period);
        Self {
            consumer,
            messages: Mutex::new(None),
            stream,
            config,
            held,
        }
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
                Ok(message) => batch.push(self.delivery(message)?),
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

    fn delivery(&self, message: async_nats::jetstream::Message) -> Result<Delivery, StoreError> {
        let info = message
            .info()
            .map_err(|e| StoreError::other("reading message info", e))?;
        let (sequence, delivered, published) =
            (info.stream_sequence, info.delivered, info.published);
        let raw = RawCommit {
            subject: message.message.subject.to_string(),
            sequence,
            headers: message.message.headers.clone(),
            payload: message.message.payload.clone(),
        };
        let hold = message
            .message
            .reply
            .clone()
            .map(|reply| (self.held.clone(), self.held.insert(reply)));
        Ok(Delivery {
            raw,
            delivered,
            published,
            message,
            hold,
        })
    }
}

async fn stream_handle(
    store: &EventStore,
    stream: Stream,
) -> Result<async_nats::jetstream::stream::Stream, StoreError> {
    store
        .jetstream()
        .get_stream(store.naming().stream(stream))
        .await
        .map_err(|e| StoreError::other("opening stream (is it provisioned?)", e))
}

fn config(name: &str, filter_subjects: Vec<String>, options: &DurableOptions) -> pull::Config {
    pull::Config {
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
    }
}

/// Deletes the consumer (if it exists) and creates it again to deliver from `start_sequence`.
async fn recreate(
    stream: &async_nats::jetstream::stream::Stream,
    config: &pull::Config,
    start_sequence: u64,
) -> Result<PullConsumer, StoreError> {
    let name = config.durable_name.as_deref().unwrap_or_default();
    if let Err(e) = stream.delete_consumer(name).await {
        // Not found is the normal first start; anything else shows up in the create below.
        tracing::debug!(consumer = name, error = %e, "no consumer deleted");
    }
    let config = pull::Config {
        deliver_policy: DeliverPolicy::ByStartSequence {
            start_sequence: start_sequence.max(1),
        },
        ..config.clone()
    };
    stream
        .create_consumer(config)
        .await
        .map_err(|e| StoreError::other("creating a durable consumer", e))
}

/// The deliveries a consumer holds (fetched, not yet acked or dropped): the reply subject that
/// acks each, and since when it is held.
#[derive(Clone, Default)]
struct Held {
    inner: Arc<HeldInner>,
}

#[derive(Default)]
struct HeldInner {
    next_id: AtomicU64,
    replies: std::sync::Mutex<HashMap<u64, (Subject, std::time::Instant)>>,
}

impl Held {
    fn insert(&self, reply: Subject) -> u64 {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.replies()
            .insert(id, (reply, std::time::Instant::now()));
        id
    }

    fn remove(&self, id: u64) {
        self.replies().remove(&id);
    }

    fn replies(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Subject, std::time::Instant)>> {
        self.inner
            .replies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every `period`, marks in progress each delivery held for a `period` or more (most are acked
    /// sooner and cost nothing); ends when the consumer and its deliveries are gone (a crashed
    /// task's work is then re-delivered after `ack_wait`). With `period` a third of `ack_wait`, a
    /// delivery is marked at most two periods after it arrived or was last marked.
    fn keep_alive(&self, client: async_nats::Client, period: Duration) {
        let held: Weak<HeldInner> = Arc::downgrade(&self.inner);
        let period = period.max(Duration::from_millis(50));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(held) = held.upgrade() else { return };
                let replies: Vec<Subject> = {
                    let replies = held
                        .replies
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    replies
                        .values()
                        .filter(|(_, since)| since.elapsed() >= period)
                        .map(|(reply, _)| reply.clone())
                        .collect()
                };
                drop(held);
                for reply in replies {
                    if let Err(e) = client.publish(reply, "+WPI".into()).await {
                        tracing::debug!(error = %e, "marking a delivery in progress failed");
                        break;
                    }
                }
            }
        });
    }
}
