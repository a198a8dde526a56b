//! Customers' places: joining and leaving an event's queue, each an append to the customer's own
//! subject, and the room's configuration, appended once from the catalog when the room is first
//! needed.
//!
//! A join is appended with "expected last subject sequence 0": JetStream stores one join per
//! customer and event, whatever the retries and instances, and a refused one means the place
//! exists. A leave is appended behind the join. The answer waits until this instance has folded
//! the commit, so it always shows the place it created.

use crate::catalog::{self, Listing};
use crate::rooms::{Room, Rooms};
use crate::subjects::{place_id, room_id};
use domain::ids::{CustomerId, EventId};
use domain::waiting_room::{
    decide, WaitingRoomCommand, WaitingRoomConfig, WaitingRoomError, WaitingRoomEvent,
};
use domain::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tv_nats::{AppendError, CommitMeta, EventRecord, EventStore, Position, Stream};

/// How long an answer waits for this instance to fold what it appended.
const FOLD_WAIT: Duration = Duration::from_secs(5);

/// The schema version of every waiting-room fact.
pub const SCHEMA: u16 = 1;

/// Why a queue request is refused.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("no published event has this id")]
    UnknownEvent,
    #[error("this event is sold without a waiting room")]
    NoWaitingRoom,
    #[error("the queue is closed: {0}")]
    Closed(String),
    #[error("you have no place in this queue; join it first")]
    NotInQueue,
    #[error("the waiting room is starting; retry shortly")]
    Starting,
    #[error("{0}")]
    Unavailable(String),
}

impl From<tv_nats::StoreError> for QueueError {
    fn from(e: tv_nats::StoreError) -> Self {
        QueueError::Unavailable(e.to_string())
    }
}

/// Joins, leaves and configurations.
#[derive(Clone)]
pub struct Places {
    store: EventStore,
    rooms: Arc<Rooms>,
}

/// The facts of a commit as records.
pub fn records(events: Vec<WaitingRoomEvent>) -> Vec<EventRecord<WaitingRoomEvent>> {
    events
        .into_iter()
        .map(|event| EventRecord::new(SCHEMA, event))
        .collect()
}

impl Places {
    pub fn new(store: EventStore, rooms: Arc<Rooms>) -> Self {
        Self { store, rooms }
    }

    /// The room of an event; configured from the catalog's log the first time.
    pub async fn room(&self, event: EventId) -> Result<Arc<Room>, QueueError> {
        if !self.rooms.is_caught_up() {
            return Err(QueueError::Starting);
        }
        if let Some(room) = self.rooms.get(event) {
            if room.read(|state| state.config().is_some()) {
                return Ok(room);
            }
        }
        match catalog::lookup(&self.store, event).await? {
            Listing::Unknown => Err(QueueError::UnknownEvent),
            Listing::NoWaitingRoom => Err(QueueError::NoWaitingRoom),
            Listing::Room {
                config,
                closed: None,
            } => self.configure(event, config).await,
            Listing::Room {
                config,
                closed: Some(reason),
            } => {
                // Configured all the same: the admitter records the closing at its next turn.
                self.configure(event, config).await?;
                Err(QueueError::Closed(reason.to_string()))
            }
        }
    }

    /// The room of an event someone joined, for reads: nothing is appended. An event nobody
    /// joined yet is looked up for the right answer.
    pub async fn existing_room(&self, event: EventId) -> Result<Arc<Room>, QueueError> {
        if !self.rooms.is_caught_up() {
            return Err(QueueError::Starting);
        }
        if let Some(room) = self.rooms.get(event) {
            return Ok(room);
        }
        match catalog::lookup(&self.store, event).await? {
            Listing::Unknown => Err(QueueError::UnknownEvent),
            Listing::NoWaitingRoom => Err(QueueError::NoWaitingRoom),
            Listing::Room { .. } => Err(QueueError::NotInQueue),
        }
    }

    /// Appends the room's configuration as its first fact (once: a conflict means it is there).
    async fn configure(
        &self,
        event: EventId,
        config: WaitingRoomConfig,
    ) -> Result<Arc<Room>, QueueError> {
        let facts = vec![WaitingRoomEvent::WaitingRoomConfigured {
            event_id: event,
            config,
        }];
        let meta = CommitMeta::new(&room_id(event), "ConfigureWaitingRoom");
        let stored = self
            .store
            .append(Stream::Queue, &room_id(event), 0, &meta, &records(facts))
            .await;
        self.settled(stored, Stream::Queue, &room_id(event)).await?;
        self.rooms.get(event).ok_or_else(|| {
            QueueError::Unavailable("the room's configuration was not folded".into())
        })
    }

    /// Takes the customer's place. True when this call created it, false when it existed.
    pub async fn join(
        &self,
        event: EventId,
        customer: &CustomerId,
        now: Timestamp,
        traceparent: Option<String>,
    ) -> Result<(Arc<Room>, bool), QueueError> {
        let room = self.room(event).await?;
        let command = WaitingRoomCommand::Join {
            customer_id: customer.clone(),
        };
        let facts = match room.read(|state| decide(state, &command, now)) {
            Ok(facts) if facts.is_empty() => return Ok((room, false)),
            Ok(facts) => facts,
            Err(e) => return Err(refusal(e)),
        };
        let id = place_id(event, customer);
        let mut meta = CommitMeta::new(&id, "JoinQueue");
        meta.traceparent = traceparent;
        let stored = self
            .store
            .append(Stream::Queue, &id, 0, &meta, &records(facts))
            .await;
        let created = self.settled(stored, Stream::Queue, &id).await?;
        Ok((room, created))
    }

    /// Gives the customer's place up.
    pub async fn leave(
        &self,
        event: EventId,
        customer: &CustomerId,
        now: Timestamp,
        traceparent: Option<String>,
    ) -> Result<Arc<Room>, QueueError> {
        let room = self.existing_room(event).await?;
        let command = WaitingRoomCommand::Leave {
            customer_id: customer.clone(),
        };
        let facts = match room.read(|state| decide(state, &command, now)) {
            Ok(facts) if facts.is_empty() => return Ok(room),
            Ok(facts) => facts,
            Err(e) => return Err(refusal(e)),
        };
        let id = place_id(event, customer);
        let expected = self.store.subject_last_sequence(Stream::Queue, &id).await?;
        let mut meta = CommitMeta::new(&id, "LeaveQueue");
        meta.traceparent = traceparent;
        let stored = self
            .store
            .append(Stream::Queue, &id, expected, &meta, &records(facts))
            .await;
        self.settled(stored, Stream::Queue, &id).await?;
        Ok(room)
    }

    /// Waits until this instance folded an append's outcome: true if it stored the commit, false
    /// if the subject had moved on (another instance or retry got there first).
    async fn settled(
        &self,
        stored: Result<Position, AppendError>,
        stream: Stream,
        id: &str,
    ) -> Result<bool, QueueError> {
        let (sequence, created) = match stored {
            Ok(position) => (position.sequence, true),
            Err(AppendError::Conflict {
                actual: Some(actual),
                ..
            }) => (actual, false),
            Err(AppendError::Conflict { actual: None, .. }) => {
                (self.store.subject_last_sequence(stream, id).await?, false)
            }
            Err(e) => return Err(QueueError::Unavailable(e.to_string())),
        };
        if !self.rooms.wait_applied(sequence, FOLD_WAIT).await {
            return Err(QueueError::Unavailable(format!(
                "the queue stream was not folded up to {sequence} in {FOLD_WAIT:?}"
            )));
        }
        Ok(created)
    }
}

/// A domain refusal of a join or leave, as the API says it.
fn refusal(error: WaitingRoomError) -> QueueError {
    match error {
        WaitingRoomError::QueueClosed(why) => QueueError::Closed(why.to_string()),
        WaitingRoomError::NotInQueue => QueueError::NotInQueue,
        WaitingRoomError::NoWaitingRoom => QueueError::NoWaitingRoom,
        other => QueueError::Unavailable(other.to_string()),
    }
}
