//! Restoring an event's inventory: latest snapshot, then the commits after it (finished holds
//! folded as they pile up, as the writer does).
//!
//! Snapshots are saved in binary (postcard, `BINARY_MAGIC` first); those saved before that are
//! JSON documents (`{` first) and are still read. The snapshot is decoded on a blocking thread
//! while the commits after it are read, since its sequence is known before its content is.

use domain::ids::EventId;
use domain::ids::HoldId;
use domain::inventory::{EventInventory, InventoryEvent, InventorySnapshot, SnapshotRefused};
use std::collections::HashMap;
use tv_nats::{EventStore, Loaded, Snapshots, StoreError, Stream};

/// The first bytes of a binary snapshot document. A JSON document starts with `{`, so neither is
/// ever taken for the other; a reader built before binary snapshots finds no JSON and replays.
const BINARY_MAGIC: &[u8; 4] = b"\0TVB";

/// An aggregate as a writer holds it.
pub(super) struct Restored {
    pub state: EventInventory,
    pub last_sequence: u64,
    /// Where each hold was first stored, to answer a retried request with its first position.
    pub hold_positions: HashMap<HoldId, u64>,
    /// The sequence of the latest snapshot saved or loaded (0 without one): a retiring writer
    /// saves one only if the state is past it.
    pub snapshot_sequence: u64,
}

/// A stored snapshot document as read; `decode_snapshot` checks its state.
#[derive(serde::Deserialize)]
struct SnapshotDoc {
    state: InventorySnapshot,
    hold_positions: Vec<(HoldId, u64)>,
}

/// A stored snapshot document, its state checked and indexed.
struct Decoded {
    state: EventInventory,
    hold_positions: Vec<(HoldId, u64)>,
}

/// Why a stored snapshot cannot be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum SnapshotError {
    #[error("binary snapshot: {0}")]
    Binary(#[from] postcard::Error),
    #[error("binary snapshot: {0} bytes after its end")]
    Trailing(usize),
    #[error("JSON snapshot: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Refused(#[from] SnapshotRefused),
}

pub(super) fn snapshot_key(event: EventId) -> String {
    format!("inventory.{event}")
}

pub(super) fn encode_snapshot(
    state: &EventInventory,
    hold_positions: &HashMap<HoldId, u64>,
) -> Result<Vec<u8>, SnapshotError> {
    #[derive(serde::Serialize)]
    struct Ref<'a> {
        state: &'a EventInventory,
        hold_positions: Vec<(&'a HoldId, &'a u64)>,
    }
    let doc = Ref {
        state,
        hold_positions: hold_positions.iter().collect(),
    };
    Ok(postcard::to_extend(&doc, BINARY_MAGIC.to_vec())?)
}

/// A stored snapshot document, binary or JSON, with its state checked (`EventInventory::try_from`).
fn decode_snapshot(bytes: &[u8]) -> Result<Decoded, SnapshotError> {
    let doc: SnapshotDoc = match bytes.strip_prefix(BINARY_MAGIC) {
        None => serde_json::from_slice(bytes)?,
        Some(binary) => match postcard::take_from_bytes(binary)? {
            (doc, []) => doc,
            (_, rest) => return Err(SnapshotError::Trailing(rest.len())),
        },
    };
    Ok(Decoded {
        state: EventInventory::try_from(doc.state)?,
        hold_positions: doc.hold_positions,
    })
}

pub(super) async fn restore(
    store: &EventStore,
    snapshots: &Snapshots,
    event: EventId,
) -> Result<Restored, StoreError> {
    let mut restored = Restored {
        state: EventInventory::default(),
        last_sequence: 0,
        hold_positions: HashMap::new(),
        snapshot_sequence: 0,
    };
    match snapshots.load(&snapshot_key(event)).await {
        Ok(Some((sequence, bytes))) => {
            // The commits after the snapshot are read while it is decoded.
            let decoding = tokio::task::spawn_blocking(move || decode_snapshot(&bytes));
            let (decoded, tail) = tokio::join!(decoding, load_after(store, event, sequence));
            match decoded {
                Ok(Ok(doc)) => {
                    restored.state = doc.state;
                    restored.last_sequence = sequence;
                    restored.snapshot_sequence = sequence;
                    restored.hold_positions = doc.hold_positions.into_iter().collect();
                    apply(&mut restored, tail?);
                    return Ok(restored);
                }
                // A snapshot is an optimisation: an unreadable one costs a full replay.
                Ok(Err(e)) => tracing::warn!(%event, error = %e, "ignoring unreadable snapshot"),
                Err(e) => tracing::warn!(%event, error = %e, "decoding a snapshot failed"),
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(%event, error = %e, "snapshot unavailable; replaying"),
    }
    catch_up(store, event, &mut restored).await?;
    Ok(restored)
}

/// Applies every commit after `restored.last_sequence`.
pub(super) async fn catch_up(
    store: &EventStore,
    event: EventId,
    restored: &mut Restored,
) -> Result<(), StoreError> {
    let loaded = load_after(store, event, restored.last_sequence).await?;
    apply(restored, loaded);
    Ok(())
}

async fn load_after(
    store: &EventStore,
    event: EventId,
    sequence: u64,
) -> Result<Loaded<InventoryEvent>, StoreError> {
    store
        .load::<InventoryEvent>(Stream::Inventory, &event.to_string(), sequence)
        .await
}

fn apply(restored: &mut Restored, loaded: Loaded<InventoryEvent>) {
    for commit in &loaded.commits {
        for fact in &commit.events {
            if let InventoryEvent::SeatsHeld { hold_id, .. } = fact {
                restored.hold_positions.insert(*hold_id, commit.sequence);
            }
            restored.state.apply(fact);
        }
        // A long replay keeps only its live holds whole, as the writer does.
        restored.state.compact();
    }
    restored.last_sequence = loaded.last_sequence;
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::catalog::SectionLayout;
    use domain::ids::{CustomerId, IdempotencyKey, SectionId};
    use domain::inventory::{InventorySection, Selection};

    /// An open sale with `holds` one-ticket holds on the floor, and where each was stored.
    fn sale(holds: u32) -> (EventInventory, HashMap<HoldId, u64>) {
        let event = EventId::new_random();
        let section = SectionId::parse("floor").unwrap();
        let mut state = EventInventory::default();
        state.apply(&InventoryEvent::InventoryOpened {
            sections: vec![InventorySection {
                section_id: section.clone(),
                price_minor: 100,
                layout: SectionLayout::GeneralAdmission { capacity: 1_000 },
                ticket_types: Vec::new(),
            }],
            currency: "EUR".parse().unwrap(),
            hold_ttl_seconds: 600,
            max_tickets_per_customer: 8,
            sale_opens_at: None,
            sale_closes_at: None,
            waiting_room: false,
            presales: Vec::new(),
        });
        let mut positions = HashMap::new();
        for n in 0..holds {
            let customer = CustomerId::parse(&format!("c{n}")).unwrap();
            let hold_id = HoldId::derive(event, &customer, &IdempotencyKey::parse("k").unwrap());
            state.apply(&InventoryEvent::SeatsHeld {
                hold_id,
                customer_id: customer,
                section_id: section.clone(),
                seats: vec![],
                quantity: 1,
                expires_at: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
                request: Selection::Quantity(1),
            });
            positions.insert(hold_id, 2 + u64::from(n));
        }
        (state, positions)
    }

    fn positions_of(doc: &Decoded) -> HashMap<HoldId, u64> {
        doc.hold_positions.iter().copied().collect()
    }

    #[test]
    fn a_binary_snapshot_reads_back_what_was_saved() {
        let (state, positions) = sale(20);
        let bytes = encode_snapshot(&state, &positions).unwrap();
        assert!(bytes.starts_with(BINARY_MAGIC));
        let doc = decode_snapshot(&bytes).unwrap();
        assert_eq!(doc.state, state);
        assert_eq!(positions_of(&doc), positions);
    }

    /// What writers saved before binary snapshots: the same document in JSON, version 8.
    #[test]
    fn a_json_snapshot_is_still_read() {
        let (state, positions) = sale(20);
        let positions_list: Vec<_> = positions.iter().collect();
        let json = serde_json::to_vec(&serde_json::json!({
            "state": &state,
            "hold_positions": positions_list,
        }))
        .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["state"]["version"], 8);
        let doc = decode_snapshot(&json).unwrap();
        assert_eq!(doc.state, state);
        assert_eq!(positions_of(&doc), positions);
    }

    /// A snapshot that decodes but breaks a promise: refused, and the log says why.
    #[test]
    fn a_binary_snapshot_of_an_oversold_sale_is_refused_with_its_reason() {
        let (state, _) = sale(20);
        let mut bytes = encode_snapshot(&state, &HashMap::new()).unwrap();
        // The floor's capacity is in the configuration's JSON text: 1000 becomes 10.
        let text = b"\"capacity\":1000";
        let at = bytes
            .windows(text.len())
            .position(|w| w == text)
            .expect("the capacity");
        bytes[at + text.len() - 4..at + text.len()].copy_from_slice(b"  10");
        let refused = decode_snapshot(&bytes).err().expect("refused");
        assert!(refused.to_string().contains("oversold"), "{refused}");
    }

    #[test]
    fn a_damaged_binary_snapshot_is_refused() {
        let (state, positions) = sale(20);
        let bytes = encode_snapshot(&state, &positions).unwrap();
        // Cut short, one byte too many, or garbage after the first bytes.
        assert!(decode_snapshot(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            decode_snapshot(&longer),
            Err(SnapshotError::Trailing(1))
        ));
        let mut garbage = BINARY_MAGIC.to_vec();
        garbage.extend(std::iter::repeat_n(0xff, 64));
        assert!(decode_snapshot(&garbage).is_err());
    }
}
