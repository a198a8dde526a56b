//! Timers on the `TIMERS` stream, with JetStream message schedules (nats-server 2.12+).
//!
//! A timer is a schedule message on `<prefix>.timers.schedule.<key>` carrying
//! `Nats-Schedule: @at <RFC 3339>` and `Nats-Schedule-Target: <prefix>.timers.fired.<key>`. The
//! subject is the timer's identity: publishing again replaces it. When it fires the server stores
//! the payload on the target subject, where a durable consumer (never a core subscriber) sees it.

use crate::error::StoreError;
use crate::naming::Stream;
use crate::store::EventStore;
use bytes::Bytes;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Sets and reads timers under one store's prefix.
#[derive(Clone)]
pub struct Timers {
    store: EventStore,
}

impl Timers {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    /// Subject of the schedule of `key`.
    pub fn schedule_subject(&self, key: &str) -> String {
        self.store
            .naming()
            .subject(Stream::Timers, &format!("schedule.{key}"))
    }

    /// Subject a fired timer of `key` is stored on.
    pub fn fired_subject(&self, key: &str) -> String {
        self.store
            .naming()
            .subject(Stream::Timers, &format!("fired.{key}"))
    }

    /// Every fired timer, for a durable consumer's filter.
    pub fn fired_wildcard(&self) -> String {
        self.store.naming().subject(Stream::Timers, "fired.>")
    }

    /// Fires `payload` for `key` at `at` (whole seconds, rounded up), replacing any earlier
    /// schedule of the same key.
    pub async fn set(
        &self,
        key: &str,
        at: OffsetDateTime,
        payload: Bytes,
    ) -> Result<u64, StoreError> {
        let at = round_up_to_second(at);
        let when = at
            .format(&Rfc3339)
            .map_err(|e| StoreError::other("formatting a timer", e))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Schedule", format!("@at {when}").as_str());
        headers.insert("Nats-Schedule-Target", self.fired_subject(key).as_str());
        let ack = self
            .store
            .jetstream()
            .publish_with_headers(self.schedule_subject(key), headers, payload)
            .await
            .map_err(|e| StoreError::other("setting a timer", e))?
            .await
            .map_err(|e| StoreError::other("setting a timer", e))?;
        Ok(ack.sequence)
    }
}

fn round_up_to_second(at: OffsetDateTime) -> OffsetDateTime {
    let whole = at
        .replace_nanosecond(0)
        .expect("zero is a valid nanosecond");
    if whole == at {
        whole
    } else {
        whole + time::Duration::SECOND
    }
}
