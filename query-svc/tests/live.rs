//! Live availability over Server-Sent Events, against real NATS and PostgreSQL with a live
//! projector: the first frame at once, a newer one after each change, merged under a burst, a
//! reconnect that already has the newest position, the stream limit, and bad requests.

mod common;

use common::support::*;
use common::{request, section, Stack};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::{timeout, Instant};

/// One SSE message: its `id` (the position's sequence) and its JSON data.
#[derive(Debug)]
struct Frame {
    id: u64,
    kind: String,
    data: Value,
}

/// A client of one stream: reads frames as they come.
struct Watcher {
    response: reqwest::Response,
    buffer: String,
}

impl Watcher {
    async fn open(stack: &Stack, event: &str, last_event_id: Option<&str>) -> reqwest::Response {
        Self::open_path(
            stack,
            &format!("/events/{event}/availability/stream"),
            last_event_id,
        )
        .await
    }

    async fn open_path(
        stack: &Stack,
        path: &str,
        last_event_id: Option<&str>,
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(format!("http://{}{path}", stack.addr));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        request.send().await.expect("the stream request")
    }

    async fn start(stack: &Stack, event: &str, last_event_id: Option<&str>) -> Watcher {
        let path = format!("/events/{event}/availability/stream");
        Self::start_path(stack, &path, last_event_id).await
    }

    async fn start_path(stack: &Stack, path: &str, last_event_id: Option<&str>) -> Watcher {
        let response = Self::open_path(stack, path, last_event_id).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Watcher {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame within `wait`, or `None`.
    async fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let message: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                let mut kind = None;
                for line in message.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().rsplit(':').next().and_then(|s| s.parse().ok());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = Some(serde_json::from_str(v.trim()).expect("JSON data"));
                    } else if let Some(v) = line.strip_prefix("event:") {
                        kind = Some(v.trim().to_owned());
                    }
                }
                if let (Some(id), Some(data), Some(kind)) = (id, data, kind) {
                    return Some(Frame { id, kind, data });
                }
                continue; // a heartbeat comment
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => panic!("the stream ended"),
                Err(_) => return None,
            }
        }
    }

    /// Frames until one satisfies `done`, within `wait`: all of them, in order.
    async fn until(&mut self, wait: Duration, done: impl Fn(&Frame) -> bool) -> Vec<Frame> {
        let deadline = Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = self
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no frame as awaited within {wait:?}: {frames:?}"));
            let finished = done(&frame);
            frames.push(frame);
            if finished {
                return frames;
            }
        }
    }
}

/// An event opened and projected: a stream of it is answered (one not projected yet is a 404, as
/// `GET …/availability` is).
async fn projected_event(stack: &Stack, seed: u64) -> Sim {
    let sim = open_event(&stack.env.store, seed).await;
    let opened = sim.appended.last().expect("the opening commit").sequence;
    stack.env.wait_for_checkpoint("inventory", opened).await;
    sim
}

fn held(frame: &Frame, id: &str) -> i64 {
    assert_eq!(frame.kind, "availability");
    section(&frame.data, id)["held"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_sends_the_state_at_once_then_each_change_with_a_newer_id() {
    let stack = Stack::start(2_000).await;
    let mut sim = projected_event(&stack, 21).await;
    let event = sim.event_id.to_string();
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(10);

    let mut watcher = Watcher::start(&stack, &event, None).await;
    let first = watcher
        .next(Duration::from_secs(5))
        .await
        .expect("a first frame at once");
    assert_eq!(held(&first, "floor"), 0);
    assert_eq!(first.data["event_id"], event.as_str());
    assert_eq!(
        first.data["position"],
        stack.inventory_position(first.id).as_str()
    );

    let hold = sim.hold(1, 3, later).unwrap();
    let seq = sim.append(&stack.env.store, vec![hold]).await;
    let frames = watcher
        .until(Duration::from_secs(10), |f| held(f, "floor") == 3)
        .await;
    let last = frames.last().unwrap();
    assert_eq!(last.id, seq, "the frame is exact as of the hold's commit");
    assert!(last.id > first.id);
    assert_eq!(section(&last.data, "floor")["available"], 37);

    // A burst of changes is merged: at most one frame per 100 ms, ids only ever rising, and the
    // last frame has every change.
    let started = Instant::now();
    let mut seq = seq;
    for _ in 0..20 {
        let hold = sim.hold(1, 1, later).unwrap();
        seq = sim.append(&stack.env.store, vec![hold]).await;
    }
    let frames = watcher
        .until(Duration::from_secs(10), |f| f.id == seq)
        .await;
    let elapsed = started.elapsed();
    assert_eq!(held(frames.last().unwrap(), "floor"), 23);
    assert!(
        frames.windows(2).all(|w| w[0].id < w[1].id),
        "ids out of order: {:?}",
        frames.iter().map(|f| f.id).collect::<Vec<_>>()
    );
    let allowed = elapsed.as_millis() / 100 + 2;
    assert!(
        (frames.len() as u128) <= allowed,
        "{} frames in {elapsed:?}: more than one per 100 ms",
        frames.len()
    );
    assert!(frames.len() < 20, "20 changes were not merged at all");

    // A reconnect that already has the newest position hears nothing until something changes.
    let newest = stack.inventory_position(seq);
    let mut again = Watcher::start(&stack, &event, Some(&newest)).await;
    assert!(again.next(Duration::from_millis(700)).await.is_none());
    let hold = sim.hold(0, 2, later).unwrap();
    let seq = sim.append(&stack.env.store, vec![hold]).await;
    let frame = again
        .next(Duration::from_secs(10))
        .await
        .expect("the change");
    assert_eq!(frame.id, seq);
    assert_eq!(held(&frame, "stalls"), 2);
    // One with an older position gets the current state at once.
    let mut behind = Watcher::start(&stack, &event, Some(&stack.inventory_position(1))).await;
    let frame = behind.next(Duration::from_secs(5)).await.expect("at once");
    assert_eq!(frame.id, seq);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_that_lapses_changes_the_numbers_without_a_notice() {
    let stack = Stack::start(2_000).await;
    let mut sim = open_event(&stack.env.store, 22).await;
    let event = sim.event_id.to_string();
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let hold = sim.hold(1, 4, soon).unwrap();
    let seq = sim.append(&stack.env.store, vec![hold]).await;
    stack.env.wait_for_checkpoint("inventory", seq).await;
    let mut watcher = Watcher::start(&stack, &event, None).await;
    let frames = watcher
        .until(Duration::from_secs(5), |f| held(f, "floor") == 4)
        .await;
    assert_eq!(frames.last().unwrap().id, seq);
    // Nothing is appended: the hold's expires_at passes, and the stream says so.
    let frames = watcher
        .until(Duration::from_secs(8), |f| held(f, "floor") == 0)
        .await;
    assert_eq!(
        section(&frames.last().unwrap().data, "floor")["available"],
        40
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_beyond_the_limit_are_refused_and_bad_requests_are_clear() {
    let stack = Stack::start_with(|config| config.max_streams = 2).await;
    let sim = projected_event(&stack, 23).await;
    let event = sim.event_id.to_string();
    let mut one = Watcher::start(&stack, &event, None).await;
    let _two = Watcher::start(&stack, &event, None).await;
    one.next(Duration::from_secs(5))
        .await
        .expect("a first frame");

    let refused = Watcher::open(&stack, &event, None).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_streams");

    // A closed stream gives its place back.
    drop(one);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = Watcher::open(&stack, &event, None).await;
        if response.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for (path, status, code) in [
        (
            format!("/events/{}/availability/stream", uuid::Uuid::new_v4()),
            404,
            "unknown_event",
        ),
        (
            "/events/not-a-uuid/availability/stream".to_owned(),
            400,
            "invalid_event_id",
        ),
    ] {
        let (got, _, body) = request(stack.addr, "GET", &path, None).await;
        assert_eq!(got, status, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], code, "{path}");
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_map_stream_sends_the_map_then_only_the_seats_that_changed() {
    let stack = Stack::start(2_000).await;
    let mut sim = projected_event(&stack, 24).await;
    let event = sim.event_id.to_string();
    let path = format!("/events/{event}/sections/stalls/seats/stream");
    let mut watcher = Watcher::start_path(&stack, &path, None).await;
    let first = watcher
        .next(Duration::from_secs(5))
        .await
        .expect("the map at once");
    assert_eq!(first.kind, "seat_map");
    let seats = first.data.as_array().unwrap();
    assert_eq!(seats.len(), 14);
    assert!(
        seats.iter().all(|s| s["status"] == "available"),
        "{seats:?}"
    );

    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let hold = sim.hold(0, 2, soon).unwrap();
    let domain::inventory::InventoryEvent::SeatsHeld {
        seats: held_seats, ..
    } = &hold
    else {
        unreachable!()
    };
    let held_seats: Vec<String> = held_seats.iter().map(|s| s.to_string()).collect();
    let seq = sim.append(&stack.env.store, vec![hold]).await;
    let change = watcher
        .next(Duration::from_secs(10))
        .await
        .expect("the change");
    assert_eq!(change.kind, "seat_changes");
    assert_eq!(change.id, seq);
    let mut changed: Vec<(String, String)> = change
        .data
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["seat"].as_str().unwrap().into(),
                s["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    changed.sort();
    let mut expected: Vec<(String, String)> = held_seats
        .iter()
        .map(|s| (s.clone(), "held".into()))
        .collect();
    expected.sort();
    assert_eq!(changed, expected, "only the held seats, as held");

    // The hold lapses without a notice: the same seats come back.
    let back = watcher
        .next(Duration::from_secs(8))
        .await
        .expect("the lapse");
    assert_eq!(back.kind, "seat_changes");
    assert!(back
        .data
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "available"));
    assert_eq!(back.data.as_array().unwrap().len(), 2);

    let (status, _, body) = request(
        stack.addr,
        "GET",
        &format!("/events/{event}/sections/nope/seats/stream"),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    stack.stop().await;
}
