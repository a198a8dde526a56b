//! Schema versions of the stored facts, and the one place where older versions are brought up to
//! date.
//!
//! Every fact is stored as `{"schema": N, "type": "SeatsHeld", "data": {..}}`. A change to a
//! fact's data that an older reader could misread gets the next schema number for that type and an
//! upcaster here, which turns the older data into the newer. Every reader (the command side's
//! restore, the projector, the notifier, the downstream examples) decodes through [`upcast`], so
//! each sees one shape of every fact, whatever build wrote it. Adding a field with a default, or a
//! new fact type, needs no new schema: older readers skip what they do not know.
//!
//! A reader that meets a type or a schema newer than it knows skips that fact, logs it and counts
//! it, and goes on: facts written by a newer build never stall an older reader during a rolling
//! upgrade. The command side is the exception: a writer refuses to decide on a log it cannot read
//! whole (it answers `503` until a build that knows the fact takes over).

use serde_json::Value;

/// The schema this build writes for every fact.
pub const WRITTEN: u16 = 1;

/// Why a stored fact cannot be brought up to the shape this build reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("schema {schema} of {kind} is newer than this build reads ({newest})")]
    Newer {
        kind: String,
        schema: u16,
        newest: u16,
    },
    #[error("{kind} has no schema 0")]
    NoSuchSchema { kind: String },
}

/// The newest schema of fact type `kind` this build reads (and writes).
pub fn newest(_kind: &str) -> u16 {
    WRITTEN
}

/// Brings `data` of a fact `kind` stored at `schema` up to [`newest`], in place.
pub fn upcast(kind: &str, schema: u16, data: &mut Value) -> Result<(), Unreadable> {
    let newest = newest(kind);
    if schema == 0 {
        return Err(Unreadable::NoSuchSchema { kind: kind.into() });
    }
    if schema > newest {
        return Err(Unreadable::Newer {
            kind: kind.into(),
            schema,
            newest,
        });
    }
    // One step per schema, oldest first: `(kind, from) => change data to from + 1`. No fact has
    // changed shape since schema 1, so there is no step yet.
    let _ = data;
    Ok(())
}

/// [`upcast`] with the error as text, the shape the event store's decoder takes.
pub fn upcaster(kind: &str, schema: u16, data: &mut Value) -> Result<(), String> {
    upcast(kind, schema, data).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todays_facts_pass_unchanged() {
        let mut data = serde_json::json!({"hold_id": "h", "quantity": 2});
        let before = data.clone();
        assert_eq!(upcast("SeatsHeld", WRITTEN, &mut data), Ok(()));
        assert_eq!(data, before);
    }

    #[test]
    fn a_newer_schema_is_unreadable_not_misread() {
        let mut data = serde_json::json!({});
        assert_eq!(
            upcast("SeatsHeld", WRITTEN + 1, &mut data),
            Err(Unreadable::Newer {
                kind: "SeatsHeld".into(),
                schema: WRITTEN + 1,
                newest: WRITTEN
            })
        );
        assert!(upcast("SeatsHeld", 0, &mut data).is_err());
    }
}
