//! The inventory side of command-svc: one writer task per hot event, in the one instance that holds
//! the event's lease, and the registry that routes each command to its event's writer, here or, by
//! NATS request-reply, in the owning instance.

mod error;
mod forward;
mod load;
mod ownership;
mod registry;
mod timer;
mod writer;

pub use error::CommandError;
pub use registry::{Decided, Inventories, WriterSettings};

use domain::ids::EventId;
use domain::inventory::EventInventory;
use tv_nats::{EventStore, Snapshots, StoreError};

/// Restores an event's inventory as a writer does (latest snapshot, then the commits after it):
/// the aggregate and its last sequence. For tools, tests and benchmarks.
pub async fn restore_inventory(
    store: &EventStore,
    snapshots: &Snapshots,
    event: EventId,
) -> Result<(EventInventory, u64), StoreError> {
    let restored = load::restore(store, snapshots, event).await?;
    Ok((restored.state, restored.last_sequence))
}

/// Saves a snapshot of `state` as of `sequence`, as a writer does every so many commits.
pub async fn save_inventory_snapshot(
    snapshots: &Snapshots,
    event: EventId,
    state: &EventInventory,
    sequence: u64,
) -> Result<(), StoreError> {
    let bytes = load::encode_snapshot(state, &Default::default())
        .map_err(|e| StoreError::Other(format!("encoding a snapshot: {e}")))?;
    snapshots
        .save(&load::snapshot_key(event), sequence, &bytes)
        .await
}
