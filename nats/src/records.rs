//! Decoding a commit's records without buffering them.
//!
//! A record is `{"schema":N,"type":"Kind","data":{..}}`: the event's own adjacently tagged form
//! with the schema beside it. Deriving that shape with `#[serde(flatten)]` makes serde buffer every
//! record (its data included) into an intermediate tree before the event is read from it, which
//! costs more than the parsing. Here each record is read as its schema, its type and the raw text
//! of its data, and the event is deserialized from those two directly: the data is parsed once.
//! [`decode_payload`] gives `None` for a payload it cannot read so; the caller then decodes it the
//! general way, whose errors are the ones reported.

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use time::OffsetDateTime;

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(with = "time::serde::rfc3339")]
    recorded_at: OffsetDateTime,
    #[serde(borrow)]
    events: Vec<Record<'a>>,
}

#[derive(Deserialize)]
struct Record<'a> {
    schema: u16,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// The commit's time, and each event with its schema; `None` when the payload is not in the
/// written form or an event is not an `E`.
pub(crate) fn decode_payload<E: DeserializeOwned>(
    payload: &[u8],
) -> Option<(OffsetDateTime, Vec<E>, Vec<u16>)> {
    let payload: Payload<'_> = serde_json::from_slice(payload).ok()?;
    let mut events = Vec::with_capacity(payload.events.len());
    let mut schemas = Vec::with_capacity(payload.events.len());
    for record in &payload.events {
        let tagged = Tagged {
            kind: &record.kind,
            data: record.data,
            read: 0,
        };
        events.push(E::deserialize(MapAccessDeserializer::new(tagged)).ok()?);
        schemas.push(record.schema);
    }
    Some((payload.recorded_at, events, schemas))
}

/// An event's adjacently tagged form, `{"type": kind, "data": data}`, as a map.
struct Tagged<'k, 'de> {
    kind: &'k str,
    data: Option<&'de RawValue>,
    /// Entries read so far.
    read: u8,
}

impl<'de> MapAccess<'de> for Tagged<'_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match (self.read, self.data) {
            (0, _) => "type",
            (1, Some(_)) => "data",
            _ => return Ok(None),
        };
        seed.deserialize(StrDeserializer::<Self::Error>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.read += 1;
        match (self.read, self.data) {
            (1, _) => seed.deserialize(StrDeserializer::<Self::Error>::new(self.kind)),
            (_, Some(data)) => seed.deserialize(data.into_deserializer()),
            _ => Err(serde::de::Error::custom("no value left")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", content = "data")]
    enum Sample {
        Opened { capacity: u32 },
        Held { seats: Vec<String> },
        Closed,
    }

    #[test]
    fn records_decode_as_the_general_way_reads_them() {
        let payload = br#"{"recorded_at":"2030-06-01T18:00:00Z","events":[
            {"schema":1,"type":"Opened","data":{"capacity":3}},
            {"schema":2,"type":"Held","data":{"seats":["A-\"1"]}},
            {"schema":1,"type":"Closed"}]}"#;
        let (at, events, schemas) = decode_payload::<Sample>(payload).unwrap();
        assert_eq!(at.year(), 2030);
        assert_eq!(
            events,
            vec![
                Sample::Opened { capacity: 3 },
                Sample::Held {
                    seats: vec!["A-\"1".into()]
                },
                Sample::Closed,
            ]
        );
        assert_eq!(schemas, vec![1, 2, 1]);
    }

    #[test]
    fn what_is_not_in_the_written_form_is_left_to_the_general_way() {
        for payload in [
            &br#"{"recorded_at":"2030-06-01T18:00:00Z","events":[{"type":"Renamed","data":{}}]}"#[..],
            br#"{"recorded_at":"2030-06-01T18:00:00Z","events":[{"schema":1,"type":"Renamed","data":{}}]}"#,
            br#"{"recorded_at":"2030-06-01T18:00:00Z","events":[{"schema":1,"type":"Held","data":{"seat":1}}]}"#,
            b"[]",
        ] {
            assert!(decode_payload::<Sample>(payload).is_none());
        }
    }
}
