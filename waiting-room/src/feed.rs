//! Folding the queue stream: one ordered consumer over every subject of the stream, from the first
//! message at start and from the last folded one after an error, so that every instance holds
//! every room in the order the stream gives. Readiness waits for the fold to reach the stream's
//! end as it was at start.

use crate::rooms::Rooms;
use crate::subjects;
use domain::waiting_room::WaitingRoomEvent;
use std::sync::Arc;
use std::time::Duration;
use tv_nats::{EventStore, FollowFrom, RawCommit, StoreError, Stream};

/// Follows the queue stream until the task is aborted.
pub async fn follow(store: EventStore, rooms: Arc<Rooms>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match follow_once(&store, &rooms).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(error = %e, "folding the queue stream stopped; resuming");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn follow_once(store: &EventStore, rooms: &Rooms) -> Result<(), StoreError> {
    let end_at_start = store.last_sequence(Stream::Queue).await?;
    if rooms.applied() >= end_at_start {
        rooms.mark_caught_up();
    }
    let mut following = store
        .follow(Stream::Queue, FollowFrom::Sequence(rooms.applied() + 1))
        .await?;
    loop {
        let raw = following.next().await?;
        let sequence = raw.sequence;
        fold(store, rooms, raw);
        if sequence >= end_at_start {
            rooms.mark_caught_up();
        }
    }
}

/// Folds one commit. A commit that cannot be read is logged and stepped over: the fold must not
/// stall every room for one bad message (only this service writes the stream).
fn fold(store: &EventStore, rooms: &Rooms, raw: RawCommit) {
    let sequence = raw.sequence;
    let Some((event, kind)) = subjects::parse(store.naming(), &raw.subject) else {
        tracing::warn!(subject = %raw.subject, sequence, "not a queue subject; stepped over");
        rooms.advance(sequence);
        return;
    };
    match raw.decode::<WaitingRoomEvent>() {
        Ok(commit) => rooms.apply(event, kind, sequence, commit.events),
        Err(e) => {
            tracing::error!(error = %e, sequence, "a queue commit cannot be decoded; stepped over");
            rooms.advance(sequence);
        }
    }
}
