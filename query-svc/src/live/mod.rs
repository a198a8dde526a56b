//! Live availability pushed to clients over Server-Sent Events.
//!
//! One fan-out per watched event in the process, never one per client: the first stream of an
//! event starts its [`publisher`], which computes the answer once per change (woken by the change
//! notices query-svc already follows, and at the due time of a hold that lapses) and puts the
//! newest frame in a `watch` channel. Every client stream of the event reads that channel, so a
//! slow client skips to the newest frame instead of queueing old ones, frames never go out of
//! order, and ten thousand streams cost ten thousand channel reads, not database queries. The
//! publisher stops when its last stream closes.
//!
//! A section's seat map is pushed the same way ([`seats`]): one publisher per watched section,
//! the full map first, then only the seats that changed.
//!
//! Open streams are counted against `TV_QUERY_MAX_STREAMS`; one more is `503 too_many_streams`.

mod publisher;
mod seats;
mod sse;

pub(crate) use seats::seats_stream;
pub(crate) use sse::availability_stream;

use bytes::Bytes;
use domain::ids::SectionId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

/// One message of an event's stream, serialized once for every client.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The inventory stream's sequence the numbers are exact as of (the SSE `id`).
    pub version: u64,
    /// The `data:` line: the availability answer plus its `position`.
    pub data: Bytes,
}

/// One watched event (or section): its publisher's wake-up call and its newest frame.
pub(crate) struct Feed<F = Frame> {
    wake: Notify,
    frames: watch::Sender<Option<Arc<F>>>,
}

impl<F> Feed<F> {
    fn new() -> (Arc<Self>, watch::Receiver<Option<Arc<F>>>) {
        let (frames, receiver) = watch::channel(None);
        let feed = Arc::new(Feed {
            wake: Notify::new(),
            frames,
        });
        (feed, receiver)
    }
}

/// A watched section: its event and its id.
type SectionKey = (Uuid, SectionId);
type SeatFeed = Feed<seats::SeatFrame>;
type SeatFrames = watch::Receiver<Option<Arc<seats::SeatFrame>>>;

/// The live feeds of this process and the count of open streams.
pub(crate) struct Live {
    feeds: Mutex<HashMap<Uuid, Arc<Feed>>>,
    seat_feeds: Mutex<HashMap<SectionKey, Arc<SeatFeed>>>,
    open: AtomicUsize,
    max_streams: usize,
}

/// An open stream's place in the count; given back when the client goes.
pub(crate) struct StreamPermit(Arc<Live>);

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let open = self.0.open.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!("tv_query_streams_open").set(open as f64);
    }
}

impl Live {
    pub fn new(max_streams: usize) -> Self {
        Self {
            feeds: Mutex::new(HashMap::new()),
            seat_feeds: Mutex::new(HashMap::new()),
            open: AtomicUsize::new(0),
            max_streams,
        }
    }

    /// A place for one more open stream, unless the limit is reached.
    pub fn admit(self: &Arc<Self>) -> Option<StreamPermit> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max_streams).then_some(open + 1)
            });
        match admitted {
            Ok(open) => {
                metrics::gauge!("tv_query_streams_open").set((open + 1) as f64);
                Some(StreamPermit(self.clone()))
            }
            Err(_) => {
                metrics::counter!("tv_query_streams_refused_total").increment(1);
                None
            }
        }
    }

    /// The event's frames, starting its publisher when it is the first watcher (`start`).
    pub fn watch(
        &self,
        event_id: Uuid,
    ) -> (watch::Receiver<Option<Arc<Frame>>>, Option<Arc<Feed>>) {
        let mut feeds = self.feeds.lock().expect("live feeds lock");
        if let Some(feed) = feeds.get(&event_id) {
            return (feed.frames.subscribe(), None);
        }
        let (feed, receiver) = Feed::new();
        feeds.insert(event_id, feed.clone());
        metrics::gauge!("tv_query_live_events").set(feeds.len() as f64);
        (receiver, Some(feed))
    }

    /// Forgets the event's feed if nobody watches it any more: true when the publisher may stop.
    /// Decided under the same lock as [`Live::watch`], so no stream can join a stopping feed.
    fn retire(&self, event_id: Uuid, feed: &Arc<Feed>) -> bool {
        let mut feeds = self.feeds.lock().expect("live feeds lock");
        if feed.frames.receiver_count() > 0 {
            return false;
        }
        if feeds.get(&event_id).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(&event_id);
        }
        metrics::gauge!("tv_query_live_events").set(feeds.len() as f64);
        true
    }

    /// The section's seat frames, starting its publisher when it is the first watcher.
    pub fn watch_seats(&self, key: SectionKey) -> (SeatFrames, Option<Arc<SeatFeed>>) {
        let mut feeds = self.seat_feeds.lock().expect("live seat feeds lock");
        if let Some(feed) = feeds.get(&key) {
            return (feed.frames.subscribe(), None);
        }
        let (feed, receiver) = Feed::new();
        feeds.insert(key, feed.clone());
        (receiver, Some(feed))
    }

    /// [`Live::retire`] for a section's seat feed.
    fn retire_seats(&self, key: &SectionKey, feed: &Arc<SeatFeed>) -> bool {
        let mut feeds = self.seat_feeds.lock().expect("live seat feeds lock");
        if feed.frames.receiver_count() > 0 {
            return false;
        }
        if feeds.get(key).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(key);
        }
        true
    }

    /// A change notice touched these events (all of them when `everything`, after the caches were
    /// dropped): their publishers, availability and seat maps, look again.
    pub fn touched(&self, events: impl IntoIterator<Item = Uuid>, everything: bool) {
        let events: std::collections::HashSet<Uuid> = events.into_iter().collect();
        let wanted = |event_id: &Uuid| everything || events.contains(event_id);
        let feeds = self.feeds.lock().expect("live feeds lock");
        for (event_id, feed) in feeds.iter() {
            if wanted(event_id) {
                feed.wake.notify_one();
            }
        }
        drop(feeds);
        let seat_feeds = self.seat_feeds.lock().expect("live seat feeds lock");
        for ((event_id, _), feed) in seat_feeds.iter() {
            if wanted(event_id) {
                feed.wake.notify_one();
            }
        }
    }
}
