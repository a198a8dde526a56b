//! Restoring an event's inventory: latest snapshot, then the commits after it (finished holds
//! folded as they pile up, as the writer does).

use domain::ids::EventId;
use domain::inventory::{EventInventory, InventoryEvent};
use std::collections::HashMap;
use tv_nats::{EventStore, Snapshots, StoreError, Stream};

use domain::ids::HoldId;

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

#[derive(serde::Serialize, serde::Deserialize)]
struct SnapshotDoc {
    state: EventInventory,
    hold_positions: Vec<(HoldId, u64)>,
}

pub(super) fn snapshot_key(event: EventId) -> String {
    format!("inventory.{event}")
}

pub(super) fn encode_snapshot(
    state: &EventInventory,
    hold_positions: &HashMap<HoldId, u64>,
) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(serde::Serialize)]
    struct Ref<'a> {
        state: &'a EventInventory,
        hold_positions: Vec<(&'a HoldId, &'a u64)>,
    }
    serde_json::to_vec(&Ref {
        state,
        hold_positions: hold_positions.iter().collect(),
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
        Ok(Some((sequence, bytes))) => match serde_json::from_slice::<SnapshotDoc>(&bytes) {
            Ok(doc) => {
                restored.state = doc.state;
                restored.last_sequence = sequence;
                restored.snapshot_sequence = sequence;
                restored.hold_positions = doc.hold_positions.into_iter().collect();
            }
            // A snapshot is an optimisation: an unreadable one costs a full replay.
            Err(e) => tracing::warn!(%event, error = %e, "ignoring unreadable snapshot"),
        },
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
    let loaded = store
        .load::<InventoryEvent>(
            Stream::Inventory,
            &event.to_string(),
            restored.last_sequence,
        )
        .await?;
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
    Ok(())
}
