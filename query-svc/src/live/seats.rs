//! `GET /events/{event_id}/sections/{section_id}/seats/stream`: a section's seat map as
//! Server-Sent Events: `event: seat_map` with every seat first, then `event: seat_changes` with
//! only the seats whose status changed, at most ten a second, `id:` the position.
//!
//! One publisher per watched section reads the map once per change (a notice naming the event, or
//! a held seat's hold falling due) and publishes the statuses; each client keeps the last
//! statuses it sent (shared, not copied) and sends the difference, so a client that skipped
//! frames still gets every change.

use super::sse::{too_many_streams, MIN_SPACING};
use super::Feed;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::AppState;
use axum::extract::State;
use axum::response::sse::Event;
use axum::response::Response;
use domain::ids::SectionId;
use read_model::status::SeatStatus;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

/// Every seat of the section, in order, with its status at the frame's time.
pub(crate) struct SeatFrame {
    version: u64,
    statuses: Vec<(String, &'static str)>,
}

async fn publish(state: Arc<AppState>, key: (Uuid, SectionId), feed: Arc<Feed<SeatFrame>>) {
    let (event_id, section_id) = key.clone();
    loop {
        let wait = match state.read.seat_map(event_id, &section_id, 0).await {
            Ok(Some(map)) => {
                let now = OffsetDateTime::now_utc();
                let statuses: Vec<(String, &'static str)> = map
                    .seats
                    .iter()
                    .map(|s| (s.seat.to_string(), s.status_at(now).as_str()))
                    .collect();
                let next_lapse = map
                    .seats
                    .iter()
                    .filter(|s| s.status == SeatStatus::Held)
                    .filter_map(|s| s.hold_expires_at)
                    .filter(|t| *t > now)
                    .min();
                let changed = feed
                    .frames
                    .borrow()
                    .as_ref()
                    .is_none_or(|last| last.statuses != statuses);
                if changed {
                    metrics::counter!("tv_query_live_frames_total").increment(1);
                    feed.frames.send_replace(Some(Arc::new(SeatFrame {
                        version: map.version.0,
                        statuses,
                    })));
                }
                next_lapse.map(|at| super::until(at, now))
            }
            Ok(None) => Some(Duration::from_secs(1)),
            Err(e) => {
                tracing::warn!(%event_id, error = %e, "cannot read the live seat map");
                Some(Duration::from_secs(1))
            }
        };
        if !feed.changed_or_retired(&state.live.seats, &key, wait).await {
            return;
        }
    }
}

struct Client {
    frames: watch::Receiver<Option<Arc<SeatFrame>>>,
    /// The last frame sent: what the client knows.
    sent: Option<Arc<SeatFrame>>,
    sent_at: Option<Instant>,
    stream: String,
    _permit: super::StreamPermit,
}

impl Client {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(sent_at) = self.sent_at {
                tokio::time::sleep_until(sent_at + MIN_SPACING).await;
            }
            let frame = self.frames.borrow_and_update().clone();
            if let Some(frame) = frame {
                let event = match &self.sent {
                    Some(sent) if sent.statuses.len() == frame.statuses.len() => {
                        let changed: Vec<_> = frame
                            .statuses
                            .iter()
                            .zip(&sent.statuses)
                            .filter(|(now, before)| now != before)
                            .map(|((seat, status), _)| json!({"seat": seat, "status": status}))
                            .collect();
                        (!changed.is_empty()).then(|| ("seat_changes", json!(changed)))
                    }
                    _ => Some(("seat_map", seats_json(&frame))),
                };
                if let Some((kind, data)) = event {
                    self.sent = Some(frame.clone());
                    self.sent_at = Some(Instant::now());
                    metrics::counter!("tv_query_stream_messages_total").increment(1);
                    return Some(
                        Event::default()
                            .id(format!("{}:{}", self.stream, frame.version))
                            .event(kind)
                            .data(data.to_string()),
                    );
                }
            }
            self.frames.changed().await.ok()?;
        }
    }
}

fn seats_json(frame: &SeatFrame) -> serde_json::Value {
    frame
        .statuses
        .iter()
        .map(|(seat, status)| json!({"seat": seat, "status": status}))
        .collect()
}

pub(crate) async fn seats_stream(
    State(state): State<Arc<AppState>>,
    PathParams((event_id, section_id)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let event_id = Uuid::try_parse(&event_id)
        .map_err(|_| ApiError::bad_request("invalid_event_id", "event_id must be a UUID"))?;
    let section_id = SectionId::parse(&section_id)
        .map_err(|e| ApiError::bad_request("invalid_section_id", e.to_string()))?;
    if state
        .read
        .seat_map(event_id, &section_id, 0)
        .await?
        .is_none()
    {
        return crate::http::no_seat_map(&state, event_id).await;
    }
    let Some(permit) = state.live.admit() else {
        return Ok(too_many_streams());
    };
    let key = (event_id, section_id);
    let (frames, publisher) = state.live.seats.watch(key.clone());
    if let Some(feed) = publisher {
        tokio::spawn(publish(state.clone(), key, feed));
    }
    let client = Client {
        frames,
        sent: None,
        sent_at: None,
        stream: state.naming.stream(tv_nats::Stream::Inventory),
        _permit: permit,
    };
    Ok(super::respond(futures::stream::unfold(
        client,
        |mut client| async move { Some((client.next().await?, client)) },
    )))
}
