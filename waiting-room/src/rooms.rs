//! Every waiting room this instance knows, folded from the queue stream in stream order, and the
//! sequence folded so far. Status polls read a room under a shared lock; only the feed writes.
//!
//! A room also keeps what the fold alone does not give: the last sequence of its own subject (the
//! admitter's expected sequence), a change counter that streams and waiters watch, the admissions
//! of the last minute (the measured rate a wait is estimated from) and the confirmed orders that
//! should finish admissions at the admitter's next turn.

use domain::ids::{CustomerId, EventId};
use domain::waiting_room::{evolve, WaitingRoom, WaitingRoomEvent};
use domain::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

use crate::subjects::Kind;

/// The window the admission rate is measured over.
const RATE_WINDOW: time::Duration = time::Duration::MINUTE;

/// One event's waiting room, as folded by this instance.
pub struct Room {
    event: EventId,
    state: RwLock<WaitingRoom>,
    room_sequence: AtomicU64,
    changes: watch::Sender<u64>,
    recent: Mutex<Recent>,
    /// Set once every seat of the event is sold ([`crate::sold_out`]).
    sold_out: AtomicBool,
    /// The measured rate as of the admitter's last turn (0: none yet), read by every poll.
    rate: AtomicU32,
    finishes: Mutex<HashSet<CustomerId>>,
}

/// Admission times of the last minute, and the first admission ever.
#[derive(Default)]
struct Recent {
    first: Option<Timestamp>,
    times: VecDeque<Timestamp>,
}

impl Room {
    fn new(event: EventId) -> Self {
        Self {
            event,
            state: RwLock::new(WaitingRoom::default()),
            room_sequence: AtomicU64::new(0),
            changes: watch::channel(0).0,
            recent: Mutex::new(Recent::default()),
            rate: AtomicU32::new(0),
            sold_out: AtomicBool::new(false),
            finishes: Mutex::new(HashSet::new()),
        }
    }

    pub fn event(&self) -> EventId {
        self.event
    }

    /// Reads the folded state.
    pub fn read<R>(&self, f: impl FnOnce(&WaitingRoom) -> R) -> R {
        f(&self.state.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The last sequence of the room's own subject this instance has folded.
    pub fn room_sequence(&self) -> u64 {
        self.room_sequence.load(Ordering::Acquire)
    }

    /// Changes every time a fact of this room is folded.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Admissions per minute over the last minute (over the time since the first admission when
    /// that is shorter); `None` before any.
    pub fn measured_per_minute(&self, now: Timestamp) -> Option<u32> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let first = recent.first?;
        while recent
            .times
            .front()
            .is_some_and(|t| *t <= now - RATE_WINDOW)
        {
            recent.times.pop_front();
        }
        let span = (now - first).clamp(time::Duration::SECOND, RATE_WINDOW);
        let per_minute = recent.times.len() as f64 * 60.0 / span.as_seconds_f64();
        Some(per_minute.round() as u32)
    }

    /// Measures the admission rate at `now` and keeps it for [`Room::rate`].
    pub fn refresh_rate(&self, now: Timestamp) -> Option<u32> {
        let measured = self.measured_per_minute(now);
        self.rate.store(measured.unwrap_or(0), Ordering::Relaxed);
        measured
    }

    /// The admission rate measured at the admitter's last turn, if any: what a wait is estimated
    /// from, without a lock per poll.
    pub fn rate(&self) -> Option<u32> {
        Some(self.rate.load(Ordering::Relaxed)).filter(|rate| *rate > 0)
    }

    /// Every seat of the event is sold: the admitter closes the queue.
    pub fn mark_sold_out(&self) {
        self.sold_out.store(true, Ordering::Release);
    }

    pub fn is_sold_out(&self) -> bool {
        self.sold_out.load(Ordering::Acquire)
    }

    /// A confirmed order of this customer: their admission ends at the admitter's next turn.
    pub fn finish_later(&self, customer: CustomerId) {
        self.finishes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(customer);
    }

    /// The customers whose admission should end, taken.
    pub fn take_finishes(&self) -> Vec<CustomerId> {
        let mut finishes = self.finishes.lock().unwrap_or_else(|e| e.into_inner());
        finishes.drain().collect()
    }

    /// Gives back finishes that could not be recorded.
    pub fn return_finishes(&self, customers: Vec<CustomerId>) {
        let mut finishes = self.finishes.lock().unwrap_or_else(|e| e.into_inner());
        finishes.extend(customers);
    }

    fn apply(&self, kind: Kind, sequence: u64, events: Vec<WaitingRoomEvent>) {
        {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            for event in &events {
                *state = evolve(std::mem::take(&mut *state), event);
            }
        }
        if kind == Kind::Room {
            self.room_sequence.store(sequence, Ordering::Release);
        }
        let admitted: Vec<Timestamp> = events
            .iter()
            .filter_map(|event| match event {
                WaitingRoomEvent::CustomerAdmitted { admitted_at, .. } => Some(*admitted_at),
                _ => None,
            })
            .collect();
        if !admitted.is_empty() {
            let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            recent.first.get_or_insert(admitted[0]);
            recent.times.extend(admitted);
            // The window is trimmed when read; bound it here too for a room nobody polls.
            let newest = *recent.times.back().expect("just extended");
            while recent
                .times
                .front()
                .is_some_and(|t| *t <= newest - RATE_WINDOW)
            {
                recent.times.pop_front();
            }
        }
        self.changes.send_modify(|n| *n += 1);
    }
}

/// Every room of this instance, and how far the queue stream has been folded.
pub struct Rooms {
    rooms: RwLock<HashMap<EventId, Arc<Room>>>,
    applied: AtomicU64,
    /// Answers waiting for the fold, by the sequence they wait for: each is woken once, when the
    /// fold reaches it (a watch would wake every waiter at every commit).
    waiters: Mutex<BTreeMap<u64, Vec<oneshot::Sender<()>>>>,
    caught_up: watch::Sender<bool>,
    new_rooms: mpsc::UnboundedSender<Arc<Room>>,
}

impl Rooms {
    /// The rooms, and the receiver of every room as it is first seen (for its admitter).
    pub fn new() -> (Arc<Rooms>, mpsc::UnboundedReceiver<Arc<Room>>) {
        let (new_rooms, receiver) = mpsc::unbounded_channel();
        let rooms = Rooms {
            rooms: RwLock::new(HashMap::new()),
            applied: AtomicU64::new(0),
            waiters: Mutex::new(BTreeMap::new()),
            caught_up: watch::channel(false).0,
            new_rooms,
        };
        (Arc::new(rooms), receiver)
    }

    pub fn get(&self, event: EventId) -> Option<Arc<Room>> {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        rooms.get(&event).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Room>> {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        rooms.values().cloned().collect()
    }

    /// The last stream sequence folded.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// True once the stream has been folded up to where it ended when this instance started.
    pub fn is_caught_up(&self) -> bool {
        *self.caught_up.borrow()
    }

    pub(crate) fn mark_caught_up(&self) {
        self.caught_up.send_replace(true);
    }

    /// Waits until the stream has been folded up to `sequence`; false after `limit`.
    pub async fn wait_applied(&self, sequence: u64, limit: Duration) -> bool {
        if self.applied() >= sequence {
            return true;
        }
        let (wake, woken) = oneshot::channel();
        {
            let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            // Checked again under the lock `advance` takes: no wake-up is missed.
            if self.applied() >= sequence {
                return true;
            }
            waiters.entry(sequence).or_default().push(wake);
        }
        tokio::time::timeout(limit, woken)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Waits until the stream has been folded up to where it ended at start; false after `limit`.
    pub async fn wait_caught_up(&self, limit: Duration) -> bool {
        let mut caught_up = self.caught_up.subscribe();
        tokio::time::timeout(limit, caught_up.wait_for(|done| *done))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Folds one stored commit of the queue stream.
    pub(crate) fn apply(
        &self,
        event: EventId,
        kind: Kind,
        sequence: u64,
        events: Vec<WaitingRoomEvent>,
    ) {
        let room = self.get(event).unwrap_or_else(|| {
            let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
            rooms
                .entry(event)
                .or_insert_with(|| {
                    let room = Arc::new(Room::new(event));
                    let _ = self.new_rooms.send(room.clone());
                    room
                })
                .clone()
        });
        room.apply(kind, sequence, events);
        self.advance(sequence);
    }

    /// Marks `sequence` folded (a commit that is no fact of any room, too).
    pub(crate) fn advance(&self, sequence: u64) {
        let due = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            self.applied.fetch_max(sequence, Ordering::AcqRel);
            let later = waiters.split_off(&(sequence + 1));
            std::mem::replace(&mut *waiters, later)
        };
        for wake in due.into_values().flatten() {
            let _ = wake.send(());
        }
    }
}
