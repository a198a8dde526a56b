//! A sold-out event closes its queue: for every room, this instance follows the event's inventory
//! subject and folds it with the domain's own `evolve`; once every seat of every section is sold,
//! the room is marked sold out and its admitter records `QueueClosed {sold_out}` at its next turn.
//!
//! Only sold seats count: held seats come back when their holds end, so a moment when everything
//! is held is not sold out. Closing is final, as for a closed sale: seats that come back later
//! (a refund, a cancelled order) go to the public sale, not to the queue.

use crate::rooms::Room;
use domain::inventory::{evolve, EventInventory, InventoryEvent};
use domain::schema::{upcaster, WRITTEN};
use domain::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tv_nats::{EventStore, FollowFrom, StoreError, Stream};

/// Follows the room's event until it is sold out or its queue closed (or the task is aborted).
pub async fn watch(store: EventStore, room: Arc<Room>) {
    let mut state = EventInventory::default();
    let mut next = 1;
    loop {
        match follow(&store, &room, &mut state, &mut next).await {
            Ok(()) => return,
            Err(e) => {
                tracing::debug!(event = %room.event(), error = %e, "following the inventory; resuming");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Folds the inventory from `next` on; returns once every seat is sold or the room is closed.
async fn follow(
    store: &EventStore,
    room: &Room,
    state: &mut EventInventory,
    next: &mut u64,
) -> Result<(), StoreError> {
    let subject = store
        .naming()
        .subject(Stream::Inventory, &room.event().to_string());
    let mut following = store
        .follow_subject(Stream::Inventory, subject, FollowFrom::Sequence(*next))
        .await?;
    loop {
        let raw = following.next().await?;
        *next = raw.sequence + 1;
        let decoded = raw.decode_tolerant::<InventoryEvent>(WRITTEN, upcaster)?;
        for fact in &decoded.skipped {
            tracing::warn!(sequence = fact.sequence, kind = %fact.kind, schema = fact.schema,
                reason = %fact.reason, "a fact this build cannot read; skipped");
        }
        let commit = decoded.commit;
        for event in &commit.events {
            *state = evolve(std::mem::take(state), event);
        }
        // A room closed already (for this or another reason) needs no more folding.
        if room.read(|room| room.closed().is_some()) {
            return Ok(());
        }
        if sold_out(state, Timestamp::now_utc()) {
            room.mark_sold_out();
            return Ok(());
        }
    }
}

/// Every seat of every section sold (an inventory not open yet is not sold out).
pub fn sold_out(state: &EventInventory, now: Timestamp) -> bool {
    let sections = state.availability(now);
    !sections.is_empty() && sections.iter().all(|s| s.sold >= s.capacity)
}
