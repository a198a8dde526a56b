//! `GET /events/{event_id}/availability/stream`: the event's availability as Server-Sent Events.
//!
//! The first frame goes out at once (or, on a reconnect whose `Last-Event-ID` is already as new,
//! at the next change); then one per change, at most one every [`MIN_SPACING`] (changes in between
//! are merged: the client gets the newest). `id:` is the frame's position, `event: availability`,
//! and a `:` comment every 15 s keeps proxies from closing an idle stream.

use super::{Frame, StreamPermit};
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

/// The least time between two frames to one client: at most ten a second.
pub(super) const MIN_SPACING: Duration = Duration::from_millis(100);
pub(super) const HEARTBEAT: Duration = Duration::from_secs(15);

/// What one client's stream carries between frames.
struct Client {
    frames: watch::Receiver<Option<Arc<Frame>>>,
    /// The newest position the client has (from `Last-Event-ID`, then from what was sent).
    seen: Option<u64>,
    sent_at: Option<Instant>,
    stream: String,
    _permit: StreamPermit,
}

pub(crate) async fn availability_stream(
    State(state): State<Arc<AppState>>,
    PathParams(event_id): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let event_id = Uuid::try_parse(&event_id)
        .map_err(|_| ApiError::bad_request("invalid_event_id", "event_id must be a UUID"))?;
    // An unknown event is a 404 before any stream is opened (and no publisher starts for it).
    crate::availability::current(&state, event_id, 0).await?;
    let live = &state.live;
    let Some(permit) = live.admit() else {
        return Ok(too_many_streams());
    };
    let seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(':').next()?.trim().parse::<u64>().ok());
    let (frames, publisher) = live.availability.watch(event_id);
    if let Some(feed) = publisher {
        tokio::spawn(super::publisher::run(state.clone(), event_id, feed));
    }
    let client = Client {
        frames,
        seen,
        sent_at: None,
        stream: state.naming.stream(tv_nats::Stream::Inventory),
        _permit: permit,
    };
    Ok(super::respond(futures::stream::unfold(
        client,
        |mut client| async move { Some((client.next().await?, client)) },
    )))
}

impl Client {
    /// The next frame to send, or `None` when the feed is gone (the process is stopping).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(sent_at) = self.sent_at {
                tokio::time::sleep_until(sent_at + MIN_SPACING).await;
            }
            let frame = self.frames.borrow_and_update().clone();
            if let Some(frame) = frame {
                // A reconnect that already has this position waits for a newer one.
                if self.sent_at.is_some() || self.seen.is_none_or(|seen| frame.version > seen) {
                    self.sent_at = Some(Instant::now());
                    self.seen = Some(frame.version);
                    metrics::counter!("tv_query_stream_messages_total").increment(1);
                    let data = std::str::from_utf8(&frame.data).unwrap_or("{}");
                    return Some(
                        Event::default()
                            .id(format!("{}:{}", self.stream, frame.version))
                            .event("availability")
                            .data(data),
                    );
                }
            }
            self.frames.changed().await.ok()?;
        }
    }
}

pub(super) fn too_many_streams() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"error": {
            "code": "too_many_streams",
            "message": "this instance serves as many live streams as it may; retry shortly or poll GET …/availability"
        }})),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from_static("5"),
    );
    response
}
