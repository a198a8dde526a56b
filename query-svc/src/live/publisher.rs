//! The one task per watched event that computes its availability frames.
//!
//! It computes at start, then whenever a change notice names the event, and at the moment a
//! counted hold falls due (expiry is lazy: the numbers change then without a notice). A frame is
//! published only when its data differs from the last one. It stops once no stream watches.

use super::{Feed, Frame};
use crate::AppState;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// How soon to look again while holds are due whose times the rows do not tell, or after an
/// error (PostgreSQL away).
const RETRY: Duration = Duration::from_secs(1);

pub(super) async fn run(state: Arc<AppState>, event_id: Uuid, feed: Arc<Feed>) {
    let stream = state.naming.stream(tv_nats::Stream::Inventory);
    loop {
        let wait = match crate::availability::current(&state, event_id, 0).await {
            Ok(computed) => {
                let now = OffsetDateTime::now_utc();
                let (next, due_now) = computed.next_change(now);
                let wait = match (next, due_now) {
                    (_, true) => Some(RETRY),
                    (Some(at), false) => Some(super::until(at, now)),
                    (None, false) => None,
                };
                let version = computed.version();
                let mut body = serde_json::to_value(&computed.body).unwrap_or_default();
                body["position"] = format!("{stream}:{version}").into();
                let data = Bytes::from(body.to_string());
                let changed = feed
                    .frames
                    .borrow()
                    .as_ref()
                    .is_none_or(|last| last.data != data);
                if changed {
                    metrics::counter!("tv_query_live_frames_total").increment(1);
                    feed.frames
                        .send_replace(Some(Arc::new(Frame { version, data })));
                }
                wait
            }
            Err(e) => {
                tracing::warn!(%event_id, error = %e, "cannot compute live availability");
                Some(RETRY)
            }
        };
        if !feed
            .changed_or_retired(&state.live.availability, &event_id, wait)
            .await
        {
            return;
        }
    }
}
