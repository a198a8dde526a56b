//! The admitter of each room: at every turn (the pacing interval, between 20 ms and 1 s) it
//! decides, on this instance's fold, what is due — closing the queue when the catalog ended the
//! sale or every seat is sold, the prequeue's shuffle once the sale has been open for the grace period, the end of
//! admissions whose customer's order was confirmed, expiries, and the next admissions — and
//! appends it to the room's own subject with the room's last sequence as the expected sequence.
//!
//! Every instance runs one per room; the expected-sequence check makes one of them win each turn
//! and the others fold its facts and decide again, so a room is never admitted twice over and a
//! crashed instance's room goes on at the survivor's next turn. The shuffle's seed comes from the
//! operating system's random source and is recorded in the fact.

use crate::catalog::{self, Listing};
use crate::places::records;
use crate::rooms::{Room, Rooms};
use crate::subjects::room_id;
use domain::ids::CustomerId;
use domain::waiting_room::{
    decide, CloseReason, FinishReason, ShuffleSeed, WaitingRoom, WaitingRoomCommand,
    WaitingRoomError, WaitingRoomEvent,
};
use domain::Timestamp;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tv_nats::{AppendError, CommitMeta, EventStore, Stream};

/// The fastest and slowest turn.
const MIN_TURN: Duration = Duration::from_millis(20);
const MAX_TURN: Duration = Duration::from_secs(1);
/// How often the catalog is read for the end of the sale.
const CATALOG_EVERY: Duration = Duration::from_secs(2);
/// The most facts in one commit (a mass expiry is recorded over several).
const MAX_FACTS_PER_COMMIT: usize = 1_000;
/// How long a turn waits for its own commit to be folded before the next.
const FOLD_WAIT: Duration = Duration::from_secs(5);

/// What every admitter shares.
#[derive(Clone)]
pub struct Settings {
    pub store: EventStore,
    pub rooms: Arc<Rooms>,
    /// How long after `sale_opens_at` the prequeue is shuffled.
    pub shuffle_grace: Duration,
}

/// Runs an admitter for every room as it appears, until aborted (which stops them all).
pub async fn run_all(mut new_rooms: mpsc::UnboundedReceiver<Arc<Room>>, settings: Settings) {
    let mut admitters = JoinSet::new();
    while let Some(room) = new_rooms.recv().await {
        admitters.spawn(crate::sold_out::watch(settings.store.clone(), room.clone()));
        admitters.spawn(run(room, settings.clone()));
    }
    std::future::pending::<()>().await;
}

/// One room's admitter.
pub async fn run(room: Arc<Room>, settings: Settings) {
    let mut closing: Option<CloseReason> = None;
    let mut catalog_read: Option<Instant> = None;
    loop {
        tokio::time::sleep(turn(&room)).await;
        if room.read(|state| state.config().is_none() || state.closed().is_some()) {
            crate::metrics::record_room(&room, Timestamp::now_utc());
            continue;
        }
        if catalog_read.is_none_or(|at| at.elapsed() >= CATALOG_EVERY) {
            catalog_read = Some(Instant::now());
            match catalog::lookup(&settings.store, room.event()).await {
                Ok(Listing::Room { closed, .. }) => closing = closed,
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "catalog not read"),
            }
        }
        if closing.is_none() && room.is_sold_out() {
            closing = Some(CloseReason::SoldOut);
        }
        let finishes = room.take_finishes();
        let now = Timestamp::now_utc();
        let planned = room.read(|state| plan(state, now, &settings, closing, &finishes));
        let facts = match planned {
            Ok(facts) => facts,
            Err(e) => {
                tracing::warn!(event = %room.event(), error = %e, "the admitter decided nothing");
                room.return_finishes(finishes);
                continue;
            }
        };
        if !facts.is_empty() && !append(&room, &settings, facts).await {
            room.return_finishes(finishes);
        }
        crate::metrics::record_room(&room, now);
    }
}

/// The pause before a room's next turn: its pacing interval, within bounds.
fn turn(room: &Room) -> Duration {
    room.read(|state| state.config().map(|c| c.admission_interval()))
        .and_then(|interval| Duration::try_from(interval).ok())
        .map_or(MAX_TURN, |interval| interval.clamp(MIN_TURN, MAX_TURN))
}

/// What is due in the room at `now`, in the order it is recorded.
pub fn plan(
    state: &WaitingRoom,
    now: Timestamp,
    settings: &Settings,
    closing: Option<CloseReason>,
    finishes: &[CustomerId],
) -> Result<Vec<WaitingRoomEvent>, WaitingRoomError> {
    if let Some(reason) = closing {
        return decide(state, &WaitingRoomCommand::Close { reason }, now);
    }
    let grace = time::Duration::try_from(settings.shuffle_grace).unwrap_or(time::Duration::ZERO);
    if state.needs_shuffle(now - grace) {
        let seed = ShuffleSeed::from_bytes(rand::random());
        return decide(state, &WaitingRoomCommand::ShufflePrequeue { seed }, now);
    }
    let mut facts = Vec::new();
    for customer in finishes {
        let finish = WaitingRoomCommand::FinishAdmission {
            customer_id: customer.clone(),
            reason: FinishReason::OrderConfirmed,
        };
        facts.extend(decide(state, &finish, now)?);
    }
    match decide(state, &WaitingRoomCommand::Admit, now) {
        Ok(admitted) => facts.extend(admitted),
        // The sale opened but the grace before the shuffle is not over.
        Err(WaitingRoomError::NotShuffled) => {}
        Err(e) => return Err(e),
    }
    Ok(facts)
}

/// Appends a turn's facts behind the room's last sequence; false if another instance got there
/// first or the store failed (the turn is decided again).
async fn append(room: &Room, settings: &Settings, facts: Vec<WaitingRoomEvent>) -> bool {
    let id = room_id(room.event());
    let mut expected = room.room_sequence();
    let mut facts = facts;
    while !facts.is_empty() {
        let rest = facts.split_off(facts.len().min(MAX_FACTS_PER_COMMIT));
        let meta = CommitMeta::new(&id, command_name(&facts));
        let stored = settings
            .store
            .append(Stream::Queue, &id, expected, &meta, &records(facts))
            .await;
        match stored {
            Ok(position) => {
                expected = position.sequence;
                settings
                    .rooms
                    .wait_applied(position.sequence, FOLD_WAIT)
                    .await;
            }
            Err(AppendError::Conflict { actual, .. }) => {
                // Another instance took this turn: fold its facts, then decide again.
                if let Some(actual) = actual {
                    settings.rooms.wait_applied(actual, FOLD_WAIT).await;
                }
                return false;
            }
            Err(e) => {
                tracing::warn!(event = %room.event(), error = %e, "admissions not recorded");
                return false;
            }
        }
        facts = rest;
    }
    true
}

/// The command a commit's facts come from, for its headers.
fn command_name(facts: &[WaitingRoomEvent]) -> &'static str {
    match facts.first() {
        Some(WaitingRoomEvent::QueueClosed { .. }) => "CloseQueue",
        Some(WaitingRoomEvent::PrequeueShuffled { .. }) => "ShufflePrequeue",
        _ => "Admit",
    }
}
