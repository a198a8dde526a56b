//! `GET /events/{id}/queue/me/stream`: the customer's place as server-sent events, `event: queue`
//! with the same object as `GET …/queue/me`, sent when it changes and at least every 15 s.
//!
//! A stream wakes when its room folds a fact (or when its admission runs out), at most twice a
//! second: a room admitting hundreds a second does not wake every stream hundreds of times.

use super::error::ApiError;
use super::queue::{view, Customer, Event};
use super::AppState;
use crate::rooms::Room;
use crate::view::QueueView;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, Sse};
use domain::ids::CustomerId;
use domain::Timestamp;
use futures::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The longest silence: the object is sent again after this even if nothing changed.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// The shortest pause between two messages of one stream.
const MIN_INTERVAL: Duration = Duration::from_millis(500);

struct Follow {
    state: AppState,
    room: Arc<Room>,
    customer: CustomerId,
    changes: watch::Receiver<u64>,
    stopping: watch::Receiver<bool>,
    last: Option<QueueView>,
    sent_at: Instant,
}

pub async fn follow(
    State(state): State<AppState>,
    Customer(customer): Customer,
    Event(event): Event,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let room = state.places.existing_room(event).await?;
    // A customer without a place gets the error now, not an empty stream.
    view(&state, &room, &customer, Timestamp::now_utc())?;
    let follow = Follow {
        changes: room.changes(),
        stopping: state.stopping.clone(),
        state,
        room,
        customer,
        last: None,
        sent_at: Instant::now(),
    };
    Ok(Sse::new(futures::stream::unfold(follow, next)))
}

/// The next message of a stream, or its end when the service stops.
async fn next(mut f: Follow) -> Option<(Result<SseEvent, Infallible>, Follow)> {
    loop {
        if *f.stopping.borrow() {
            return None;
        }
        let now = Timestamp::now_utc();
        let current = view(&f.state, &f.room, &f.customer, now).ok()?;
        if f.last.as_ref() != Some(&current) || f.sent_at.elapsed() >= HEARTBEAT {
            let message = SseEvent::default()
                .event("queue")
                .json_data(&current)
                .ok()?;
            f.last = Some(current);
            f.sent_at = Instant::now();
            return Some((Ok(message), f));
        }
        let heartbeat = f.sent_at + HEARTBEAT;
        let runs_out = current
            .admitted_until
            .filter(|_| current.state == "admitted")
            .and_then(|until| Duration::try_from(until - now).ok())
            .map(|left| Instant::now() + left);
        let wake = runs_out.map_or(heartbeat, |at| at.min(heartbeat));
        tokio::select! {
            _ = f.stopping.changed() => return None,
            changed = f.changes.changed() => {
                if changed.is_err() {
                    return None;
                }
                let earliest = f.sent_at + MIN_INTERVAL;
                tokio::time::sleep_until(earliest.max(Instant::now())).await;
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
}
