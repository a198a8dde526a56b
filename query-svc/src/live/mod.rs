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

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use domain::ids::SectionId;
use futures::{Stream, StreamExt};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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

type Frames<F> = watch::Receiver<Option<Arc<F>>>;

impl<F> Feed<F> {
    /// Waits for a reason to compute again: a wake-up, or `wait` elapsed (`None`: no deadline).
    /// False when the last stream closed and the feed was retired: the publisher stops.
    async fn changed_or_retired<K: Eq + Hash>(
        self: &Arc<Self>,
        feeds: &Feeds<K, F>,
        key: &K,
        wait: Option<Duration>,
    ) -> bool {
        let sleep = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.wake.notified() => true,
            _ = sleep => true,
            _ = self.frames.closed() => !feeds.retire(key, self),
        }
    }
}

/// The feeds of one kind (events' availability, sections' seat maps), by key.
pub(crate) struct Feeds<K, F>(Mutex<HashMap<K, Arc<Feed<F>>>>);

impl<K: Eq + Hash, F> Feeds<K, F> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    /// The key's frames, and its new feed when this is the first watcher (start its publisher).
    pub fn watch(&self, key: K) -> (Frames<F>, Option<Arc<Feed<F>>>) {
        let mut feeds = self.0.lock().expect("live feeds lock");
        if let Some(feed) = feeds.get(&key) {
            return (feed.frames.subscribe(), None);
        }
        let (frames, receiver) = watch::channel(None);
        let feed = Arc::new(Feed {
            wake: Notify::new(),
            frames,
        });
        feeds.insert(key, feed.clone());
        (receiver, Some(feed))
    }

    /// Forgets the key's feed if nobody watches it any more: true when the publisher may stop.
    /// Decided under the same lock as [`Feeds::watch`], so no stream can join a stopping feed.
    fn retire(&self, key: &K, feed: &Arc<Feed<F>>) -> bool {
        let mut feeds = self.0.lock().expect("live feeds lock");
        if feed.frames.receiver_count() > 0 {
            return false;
        }
        if feeds.get(key).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(key);
        }
        true
    }

    /// Wakes the publishers whose key `wanted` picks.
    fn wake(&self, wanted: impl Fn(&K) -> bool) {
        for (key, feed) in self.0.lock().expect("live feeds lock").iter() {
            if wanted(key) {
                feed.wake.notify_one();
            }
        }
    }
}

/// A watched section: its event and its id.
type SectionKey = (Uuid, SectionId);

/// The live feeds of this process and the count of open streams.
pub(crate) struct Live {
    pub availability: Feeds<Uuid, Frame>,
    pub seats: Feeds<SectionKey, seats::SeatFrame>,
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
            availability: Feeds::new(),
            seats: Feeds::new(),
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

    /// A change notice touched these events (all of them when `everything`, after the caches were
    /// dropped): their publishers, availability and seat maps, look again.
    pub fn touched(&self, events: impl IntoIterator<Item = Uuid>, everything: bool) {
        let events: HashSet<Uuid> = events.into_iter().collect();
        let wanted = |event_id: &Uuid| everything || events.contains(event_id);
        self.availability.wake(wanted);
        self.seats.wake(|(event_id, _)| wanted(event_id));
    }
}

/// The answer of a stream route: `events` as Server-Sent Events, with a heartbeat comment.
fn respond(events: impl Stream<Item = Event> + Send + 'static) -> Response {
    Sse::new(events.map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::new().interval(sse::HEARTBEAT))
        .into_response()
}

/// How long from `now` until just past `at`, when a hold lapses (zero when it already has).
fn until(at: time::OffsetDateTime, now: time::OffsetDateTime) -> Duration {
    Duration::try_from(at - now).unwrap_or_default() + Duration::from_millis(1)
}
