//! Appending one commit to one aggregate, with optimistic concurrency.
//!
//! The commit is published with `Nats-Expected-Last-Subject-Sequence` (0 for a new aggregate) and
//! `Nats-Msg-Id` (the commit id). The publish goes over a core NATS request so that the PubAck's
//! error codes are ours to read. A timed-out publish has an unknown outcome: it is settled by
//! reading the subject back and by re-publishing under the same message id (which the server
//! deduplicates), never by guessing.
//!
//! A stream that cannot take a publish right now (no leader while its replicas elect one: "no
//! responders", or a 503 from the server) has stored nothing of that attempt. The append waits
//! and publishes again, for up to `AppendOptions::unavailable_for`, instead of failing: the
//! writer keeps its batch and its state, and the commit lands as soon as the stream has a
//! leader, so the command side pauses for the election and not for a reload on top of it.

use crate::envelope::{encode, headers, CommitMeta, EventRecord};
use crate::error::{codes, AppendError, StoreError};
use crate::naming::{Position, Stream};
use crate::store::EventStore;
use async_nats::HeaderMap;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Room left for a commit's headers under the server's `max_payload`.
const HEADER_ALLOWANCE: usize = 4096;

/// How long an append waits for the server, and how hard it tries to settle an unknown outcome.
#[derive(Debug, Clone)]
pub struct AppendOptions {
    /// One publish's wait for its PubAck; past it the outcome is settled by reading back.
    pub timeout: Duration,
    /// Attempts at settling an unknown outcome, at the least (more while the stream is
    /// unavailable, within `unavailable_for`).
    pub resolve_attempts: u32,
    /// How long an append keeps publishing again while the stream cannot take it (electing a
    /// leader). Past it, the last refusal is the answer.
    pub unavailable_for: Duration,
}

impl Default for AppendOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            resolve_attempts: 5,
            unavailable_for: Duration::from_secs(15),
        }
    }
}

/// The wait before publishing again to a stream that could not take the last attempt: short, so
/// that the commit lands soon after the election.
const UNAVAILABLE_RETRY: Duration = Duration::from_millis(100);

/// Whether a refusal says only that the stream cannot take publishes now, so nothing was stored:
/// no responders (no leader to take the subject), or the server's 503 (JetStream temporarily
/// unavailable).
fn unavailable(error: &ApiError) -> bool {
    error.code == 503
}

/// A JetStream API error as it appears in a reply.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub code: u64,
    #[serde(default)]
    pub err_code: u64,
    #[serde(default)]
    pub description: String,
}

/// A PubAck, or the error in its place.
#[derive(Debug, Deserialize)]
pub(crate) struct PubAck {
    #[serde(default)]
    pub stream: String,
    #[serde(default)]
    pub seq: u64,
    #[serde(default)]
    pub error: Option<ApiError>,
}

/// What one publish attempt came to.
pub(crate) enum Attempt {
    Stored(Position),
    Rejected(ApiError),
    NoAnswer(String),
}

impl EventStore {
    /// Appends `events` as one commit to the aggregate `id` of `stream`, if its last sequence is
    /// still `expected` (0: the aggregate must not exist yet). Returns where the commit is stored.
    /// Appending the same `meta.commit_id` twice stores it once and returns the first position.
    pub async fn append<E: Serialize>(
        &self,
        stream: Stream,
        id: &str,
        expected: u64,
        meta: &CommitMeta,
        events: &[EventRecord<E>],
    ) -> Result<Position, AppendError> {
        let subject = self.naming().subject(stream, id);
        let payload = encode(events)?;
        let limit = self.client().server_info().max_payload;
        if limit > 0 && payload.len() + HEADER_ALLOWANCE > limit {
            return Err(AppendError::Store(StoreError::Other(format!(
                "a commit of {} bytes exceeds the server's max_payload of {limit}: split it",
                payload.len()
            ))));
        }
        let mut headers = meta.headers(true);
        headers.insert(
            headers::EXPECTED_LAST_SUBJECT_SEQUENCE,
            expected.to_string().as_str(),
        );
        let started = std::time::Instant::now();
        let first = loop {
            match self
                .publish_once(&subject, headers.clone(), payload.clone())
                .await
            {
                Attempt::Rejected(error)
                    if unavailable(&error)
                        && started.elapsed() < self.append_options.unavailable_for =>
                {
                    tracing::debug!(%subject, reason = %error.description, "stream unavailable; publishing again");
                    tokio::time::sleep(UNAVAILABLE_RETRY).await;
                }
                attempt => break attempt,
            }
        };
        match first {
            Attempt::Stored(position) => Ok(position),
            Attempt::Rejected(error) => {
                let refused = rejection(&subject, expected, error);
                // The server checks the expected sequence before the message id, so a retry of a
                // stored commit comes back as a conflict: it is a success if the commit is ours.
                if matches!(refused, AppendError::Conflict { .. }) {
                    if let Ok(Some(position)) = self
                        .find_commit_after(stream, &subject, expected, &meta.commit_id)
                        .await
                    {
                        return Ok(position);
                    }
                }
                Err(refused)
            }
            Attempt::NoAnswer(reason) => {
                tracing::warn!(%subject, %reason, "append outcome unknown; settling it");
                self.settle(
                    stream,
                    &subject,
                    expected,
                    &meta.commit_id,
                    headers,
                    payload,
                )
                .await
            }
        }
    }

    pub(crate) async fn publish_once(
        &self,
        subject: &str,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Attempt {
        let request = async_nats::Request::new()
            .headers(headers)
            .payload(payload)
            .timeout(Some(self.append_options.timeout));
        match self
            .client()
            .send_request(subject.to_owned(), request)
            .await
        {
            Ok(reply) => match serde_json::from_slice::<PubAck>(&reply.payload) {
                Ok(PubAck {
                    error: Some(error), ..
                }) => Attempt::Rejected(error),
                Ok(ack) => Attempt::Stored(Position {
                    stream: ack.stream,
                    sequence: ack.seq,
                }),
                Err(e) => Attempt::NoAnswer(format!("unreadable PubAck: {e}")),
            },
            Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => {
                Attempt::Rejected(ApiError {
                    code: 503,
                    err_code: 0,
                    description: format!("no stream takes {subject}: provision the streams first"),
                })
            }
            Err(e) => Attempt::NoAnswer(e.to_string()),
        }
    }

    /// Settles an append whose reply was lost: if the subject's commit after `expected` carries our
    /// commit id it was stored; otherwise re-publish under the same id (deduplicated by the server).
    async fn settle(
        &self,
        stream: Stream,
        subject: &str,
        expected: u64,
        commit_id: &str,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<Position, AppendError> {
        let mut last_reason = String::new();
        let started = std::time::Instant::now();
        let mut attempt = 0u32;
        // At least `resolve_attempts`, and on while the stream is unavailable (electing).
        while attempt < self.append_options.resolve_attempts
            || started.elapsed() < self.append_options.unavailable_for
        {
            if attempt > 0 {
                let backoff = Duration::from_millis(50 << attempt.min(3));
                tokio::time::sleep(backoff).await;
            }
            attempt += 1;
            match self
                .find_commit_after(stream, subject, expected, commit_id)
                .await
            {
                Ok(Some(position)) => return Ok(position),
                Ok(None) => {}
                Err(e) => {
                    last_reason = e.to_string();
                    continue;
                }
            }
            match self
                .publish_once(subject, headers.clone(), payload.clone())
                .await
            {
                Attempt::Stored(position) => return Ok(position),
                Attempt::Rejected(error) if unavailable(&error) => {
                    last_reason = error.description;
                }
                Attempt::Rejected(error) => {
                    // A conflict may be our own first attempt: look once more before saying so.
                    if let Ok(Some(position)) = self
                        .find_commit_after(stream, subject, expected, commit_id)
                        .await
                    {
                        return Ok(position);
                    }
                    return Err(rejection(subject, expected, error));
                }
                Attempt::NoAnswer(reason) => last_reason = reason,
            }
        }
        Err(AppendError::Unknown {
            subject: subject.to_owned(),
            reason: last_reason,
        })
    }

    /// The position of the subject's first commit after `expected`, if it carries `commit_id`.
    async fn find_commit_after(
        &self,
        stream: Stream,
        subject: &str,
        expected: u64,
        commit_id: &str,
    ) -> Result<Option<Position>, StoreError> {
        let name = self.naming().stream(stream);
        let handle = self
            .jetstream()
            .get_stream_no_info(&name)
            .await
            .map_err(|e| StoreError::other("opening stream", e))?;
        match handle
            .direct_get_next_for_subject(subject, Some(expected + 1))
            .await
        {
            Ok(message) => {
                let ours = message
                    .headers
                    .get(headers::MSG_ID)
                    .is_some_and(|v| v.as_str() == commit_id);
                Ok(ours.then_some(Position {
                    stream: name,
                    sequence: message.sequence,
                }))
            }
            Err(e) if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(StoreError::other("reading back an append", e)),
        }
    }
}

/// Translates a refused publish into the store's own error.
pub(crate) fn rejection(subject: &str, expected: u64, error: ApiError) -> AppendError {
    match error.err_code {
        codes::WRONG_LAST_SEQUENCE | codes::WRONG_LAST_SEQUENCE_UNDER_LOAD => {
            AppendError::Conflict {
                subject: subject.to_owned(),
                expected,
                actual: actual_sequence(&error.description),
            }
        }
        _ => AppendError::Store(StoreError::Api {
            code: error.err_code.max(error.code),
            description: error.description,
        }),
    }
}

/// The server says "wrong last sequence: 41": the subject's actual last sequence.
fn actual_sequence(description: &str) -> Option<u64> {
    description.rsplit(':').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_last_sequence_is_a_conflict_with_the_actual_sequence() {
        let error = ApiError {
            code: 400,
            err_code: 10071,
            description: "wrong last sequence: 41".into(),
        };
        match rejection("tv.inventory.x", 40, error) {
            AppendError::Conflict {
                expected, actual, ..
            } => {
                assert_eq!(expected, 40);
                assert_eq!(actual, Some(41));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn other_codes_are_api_errors() {
        let error = ApiError {
            code: 503,
            err_code: 10077,
            description: "maximum messages exceeded".into(),
        };
        assert!(matches!(
            rejection("s", 0, error),
            AppendError::Store(StoreError::Api { code: 10077, .. })
        ));
    }
}
