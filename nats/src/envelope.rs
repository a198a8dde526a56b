//! The commit envelope: one message, many events.
//!
//! Payload (JSON): `{"recorded_at": "<RFC 3339>", "events": [{"schema": 1, "type": "SeatsHeld",
//! "data": {..}}, ..]}`. Headers carry the commit id (`Nats-Msg-Id`), the aggregate type, the
//! command, correlation and causation ids and the W3C `traceparent`. `docs/events.md` documents
//! this for downstream systems.

use crate::error::StoreError;
use async_nats::HeaderMap;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Header names of a commit message.
pub mod headers {
    pub const MSG_ID: &str = "Nats-Msg-Id";
    pub const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";
    pub const AGGREGATE: &str = "Tv-Aggregate";
    pub const COMMAND: &str = "Tv-Command";
    pub const CORRELATION_ID: &str = "Tv-Correlation-Id";
    pub const CAUSATION_ID: &str = "Tv-Causation-Id";
    pub const TRACEPARENT: &str = "traceparent";
}

/// One event in a commit, with its schema version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord<E> {
    pub schema: u16,
    #[serde(flatten)]
    pub event: E,
}

impl<E> EventRecord<E> {
    pub fn new(schema: u16, event: E) -> Self {
        Self { schema, event }
    }
}

impl<E: Serialize> EventRecord<E> {
    /// The bytes this record adds to a commit's payload (its separator included), counted without
    /// building it: what a writer adds up to keep a commit under the server's `max_payload`.
    pub fn encoded_len(&self) -> usize {
        struct Count(usize);
        impl std::io::Write for Count {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0 += bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut count = Count(1);
        // Serializing into a counter fails only for a map with non-string keys, which no event has.
        let _ = serde_json::to_writer(&mut count, self);
        count.0
    }
}

/// What a commit says about itself beyond its events.
#[derive(Debug, Clone, Default)]
pub struct CommitMeta {
    /// The commit id, sent as `Nats-Msg-Id`: the same id twice is stored once.
    pub commit_id: String,
    pub aggregate: String,
    pub command: String,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub traceparent: Option<String>,
}

impl CommitMeta {
    pub fn new(aggregate: &str, command: &str) -> Self {
        Self {
            commit_id: uuid::Uuid::new_v4().to_string(),
            aggregate: aggregate.to_owned(),
            command: command.to_owned(),
            ..Self::default()
        }
    }

    pub(crate) fn headers(&self, with_msg_id: bool) -> HeaderMap {
        let mut map = HeaderMap::new();
        if with_msg_id {
            map.insert(headers::MSG_ID, self.commit_id.as_str());
        }
        map.insert(headers::AGGREGATE, self.aggregate.as_str());
        map.insert(headers::COMMAND, self.command.as_str());
        if let Some(id) = &self.correlation_id {
            map.insert(headers::CORRELATION_ID, id.as_str());
        }
        if let Some(id) = &self.causation_id {
            map.insert(headers::CAUSATION_ID, id.as_str());
        }
        if let Some(tp) = &self.traceparent {
            map.insert(headers::TRACEPARENT, tp.as_str());
        }
        map
    }
}

#[derive(Serialize)]
struct PayloadOut<'a, E> {
    #[serde(with = "time::serde::rfc3339")]
    recorded_at: OffsetDateTime,
    events: &'a [EventRecord<E>],
}

/// A stored fact before its type is known: what a reader needs to decide whether it can read it.
#[derive(Deserialize)]
struct RecordIn {
    #[serde(default = "first_schema")]
    schema: u16,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

fn first_schema() -> u16 {
    1
}

#[derive(Deserialize)]
struct RecordsIn {
    #[serde(with = "time::serde::rfc3339")]
    recorded_at: OffsetDateTime,
    events: Vec<RecordIn>,
}

/// A fact a reader skipped: its type and schema as stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFact {
    pub sequence: u64,
    pub kind: String,
    pub schema: u16,
    pub reason: String,
}

/// A commit decoded fact by fact: the facts this build reads, and those it skipped.
#[derive(Debug, Clone)]
pub struct Tolerant<E> {
    pub commit: StoredCommit<E>,
    pub skipped: Vec<SkippedFact>,
}

#[derive(Deserialize)]
struct PayloadIn<E> {
    #[serde(with = "time::serde::rfc3339")]
    recorded_at: OffsetDateTime,
    events: Vec<EventRecord<E>>,
}

pub(crate) fn encode<E: Serialize>(events: &[EventRecord<E>]) -> Result<Bytes, StoreError> {
    encode_at(events, OffsetDateTime::now_utc())
}

fn encode_at<E: Serialize>(
    events: &[EventRecord<E>],
    recorded_at: OffsetDateTime,
) -> Result<Bytes, StoreError> {
    let payload = PayloadOut {
        recorded_at,
        events,
    };
    serde_json::to_vec(&payload)
        .map(Bytes::from)
        .map_err(|e| StoreError::other("encoding a commit", e))
}

/// One stored commit message, not yet decoded.
#[derive(Debug, Clone)]
pub struct RawCommit {
    pub subject: String,
    /// The stream sequence: the commit's position and the version of what it changed.
    pub sequence: u64,
    pub headers: Option<HeaderMap>,
    pub payload: Bytes,
}

/// A decoded commit.
#[derive(Debug, Clone)]
pub struct StoredCommit<E> {
    pub subject: String,
    pub sequence: u64,
    pub commit_id: String,
    pub recorded_at: OffsetDateTime,
    pub events: Vec<E>,
    /// The schema version of each event, in the same order.
    pub schemas: Vec<u16>,
}

impl RawCommit {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.as_ref()?.get(name).map(|v| v.as_str())
    }

    pub fn commit_id(&self) -> Option<&str> {
        self.header(headers::MSG_ID)
    }

    pub fn traceparent(&self) -> Option<&str> {
        self.header(headers::TRACEPARENT)
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.header(headers::CORRELATION_ID)
    }

    /// Decodes the commit fact by fact, each brought up to date by `upcast` (type, schema, data)
    /// first. A fact of a type or schema this build does not read is skipped and reported, never
    /// an error: readers use this so that a newer writer's facts never stall them. Only a payload
    /// that is not a commit at all is an error. A commit whose facts are all of schema `written`
    /// (the one this build writes) and all known takes the direct path, at the cost of `decode`.
    pub fn decode_tolerant<E: DeserializeOwned>(
        &self,
        written: u16,
        upcast: impl Fn(&str, u16, &mut serde_json::Value) -> Result<(), String>,
    ) -> Result<Tolerant<E>, StoreError> {
        if let Ok(commit) = self.decode::<E>() {
            if commit.schemas.iter().all(|s| *s == written) {
                return Ok(Tolerant {
                    commit,
                    skipped: Vec::new(),
                });
            }
        }
        let payload: RecordsIn =
            serde_json::from_slice(&self.payload).map_err(|e| StoreError::Decode {
                subject: self.subject.clone(),
                sequence: self.sequence,
                reason: e.to_string(),
            })?;
        let mut events = Vec::with_capacity(payload.events.len());
        let mut schemas = Vec::with_capacity(payload.events.len());
        let mut skipped = Vec::new();
        for record in payload.events {
            let RecordIn {
                schema,
                kind,
                mut data,
            } = record;
            let read = upcast(&kind, schema, &mut data).and_then(|()| {
                let tagged = serde_json::json!({ "type": kind, "data": data });
                serde_json::from_value::<E>(tagged).map_err(|e| e.to_string())
            });
            match read {
                Ok(event) => {
                    events.push(event);
                    schemas.push(schema);
                }
                Err(reason) => skipped.push(SkippedFact {
                    sequence: self.sequence,
                    kind,
                    schema,
                    reason,
                }),
            }
        }
        Ok(Tolerant {
            commit: StoredCommit {
                subject: self.subject.clone(),
                sequence: self.sequence,
                commit_id: self.commit_id().unwrap_or_default().to_owned(),
                recorded_at: payload.recorded_at,
                events,
                schemas,
            },
            skipped,
        })
    }

    pub fn decode<E: DeserializeOwned>(&self) -> Result<StoredCommit<E>, StoreError> {
        // The written form, read without buffering; anything else the general way, whose errors
        // are the ones reported.
        let (recorded_at, events, schemas) =
            match crate::records::decode_payload::<E>(&self.payload) {
                Some(decoded) => decoded,
                None => {
                    let payload: PayloadIn<E> =
                        serde_json::from_slice(&self.payload).map_err(|e| StoreError::Decode {
                            subject: self.subject.clone(),
                            sequence: self.sequence,
                            reason: e.to_string(),
                        })?;
                    let (schemas, events) = payload
                        .events
                        .into_iter()
                        .map(|r| (r.schema, r.event))
                        .unzip();
                    (payload.recorded_at, events, schemas)
                }
            };
        Ok(StoredCommit {
            subject: self.subject.clone(),
            sequence: self.sequence,
            commit_id: self.commit_id().unwrap_or_default().to_owned(),
            recorded_at,
            events,
            schemas,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", content = "data")]
    enum Sample {
        Opened { capacity: u32 },
        Held { seats: Vec<String> },
    }

    #[test]
    fn a_commit_round_trips_with_types_and_schema_versions() {
        let events = vec![
            EventRecord::new(1, Sample::Opened { capacity: 3 }),
            EventRecord::new(
                2,
                Sample::Held {
                    seats: vec!["A-1".into()],
                },
            ),
        ];
        let payload = encode(&events).unwrap();
        let text = std::str::from_utf8(&payload).unwrap();
        assert!(
            text.contains(r#"{"schema":1,"type":"Opened","data":{"capacity":3}}"#),
            "{text}"
        );
        let raw = RawCommit {
            subject: "tv.inventory.x".into(),
            sequence: 7,
            headers: None,
            payload,
        };
        let commit = raw.decode::<Sample>().unwrap();
        assert_eq!(
            commit.events,
            vec![events[0].event.clone(), events[1].event.clone()]
        );
        assert_eq!(commit.schemas, vec![1, 2]);
    }

    #[test]
    fn a_record_s_encoded_length_is_what_it_adds_to_a_commit() {
        let one = vec![EventRecord::new(1, Sample::Opened { capacity: 3 })];
        let held = EventRecord::new(
            1,
            Sample::Held {
                seats: vec!["A-1".into(), "A-2".into()],
            },
        );
        let two = vec![one[0].clone(), held.clone()];
        // One instant for both: RFC 3339 drops trailing zeros, so two clock readings may differ in length.
        let at = OffsetDateTime::now_utc();
        let grown = encode_at(&two, at).unwrap().len() - encode_at(&one, at).unwrap().len();
        assert_eq!(held.encoded_len(), grown);
    }

    #[test]
    fn a_tolerant_decode_skips_what_it_cannot_read_and_upcasts_the_rest() {
        let payload = Bytes::from_static(
            br#"{"recorded_at":"2030-06-01T18:00:00Z","events":[
                {"schema":1,"type":"Opened","data":{"capacity":3}},
                {"schema":1,"type":"Renamed","data":{"name":"x"}},
                {"schema":2,"type":"Held","data":{"seat":"A-1"}},
                {"schema":3,"type":"Held","data":{"seats":["B-1"]}}]}"#,
        );
        let raw = RawCommit {
            subject: "tv.inventory.x".into(),
            sequence: 9,
            headers: None,
            payload,
        };
        // Schema 2 of Held named one seat; schema 3 names a list. Nothing is newer than 3.
        let upcast = |kind: &str, schema: u16, data: &mut serde_json::Value| match (kind, schema) {
            (_, s) if s > 3 => Err(format!("schema {s} is newer")),
            ("Held", 2) => {
                let seat = data["seat"].take();
                *data = serde_json::json!({ "seats": [seat] });
                Ok(())
            }
            _ => Ok(()),
        };
        let decoded = raw.decode_tolerant::<Sample>(3, upcast).unwrap();
        assert_eq!(
            decoded.commit.events,
            vec![
                Sample::Opened { capacity: 3 },
                Sample::Held {
                    seats: vec!["A-1".into()]
                },
                Sample::Held {
                    seats: vec!["B-1".into()]
                },
            ]
        );
        assert_eq!(decoded.commit.schemas, vec![1, 2, 3]);
        assert_eq!(decoded.skipped.len(), 1);
        assert_eq!(decoded.skipped[0].kind, "Renamed");
        assert_eq!(decoded.skipped[0].sequence, 9);

        let newer = RawCommit {
            payload: Bytes::from_static(
                br#"{"recorded_at":"2030-06-01T18:00:00Z","events":[{"schema":4,"type":"Held","data":{"seats":[]}}]}"#,
            ),
            ..raw.clone()
        };
        let decoded = newer.decode_tolerant::<Sample>(3, upcast).unwrap();
        assert!(decoded.commit.events.is_empty());
        assert_eq!(decoded.skipped[0].reason, "schema 4 is newer");

        let not_a_commit = RawCommit {
            payload: Bytes::from_static(b"[]"),
            ..raw
        };
        assert!(not_a_commit.decode_tolerant::<Sample>(3, upcast).is_err());
    }
}
